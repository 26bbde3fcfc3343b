// The `align` job in the worker thread: the same pipeline as the `align` command, with progress messages.
import { alignCheckpoints, DEFAULT_ALIGN_SETTINGS } from '../alignment/alignCheckpoints';
import type { AlignReport } from '../alignment/alignReport';
import type { JobRequest } from '../protocol/workerMessages';
import type { JobContext } from './jobs';

export async function runAlignJob(request: JobRequest<'align'>, context: JobContext): Promise<AlignReport> {
  const { options } = request;
  const started = performance.now();
  context.log('info', `align: ${request.b} onto ${request.a}`);
  const outcome = await alignCheckpoints({
    pathA: request.a,
    pathB: request.b,
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
    onStage: (stage) => context.onProgress({ stage }),
    onProgress: ({ sweep, permutation, objective }) => context.onProgress({
      stage: 'matching',
      sweep,
      objective,
      message: `sweep ${sweep}, ${permutation}, objective ${objective.toPrecision(6)}`,
    }),
  });
  const { report } = outcome;
  for (const warning of outcome.warnings) context.log('warn', warning);
  context.log('info', `align: done in ${((performance.now() - started) / 1000).toFixed(2)} s, ${report.sweeps} sweeps, provider ${report.executionProviderReason}`);
  return report;
}
