// Messages between the extension host (or the command line) and the worker thread that runs long jobs.
// Both directions are discriminated unions on `type`; every message about a job carries the job's `id`.
import type { AlignReport } from '../alignment/alignReport';
import type { StructureDiff } from '../comparison/structureDiff';
import type { TensorDifference } from '../comparison/tensorDifference';
import type { EvaluationOptions, EvaluationReport } from '../evaluation/evaluateInterpolation';
import type { CheckpointFormat, PickleReport, TensorEntry } from '../formats/checkpoint';
import type { TensorStatistics } from '../formats/statistics';
import type { MergeOptions, MergeSummary } from '../merging/mergeCheckpoints';
import type { PermutationHeatmap } from './webviewMessages';

/** Options of an alignment job; the same as the `align` command's flags. */
export interface AlignJobOptions {
  readonly spec?: string;
  readonly graph?: string;
  readonly seed?: number;
  readonly order?: 'random' | 'sorted';
  readonly maxSweeps?: number;
  readonly precision?: 'float32' | 'float64';
  readonly executionProvider?: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
  /** Output path of π(B); without it no file is written. */
  readonly writeAligned?: string;
}

/** The jobs a worker runs, keyed by `type`, with their request and result payloads. */
export interface JobTypes {
  align: { request: { readonly a: string; readonly b: string; readonly options: AlignJobOptions }; result: AlignReport };
  statistics: { request: { readonly file: string; readonly tensor: string }; result: TensorStatistics };
  /** Headers only: the tensor list, metadata and pickle report, and the execution provider available. */
  inspect: { request: { readonly file: string }; result: InspectResult };
  /** `align` plus the unit similarity matrices and the spec text, for the alignment panel. */
  alignView: { request: { readonly a: string; readonly b: string; readonly options: AlignJobOptions }; result: AlignViewResult };
  eval: { request: { readonly options: Omit<EvaluationOptions, 'signal'> }; result: EvaluationReport };
  merge: { request: { readonly options: Omit<MergeOptions, 'signal'> }; result: MergeSummary };
  /** `diff --stats`: values are `[matched name, difference]` pairs for the shared tensors of equal shape. */
  diff: { request: { readonly a: string; readonly b: string }; result: DiffResult };
}

export interface InspectResult {
  readonly format: CheckpointFormat;
  readonly tensors: readonly TensorEntry[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly pickle?: PickleReport;
  /** `cpu`, or the accelerator whose provider is installed (`cuda`, `dml`, `coreml`). */
  readonly executionProvider: string;
}

export interface AlignViewResult {
  readonly report: AlignReport;
  /** One per permutation, reduced to at most 1024² cells. */
  readonly heatmaps: readonly PermutationHeatmap[];
  /** The spec the alignment used, as `*.permspec.json` text. */
  readonly specText: string;
  readonly specNotes: readonly string[];
}

export interface DiffResult {
  readonly structure: StructureDiff;
  readonly values: readonly (readonly [string, TensorDifference])[];
  readonly identical: boolean;
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
