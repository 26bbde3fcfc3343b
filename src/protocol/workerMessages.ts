// Messages between the extension host (or the command line) and the worker thread that runs long jobs.
// Both directions are discriminated unions on `type`; every message about a job carries the job's `id`.
import type { AlignReport } from '../alignment/alignReport';
import type { TensorStatistics } from '../formats/statistics';

/** Options of an alignment job; the same as the `align` command's flags. */
export interface AlignJobOptions {
  readonly spec?: string;
  readonly graph?: string;
  readonly seed?: number;
  readonly order?: 'random' | 'sorted';
  readonly maxSweeps?: number;
  readonly precision?: 'float32' | 'float64';
  readonly executionProvider?: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
  /** Where to write π(B); omitted means no file is written. */
  readonly writeAligned?: string;
}

/** The jobs a worker runs, keyed by `type`, with their request and result payloads. */
export interface JobTypes {
  align: { request: { readonly a: string; readonly b: string; readonly options: AlignJobOptions }; result: AlignReport };
  statistics: { request: { readonly file: string; readonly tensor: string }; result: TensorStatistics };
}

export type JobType = keyof JobTypes;
export type JobRequest<T extends JobType = JobType> = { readonly type: T } & JobTypes[T]['request'];
export type JobResult<T extends JobType> = JobTypes[T]['result'];

/** Progress of a running job: `done` of `total` units of `stage`, with an optional numeric detail. */
export interface JobProgress {
  readonly stage: string;
  readonly done?: number;
  readonly total?: number;
  /** Free text for notifications, e.g. "sweep 3, objective 198.6". */
  readonly message?: string;
  readonly sweep?: number;
  readonly objective?: number;
}

export type ToWorkerMessage =
  | { readonly type: 'start'; readonly id: number; readonly job: JobRequest }
  | { readonly type: 'cancel'; readonly id: number };

export type FromWorkerMessage =
  | { readonly type: 'progress'; readonly id: number; readonly progress: JobProgress }
  | { readonly type: 'result'; readonly id: number; readonly result: unknown }
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly cancelled: boolean; readonly stack?: string }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string };
