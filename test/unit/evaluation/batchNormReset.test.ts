// BatchNorm statistics reset on the fixture ResNet, checked against PyTorch's cumulative-average reset and
// against the barrier it should lower.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openCheckpoint } from '../../../src/formats/open';
import { resetBatchNormStatistics } from '../../../src/evaluation/batchNormReset';
import { loadDataset } from '../../../src/evaluation/dataset';
import { evaluateInterpolation } from '../../../src/evaluation/evaluateInterpolation';
import { EvaluationSession } from '../../../src/evaluation/evaluationSession';
import { parameterizeGraph } from '../../../src/evaluation/parameterizedGraph';

const fixtures = join(__dirname, '..', '..', 'fixtures');
const model = (name: string): string => join(fixtures, 'models', name);
const data = (name: string): string => join(fixtures, 'data', name);

interface TorchReset {
  loss: number;
  accuracy: number;
  running: Record<string, number[]>;
}

function torchReset(checkpoint: string): TorchReset {
  const script = join(__dirname, 'batchnorm_reset_reference.py');
  const output = execFileSync('/usr/bin/python3', [script, checkpoint, 'DigitsResNet', data('digits_train_image.npz'), data('digits_test_image.npz')], { encoding: 'utf8' });
  return JSON.parse(output) as TorchReset;
}

test('reset statistics match PyTorch momentum=None', async () => {
  const reference = torchReset(model('resnet_s0.pt'));
  const checkpoint = await openCheckpoint(model('resnet_s0.onnx'));
  const graph = await parameterizeGraph(model('resnet_s0.onnx'), checkpoint);
  const weights = new Map<string, Float32Array>();
  for (const weight of graph.weights) weights.set(weight.input, await checkpoint.readTensor(weight.nameA, 'float32'));
  await checkpoint.close();
  const train = await loadDataset(data('digits_train_image.npz'), 'x', 'y');
  const session = await EvaluationSession.create(graph, 'cpu');
  try {
    assert.equal(graph.batchNorms.length, 5);
    const reset = await resetBatchNormStatistics(session, weights, train, new AbortController().signal);
    for (const [name, expected] of Object.entries(reference.running)) {
      const actual = reset.get(name) as Float32Array;
      assert.ok(actual !== undefined, `${name} is not a weight input`);
      assert.equal(actual.length, expected.length);
      for (let channel = 0; channel < expected.length; channel++) {
        const difference = Math.abs(actual[channel] - expected[channel]);
        assert.ok(difference <= 1e-4 * Math.abs(expected[channel]) + 1e-6, `${name}[${channel}]: ${actual[channel]} vs PyTorch ${expected[channel]}`);
      }
      // The stored statistics must have changed: the trained running averages differ from whole-set statistics.
      assert.notDeepEqual(Array.from(actual), Array.from(weights.get(name) as Float32Array));
    }
  } finally {
    await session.release();
  }
});

test('ResNet barrier drops with BatchNorm reset', async () => {
  const report = await evaluateInterpolation({
    a: model('resnet_s0.safetensors'),
    b: model('resnet_s1.pt'),
    graph: model('resnet_s0.onnx'),
    spec: join(fixtures, 'specs', 'resnet.permspec.json'),
    data: data('digits_test_image.safetensors'),
    resetBn: data('digits_train_image.safetensors'),
    steps: 5,
    executionProvider: 'cpu',
  });
  const reset = report.barrierResetBn;
  assert.ok(reset !== undefined, 'barrierResetBn is missing');
  assert.ok(report.alignedResetBn !== undefined, 'alignedResetBn is missing');
  assert.ok(report.naiveResetBn !== undefined, 'naiveResetBn is missing');
  console.log(`ResNet loss barrier: naive ${report.barrier.naive}, aligned ${report.barrier.aligned}, naive with reset ${reset.naive}, aligned with reset ${reset.aligned}`);

  assert.equal(report.batchNormLayers, 5);
  assert.ok(reset.aligned < report.barrier.aligned, `aligned with reset ${reset.aligned} is not below aligned ${report.barrier.aligned}`);
  assert.ok(reset.aligned < reset.naive, `aligned with reset ${reset.aligned} is not below naive with reset ${reset.naive}`);
  assert.equal(report.sessionsCreated, 1);
  assert.equal(report.equivalence.specLikelyWrong, false);

  // At λ = 0 and λ = 1 the reset curves are A and B with recomputed statistics, as PyTorch computes them.
  const torchA = torchReset(model('resnet_s0.pt'));
  const torchB = torchReset(model('resnet_s1.pt'));
  const last = report.lambdas.length - 1;
  assert.ok(Math.abs(report.alignedResetBn.loss[0] - torchA.loss) < 1e-5, `λ=0 reset loss ${report.alignedResetBn.loss[0]} vs PyTorch ${torchA.loss}`);
  assert.ok(Math.abs(report.naiveResetBn.loss[last] - torchB.loss) < 1e-5, `λ=1 reset loss ${report.naiveResetBn.loss[last]} vs PyTorch ${torchB.loss}`);
  const samples = 540;
  assert.ok(Math.abs(report.alignedResetBn.accuracy[0] - torchA.accuracy) * samples <= 1 + 1e-9);
  assert.ok(Math.abs(report.naiveResetBn.accuracy[last] - torchB.accuracy) * samples <= 1 + 1e-9);
});
