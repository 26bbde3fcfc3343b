import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareNatural, naturalKey } from '../../../webview/logic/naturalSort';

test('layer 10 sorts after layer 9', () => {
  const names = ['layer.10.weight', 'layer.9.weight', 'layer.1.weight', 'layer.2.weight', 'layer.100.weight'];
  assert.deepEqual([...names].sort(compareNatural), ['layer.1.weight', 'layer.2.weight', 'layer.9.weight', 'layer.10.weight', 'layer.100.weight']);
});

test('text runs compare by code unit', () => {
  assert.ok(compareNatural('attn.k', 'attn.q') < 0);
  assert.ok(compareNatural('bias', 'weight') < 0);
  assert.ok(compareNatural('Weight', 'weight') < 0);
});

test('numbers sort before text at same position', () => {
  assert.ok(compareNatural('h.0', 'h.a') < 0);
  assert.ok(compareNatural('h.a', 'h.0') > 0);
});

test('prefix sorts first', () => {
  assert.ok(compareNatural('fc1', 'fc1.weight') < 0);
  assert.ok(compareNatural('fc', 'fc1') < 0);
});

test('leading zeros tie-break deterministically', () => {
  assert.notEqual(compareNatural('x.01', 'x.1'), 0);
  assert.equal(Math.sign(compareNatural('x.01', 'x.1')), -Math.sign(compareNatural('x.1', 'x.01')));
  assert.equal(compareNatural('same.3', 'same.3'), 0);
});

test('key splits digit and text runs', () => {
  assert.deepEqual(naturalKey('blocks.12.attn/q_proj3'), ['blocks.', 12, '.attn/q_proj', 3]);
  assert.deepEqual(naturalKey(''), []);
  assert.deepEqual(naturalKey('007'), [7]);
});

test('digits beyond double precision keep their order', () => {
  // Runs longer than 15 digits lose precision as numbers; they still order correctly against shorter runs.
  assert.ok(compareNatural('step.99', 'step.12345678901234567890') < 0);
});
