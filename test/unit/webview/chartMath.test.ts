import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barrierIndex, endpointInterpolation } from '../../../webview/logic/barrier';
import { formatBytes, formatParameterCount, formatPlural, formatValue } from '../../../webview/logic/format';
import { niceTicks } from '../../../webview/logic/ticks';
import { unitsOfCell } from '../../../webview/logic/unitRange';

test('barrier index finds largest excess loss', () => {
  const lambdas = [0, 0.25, 0.5, 0.75, 1];
  // Endpoint line runs from 1 to 3; excess is 0, 0.5, 2, 0.5, 0.
  assert.equal(barrierIndex(lambdas, [1, 2, 4, 3, 3]), 2);
  assert.equal(endpointInterpolation(0.5, [1, 2, 4, 3, 3]), 2);
  assert.equal(barrierIndex([0], [1]), -1);
});

test('units of a downsampled cell', () => {
  assert.deepEqual(unitsOfCell(0, 240, 16384), [0, 68]);
  assert.deepEqual(unitsOfCell(239, 240, 16384), [16316, 16383]);
  assert.deepEqual(unitsOfCell(5, 64, 64), [5, 5]);
  // Every unit belongs to exactly one cell.
  const n = 1000;
  const cellCount = 240;
  let next = 0;
  for (let cell = 0; cell < cellCount; cell++) {
    const [first, last] = unitsOfCell(cell, cellCount, n);
    assert.equal(first, next);
    for (let unit = first; unit <= last; unit++) assert.equal(Math.floor((unit * cellCount) / n), cell);
    next = last + 1;
  }
  assert.equal(next, n);
});

test('nice ticks cover range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(150, 200, 3), [160, 180, 200]);
  assert.deepEqual(niceTicks(147, 201, 5), [160, 180, 200]);
  assert.deepEqual(niceTicks(0.08, 0.99, 5), [0.2, 0.4, 0.6, 0.8]);
  const ticks = niceTicks(-0.1, 1, 5);
  assert.ok(ticks[0] >= -0.1, `first tick ${ticks[0]}`);
  assert.ok(ticks[ticks.length - 1] <= 1, `last tick ${ticks[ticks.length - 1]}`);
  assert.deepEqual(niceTicks(2, 2, 5), [2]);
});

test('formats sizes and values', () => {
  assert.equal(formatBytes(768), '768 B');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(250 * 1024), '250 KiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GiB');
  assert.equal(formatParameterCount(6_740_000_000), '6.74 B');
  assert.equal(formatParameterCount(999), '999');
  assert.equal(formatValue(0.0012), '0.0012');
  assert.equal(formatValue(2e-6), '2e-6');
  assert.equal(formatValue(Number.NaN), 'NaN');
  assert.equal(formatValue(-Infinity), '−Inf');
  assert.equal(formatPlural(1, 'tensor'), '1 tensor');
  assert.equal(formatPlural(50000, 'tensor'), '50,000 tensors');
});
