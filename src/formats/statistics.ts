// Streaming statistics of one tensor: moments, extremes, special-value counts and a 64-bin histogram, computed in
// bounded memory from float32 or float64 chunks.
//
// Two passes: the first gathers NaN and Inf counts, min, max and the moments, and the second counts zeros and bins
// the finite values over [min, max]. A single pass with a fixed range would need the range in advance, and bins
// placed by a guessed or growing range do not match `np.histogram(finite, bins=64, range=(min, max))`, where
// `finite` is the finite values as float64. NumPy 1.24 builds float32 edges for float32 input, so its counts for
// such input can differ near the edges. The cost is a second read of the tensor, which comes from the page cache
// for all but tensors larger than memory. The loops over float32 values run in WebAssembly (wasmKernels/), those
// over float64 values in float64Statistics.ts, and the bookkeeping here.
import type { Checkpoint, ChunkType, DType } from './checkpoint';
import { float32HoldsExactly } from './dtype';
import { addFloat64ToHistogram, sumFloat64Chunk } from './float64Statistics';
import { addToHistogram, KERNEL_BINS, sumChunk } from './wasmKernels/kernels';

export const HISTOGRAM_BINS = KERNEL_BINS;

/**
 * Default chunk size in output bytes: 4 MiB of float32 values, 1 Mi elements. In bench/formats.ts on a 2-core
 * AMD EPYC VM, 4 MiB chunks gave about twice the throughput of 16 MiB chunks and 60 MB less peak RSS.
 * Likely reasons, not measured: a smaller chunk stays in cache between the loops that visit it, and fewer dead
 * chunks wait for garbage collection.
 */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

export interface TensorHistogram {
  /** `HISTOGRAM_BINS + 1` bin edges in float64; the last bin includes its right edge, as in NumPy. */
  readonly edges: number[];
  readonly counts: number[];
}

/**
 * Statistics of one tensor's exact values: float32 represents every value of the 16-bit and 8-bit types exactly, and
 * F64 and 32-bit and 64-bit integers are read as float64 (exact for integers up to 2^53). `min`, `max`, `mean`
 * and `std` (population standard deviation) cover finite values only and are NaN when there are none.
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
  count: number;
}

/**
 * Computes statistics of tensor `name`, reading it twice through `readTensorChunks`: as float32 chunks through the
 * WebAssembly kernels when float32 represents its dtype exactly, else as float64 chunks through JavaScript loops.
 * NOTE: I64 and U64 values beyond 2^53 are rounded to float64.
 */
