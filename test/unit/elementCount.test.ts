import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elementCount } from '../../src/formats/checkpoint';

test('elementCount of scalar is 1', () => {
  assert.equal(elementCount([]), 1);
});

test('elementCount multiplies axes', () => {
  assert.equal(elementCount([3, 4, 5]), 60);
  assert.equal(elementCount([7, 0]), 0);
});
