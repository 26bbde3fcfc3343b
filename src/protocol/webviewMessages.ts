// Messages between the extension host and the webviews (the checkpoint inspector and the alignment panel).
// Each direction is a discriminated union on `type`. Matrices and histograms are typed arrays, never JSON
// number lists, so the host must post them with `webview.postMessage` as they are.
import type { PickleReport, TensorEntry } from '../formats/checkpoint';
import type { JobProgress } from './workerMessages';

/** Name of the view a webview shows, which the host writes into `<body data-view="…">`. */
export type WebviewView = 'inspector' | 'alignment';

// #region Inspector

/** Header and tensor list of one opened checkpoint, as `inspect --json` reports it. */
export interface InspectorData {
  readonly fileName: string;
  /** One of the contract's format names, e.g. `safetensors` or `pytorch-zip`. */
  readonly format: string;
  /** Size of the checkpoint file in bytes. */
  readonly fileSize: number;
  readonly tensors: readonly TensorEntry[];
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Present for pickle-based files only. */
  readonly pickle?: PickleReport;
  /** Name of the ONNX Runtime execution provider available for evaluation, e.g. `cpu` or `cuda`; absent when none. */
  readonly executionProvider?: string;
}

/** Histogram with `counts.length` bins; bin i covers [edges[i], edges[i + 1]), so `edges.length = counts.length + 1`. */
export interface HistogramData {
  readonly edges: Float64Array;
  readonly counts: Float64Array;
}

/** Summary statistics of one tensor's values, computed over all `count` elements. */
export interface TensorStatisticsData {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly std: number;
  /** Number of NaN elements. */
  readonly nan: number;
  /** Number of +Inf or −Inf elements. */
  readonly inf: number;
  readonly zeros: number;
  readonly count: number;
  readonly histogram: HistogramData;
}

/** Sent by the host once the webview posted `ready`: the checkpoint to show. */
export interface InspectorDataMessage {
  readonly type: 'inspectorData';
  readonly data: InspectorData;
}

/** Sent by the host in reply to `requestStatistics`. */
export interface TensorStatisticsMessage {
  readonly type: 'tensorStatistics';
  readonly name: string;
  readonly stats: TensorStatisticsData;
}

/** Sent by the host when a request failed; `tensor` names the tensor the failed request was about, if any. */
export interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
  readonly tensor?: string;
}

// #endregion

// #region Alignment panel

/** The `align --out` report, with the fields the panel shows; hosts may send a superset. */
export interface AlignmentReportData {
  readonly a: string;
  readonly b: string;
  readonly spec: { readonly source: string; readonly permutations: Readonly<Record<string, number>> };
  /** Aligned unit i is B's unit `permutations[name][i]`. */
  readonly permutations: Readonly<Record<string, readonly number[]>>;
  readonly objective: { readonly before: number; readonly after: number; readonly perSweep: readonly number[] };
  readonly sweeps: number;
  /** L2 norm over every floating-point tensor of A − B (before) and A − π(B) (after). */
  readonly distance: { readonly before: number; readonly after: number };
  readonly layers: readonly { readonly tensor: string; readonly cosineBefore: number; readonly cosineAfter: number }[];
  readonly executionProvider: string;
  /** Wall-clock seconds per stage, e.g. `{ load: 0.05, match: 0.4 }`. */
  readonly seconds: Readonly<Record<string, number>>;
}

/**
 * Similarity of A's units (rows) with B's units (columns) for one permutation, row-major.
 * `before` has B in its original order; `after` has column j = B's unit `perm[j]`.
 * The panel reduces matrices wider than its canvas by block maximum. For large n the host should reduce them
 * first with `downsampleBlockMax` (webview/logic/blockMax.ts), e.g. to `size` = 1024, because n = 16 384
 * means 1 GiB per float32 matrix. Output cell r then covers the units u with ⌊u·size/n⌋ = r.
 */
export interface PermutationHeatmap {
  readonly permutation: string;
  /** Number of units the permutation acts on. */
  readonly n: number;
  /** Side of the matrices as sent; `n` when not downsampled. */
  readonly size: number;
  readonly before: Float32Array;
  readonly after: Float32Array;
}

/** Result of comparing B with π(B) on the evaluation data: permuting must not change the function. */
export interface EquivalenceCheck {
  readonly maxAbsLogitDiff: number;
  /** Largest difference that still passes; the host picks it from the precision used. */
  readonly tolerance: number;
}

/** One set of curves over λ: `loss[i]` and `accuracy[i]` at `lambdas[i]`. */
export interface CurveSet {
  readonly loss: readonly number[];
  readonly accuracy: readonly number[];
}

