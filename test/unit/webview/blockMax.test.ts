import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downsampleBlockMax, valueRange } from '../../../webview/logic/blockMax';

/** Reference: every output cell is the max over the input cells that map to it. */
function reference(size: number, data: Float32Array, target: number): Float32Array {
  const out = new Float32Array(target * target).fill(-Infinity);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const index = Math.floor((row * target) / size) * target + Math.floor((column * target) / size);
      out[index] = Math.max(out[index], data[row * size + column]);
    }
  }
  return out;
}

test('matches reference on random matrix', () => {
  const size = 37;
  const data = new Float32Array(size * size);
  let seed = 7;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 16807) % 2147483647;
    data[i] = seed / 2147483647 - 0.5;
  }
  for (const target of [1, 5, 10, 36]) {
    const result = downsampleBlockMax({ size, data }, target);
    assert.equal(result.size, target);
    assert.deepEqual(Array.from(result.data), Array.from(reference(size, data, target)), `target ${target}`);
  }
});

test('small matrix is returned unchanged', () => {
  const data = new Float32Array([1, 2, 3, 4]);
  const result = downsampleBlockMax({ size: 2, data }, 10);
  assert.equal(result.size, 2);
  assert.equal(result.data, data);
});

test('single hot cell of 16384 survives', () => {
  const size = 16384;
  const data = new Float32Array(size * size);
  data[12345 * size + 6789] = 1;
  const target = 240;
  const result = downsampleBlockMax({ size, data }, target);
  const hotRow = Math.floor((12345 * target) / size);
  const hotColumn = Math.floor((6789 * target) / size);
  assert.equal(result.data[hotRow * target + hotColumn], 1);
  let hot = 0;
  for (const value of result.data) if (value !== 0) hot++;
  assert.equal(hot, 1);
});

test('negative values keep the block maximum', () => {
  const data = new Float32Array([-5, -1, -3, -2]);
  assert.deepEqual(Array.from(downsampleBlockMax({ size: 2, data }, 1).data), [-1]);
});

test('NaN cells are skipped', () => {
  const data = new Float32Array([Number.NaN, 0.5, Number.NaN, Number.NaN]);
  assert.deepEqual(Array.from(downsampleBlockMax({ size: 2, data }, 1).data), [0.5]);
  const allNaN = downsampleBlockMax({ size: 2, data: new Float32Array(4).fill(Number.NaN) }, 1);
  assert.ok(Number.isNaN(allNaN.data[0]));
});

test('wrong data length is rejected', () => {
  assert.throws(() => downsampleBlockMax({ size: 3, data: new Float32Array(8) }, 2), /side 3 needs 9 values, got 8/);
  assert.throws(() => downsampleBlockMax({ size: 3, data: new Float32Array(9) }, 0), /positive integer/);
});

test('value range skips NaN', () => {
  assert.deepEqual(valueRange(new Float32Array([0.5, Number.NaN, -2]), new Float32Array([3])), [-2, 3]);
  assert.deepEqual(valueRange(new Float32Array([Number.NaN])), [0, 0]);
});
