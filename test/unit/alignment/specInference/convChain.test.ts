import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TensorEntry } from '../../../../src/formats/checkpoint';
import { inferConvChain } from '../../../../src/alignment/specInference/convChain';

function entry(name: string, shape: number[], dtype = 'F32'): TensorEntry {
  return { name, dtype, shape, offset: 0, length: 0 };
}

describe('convolution chain inference', () => {
  it('attaches BatchNorm vectors and groups the flatten', () => {
    const result = inferConvChain([
      entry('module.conv1.weight', [8, 3, 3, 3]), entry('module.conv1.bias', [8]),
      entry('module.bn1.weight', [8]), entry('module.bn1.bias', [8]), entry('module.bn1.running_mean', [8]), entry('module.bn1.running_var', [8]),
      entry('module.bn1.num_batches_tracked', [], 'I64'),
      entry('module.conv2.weight', [16, 8, 3, 3]),
      entry('module.fc1.weight', [32, 64]), entry('module.fc1.bias', [32]),
      entry('module.fc2.weight', [10, 32]), entry('module.fc2.bias', [10]),
    ]);
    assert.ok('spec' in result, 'failure' in result ? result.failure : '');
    assert.equal(result.source, 'auto: chain of 2 convolution and 2 linear layers');
    assert.deepEqual(result.spec.axes, {
      'module.conv1.weight': ['P_conv1', null, null, null],
      'module.conv1.bias': ['P_conv1'],
      'module.bn1.weight': ['P_conv1'],
      'module.bn1.bias': ['P_conv1'],
      'module.bn1.running_mean': ['P_conv1'],
      'module.bn1.running_var': ['P_conv1'],
      'module.conv2.weight': ['P_conv2', 'P_conv1', null, null],
      'module.fc1.weight': ['P_fc1', { perm: 'P_conv2', outer: 1, inner: 4 }],
      'module.fc1.bias': ['P_fc1'],
      'module.fc2.weight': [null, 'P_fc1'],
      'module.fc2.bias': [null],
    });
  });

  it('uses natural order when the file order breaks the chain', () => {
    const result = inferConvChain([entry('layer10.weight', [5, 8]), entry('layer2.weight', [8, 4, 1, 1]), entry('layer1.weight', [4, 1, 3, 3])]);
    assert.ok('spec' in result, 'failure' in result ? result.failure : '');
    assert.deepEqual(result.spec.axes['layer10.weight'], [null, 'P_layer2']);
  });

  it('rejects ambiguous or broken chains', () => {
    const cases: [TensorEntry[], RegExp][] = [
      [[entry('conv1.weight', [8, 3, 3, 3]), entry('conv2.weight', [8, 4, 3, 3])], /do not form a chain/],
      [[entry('conv1.weight', [8, 3, 3, 3]), entry('bn.weight', [6]), entry('conv2.weight', [8, 8, 3, 3])], /do not form a chain/],
      [[entry('conv1.weight', [8, 3, 3, 3]), entry('fc.weight', [10, 12])], /do not form a chain/],
      [[entry('fc.weight', [8, 4]), entry('conv.weight', [8, 8, 3, 3])], /do not form a chain/],
      [[entry('conv1.weight', [8, 3, 3, 3]), entry('gate', [8, 8])], /"gate" is not a layer's weight, bias or normalization vector/],
      [[entry('conv1.weight', [8, 3, 3]), entry('conv2.weight', [8, 8, 3])], /shape \[8, 3, 3\], neither a convolution, Linear nor normalization weight/],
      [[entry('conv1.weight', [8, 3, 3, 3]), entry('conv1.bias', [8, 1])], /"conv1.bias" has shape \[8, 1\], not a per-channel vector/],
    ];
    for (const [tensors, message] of cases) {
      const result = inferConvChain(tensors);
      assert.ok('failure' in result, `expected a failure matching ${message}`);
      assert.match(result.failure, message);
    }
  });
});
