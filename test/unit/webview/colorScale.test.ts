import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildColorRamp, flattenOnto, interpolateColor, parseCssColor, toCss } from '../../../webview/logic/colorScale';

test('parses hex forms', () => {
  assert.deepEqual(parseCssColor('#3794ff'), { r: 0x37, g: 0x94, b: 0xff, a: 1 });
  assert.deepEqual(parseCssColor('#fff'), { r: 255, g: 255, b: 255, a: 1 });
  assert.deepEqual(parseCssColor('#cccccc80'), { r: 204, g: 204, b: 204, a: 128 / 255 });
  assert.deepEqual(parseCssColor('#0008'), { r: 0, g: 0, b: 0, a: 136 / 255 });
});

test('parses rgb and rgba', () => {
  assert.deepEqual(parseCssColor('rgb(31, 31, 31)'), { r: 31, g: 31, b: 31, a: 1 });
  assert.deepEqual(parseCssColor('rgba(204, 204, 204, 0.5)'), { r: 204, g: 204, b: 204, a: 0.5 });
  assert.deepEqual(parseCssColor('rgb(10 20 30 / 25%)'), { r: 10, g: 20, b: 30, a: 0.25 });
  assert.deepEqual(parseCssColor('rgb(100%, 0%, 50%)'), { r: 255, g: 0, b: 127.5, a: 1 });
});

test('rejects unsupported colours', () => {
  assert.equal(parseCssColor(''), undefined);
  assert.equal(parseCssColor('red'), undefined);
  assert.equal(parseCssColor('#12345'), undefined);
  assert.equal(parseCssColor('rgb(1, 2)'), undefined);
  assert.equal(parseCssColor('rgb(a, b, c)'), undefined);
});

test('interpolation hits both ends', () => {
  const from = { r: 31, g: 31, b: 31, a: 1 };
  const to = { r: 55, g: 148, b: 255, a: 1 };
  assert.deepEqual(interpolateColor(from, to, 0), from);
  assert.deepEqual(interpolateColor(from, to, 1), to);
  assert.deepEqual(interpolateColor(from, to, 0.5), { r: 43, g: 89.5, b: 143, a: 1 });
  assert.deepEqual(interpolateColor(from, to, 7), to);
  assert.deepEqual(interpolateColor(from, to, -1), from);
  assert.deepEqual(interpolateColor(from, to, Number.NaN), from);
});

test('translucent colour flattens onto background', () => {
  const flattened = flattenOnto({ r: 255, g: 255, b: 255, a: 0.5 }, { r: 0, g: 0, b: 0, a: 1 });
  assert.deepEqual(flattened, { r: 127.5, g: 127.5, b: 127.5, a: 1 });
});

test('ramp packs little-endian RGBA', () => {
  const ramp = buildColorRamp({ r: 1, g: 2, b: 3, a: 1 }, { r: 255, g: 128, b: 0, a: 1 });
  assert.equal(ramp.length, 256);
  const first = new Uint8Array(new Uint32Array([ramp[0]]).buffer);
  const last = new Uint8Array(new Uint32Array([ramp[255]]).buffer);
  // Byte order as ImageData stores it on little-endian machines: R, G, B, A.
  assert.deepEqual(Array.from(first), [1, 2, 3, 255]);
  assert.deepEqual(Array.from(last), [255, 128, 0, 255]);
});

test('toCss rounds channels', () => {
  assert.equal(toCss({ r: 43, g: 89.5, b: 143, a: 1 }), 'rgba(43, 90, 143, 1)');
});
