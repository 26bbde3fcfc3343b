import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FloatTensor } from '../../../src/formats/checkpoint';
import { axisLayout } from '../../../src/alignment/axisLayout';
import { takeAlongAxis } from '../../../src/alignment/applyPermutation';
import { parsePermutationSpec } from '../../../src/alignment/permutationSpecFile';
import { resolvePermutationSpec } from '../../../src/alignment/resolveSpec';
import type { AxisPermutation, ResolvedSpec } from '../../../src/alignment/permutationSpec';
import { SeededRandom } from '../../../src/alignment/seededRandom';
import { SimilaritySession } from '../../../src/compute/similaritySession';

// Every layout the model builder distinguishes: units leading, units trailing, units in the middle (transpose),
// grouped axes on both sides, 4-D convolution kernels and one permutation on two axes of one tensor.
const SHAPES: Record<string, number[]> = {
  x: [6, 5],
  grouped: [24, 5],
  conv: [5, 6, 3, 3],
  headsIn: [7, 8],
  middle: [4, 6, 2],
  square: [6, 6],
  groupedMiddle: [2, 24, 5],
};
const AXES = {
  x: ['P', 'Q'],
  grouped: [{ perm: 'H', outer: 3, inner: 4 }, 'Q'],
  conv: ['Q', 'P', null, null],
  headsIn: [null, { perm: 'H', outer: 1, inner: 4 }],
  middle: [null, 'P', null],
  square: ['P', 'P'],
  groupedMiddle: [null, { perm: 'H', outer: 3, inner: 4 }, 'Q'],
};

function randomTensors(random: SeededRandom): Map<string, FloatTensor> {
  const tensors = new Map<string, FloatTensor>();
  for (const [name, shape] of Object.entries(SHAPES)) {
    const data = Float64Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => random.next() * 2 - 1);
    tensors.set(name, { shape, data });
  }
  return tensors;
}

function makeSpec(): ResolvedSpec {
  const entries = Object.entries(SHAPES).map(([name, shape]) => ({ name, dtype: 'F64', shape, offset: 0, length: 0 }));
  const spec = parsePermutationSpec({ axes: AXES }, 'products');
  return resolvePermutationSpec(spec, 'products', { path: 'a', tensors: entries }, { path: 'b', tensors: entries });
}

/** C_p by explicit loops in float64: the definition the onnxruntime model must reproduce. */
function referenceSimilarity(spec: ResolvedSpec, a: Map<string, FloatTensor>, b: Map<string, FloatTensor>, target: string, permutations: Map<string, Int32Array>): Float64Array {
  const n = spec.permutations.get(target) as number;
  const result = new Float64Array(n * n);
  for (const tensor of spec.tensors) {
    tensor.axes.forEach((axis, k) => {
      if (axis?.permutation !== target) return;
      let other = (b.get(tensor.name) as FloatTensor).data as Float64Array;
      tensor.axes.forEach((otherAxis, j) => {
        if (otherAxis === null || j === k) return;
        other = takeAlongAxis(other, axisLayout(tensor.shape, j, otherAxis), permutations.get(otherAxis.permutation) as Int32Array);
      });
      const first = (a.get(tensor.name) as FloatTensor).data;
      const { before, outer, size, inner, after } = axisLayout(tensor.shape, k, axis as AxisPermutation);
      for (let p = 0; p < before * outer; p++) {
        for (let q = 0; q < inner * after; q++) {
          for (let i = 0; i < size; i++) {
            for (let j = 0; j < size; j++) {
              result[i * n + j] += first[(p * size + i) * inner * after + q] * other[(p * size + j) * inner * after + q];
            }
          }
        }
      }
    });
  }
  return result;
}

describe('similarity products in onnxruntime', () => {
  for (const precision of ['float64', 'float32'] as const) {
    it(`match the float64 reference in ${precision}`, async () => {
      const random = new SeededRandom(7);
      const a = randomTensors(random);
      const b = randomTensors(random);
      const spec = makeSpec();
      const permutations = new Map([...spec.permutations].map(([name, size]) => [name, random.permutation(size)]));
      const session = await SimilaritySession.create(spec, a, b, { precision, executionProvider: 'cpu' });
      try {
        assert.equal(session.provider.name, 'cpu');
        for (const name of spec.permutations.keys()) {
          const expected = referenceSimilarity(spec, a, b, name, permutations);
          const actual = await session.similarity(name, permutations);
          assert.equal(actual.length, expected.length, name);
          assert.ok(precision === 'float64' ? actual instanceof Float64Array : actual instanceof Float32Array);
          const tolerance = precision === 'float64' ? 1e-12 : 1e-5;
          for (let i = 0; i < expected.length; i++) {
            assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * (1 + Math.abs(expected[i])), `${name}[${i}]: ${actual[i]} vs ${expected[i]}`);
          }
        }
      } finally {
        await session.release();
      }
    });
  }

  it('matches through external weight data', async () => {
    const random = new SeededRandom(5);
    const a = randomTensors(random);
    const b = randomTensors(random);
    const spec = makeSpec();
    const permutations = new Map([...spec.permutations].map(([name, size]) => [name, random.permutation(size)]));
    // A limit of 1 byte forces the external data path that models above 2 GiB take.
    const session = await SimilaritySession.create(spec, a, b, { precision: 'float64', executionProvider: 'cpu', inMemoryLimitBytes: 1 });
    try {
      for (const name of spec.permutations.keys()) {
        const expected = referenceSimilarity(spec, a, b, name, permutations);
        const actual = await session.similarity(name, permutations);
        for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-12 * (1 + Math.abs(expected[i])), `${name}[${i}]`);
      }
    } finally {
      await session.release();
    }
  });

  it('rejects an unavailable execution provider when requested', async () => {
    const random = new SeededRandom(1);
    const tensors = randomTensors(random);
    const choice = process.platform === 'win32' ? 'coreml' : 'dml';
    await assert.rejects(SimilaritySession.create(makeSpec(), tensors, tensors, { precision: 'float32', executionProvider: choice }), /execution provider .* cannot run: .*use --execution-provider auto or cpu/);
  });

  it('falls back to the CPU with a reason under auto', async () => {
    const random = new SeededRandom(2);
    const tensors = randomTensors(random);
    const session = await SimilaritySession.create(makeSpec(), tensors, tensors, { precision: 'float32', executionProvider: 'auto' });
    try {
      assert.match(session.provider.reason, new RegExp(`^${session.provider.name}: `));
      if (session.provider.name === 'cpu') assert.ok(session.provider.reason.length > 'cpu: '.length);
    } finally {
      await session.release();
    }
  });
});
