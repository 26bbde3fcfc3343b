// The permutation spec: which permutation acts on which axis of which tensor (`*.permspec.json`).
// Core module: no `vscode` import.

/** A grouped axis viewed as `(outer, n, inner)`; the permutation acts on the middle index (attention heads). */
export interface GroupedAxis {
  readonly perm: string;
  readonly outer: number;
  readonly inner: number;
}

/** One axis of a tensor: the name of the permutation acting on it, a grouped entry, or `null` (not permuted). */
export type AxisEntry = string | null | GroupedAxis;

/** The file's content after structural checks, before it is compared with any checkpoint. */
export interface PermutationSpec {
  /** Tensor name → one entry per axis. A tensor absent from `axes` is not permuted and does not vote. */
  readonly axes: Readonly<Record<string, readonly AxisEntry[]>>;
  /** Tensors whose inner products enter the matching objective; absent means the default cost set. */
  readonly cost?: readonly string[];
}

/** An axis entry in normalized form: plain axes have `outer = inner = 1`. */
export interface AxisPermutation {
  readonly permutation: string;
  readonly outer: number;
  readonly inner: number;
  /** Number of units the permutation acts on: the axis size divided by `outer * inner`. */
  readonly size: number;
}

/** A spec tensor matched to both checkpoints. */
export interface SpecTensor {
  /** Name as written in the spec. */
  readonly name: string;
  /** Name of the tensor in checkpoint A and in checkpoint B (they may differ by a wrapper prefix). */
  readonly nameA: string;
  readonly nameB: string;
  readonly shape: readonly number[];
  /** One entry per axis; `null` where the axis is not permuted. */
  readonly axes: readonly (AxisPermutation | null)[];
  /** Whether the tensor's inner product enters the matching objective. */
  readonly cost: boolean;
}

/** A spec validated against two checkpoints, ready for weight matching. */
export interface ResolvedSpec {
  /** Origin of the spec, for reports: a file path or `auto: …`. */
  readonly source: string;
  /** Permutation name → number of units, in sorted name order. */
  readonly permutations: ReadonlyMap<string, number>;
  readonly tensors: readonly SpecTensor[];
}

export function isGroupedAxis(entry: AxisEntry): entry is GroupedAxis {
  return entry !== null && typeof entry === 'object';
}

/** Name of the permutation an axis entry refers to, or undefined for `null`. */
export function axisPermutationName(entry: AxisEntry): string | undefined {
  if (entry === null) return undefined;
  return typeof entry === 'string' ? entry : entry.perm;
}

/** BatchNorm running statistics are permuted with their channels but do not vote in the objective. */
export function isRunningStatistic(name: string): boolean {
  return /(^|\.)running_(mean|var)$/.test(name);
}
