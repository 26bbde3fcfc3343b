import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TensorEntry } from '../../../src/formats/checkpoint';
import { inferLinearChain } from '../../../src/alignment/specInference/chain';
import { loadModel, modelPath } from './fixtureModels';

function entry(name: string, shape: number[], dtype = 'F32'): TensorEntry {
  return { name, dtype, shape, offset: 0, length: 0 };
}

describe('linear chain inference', () => {
  it('infers the MLP fixture spec', async () => {
    const model = await loadModel(modelPath('mlp', 0));
    const result = inferLinearChain(model.tensors);
    assert.ok('spec' in result, 'failure' in result ? result.failure : '');
    assert.equal(result.source, 'auto: chain of 3 linear layers');
    assert.deepEqual(result.spec.axes, {
      'fc1.weight': ['P_fc1', null],
      'fc1.bias': ['P_fc1'],
      'fc2.weight': ['P_fc2', 'P_fc1'],
      'fc2.bias': ['P_fc2'],
      'fc3.weight': [null, 'P_fc2'],
      'fc3.bias': [null],
    });
  });

  it('falls back to natural name order', () => {
    const tensors = [entry('fc10.weight', [3, 6]), entry('fc2.weight', [6, 5]), entry('fc1.weight', [5, 4]), entry('fc1.bias', [5])];
    const result = inferLinearChain(tensors);
    assert.ok('spec' in result);
    assert.deepEqual(result.spec.axes['fc10.weight'], [null, 'P_fc2']);
    assert.deepEqual(result.spec.axes['fc1.bias'], ['P_fc1']);
  });

  it('ignores integer counters', () => {
    const result = inferLinearChain([entry('a.weight', [5, 4]), entry('b.weight', [3, 5]), entry('step', [], 'I64')]);
    assert.ok('spec' in result);
  });

  it('rejects non-chain checkpoints', async () => {
    const resnet = await loadModel(modelPath('resnet', 0));
    const cases: [TensorEntry[], RegExp][] = [
      [resnet.tensors as TensorEntry[], /"conv1.weight" has shape \[16, 1, 3, 3\], not a 2-D Linear weight/],
      [[entry('a.weight', [5, 4]), entry('b.weight', [3, 6])], /do not form a chain/],
      [[entry('a.weight', [5, 4]), entry('norm.scale', [5]), entry('b.weight', [3, 5])], /"norm.scale" is neither a Linear weight nor its bias/],
      [[entry('a.weight', [5, 4]), entry('a.bias', [4]), entry('b.weight', [3, 5])], /"a.bias" has shape \[4\], not the bias of "a.weight"/],
      [[entry('a.weight', [5, 4])], /found 1 Linear layer/],
    ];
    for (const [tensors, message] of cases) {
      const result = inferLinearChain(tensors);
      assert.ok('failure' in result, `expected a failure for ${message}`);
      assert.match(result.failure, message);
    }
  });
});
