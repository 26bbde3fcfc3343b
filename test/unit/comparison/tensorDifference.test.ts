import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TensorDifferenceAccumulator } from '../../../src/comparison/tensorDifference';

function difference(a: number[], b: number[], chunk = a.length) {
  const accumulator = new TensorDifferenceAccumulator();
  for (let start = 0; start < a.length; start += chunk) accumulator.add(a.slice(start, start + chunk), b.slice(start, start + chunk));
  return accumulator.result();
}

test('difference numbers match direct formulas', () => {
  const a = [1, -2, 3, 0.5];
  const b = [1.5, -2, 2, 0];
  const result = difference(a, b, 3);
  const dot = a.reduce((sum, x, i) => sum + x * b[i], 0);
  const normA = Math.hypot(...a);
  const normB = Math.hypot(...b);
  assert.equal(result.count, 4);
  assert.equal(result.identical, false);
  assert.equal(result.maxAbsDifference, 1);
  assert.ok(Math.abs(result.relativeL2 - Math.hypot(0.5, 0, 1, 0.5) / normA) < 1e-12);
  assert.ok(Math.abs((result.cosine as number) - dot / (normA * normB)) < 1e-12);
  assert.ok(Math.abs(result.meanA - 0.625) < 1e-12);
  assert.ok(Math.abs(result.stdB - Math.sqrt(b.reduce((sum, y) => sum + (y - 0.375) ** 2, 0) / 4)) < 1e-12);
});

test('NaN at the same position counts as equal', () => {
  const result = difference([NaN, 1, Infinity], [NaN, 1, Infinity]);
  assert.equal(result.identical, true);
  assert.equal(result.maxAbsDifference, 0);
});

test('NaN on one side marks a difference', () => {
  const result = difference([1, 2, 3], [1, NaN, 3]);
  assert.equal(result.identical, false);
  assert.ok(Number.isNaN(result.maxAbsDifference));
});

test('opposite infinities differ', () => {
  const result = difference([Infinity, 0], [-Infinity, 0]);
  assert.equal(result.identical, false);
  assert.equal(result.maxAbsDifference, Infinity);
});

test('zero tensors give zero relative L2 and no cosine', () => {
  const result = difference([0, 0], [0, 0]);
  assert.equal(result.relativeL2, 0);
  assert.equal(result.cosine, null);
  assert.equal(difference([0, 0], [1, 0]).relativeL2, Infinity);
});
