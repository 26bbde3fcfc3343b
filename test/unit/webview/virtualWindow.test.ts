import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeVirtualWindow, scrollTopToReveal } from '../../../webview/logic/virtualWindow';

test('top of list with overscan', () => {
  assert.deepEqual(computeVirtualWindow(0, 220, 22, 50000, 8), { start: 0, end: 18, offset: 0, totalHeight: 1100000 });
});

test('middle of list', () => {
  const view = computeVirtualWindow(22 * 1000 + 11, 220, 22, 50000, 8);
  assert.equal(view.start, 992);
  assert.equal(view.end, 1019);
  assert.equal(view.offset, 992 * 22);
});

test('scroll past end is clamped', () => {
  const view = computeVirtualWindow(10_000_000, 220, 22, 100, 4);
  assert.equal(view.end, 100);
  assert.equal(view.start, 86);
  assert.equal(view.totalHeight, 2200);
});

test('window size does not depend on row count', () => {
  for (const count of [1000, 50000, 1000000]) {
    const view = computeVirtualWindow(count * 11, 800, 22, count, 8);
    assert.ok(view.end - view.start <= Math.ceil(800 / 22) + 1 + 16, `${count} rows: ${view.end - view.start}`);
  }
});

test('empty list and negative scroll', () => {
  assert.deepEqual(computeVirtualWindow(-50, 300, 22, 0, 8), { start: 0, end: 0, offset: 0, totalHeight: 0 });
  assert.equal(computeVirtualWindow(-50, 300, 22, 10, 0).start, 0);
});

test('invalid row height is rejected', () => {
  assert.throws(() => computeVirtualWindow(0, 100, 0, 10, 1), /Row height must be positive/);
});

test('reveal scrolls only when needed', () => {
  assert.equal(scrollTopToReveal(5, 0, 220, 22), 0);
  assert.equal(scrollTopToReveal(20, 0, 220, 22), 21 * 22 - 220);
  assert.equal(scrollTopToReveal(3, 200, 220, 22), 66);
});