export async function computeTensorStatistics(
  checkpoint: Checkpoint,
  name: string,
  options: StatisticsOptions = {},
): Promise<TensorStatistics> {
  const chunkBytes = options.maxChunkBytes ?? DEFAULT_CHUNK_BYTES;
  const dtype = dtypesOf(checkpoint).get(name);
  const as: ChunkType = dtype === undefined || float32HoldsExactly(dtype) ? 'float32' : 'float64';
  const moments: Moments = { finite: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity, nan: 0, inf: 0, count: 0 };
  for await (const chunk of checkpoint.readTensorChunks(name, chunkBytes, as)) {
    options.signal?.throwIfAborted();
    mergeChunkMoments(moments, chunk);
  }

  // Zeros are counted in the histogram pass, which visits every finite value anyway.
  const edges = histogramEdges(moments);
  const counts = new Float64Array(HISTOGRAM_BINS);
  let zeros = 0;
  if (moments.finite > 0 && moments.min === moments.max) {
    // Every finite value equals min, so they share one bin and the second pass is not needed. Zero and constant
    // tensors also put every value on an edge, the kernel's slowest path.
    const value = as === 'float64' ? Float64Array.of(moments.min) : Float32Array.of(moments.min);
    zeros = addChunkToHistogram(value, edges, counts) * moments.finite;
    for (let bin = 0; bin < HISTOGRAM_BINS; bin++) counts[bin] *= moments.finite;
  } else if (moments.finite > 0) {
    for await (const chunk of checkpoint.readTensorChunks(name, chunkBytes, as)) {
      options.signal?.throwIfAborted();
      zeros += addChunkToHistogram(chunk, edges, counts);
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
    zeros,
    count: moments.count,
    histogram: { edges: Array.from(edges), counts: Array.from(counts) },
  };
}


/**
 * Adds one chunk to the running moments. The chunk's own mean and squared deviations are computed in float64,
 * usually in one loop over deviations from a shift. They are merged with Chan et al.'s parallel formula, which
 * stays accurate for long tensors whose mean is large compared with their spread.
 */
function mergeChunkMoments(moments: Moments, chunk: Float32Array | Float64Array): void {
  moments.count += chunk.length;
  const summary = summarizeFiniteChunk(chunk) ?? summarizeMixedChunk(chunk);
  moments.nan += summary.nan;
  moments.inf += summary.inf;
  if (summary.finite === 0) return;

  const chunkMean = summary.sum / summary.finite;
  const m2 = summary.m2 ?? squaredFiniteDeviations(chunk, chunkMean);

  const total = moments.finite + summary.finite;
  const delta = chunkMean - moments.mean;
  moments.mean += delta * (summary.finite / total);
  // The first chunk has weight 0; skipping its term avoids Infinity * 0 when its mean is near the float64 limit.
  const weight = moments.finite * summary.finite / total;
  moments.m2 += m2 + (weight === 0 ? 0 : delta * delta * weight);
  moments.finite = total;
  if (summary.min < moments.min) moments.min = summary.min;
  if (summary.max > moments.max) moments.max = summary.max;
}

interface ChunkSummary {
  finite: number;
  sum: number;
  /** Sum of squared deviations from the chunk mean, when the summary computed it. */
  m2?: number;
  min: number;
  max: number;
  nan: number;
  inf: number;
}

/**
 * Summarizes a chunk in a loop without per-value finiteness check, because almost every tensor is finite: the
 * WebAssembly kernel for float32 chunks, a JavaScript loop for float64 ones. Returns undefined when the sums are
 * NaN or infinite. Finite float32 values cannot overflow a float64 sum, so for them only a NaN or an infinity
 * makes the sum non-finite. Large finite float64 values can overflow the squares, and then take the mixed path.
 */
function summarizeFiniteChunk(chunk: Float32Array | Float64Array): ChunkSummary | undefined {
  // The plain sum gives the mean, and sums of deviations from a shift, the chunk's first value, give the squared
  // deviations in the same loop. Because the shift is one of the chunk's values, m2 is at least
  // squares / (n + 1), so the subtraction below loses at most about log10(n) of float64's 16 digits.
  const length = chunk.length;
  const shift = length > 0 ? chunk[0] : 0;
  const { total, sum, squares, min, max } = chunk instanceof Float32Array ? sumChunk(chunk, shift) : sumFloat64Chunk(chunk, shift);
  if (!Number.isFinite(total) || !Number.isFinite(sum) || !Number.isFinite(squares)) return undefined;
  const m2 = Math.max(0, squares - (sum * sum) / length);
  // Chunks of over 10^8 values could lose more digits than that allows; their squared deviations get a second loop.
  const spreadIsResolved = squares === 0 || m2 > squares * 1e-8;
  return { finite: length, sum: total, m2: spreadIsResolved ? m2 : undefined, min, max, nan: 0, inf: 0 };
}

function summarizeMixedChunk(chunk: Float32Array | Float64Array): ChunkSummary {
  let finite = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < chunk.length; i++) {
    const value = chunk[i];
    if (Number.isFinite(value)) {
      finite++;
      sum += value;
      if (value < min) min = value;
      if (value > max) max = value;
    } else if (value !== value) {
      nan++;
    } else {
      inf++;
    }
  }
  return { finite, sum, min, max, nan, inf };
}

function squaredFiniteDeviations(chunk: Float32Array | Float64Array, mean: number): number {
  let m2 = 0;
  for (let i = 0; i < chunk.length; i++) {
    const value = chunk[i];
    if (Number.isFinite(value)) m2 += (value - mean) * (value - mean);
  }
  return m2;
}

/** Dtype by tensor name, per checkpoint, so statistics of every tensor of a large checkpoint stay linear. */
const dtypeMaps = new WeakMap<Checkpoint, Map<string, DType>>();

function dtypesOf(checkpoint: Checkpoint): Map<string, DType> {
  let dtypes = dtypeMaps.get(checkpoint);
  if (dtypes === undefined) {
    dtypes = new Map(checkpoint.tensors.map((entry) => [entry.name, entry.dtype]));
    dtypeMaps.set(checkpoint, dtypes);
  }
  return dtypes;
}

function addChunkToHistogram(chunk: Float32Array | Float64Array, edges: Float64Array, counts: Float64Array): number {
  return chunk instanceof Float32Array ? addToHistogram(chunk, edges, counts) : addFloat64ToHistogram(chunk, edges, counts);
}

/** Bin edges as `np.linspace(low, high, 65)` computes them in float64: `low + i * step`, with the last edge `high`. */
function histogramEdges(moments: Moments): Float64Array {
  let low = moments.finite === 0 ? 0 : moments.min;
  let high = moments.finite === 0 ? 1 : moments.max;
  if (low === high) {
    low -= 0.5;
    high += 0.5;
  }
  // A float64 range wider than the largest float64 overflows; dividing each end first keeps the step finite.
  const width = high - low;
  const step = Number.isFinite(width) ? width / HISTOGRAM_BINS : high / HISTOGRAM_BINS - low / HISTOGRAM_BINS;
  const edges = new Float64Array(HISTOGRAM_BINS + 1);
  for (let i = 0; i < HISTOGRAM_BINS; i++) edges[i] = i * step + low;
  edges[HISTOGRAM_BINS] = high;
  return edges;
}
