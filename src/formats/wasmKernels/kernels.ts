// Typed access to the WebAssembly kernels of kernels.wat: tensor statistics and widening of 16-bit floats. Each
// call copies its input into the module's scratch areas slice by slice and runs a kernel on it. Calls are synchronous, so computations interleaved by
// `await` can share the one instance: none of them leaves state in its memory between calls.
import { KERNELS_WASM_BASE64 } from './kernelsBinary';

/** Number of histogram bins the kernels count into. */
export const KERNEL_BINS = 64;

// Memory layout of kernels.wat, in bytes.
const EDGES_ADDRESS = 0;
const COUNTS_ADDRESS = 1024;
const COUNT_SETS = 4;
const MOMENTS_ADDRESS = 2048;
const SCRATCH_ADDRESS = 4096;
/** Capacity of each scratch area in values: 1 MiB of float32, chosen to stay in cache between copy and kernel. */
const SCRATCH_VALUES = 256 * 1024;
/** Address of the 16-bit scratch area, after the float32 one. */
const HALF_SCRATCH_ADDRESS = SCRATCH_ADDRESS + SCRATCH_VALUES * 4;

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  moments(values: number, count: number, shift: number, out: number): void;
  histogram(values: number, count: number, low: number, scale: number): number;
  widenBfloat16(source: number, target: number, count: number): void;
  widenFloat16(source: number, target: number, count: number): void;
}

interface Kernels {
  readonly exports: KernelExports;
  readonly scratch: Float32Array;
  readonly halfScratch: Uint8Array;
  readonly edges: Float64Array;
  readonly counts: Int32Array;
  readonly moments: Float64Array;
}

let loaded: Kernels | undefined;

/**
 * Compiles the 2 KB module on first use. It needs WebAssembly's fixed-width SIMD, which Node has had since
 * version 16.4 and every VS Code release this extension supports ships.
 */
function kernels(): Kernels {
  if (loaded !== undefined) return loaded;
  const module = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  const exports = new WebAssembly.Instance(module).exports as unknown as KernelExports;
  // The module declares a fixed memory of 25 pages, so these views never detach.
  const buffer = exports.memory.buffer;
  loaded = {
    exports,
    scratch: new Float32Array(buffer, SCRATCH_ADDRESS, SCRATCH_VALUES),
    halfScratch: new Uint8Array(buffer, HALF_SCRATCH_ADDRESS, SCRATCH_VALUES * 2),
    edges: new Float64Array(buffer, EDGES_ADDRESS, KERNEL_BINS + 1),
    counts: new Int32Array(buffer, COUNTS_ADDRESS, KERNEL_BINS * COUNT_SETS),
    moments: new Float64Array(buffer, MOMENTS_ADDRESS, 5),
  };
  return loaded;
}

/** Sums of one chunk, plain and relative to a shift, in float64. */
export interface ChunkSums {
  /** Sum of the values. */
  total: number;
  /** Sum of (value - shift). */
  sum: number;
  /** Sum of (value - shift)^2. */
  squares: number;
  min: number;
  max: number;
}

/**
 * Computes the plain and shifted sums and the extremes of `chunk`. When the chunk contains a NaN or an infinity,
 * the sums are not finite and the extremes may be NaN, so the caller needs a loop that skips such values.
 */
export function sumChunk(chunk: Float32Array, shift: number): ChunkSums {
  const { exports, scratch, moments } = kernels();
  const result: ChunkSums = { total: 0, sum: 0, squares: 0, min: Infinity, max: -Infinity };
  for (let first = 0; first < chunk.length; first += SCRATCH_VALUES) {
    const slice = chunk.subarray(first, first + SCRATCH_VALUES);
    scratch.set(slice);
    exports.moments(SCRATCH_ADDRESS, slice.length, shift, MOMENTS_ADDRESS);
    result.total += moments[0];
    result.sum += moments[1];
    result.squares += moments[2];
    // NaN extremes must survive the merge, and Math.min and Math.max propagate NaN.
    result.min = Math.min(result.min, moments[3]);
    result.max = Math.max(result.max, moments[4]);
  }
  return result;
}

/**
 * Adds the finite values of `chunk` to `counts`, binned over `edges` (`KERNEL_BINS + 1` ascending float64
 * edges, the last bin closed) exactly as `np.histogram` bins them, and returns how many values equal zero.
 * NaN and infinite values are skipped.
 *
 * The kernel bins a value by the integer part of its scaled offset (value - low) * scale unless that offset lies
 * within 2^-11 (about 5e-4) bins of an edge, and compares values near an edge with the edges themselves.
 * Rounding moves a scaled offset by less than 1e-6 bins: the range spans at least one float32 step of its
 * largest value, and the float64 arithmetic is 2^29 times finer than that.
 */
export function addToHistogram(chunk: Float32Array, edges: Float64Array, counts: Float64Array): number {
  const kernel = kernels();
  const low = edges[0];
  const scale = KERNEL_BINS / (edges[KERNEL_BINS] - low);
  kernel.edges.set(edges);
  let zeros = 0;
  for (let first = 0; first < chunk.length; first += SCRATCH_VALUES) {
    const slice = chunk.subarray(first, first + SCRATCH_VALUES);
    kernel.scratch.set(slice);
    kernel.counts.fill(0);
    zeros += kernel.exports.histogram(SCRATCH_ADDRESS, slice.length, low, scale);
    for (let set = 0; set < COUNT_SETS; set++) {
      for (let bin = 0; bin < KERNEL_BINS; bin++) counts[bin] += kernel.counts[set * KERNEL_BINS + bin];
    }
  }
  return zeros;
}

/**
 * Writes `count` little-endian float16 (`F16`) or bfloat16 (`BF16`) values from `bytes` into `out` as float32,
 * exactly. WebAssembly memory is little-endian on every host, so no byte order check is needed.
 */
export function widenHalfFloats(bytes: Uint8Array, dtype: 'F16' | 'BF16', count: number, out: Float32Array): void {
  const { exports, scratch, halfScratch } = kernels();
  const widen = dtype === 'F16' ? exports.widenFloat16 : exports.widenBfloat16;
  for (let first = 0; first < count; first += SCRATCH_VALUES) {
    const length = Math.min(SCRATCH_VALUES, count - first);
    // The kernels take whole groups of 8 patterns, so a short last slice is padded with zeros.
    const padded = Math.ceil(length / 8) * 8;
    halfScratch.set(bytes.subarray(first * 2, (first + length) * 2));
    halfScratch.fill(0, length * 2, padded * 2);
    widen(HALF_SCRATCH_ADDRESS, SCRATCH_ADDRESS, padded);
    out.set(scratch.subarray(0, length), first);
  }
}
