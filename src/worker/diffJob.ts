// The `diff` job: structure and per-tensor statistics of two checkpoints, as `diff --stats` computes them.
import { diffCheckpoints } from '../comparison/checkpointDiff';
import { openCheckpoint } from '../formats/open';
import type { JobRequest, JobResult } from '../protocol/workerMessages';
import type { JobContext } from './jobs';

export async function runDiffJob(request: JobRequest<'diff'>, context: JobContext): Promise<JobResult<'diff'>> {
  const started = performance.now();
  context.log('info', `diff: ${request.a} and ${request.b}`);
  const a = await openCheckpoint(request.a);
  try {
    const b = await openCheckpoint(request.b);
    try {
      const diff = await diffCheckpoints(a, b, {
        statistics: true,
        signal: context.signal,
        onProgress: (done, total, tensor) => context.onProgress({ stage: 'diff', done, total, message: tensor }),
      });
      context.log('info', `diff: ${diff.structure.shared.length} shared tensors compared in ${((performance.now() - started) / 1000).toFixed(2)} s`);
      return { structure: diff.structure, values: [...diff.values], identical: diff.identical };
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}
