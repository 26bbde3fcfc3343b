// Statistics loops for float64 chunks: tensors whose values float32 cannot hold exactly (F64, and integers beyond
// 2^24). They run in JavaScript, because the WebAssembly kernels take float32 values. Both loops check finiteness
// per value, since a finite float64 value can be far outside float32 range.
import type { ChunkSums } from './wasmKernels/kernels';

/** Computes the plain and shifted sums and the extremes of `chunk`, as `sumChunk` does for float32 chunks. */
export function sumFloat64Chunk(chunk: Float64Array, shift: number): ChunkSums {
  let total = 0;
  let sum = 0;
  let squares = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < chunk.length; i++) {
    const value = chunk[i];
    const deviation = value - shift;
    total += value;
    sum += deviation;
    squares += deviation * deviation;
    // NaN fails both comparisons, so a NaN value leaves the extremes alone; the sums become NaN instead.
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { total, sum, squares, min, max };
}

/**
 * Adds the finite values of `chunk` to `counts`, binned over `edges` as `np.histogram` bins them: bin i contains
 * edges[i] <= value < edges[i + 1], and the last bin also contains its upper edge. Returns how many values are zero.
 * A binary search over the edges finds each bin, so no offset arithmetic can overflow for values near the
 * float64 range.
 */
export function addFloat64ToHistogram(chunk: Float64Array, edges: Float64Array, counts: Float64Array): number {
  const bins = edges.length - 1;
  const high = edges[bins];
  let zeros = 0;
  for (let i = 0; i < chunk.length; i++) {
    const value = chunk[i];
    if (!Number.isFinite(value)) continue;
    if (value === 0) zeros++;
    if (value >= high) {
      counts[bins - 1]++;
      continue;
    }
    // Invariant: edges[lower] <= value < edges[upper].
    let lower = 0;
    let upper = bins;
    while (upper - lower > 1) {
      const middle = (lower + upper) >> 1;
      if (value >= edges[middle]) lower = middle;
      else upper = middle;
    }
    counts[lower]++;
  }
  return zeros;
}
