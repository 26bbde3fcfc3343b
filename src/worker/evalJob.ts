// The `eval` job: interpolation curves from A to B, naive and aligned, on the evaluation data.
import { evaluateInterpolation } from '../evaluation/evaluateInterpolation';
import type { JobRequest, JobResult } from '../protocol/workerMessages';
import type { JobContext } from './jobs';

export async function runEvalJob(request: JobRequest<'eval'>, context: JobContext): Promise<JobResult<'eval'>> {
  context.log('info', `eval: ${request.options.a} to ${request.options.b} on ${request.options.data}, graph ${request.options.graph ?? request.options.a}`);
  context.onProgress({ stage: 'evaluate', message: 'aligning and evaluating the interpolation' });
  const report = await evaluateInterpolation({ ...request.options, signal: context.signal });
  context.log('info', `eval: done, provider ${report.executionProvider}, align ${report.seconds.align.toFixed(2)} s, evaluate ${report.seconds.evaluate.toFixed(2)} s`);
  return report;
}
