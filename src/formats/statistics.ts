// Streaming statistics of one tensor: moments, extremes, special-value counts and a 64-bin histogram, computed in
// bounded memory from float32 chunks.
//
// Two passes: the first gathers counts, min, max and the moments; the second bins the finite values over
// [min, max]. A single pass with a fixed range would need the range in advance, and bins placed by a guessed or
// growing range do not match `np.histogram(finite, bins=64, range=(min, max))`. The cost is a second read of the
// tensor, which comes from the page cache for all but tensors larger than memory.
import type { Checkpoint } from './checkpoint';

export const HISTOGRAM_BINS = 64;

/** Default chunk size in output bytes: 16 MiB of float32 values, 4 Mi elements. */
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

export interface TensorHistogram {
  /** `HISTOGRAM_BINS + 1` bin edges in float64; the last bin includes its right edge, as in NumPy. */
  readonly edges: number[];
  readonly counts: number[];
}

/**
 * Statistics of one tensor's values after conversion to float32. `min`, `max`, `mean` and `std` (population
 * standard deviation) cover finite values only and are NaN when there are none.
 */
export interface TensorStatistics {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly std: number;
  /** Number of NaN values. */
  readonly nan: number;
  /** Number of +Inf and -Inf values. */
  readonly inf: number;
  /** Number of values equal to zero (either sign). */
  readonly zeros: number;
  /** Number of elements in the tensor, NaN and Inf included. */
  readonly count: number;
  /**
   * Finite values binned over [min, max]; over [min - 0.5, max + 0.5] when min equals max, and over [0, 1] when
   * there are no finite values, as `np.histogram` does.
   */
  readonly histogram: TensorHistogram;
}

export interface StatisticsOptions {
  /** Output bytes per float32 chunk read from the checkpoint; memory use is a small multiple of it. */
  readonly maxChunkBytes?: number;
  readonly signal?: AbortSignal;
}

interface Moments {
  finite: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
  min: number;
  max: number;
  nan: number;
  inf: number;
  zeros: number;
  count: number;
}

/**
 * Computes statistics of tensor `name`, reading it twice through `readTensorChunks`.
 * NOTE: values pass through float32 first, so F64 values beyond float32 range count as Inf and I64 values beyond
 * 2^24 are rounded; every other dtype converts exactly.
 */
export async function computeTensorStatistics(
  checkpoint: Checkpoint,
  name: string,
  options: StatisticsOptions = {},
): Promise<TensorStatistics> {
  const chunkBytes = options.maxChunkBytes ?? DEFAULT_CHUNK_BYTES;
  const moments: Moments = { finite: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity, nan: 0, inf: 0, zeros: 0, count: 0 };
  for await (const chunk of checkpoint.readTensorChunks(name, chunkBytes)) {
    options.signal?.throwIfAborted();
    mergeChunkMoments(moments, chunk);
  }

  const edges = histogramEdges(moments);
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  if (moments.finite > 0) {
    for await (const chunk of checkpoint.readTensorChunks(name, chunkBytes)) {
      options.signal?.throwIfAborted();
      addToHistogram(counts, edges, chunk);
    }
  }

  const none = moments.finite === 0;
  return {
    min: none ? NaN : moments.min,
    max: none ? NaN : moments.max,
    mean: none ? NaN : moments.mean,
    std: none ? NaN : Math.sqrt(moments.m2 / moments.finite),
    nan: moments.nan,
    inf: moments.inf,
    zeros: moments.zeros,
    count: moments.count,
    histogram: { edges, counts },
  };
}

/**
 * Adds one chunk to the running moments. The chunk's own mean and squared deviations are computed in two loops
 * in float64, then merged with Chan et al.'s parallel formula, which stays accurate for long tensors whose
 * mean is large compared with their spread.
 */
function mergeChunkMoments(moments: Moments, chunk: Float32Array): void {
  let finite = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let inf = 0;
  let zeros = 0;
  for (let i = 0; i < chunk.length; i++) {
    const value = chunk[i];
    if (value - value !== 0) {
      // Only NaN and ±Inf give a non-zero (NaN) difference with themselves.
      if (value !== value) nan++;
      else inf++;
      continue;
    }
    finite++;
    sum += value;
    if (value < min) min = value;
    if (value > max) max = value;
    if (value === 0) zeros++;
  }
  moments.count += chunk.length;
  moments.nan += nan;
  moments.inf += inf;
  moments.zeros += zeros;
  if (finite === 0) return;

  const chunkMean = sum / finite;
  let m2 = 0;
  for (let i = 0; i < chunk.length; i++) {
    const deviation = chunk[i] - chunkMean;
    // Non-finite values give a NaN or Inf deviation and are skipped by this comparison.
    if (deviation - deviation === 0) m2 += deviation * deviation;
  }

  const total = moments.finite + finite;
  const delta = chunkMean - moments.mean;
  moments.mean += delta * (finite / total);
  moments.m2 += m2 + delta * delta * (moments.finite * finite / total);
  moments.finite = total;
  if (min < moments.min) moments.min = min;
  if (max > moments.max) moments.max = max;
}

/** Bin edges as `np.linspace(low, high, 65)` computes them in float64: `low + i * step`, with the last edge `high`. */
function histogramEdges(moments: Moments): number[] {
  let low = moments.finite === 0 ? 0 : moments.min;
  let high = moments.finite === 0 ? 1 : moments.max;
  if (low === high) {
    low -= 0.5;
    high += 0.5;
  }
  const step = (high - low) / HISTOGRAM_BINS;
  const edges = new Array<number>(HISTOGRAM_BINS + 1);
  for (let i = 0; i < HISTOGRAM_BINS; i++) edges[i] = i * step + low;
  edges[HISTOGRAM_BINS] = high;
  return edges;
}

/**
 * Bins the finite values of `chunk`. The bin index is computed from the scaled offset and then corrected
 * against the edges themselves, the way `np.histogram` does for equal-width bins, so rounding near an edge
 * puts a value in the same bin NumPy would.
 */
function addToHistogram(counts: number[], edges: readonly number[], chunk: Float32Array): void {
  const low = edges[0];
  const high = edges[HISTOGRAM_BINS];
  const scale = HISTOGRAM_BINS / (high - low);
  const last = HISTOGRAM_BINS - 1;
  const binCounts = new Float64Array(HISTOGRAM_BINS);
  for (let i = 0; i < chunk.length; i++) {
    const value = chunk[i];
    if (value - value !== 0) continue;
    let bin = Math.trunc((value - low) * scale);
    if (bin >= HISTOGRAM_BINS) bin = last;
    if (value < edges[bin]) bin--;
    else if (bin !== last && value >= edges[bin + 1]) bin++;
    binCounts[bin]++;
  }
  for (let bin = 0; bin < HISTOGRAM_BINS; bin++) counts[bin] += binCounts[bin];
}
