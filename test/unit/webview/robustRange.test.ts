import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quantileOfSorted, robustColorRange, sampleFiniteValues } from '../../../webview/logic/robustRange';

/** Seeded N(0, 1) values (Box–Muller on a linear congruential generator), so failures reproduce. */
function normalValues(count: number, seed = 7): Float32Array {
  let state = seed;
  const uniform = () => {
    state = (Math.imul(state, 22695477) + 1) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return values;
}

function exactQuantile(values: Float32Array, q: number): number {
  return quantileOfSorted(Float64Array.from(values).sort(), q);
}

test('quantile matches numpy linear method', () => {
  // Reference values from numpy 1.24: np.percentile(np.arange(1, 101), [1, 99, 50, 0, 100]).
  const ranks = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.ok(Math.abs(quantileOfSorted(ranks, 0.01) - 1.99) < 1e-12);
  assert.ok(Math.abs(quantileOfSorted(ranks, 0.99) - 99.01) < 1e-12);
  assert.equal(quantileOfSorted(ranks, 0.5), 50.5);
  assert.equal(quantileOfSorted(ranks, 0), 1);
  assert.equal(quantileOfSorted(ranks, 1), 100);
  // np.percentile([3, 1, 2, 10], [1, 99, 25]) = [1.03, 9.79, 1.75].
  const few = [1, 2, 3, 10];
  assert.ok(Math.abs(quantileOfSorted(few, 0.01) - 1.03) < 1e-12);
  assert.ok(Math.abs(quantileOfSorted(few, 0.99) - 9.79) < 1e-12);
  assert.ok(Math.abs(quantileOfSorted(few, 0.25) - 1.75) < 1e-12);
});

test('quantile edge cases', () => {
  assert.ok(Number.isNaN(quantileOfSorted([], 0.5)));
  assert.equal(quantileOfSorted([4], 0.99), 4);
  assert.throws(() => quantileOfSorted([1, 2], 1.5), RangeError);
  assert.throws(() => quantileOfSorted([1, 2], Number.NaN), RangeError);
});

test('small inputs are used whole', () => {
  const values = sampleFiniteValues([new Float32Array([3, Number.NaN, -1]), new Float32Array([Infinity, 2, -Infinity, 0])]);
  assert.deepEqual(Array.from(values), [-1, 0, 2, 3]);
});

test('sample draws from every array', () => {
  const zeros = new Float32Array(5000);
  const ones = new Float32Array(5000).fill(1);
  const sample = sampleFiniteValues([zeros, ones], 1000);
  assert.equal(sample.length, 1000);
  const onesDrawn = sample.filter((value) => value === 1).length;
  assert.ok(onesDrawn > 400, `${onesDrawn} of 1000 drawn from the second array`);
  assert.ok(onesDrawn < 600, `${onesDrawn} of 1000 drawn from the second array`);
});

test('sample is deterministic', () => {
  const values = normalValues(200_000);
  assert.deepEqual(sampleFiniteValues([values], 5000), sampleFiniteValues([values], 5000));
});

test('sampled percentiles approximate exact ones', () => {
  // A 1000×1000 matrix is 15 times the default sample size.
  const matrix = normalValues(1_000_000);
  const range = robustColorRange([matrix]);
  const exactLow = exactQuantile(matrix, 0.01);
  const exactHigh = exactQuantile(matrix, 0.99);
  assert.ok(Math.abs(exactLow + 2.326) < 0.02, `exact 1st percentile of N(0, 1) ${exactLow}`);
  assert.ok(Math.abs(range.low - exactLow) < 0.05, `sampled 1st percentile ${range.low}, exact ${exactLow}`);
  assert.ok(Math.abs(range.high - exactHigh) < 0.05, `sampled 99th percentile ${range.high}, exact ${exactHigh}`);
  assert.equal(range.clippedLow, true);
  assert.equal(range.clippedHigh, true);
});

test('range clips at given percentiles', () => {
  const values = Float32Array.from({ length: 100 }, (_, i) => i + 1);
  const range = robustColorRange([values]);
  assert.ok(Math.abs(range.low - 1.99) < 1e-6);
  assert.ok(Math.abs(range.high - 99.01) < 1e-6);
  assert.equal(range.clippedLow, true);
  assert.equal(range.clippedHigh, true);

  const wide = robustColorRange([values], 0.1, 0.9);
  assert.ok(Math.abs(wide.low - 10.9) < 1e-6);
  assert.ok(Math.abs(wide.high - 90.1) < 1e-6);
  assert.throws(() => robustColorRange([values], 0.9, 0.1), RangeError);
});

test('one range covers before and after', () => {
  // The before and after matrices of a permutation get one scale, computed over both.
  const before = Float32Array.from({ length: 50 }, (_, i) => i + 1);
  const after = Float32Array.from({ length: 50 }, (_, i) => i + 51);
  const range = robustColorRange([before, after]);
  assert.ok(Math.abs(range.low - 1.99) < 1e-6);
  assert.ok(Math.abs(range.high - 99.01) < 1e-6);
});

test('hot cell falls back to min and max', () => {
  const matrix = new Float32Array(300 * 300);
  matrix[12345] = 1;
  // With a sample of 100 the hot cell is almost surely not drawn, but the maximum still comes from every value.
  for (const sampleSize of [100, 1_000_000]) {
    const range = robustColorRange([matrix], 0.01, 0.99, sampleSize);
    assert.deepEqual(range, { low: 0, high: 1, clippedLow: false, clippedHigh: false }, `sample size ${sampleSize}`);
  }
});

test('no finite values give zero range', () => {
  const range = robustColorRange([new Float32Array([Number.NaN, Infinity]), new Float32Array(0)]);
  assert.deepEqual(range, { low: 0, high: 0, clippedLow: false, clippedHigh: false });
});
