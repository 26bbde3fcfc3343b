// Unit similarity matrices for the alignment panel's heatmaps: for each permutation, entry (i, j) is
// Σ ⟨A's unit i, B's unit j⟩ over the cost tensors' axes it acts on, the same sum weight matching maximizes.
import { permuteTensor, type Permutations } from '../alignment/applyPermutation';
import { axisLayout, type AxisLayout } from '../alignment/axisLayout';
import type { ResolvedSpec, SpecTensor } from '../alignment/permutationSpec';
import type { PermutationHeatmap } from '../protocol/webviewMessages';
import { downsampleBlockMax } from '../../webview/logic/blockMax';

/** Side above which matrices are reduced by block maximum before they are sent: 1024² float32 is 4 MiB. */
export const MAX_HEATMAP_SIZE = 1024;

/** Copies the units of one axis into an `(n, rest)` row-major matrix; `rest` keeps the other indices in order. */
function unitsFirst(data: Float32Array, layout: AxisLayout): Float32Array {
  const { before, outer, size, inner, after } = layout;
  const run = inner * after;
  const blocks = before * outer;
  const rest = blocks * run;
  const result = new Float32Array(size * rest);
  for (let block = 0; block < blocks; block++) {
    for (let unit = 0; unit < size; unit++) {
      const source = (block * size + unit) * run;
      result.set(data.subarray(source, source + run), unit * rest + block * run);
    }
  }
  return result;
}

/** Adds `x · yᵀ` to the n×n accumulator, with x and y `(n, rest)` row-major. */
function addProducts(sum: Float64Array, x: Float32Array, y: Float32Array, n: number): void {
  const rest = x.length / n;
  for (let i = 0; i < n; i++) {
    const rowX = i * rest;
    for (let j = 0; j < n; j++) {
      const rowY = j * rest;
      let dot = 0;
      for (let k = 0; k < rest; k++) dot += x[rowX + k] * y[rowY + k];
      sum[i * n + j] += dot;
    }
  }
}

function toFloat32(sum: Float64Array): Float32Array {
  return Float32Array.from(sum);
}

/**
 * Computes one heatmap per permutation that a cost tensor votes on. `floatsA` is keyed by A's names and
 * `floatsB` by B's; `after` puts B's unit `perm[j]` in column j, with every other permutation applied too.
 */
export function computeHeatmaps(
  spec: ResolvedSpec,
  floatsA: ReadonlyMap<string, Float32Array>,
  floatsB: ReadonlyMap<string, Float32Array>,
  permutations: Permutations,
  signal: AbortSignal,
): PermutationHeatmap[] {
  const before = new Map<string, Float64Array>();
  const after = new Map<string, Float64Array>();
  for (const [name, n] of spec.permutations) {
    before.set(name, new Float64Array(n * n));
    after.set(name, new Float64Array(n * n));
  }

  for (const tensor of spec.tensors) {
    const dataA = floatsA.get(tensor.nameA);
    const dataB = floatsB.get(tensor.nameB);
    if (!tensor.cost || dataA === undefined || dataB === undefined) continue;
    signal.throwIfAborted();
    addTensor(tensor, dataA, dataB, permutations, before, after);
  }

  const heatmaps: PermutationHeatmap[] = [];
  for (const [name, n] of spec.permutations) {
    const reducedBefore = downsampleBlockMax({ size: n, data: toFloat32(before.get(name)!) }, MAX_HEATMAP_SIZE);
    const reducedAfter = downsampleBlockMax({ size: n, data: toFloat32(after.get(name)!) }, MAX_HEATMAP_SIZE);
    heatmaps.push({ permutation: name, n, size: reducedBefore.size, before: reducedBefore.data, after: reducedAfter.data });
  }
  return heatmaps;
}

function addTensor(
  tensor: SpecTensor,
  dataA: Float32Array,
  dataB: Float32Array,
  permutations: Permutations,
  before: Map<string, Float64Array>,
  after: Map<string, Float64Array>,
): void {
  const alignedB = permuteTensor(dataB, tensor.shape, tensor.axes, permutations);
  tensor.axes.forEach((axis, index) => {
    if (axis === null) return;
    const layout = axisLayout(tensor.shape, index, axis);
    const unitsA = unitsFirst(dataA, layout);
    addProducts(before.get(axis.permutation)!, unitsA, unitsFirst(dataB, layout), axis.size);
    addProducts(after.get(axis.permutation)!, unitsA, unitsFirst(alignedB, layout), axis.size);
  });
}
