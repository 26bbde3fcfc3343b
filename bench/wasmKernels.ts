/**
 * Benchmark of the WebAssembly kernels per value: sums and extremes, the histogram, and float16/bfloat16 widening
 * to float32. The JavaScript table lookup that float64 output still uses runs too, for comparison. Each kernel
 * runs on one 4 MiB chunk that stays in cache, so the numbers leave out file reading.
 *
 * Usage: node --import tsx bench/wasmKernels.ts [--repeats 32]
 * Prints a Markdown table of nanoseconds per value, the fastest of 3 rounds of `--repeats` calls each.
 */
import { cpus, totalmem } from 'node:os';
import { decodeIntoFloat } from '../src/formats/dtype';
import { addToHistogram, sumChunk, widenHalfFloats } from '../src/formats/wasmKernels/kernels';

const CHUNK_VALUES = 1 << 20;

/** Standard normal values from a xorshift generator and the Box-Muller transform. */
function normalValues(count: number): Float32Array {
  let state = 0x9e3779b9;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  const values = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    values[i] = radius * Math.cos(angle);
    values[i + 1] = radius * Math.sin(angle);
  }
  return values;
}

/** Histogram edges over the range of `values`, as the statistics compute them. */
function edgesOf(values: Float32Array): Float64Array {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  const edges = new Float64Array(65);
  for (let i = 0; i < 64; i++) edges[i] = i * ((high - low) / 64) + low;
  edges[64] = high;
  return edges;
}

/** Nanoseconds per value of `run`, which handles CHUNK_VALUES values: the fastest of 3 rounds. */
function nanosecondsPerValue(run: () => void, repeats: number): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    for (let repeat = 0; repeat < repeats; repeat++) run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / repeats / CHUNK_VALUES);
  }
  return best;
}

export function main(args: string[] = []): void {
  const repeats = args[0] === '--repeats' ? Number(args[1]) : 32;
  if (!Number.isInteger(repeats) || repeats <= 0) throw new Error(`--repeats needs a positive integer, got ${args[1]}`);
  const values = normalValues(CHUNK_VALUES);
  const edges = edgesOf(values);
  const counts = new Float64Array(64);
  // Random 16-bit patterns: every exponent, NaN and infinity included, so no branch is favoured.
  const patterns = new Uint16Array(CHUNK_VALUES).map((_, index) => (Math.imul(index, 2654435761) >>> 16) & 0xffff);
  const patternBytes = new Uint8Array(patterns.buffer);
  const widened = new Float32Array(CHUNK_VALUES);
  const doubles = new Float64Array(CHUNK_VALUES);

  const rows: [string, number][] = [
    ['sums and extremes (sumChunk)', nanosecondsPerValue(() => void sumChunk(values, values[0]), repeats)],
    ['histogram (addToHistogram)', nanosecondsPerValue(() => void addToHistogram(values, edges, counts), repeats)],
    ['float16 to float32 (WebAssembly)', nanosecondsPerValue(() => widenHalfFloats(patternBytes, 'F16', CHUNK_VALUES, widened), repeats)],
    ['bfloat16 to float32 (WebAssembly)', nanosecondsPerValue(() => widenHalfFloats(patternBytes, 'BF16', CHUNK_VALUES, widened), repeats)],
    ['float16 to float64 (JavaScript table)', nanosecondsPerValue(() => void decodeIntoFloat(patternBytes, 'F16', CHUNK_VALUES, doubles), repeats)],
    ['bfloat16 to float64 (JavaScript table)', nanosecondsPerValue(() => void decodeIntoFloat(patternBytes, 'BF16', CHUNK_VALUES, doubles), repeats)],
  ];
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Node ${process.version}`);
  console.log(`Command: node --import tsx bench/wasmKernels.ts ${args.join(' ')}`.trimEnd());
  console.log('');
  console.log('| kernel, one 4 MiB chunk in cache | ns per value |');
  console.log('|---|---|');
  for (const [name, nanoseconds] of rows) console.log(`| ${name} | ${nanoseconds.toFixed(2)} |`);
}

if (require.main === module) main(process.argv.slice(2));
