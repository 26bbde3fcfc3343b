import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invertPermutation, isIdentity, permuteTensor, takeAlongAxis } from '../../../src/alignment/applyPermutation';
import { axisLayout } from '../../../src/alignment/axisLayout';
import { SeededRandom } from '../../../src/alignment/seededRandom';

describe('applying permutations', () => {
  it('takes units of a grouped axis', () => {
    // Shape [2, 3·2·2]: two rows, each a packed (q, k, v) of 2 heads with 2 dimensions each.
    const data = Float32Array.from({ length: 24 }, (_, i) => i);
    const layout = axisLayout([2, 12], 1, { permutation: 'H', outer: 3, inner: 2, size: 2 });
    const result = takeAlongAxis(data, layout, [1, 0]);
    assert.deepEqual([...result.subarray(0, 12)], [2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9]);
    assert.deepEqual([...result.subarray(12)], [14, 15, 12, 13, 18, 19, 16, 17, 22, 23, 20, 21]);
  });

  it('keeps stored bit patterns for every element type', () => {
    const random = new SeededRandom(3);
    const shape = [4, 3];
    const perm = random.permutation(4);
    const axes = [{ permutation: 'P', outer: 1, inner: 1, size: 4 }, null];
    const arrays = [
      Uint16Array.from({ length: 12 }, (_, i) => 0x7e00 + i),
      BigInt64Array.from({ length: 12 }, (_, i) => 2n ** 60n + BigInt(i)),
      Float64Array.from({ length: 12 }, (_, i) => (i === 5 ? -0 : i / 7)),
    ];
    for (const data of arrays) {
      const result = permuteTensor(data, shape, axes, new Map([['P', perm]]));
      assert.equal(result.constructor, data.constructor);
      for (let row = 0; row < 4; row++) {
        for (let column = 0; column < 3; column++) assert.ok(Object.is(result[row * 3 + column], data[perm[row] * 3 + column]), `${data.constructor.name} [${row}, ${column}]`);
      }
    }
  });

  it('undoes a permutation with its inverse', () => {
    const random = new SeededRandom(9);
    const shape = [5, 6, 2];
    const data = Float32Array.from({ length: 60 }, () => random.next());
    const axes = [{ permutation: 'P', outer: 1, inner: 1, size: 5 }, { permutation: 'Q', outer: 2, inner: 1, size: 3 }, null];
    const forward = new Map([['P', random.permutation(5)], ['Q', random.permutation(3)]]);
    const backward = new Map([...forward].map(([name, perm]) => [name, invertPermutation(perm)]));
    const permuted = permuteTensor(data, shape, axes, forward);
    assert.notDeepEqual(permuted, data);
    assert.deepEqual(permuteTensor(permuted, shape, axes, backward), data);
  });

  it('recognizes the identity', () => {
    assert.equal(isIdentity([0, 1, 2]), true);
    assert.equal(isIdentity([0, 2, 1]), false);
    assert.deepEqual([...invertPermutation([2, 0, 1])], [1, 2, 0]);
  });
});
