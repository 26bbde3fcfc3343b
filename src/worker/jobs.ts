// The jobs the worker thread runs. Each handler gets a cancellation signal and a progress callback.
import { openCheckpoint } from '../formats/open';
import { computeTensorStatistics } from '../formats/statistics';
import type { JobProgress, JobRequest, JobType, JobTypes } from '../protocol/workerMessages';
import { runAlignJob } from './alignJob';
import { runAlignViewJob } from './alignViewJob';
import { runDiffJob } from './diffJob';
import { runEvalJob } from './evalJob';
import { runInspectJob } from './inspectJob';
import { runMergeJob } from './mergeJob';

export interface JobContext {
  readonly signal: AbortSignal;
  readonly onProgress: (progress: JobProgress) => void;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

type JobHandlers = { [T in JobType]: (request: JobRequest<T>, context: JobContext) => Promise<JobTypes[T]['result']> };

const handlers: JobHandlers = {
  align: runAlignJob,
  async statistics(request) {
    const checkpoint = await openCheckpoint(request.file);
    try {
      return await computeTensorStatistics(checkpoint, request.tensor);
    } finally {
      await checkpoint.close();
    }
  },
  inspect: runInspectJob,
  alignView: runAlignViewJob,
  eval: runEvalJob,
  merge: runMergeJob,
  diff: runDiffJob,
};

export function runJob(job: JobRequest, context: JobContext): Promise<unknown> {
  const handler = handlers[job.type] as (request: JobRequest, context: JobContext) => Promise<unknown>;
  return handler(job, context);
}
