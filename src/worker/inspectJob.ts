// The `inspect` job: a checkpoint's tensor list, metadata and pickle report from its headers only, and the
// execution provider evaluation would use here. Runs in the worker because a large pickle takes a while to scan.
import { openCheckpoint } from '../formats/open';
import type { JobRequest, JobResult } from '../protocol/workerMessages';
import type { JobContext } from './jobs';
import { availableExecutionProvider } from './providerAvailability';

export async function runInspectJob(request: JobRequest<'inspect'>, context: JobContext): Promise<JobResult<'inspect'>> {
  const started = performance.now();
  const checkpoint = await openCheckpoint(request.file);
  try {
    const result = {
      format: checkpoint.format,
      tensors: checkpoint.tensors,
      metadata: checkpoint.metadata,
      pickle: checkpoint.pickle,
      executionProvider: availableExecutionProvider(),
    };
    context.log('info', `inspect: ${request.file}: ${checkpoint.format}, ${checkpoint.tensors.length} tensors in ${((performance.now() - started) / 1000).toFixed(3)} s`);
    return result;
  } finally {
    await checkpoint.close();
  }
}
