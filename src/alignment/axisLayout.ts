// A permuted axis of a row-major tensor viewed as five axes `(before, outer, n, inner, after)`, where `before`
// and `after` are the products of the sizes of the axes before and after it. A plain axis has `outer = inner = 1`.
import type { AxisPermutation } from './permutationSpec';

export interface AxisLayout {
  readonly before: number;
  readonly outer: number;
  readonly size: number;
  readonly inner: number;
  readonly after: number;
}

export function axisLayout(shape: readonly number[], axis: number, permutation: AxisPermutation): AxisLayout {
  let before = 1;
  for (let k = 0; k < axis; k++) before *= shape[k];
  let after = 1;
  for (let k = axis + 1; k < shape.length; k++) after *= shape[k];
  return { before, outer: permutation.outer, size: permutation.size, inner: permutation.inner, after };
}

/** Rows of the `(n, rest)` matrix that puts the permuted units first; `rest` keeps the other indices in row-major order. */
export function unitsFirstColumns(layout: AxisLayout): number {
  return layout.before * layout.outer * layout.inner * layout.after;
}
