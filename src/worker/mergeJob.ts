// The `merge` job: the weighted average of checkpoints, each aligned onto the first unless alignment is off.
import { mergeCheckpoints } from '../merging/mergeCheckpoints';
import type { JobRequest, JobResult } from '../protocol/workerMessages';
import type { JobContext } from './jobs';

export async function runMergeJob(request: JobRequest<'merge'>, context: JobContext): Promise<JobResult<'merge'>> {
  const started = performance.now();
  context.log('info', `merge: ${request.options.inputs.join(', ')} with weights ${request.options.weights.join(', ')} into ${request.options.output}`);
  context.onProgress({ stage: 'merge', message: request.options.align ? 'aligning and averaging' : 'averaging' });
  const summary = await mergeCheckpoints({ ...request.options, signal: context.signal });
  context.log('info', `merge: wrote ${summary.output} (${summary.merged} tensors averaged) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return summary;
}
