// Tensor statistics against a NumPy reference computed on the same safetensors file: moments, extremes,
// NaN/Inf/zero counts and np.histogram bins, with chunks small enough that every tensor spans many of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NamedTensor } from '../../../src/formats/checkpoint';
import { openSafetensors } from '../../../src/formats/safetensors/reader';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';
import { computeTensorStatistics, type TensorStatistics } from '../../../src/formats/statistics';
import { numberToFloat16Bits } from '../../../src/formats/dtype';

/** A deterministic pseudo-random stream (mulberry32), so the data needs no stored fixture. */
function randomStream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns the float32 neighbour of the non-zero float32 `value` towards +Inf (`direction` 1) or -Inf (-1). */
function nextFloat32(value: number, direction: 1 | -1): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer);
  bits[0] += (value > 0) === (direction > 0) ? 1 : -1;
  return new Float32Array(bits.buffer)[0];
}

function testTensors(): NamedTensor[] {
  const random = randomStream(11);
  // A large mean with a small spread: a naive sum of squares loses every digit of the variance here.
  const offset = new Float32Array(100_003);
  for (let i = 0; i < offset.length; i++) offset[i] = 10_000 + (random() - 0.5) * 0.01;
  const special = new Float32Array(50_000);
  for (let i = 0; i < special.length; i++) special[i] = (random() - 0.3) * 8;
  for (let i = 0; i < special.length; i += 97) special[i] = NaN;
  for (let i = 5; i < special.length; i += 389) special[i] = Infinity;
  for (let i = 7; i < special.length; i += 1013) special[i] = -Infinity;
  for (let i = 3; i < special.length; i += 50) special[i] = 0;
  special[11] = -0;
  const half = new Uint16Array(9_999);
  for (let i = 0; i < half.length; i++) half[i] = numberToFloat16Bits((random() - 0.5) * 100);
  half[17] = 0x7c00;
  const integers = new Int32Array(4_321);
  for (let i = 0; i < integers.length; i++) integers[i] = Math.floor(random() * 2001) - 1000;
  // Values on the bin edges of [-1000, 1000] (multiples of 31.25, exact in float32), one float32 step either side
  // of them, and between them; 600 001 values span several of the WebAssembly kernel's 256 Ki-value slices.
  const grid = new Float32Array(600_001);
  for (let i = 0; i < grid.length; i++) {
    const edge = -1000 + Math.floor(random() * 65) * 31.25;
    const kind = i % 4;
    if (kind === 0) grid[i] = edge;
    else if (kind === 1) grid[i] = nextFloat32(edge, 1);
    else if (kind === 2) grid[i] = nextFloat32(edge, -1);
    else grid[i] = (random() - 0.5) * 2000;
  }
  grid[0] = -1000;
  grid[1] = 1000;
  // The widest float32 range, with subnormal values near zero.
  const extremes = new Float32Array(1_003);
  for (let i = 0; i < extremes.length; i++) extremes[i] = (random() - 0.5) * 10 ** Math.floor(random() * 76 - 38);
  extremes[0] = 3.4028234663852886e38;
  extremes[1] = -3.4028234663852886e38;
  extremes[2] = 1e-45;
  extremes[3] = -1e-40;
  // F64 values that float32 would round, overflow or flush to zero, and integers beyond float32's 2^24.
  const doubles = new Float64Array(10_007);
  for (let i = 0; i < doubles.length; i++) doubles[i] = (random() - 0.5) * 10 ** Math.floor(random() * 600 - 300);
  doubles.set([1e300, -1e300, 5e-324, 0.1, NaN, Infinity], 0);
  const wideIntegers = new Int32Array(5_003);
  for (let i = 0; i < wideIntegers.length; i++) wideIntegers[i] = Math.floor((random() - 0.5) * 2 ** 31);
  const longIntegers = new BigInt64Array(5_003);
  for (let i = 0; i < longIntegers.length; i++) longIntegers[i] = BigInt(Math.floor((random() - 0.5) * 2 ** 53));
  longIntegers[0] = 2n ** 40n + 1n;
  const allNaN = new Float32Array(1000).fill(NaN);
  allNaN[3] = Infinity;
  return [
    { name: 'offset', dtype: 'F32', shape: [100_003], data: offset },
    { name: 'special', dtype: 'F32', shape: [250, 200], data: special },
    { name: 'half', dtype: 'F16', shape: [9_999], data: half },
    { name: 'integers', dtype: 'I32', shape: [4_321], data: integers },
    { name: 'grid', dtype: 'F32', shape: [600_001], data: grid },
    { name: 'extremes', dtype: 'F32', shape: [1_003], data: extremes },
    { name: 'doubles', dtype: 'F64', shape: [10_007], data: doubles },
    { name: 'wide_integers', dtype: 'I32', shape: [5_003], data: wideIntegers },
    { name: 'long_integers', dtype: 'I64', shape: [5_003], data: longIntegers },
    { name: 'all_nan', dtype: 'F32', shape: [10, 100], data: allNaN },
    { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    { name: 'constant', dtype: 'F32', shape: [33], data: new Float32Array(33).fill(-2.5) },
    { name: 'single', dtype: 'F64', shape: [], data: new Float64Array([0.1]) },
  ];
}

// Reads the file with NumPy alone and computes the reference statistics of every tensor over float32 values.
const reference = `
import json, sys
import numpy as np
data = open(sys.argv[1], 'rb').read()
n = int.from_bytes(data[:8], 'little')
header = json.loads(data[8:8 + n])
header.pop('__metadata__', None)
kinds = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'I32': '<i4', 'I64': '<i8'}
# The product reads F64 and 32- and 64-bit integers as float64 and everything else as float32, both exactly.
wide = {'F64', 'I32', 'I64'}
def number(x):
    # JSON has no NaN or infinity: NaN becomes null and an infinity its sign as a string.
    if np.isnan(x):
        return None
    if np.isinf(x):
        return 'inf' if x > 0 else '-inf'
    return float(x)
result = {}
for name, info in header.items():
    begin, end = info['data_offsets']
    a = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=kinds[info['dtype']])
    a = a.astype(np.float64 if info['dtype'] in wide else np.float32)
    finite = a[np.isfinite(a)].astype(np.float64)
    if finite.size:
        counts, edges = np.histogram(finite, bins=64, range=(finite.min(), finite.max()))
        low, high, mean, std = finite.min(), finite.max(), finite.mean(), finite.std()
    else:
        counts, edges = np.histogram(finite, bins=64)
        low = high = mean = std = np.nan
    result[name] = {'min': number(low), 'max': number(high), 'mean': number(mean), 'std': number(std),
                    'nan': int(np.isnan(a).sum()), 'inf': int(np.isinf(a).sum()), 'zeros': int((a == 0).sum()),
                    'count': int(a.size), 'edges': [float(e) for e in edges], 'counts': [int(c) for c in counts]}
print(json.dumps(result))
`;

/** A NumPy number: null for NaN, 'inf' or '-inf' for an infinity. */
type ReferenceNumber = number | null | 'inf' | '-inf';

interface Reference {
  min: ReferenceNumber;
  max: ReferenceNumber;
  mean: ReferenceNumber;
  std: ReferenceNumber;
  nan: number;
  inf: number;
  zeros: number;
  count: number;
  edges: number[];
  counts: number[];
}

function assertClose(actual: number, expected: ReferenceNumber, tolerance: number, label: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${label}: expected NaN, got ${actual}`);
    return;
  }
  if (expected === 'inf' || expected === '-inf') {
    assert.equal(actual, expected === 'inf' ? Infinity : -Infinity, label);
    return;
  }
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  assert.ok(Math.abs(actual - expected) <= tolerance * scale, `${label}: ${actual} differs from NumPy's ${expected}`);
}

function compare(name: string, stats: TensorStatistics, expected: Reference): void {
  assertClose(stats.min, expected.min, 0, `${name} min`);
  assertClose(stats.max, expected.max, 0, `${name} max`);
  assertClose(stats.mean, expected.mean, 1e-12, `${name} mean`);
  assertClose(stats.std, expected.std, 1e-9, `${name} std`);
  assert.equal(stats.nan, expected.nan, `${name} nan`);
  assert.equal(stats.inf, expected.inf, `${name} inf`);
  assert.equal(stats.zeros, expected.zeros, `${name} zeros`);
  assert.equal(stats.count, expected.count, `${name} count`);
  assert.deepEqual(stats.histogram.edges, expected.edges, `${name} edges`);
  assert.deepEqual(stats.histogram.counts, expected.counts, `${name} counts`);
}

test('statistics match NumPy reference', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'statistics-test-'));
  try {
    const path = join(directory, 'stats.safetensors');
    const tensors = testTensors();
    await writeSafetensors(path, tensors, { inputs: [] });
    const expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', reference, path], { encoding: 'utf8', maxBuffer: 1 << 24 })) as Record<string, Reference>;

    const checkpoint = await openSafetensors(path);
    try {
      for (const tensor of tensors) {
        // 4000 bytes: 1000 float32 values per chunk, so the larger tensors span 10 to 600 chunks.
        compare(tensor.name, await computeTensorStatistics(checkpoint, tensor.name, { maxChunkBytes: 4000 }), expected[tensor.name]);
        // The default chunk contains each of these tensors whole.
        compare(`${tensor.name} (default chunks)`, await computeTensorStatistics(checkpoint, tensor.name), expected[tensor.name]);
      }
    } finally {
      await checkpoint.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('statistics independent of chunk size', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'statistics-test-'));
  try {
    const path = join(directory, 'chunks.safetensors');
    const tensors = testTensors().filter((tensor) => tensor.name === 'special' || tensor.name === 'offset');
    await writeSafetensors(path, tensors, { inputs: [] });
    const checkpoint = await openSafetensors(path);
    try {
      for (const tensor of tensors) {
        const whole = await computeTensorStatistics(checkpoint, tensor.name);
        for (const maxChunkBytes of [4, 52, 65536]) {
          const chunked = await computeTensorStatistics(checkpoint, tensor.name, { maxChunkBytes });
          assert.deepEqual(chunked.histogram, whole.histogram, `${tensor.name} histogram, ${maxChunkBytes}-byte chunks`);
          assert.equal(chunked.nan, whole.nan);
          assert.equal(chunked.min, whole.min);
          assert.equal(chunked.max, whole.max);
          assertClose(chunked.mean, whole.mean, 1e-12, `${tensor.name} mean, ${maxChunkBytes}-byte chunks`);
          assertClose(chunked.std, whole.std, 1e-9, `${tensor.name} std, ${maxChunkBytes}-byte chunks`);
        }
      }
    } finally {
      await checkpoint.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('statistics stop on abort', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'statistics-test-'));
  try {
    const path = join(directory, 'abort.safetensors');
    await writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [10], data: new Float32Array(10) }], { inputs: [] });
    const checkpoint = await openSafetensors(path);
    try {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(computeTensorStatistics(checkpoint, 'w', { signal: controller.signal }), { name: 'AbortError' });
    } finally {
      await checkpoint.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
