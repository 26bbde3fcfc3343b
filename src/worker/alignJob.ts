// The `align` job in the worker thread: the same pipeline as the `align` command, with progress messages.
import { alignCheckpoints, DEFAULT_ALIGN_SETTINGS, type AlignOutcome } from '../alignment/alignCheckpoints';
import type { AlignReport } from '../alignment/alignReport';
import type { AlignJobOptions, JobRequest } from '../protocol/workerMessages';
import type { JobContext } from './jobs';

/**
 * Runs the alignment pipeline for a worker job, forwarding stages and sweeps as progress messages and pickle
 * warnings to the log. `label` names the job in log lines.
 */
export async function alignForJob(a: string, b: string, options: AlignJobOptions, context: JobContext, label: string): Promise<AlignOutcome> {
  context.log('info', `${label}: ${b} onto ${a}, spec ${options.spec ?? 'auto'}`);
  const outcome = await alignCheckpoints({
    pathA: a,
    pathB: b,
    spec: options.spec ?? 'auto',
    graph: options.graph,
    settings: {
      seed: options.seed ?? DEFAULT_ALIGN_SETTINGS.seed,
      order: options.order ?? DEFAULT_ALIGN_SETTINGS.order,
      maxSweeps: options.maxSweeps ?? DEFAULT_ALIGN_SETTINGS.maxSweeps,
      precision: options.precision ?? DEFAULT_ALIGN_SETTINGS.precision,
      executionProvider: options.executionProvider ?? DEFAULT_ALIGN_SETTINGS.executionProvider,
    },
    writeAligned: options.writeAligned,
  }, {
    signal: context.signal,
    onStage: (stage) => context.onProgress({ stage, message: stage }),
    onProgress: ({ sweep, permutation, objective }) => context.onProgress({
      stage: 'matching',
      sweep,
      objective,
      message: `sweep ${sweep}, ${permutation}, objective ${objective.toPrecision(6)}`,
    }),
  });
  for (const warning of outcome.warnings) context.log('warn', warning);
  const { report } = outcome;
  context.log('info', `${label}: matched in ${report.seconds.match.toFixed(2)} s, ${report.sweeps} sweeps, provider ${report.executionProviderReason}`);
  return outcome;
}

export async function runAlignJob(request: JobRequest<'align'>, context: JobContext): Promise<AlignReport> {
  const started = performance.now();
  const { report } = await alignForJob(request.a, request.b, request.options, context, 'align');
  context.log('info', `align: done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return report;
}
