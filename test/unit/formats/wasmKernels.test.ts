// The WebAssembly widening kernels against the scalar float16 and bfloat16 conversions, over every bit pattern,
// and across the slice and padding boundaries of the wrapper. The statistics kernels are tested against NumPy in
// statistics.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfloat16BitsToNumber, decodeToFloat, float16BitsToNumber } from '../../../src/formats/dtype';
import { widenHalfFloats } from '../../../src/formats/wasmKernels/kernels';

const scalar = { F16: float16BitsToNumber, BF16: bfloat16BitsToNumber } as const;

/** Little-endian bytes of the 16-bit patterns `patterns`, starting `shift` bytes into their buffer. */
function patternBytes(patterns: readonly number[], shift = 0): Uint8Array {
  const bytes = new Uint8Array(shift + patterns.length * 2);
  patterns.forEach((pattern, index) => {
    bytes[shift + index * 2] = pattern & 0xff;
    bytes[shift + index * 2 + 1] = pattern >> 8;
  });
  return bytes.subarray(shift);
}

function assertSameValue(actual: number, expected: number, label: string): void {
  if (Number.isNaN(expected)) assert.ok(Number.isNaN(actual), `${label}: expected NaN, got ${actual}`);
  else assert.ok(Object.is(actual, expected), `${label}: expected ${expected}, got ${actual}`);
}

for (const dtype of ['F16', 'BF16'] as const) {
  test(`${dtype} widening of every pattern`, () => {
    const patterns = Array.from({ length: 1 << 16 }, (_, pattern) => pattern);
    const out = new Float32Array(patterns.length);
    widenHalfFloats(patternBytes(patterns), dtype, patterns.length, out);
    for (const pattern of patterns) assertSameValue(out[pattern], scalar[dtype](pattern), `${dtype} 0x${pattern.toString(16)}`);
  });

  test(`${dtype} widening at odd offsets and lengths`, () => {
    // 300 007 patterns cross the 256 Ki-value slice and end in a group padded to 8, read from an odd byte offset.
    const patterns = Array.from({ length: 300_007 }, (_, index) => (index * 40_503) & 0xffff);
    const out = new Float32Array(patterns.length + 3).fill(7);
    widenHalfFloats(patternBytes(patterns, 1), dtype, patterns.length, out);
    for (let index = 0; index < patterns.length; index += 997) {
      assertSameValue(out[index], scalar[dtype](patterns[index]), `${dtype} value ${index}`);
    }
    assertSameValue(out[patterns.length - 1], scalar[dtype](patterns[patterns.length - 1]), `${dtype} last value`);
    assert.deepEqual([...out.subarray(patterns.length)], [7, 7, 7], 'values past count are untouched');
  });

  test(`${dtype} float32 and float64 decoding agree`, () => {
    const bytes = patternBytes(Array.from({ length: 1 << 16 }, (_, pattern) => pattern));
    const singles = decodeToFloat(bytes, dtype, 1 << 16, Float32Array);
    const doubles = decodeToFloat(bytes, dtype, 1 << 16, Float64Array);
    for (let pattern = 0; pattern < 1 << 16; pattern++) assertSameValue(singles[pattern], doubles[pattern], `${dtype} 0x${pattern.toString(16)}`);
  });
}
