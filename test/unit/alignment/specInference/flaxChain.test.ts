import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TensorEntry } from '../../../../src/formats/checkpoint';
import { openFlaxMsgpack } from '../../../../src/formats/flax/reader';
import { loadPermutationSpec } from '../../../../src/alignment/permutationSpecFile';
import type { AxisEntry } from '../../../../src/alignment/permutationSpec';
import { inferFlaxDenseChain } from '../../../../src/alignment/specInference/flaxChain';
import { FIXTURES, MODELS, partition } from './specTestHelpers';

function entry(name: string, shape: number[]): TensorEntry {
  return { name, dtype: 'F32', shape, offset: 0, length: 0 };
}

describe('Flax Dense chain inference', () => {
  it('matches the MLP spec with kernels transposed', async () => {
    const checkpoint = await openFlaxMsgpack(join(MODELS, 'mlp_s0.msgpack'));
    try {
      const result = inferFlaxDenseChain(checkpoint.tensors);
      assert.ok('spec' in result, 'failure' in result ? result.failure : '');
      assert.equal(result.source, 'auto: chain of 3 Flax Dense layers');
      // Dense_i is fc(i+1) of the PyTorch model, and its kernel is fc(i+1).weight transposed.
      const expected = await loadPermutationSpec(join(FIXTURES, 'specs', 'mlp.permspec.json'));
      const asFlax: Record<string, AxisEntry[]> = {};
      for (const [name, axes] of Object.entries(expected.axes)) {
        const [, layer, kind] = /^fc(\d)\.(weight|bias)$/.exec(name) as RegExpExecArray;
        const path = `params/Dense_${Number(layer) - 1}`;
        if (kind === 'weight') asFlax[`${path}/kernel`] = [...axes].reverse();
        else asFlax[`${path}/bias`] = [...axes];
      }
      assert.deepEqual(partition(result.spec), partition({ axes: asFlax }));
    } finally {
      await checkpoint.close();
    }
  });

  it('orders Dense_10 after Dense_2', () => {
    const result = inferFlaxDenseChain([entry('params/Dense_10/kernel', [6, 3]), entry('params/Dense_2/kernel', [5, 6]), entry('params/Dense_2/bias', [6])]);
    assert.ok('spec' in result, 'failure' in result ? result.failure : '');
    assert.deepEqual(result.spec.axes, {
      'params/Dense_2/kernel': [null, 'P_Dense_2'],
      'params/Dense_2/bias': ['P_Dense_2'],
      'params/Dense_10/kernel': ['P_Dense_2', null],
    });
  });

  it('rejects mixed modules and broken chains', () => {
    const cases: [TensorEntry[], RegExp][] = [
      [[entry('params/Dense_0/kernel', [4, 8]), entry('params/LayerNorm_0/scale', [8]), entry('params/Dense_1/kernel', [8, 2])], /"params\/LayerNorm_0\/scale" is neither a Dense kernel nor its bias/],
      [[entry('params/Dense_0/kernel', [4, 8]), entry('params/Dense_1/kernel', [6, 2])], /"params\/Dense_0\/kernel" has 8 outputs but "params\/Dense_1\/kernel" takes 6 inputs/],
      [[entry('params/Conv_0/kernel', [3, 3, 1, 8]), entry('params/Dense_0/kernel', [8, 2])], /"params\/Conv_0\/kernel" has shape \[3, 3, 1, 8\], not a 2-D Dense kernel/],
      [[entry('params/Dense_0/kernel', [4, 8]), entry('params/Dense_0/bias', [4])], /"params\/Dense_0\/bias" has shape \[4\], not the bias of/],
    ];
    for (const [tensors, message] of cases) {
      const result = inferFlaxDenseChain(tensors);
      assert.ok('failure' in result, `expected a failure matching ${message}`);
      assert.match(result.failure, message);
    }
  });
});