/** The `eval --out` report: interpolation curves, naive and aligned, optionally after BatchNorm statistics reset. */
export interface CurvesData {
  readonly lambdas: readonly number[];
  readonly naive: CurveSet;
  readonly aligned: CurveSet;
  readonly barrier: { readonly naive: number; readonly aligned: number };
  /** Curves after recomputing BatchNorm statistics on training data (`--reset-bn`). */
  readonly resetBn?: { readonly naive?: CurveSet; readonly aligned?: CurveSet };
  readonly equivalence?: EquivalenceCheck;
}

/** Sent by the host after weight matching: the report and one heatmap per permutation. */
export interface AlignmentReportMessage {
  readonly type: 'alignmentReport';
  readonly report: AlignmentReportData;
  readonly heatmaps: readonly PermutationHeatmap[];
}

/** Sent by the host after evaluation finished. */
export interface CurvesMessage {
  readonly type: 'curves';
  readonly curves: CurvesData;
}

/** Sent by the host while an alignment, evaluation or merge job runs; `progress` undefined clears the indicator. */
export interface JobProgressMessage {
  readonly type: 'jobProgress';
  readonly job: 'align' | 'evaluate' | 'merge' | 'write';
  readonly progress?: JobProgress;
}

/** Sent by the host when curves cannot be computed yet, with the evaluation inputs that are missing. */
export interface NeedsEvaluationInputsMessage {
  readonly type: 'needsEvaluationInputs';
  /** An ONNX model of the architecture is missing. */
  readonly graph: boolean;
  /** A data file (`.npz` or `.safetensors` with inputs and labels) is missing. */
  readonly data: boolean;
}

// #endregion

export type ToWebviewMessage =
  | InspectorDataMessage
  | TensorStatisticsMessage
  | ErrorMessage
  | AlignmentReportMessage
  | CurvesMessage
  | JobProgressMessage
  | NeedsEvaluationInputsMessage;

export type FromWebviewMessage =
  /** The webview's script is running and listening; the host sends its data in reply. */
  | { readonly type: 'ready'; readonly view: WebviewView }
  /** The user selected a tensor; the host replies with `tensorStatistics` or `error`. */
  | { readonly type: 'requestStatistics'; readonly name: string }
  /** Copy this tensor name to the clipboard (webviews have no clipboard permission of their own). */
  | { readonly type: 'copyTensorName'; readonly name: string }
  /** Ask the user for a second checkpoint and align it onto this one. */
  | { readonly type: 'alignWith' }
  /** Ask the user for a second checkpoint and merge it with this one. */
  | { readonly type: 'mergeWith' }
  /** Ask the user for a second checkpoint and compare it with this one. */
  | { readonly type: 'compareWith' }
  /** Ask the user for an ONNX model to evaluate the curves with. */
  | { readonly type: 'chooseGraph' }
  /** Ask the user for an evaluation data file. */
  | { readonly type: 'chooseData' }
  /** Save the permutation spec the alignment used as a `*.permspec.json` file. */
  | { readonly type: 'saveSpec' }
  /** Write (1 − λ)·A + λ·π(B) to a file the user picks; λ is in [0, 1]. */
  | { readonly type: 'mergeAt'; readonly lambda: number }
  /** Write π(B) to a file the user picks. */
  | { readonly type: 'writeAligned' }
  /** Save the alignment report (and curves, if any) as JSON, and each chart as a PNG file beside it. */
  | { readonly type: 'exportReport'; readonly charts: readonly ChartImage[] };

/** One chart of the alignment panel, encoded as PNG. */
export interface ChartImage {
  /** Chart name, e.g. `loss` or `heatmap.P_fc1.after`; the host keeps only `[A-Za-z0-9_.-]` of it in file names. */
  readonly name: string;
  /** The PNG file's bytes, starting with the 8-byte PNG signature. */
  readonly png: Uint8Array;
}

/** UI state of the inspector, kept with `vscode.setState` so a reloaded webview restores it. */
export interface InspectorState {
  readonly view: 'inspector';
  readonly filter: string;
  readonly sortColumn: 'name' | 'dtype' | 'shape' | 'parameters' | 'bytes';
  readonly sortDescending: boolean;
  /** Flat list instead of the tree of module paths. */
  readonly flat: boolean;
  /** Paths of collapsed groups, e.g. `model.layers.3`. */
  readonly collapsed: readonly string[];
  readonly selected?: string;
  readonly scrollTop: number;
}

/** UI state of the alignment panel; `a` and `b` let the host's serializer find the checkpoints again. */
export interface AlignmentState {
  readonly view: 'alignment';
  readonly a?: string;
  readonly b?: string;
  readonly lambda: number;
  readonly layerSort: 'tensor' | 'cosineBefore' | 'cosineAfter' | 'gain';
}

export type WebviewState = InspectorState | AlignmentState;
