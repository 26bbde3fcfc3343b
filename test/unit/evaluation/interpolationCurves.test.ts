// Interpolation curves on the fixture digit classifiers: barriers before and after alignment, exact end points,
// and one inference session for all points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as ort from 'onnxruntime-node';
import { evalCommand } from '../../../src/cli/eval';
import { openCheckpoint } from '../../../src/formats/open';
import { evaluateInterpolation } from '../../../src/evaluation/evaluateInterpolation';
import { evaluationSessionsCreated } from '../../../src/evaluation/evaluationSession';
import { accuracyBarrier, lossBarrier } from '../../../src/evaluation/barrier';

const fixtures = join(__dirname, '..', '..', 'fixtures');
const model = (name: string): string => join(fixtures, 'models', name);
const data = (name: string): string => join(fixtures, 'data', name);

/** Mean cross-entropy and accuracy of an unmodified ONNX model, computed here independently of the evaluator. */
async function referenceScore(modelPath: string, dataPath: string): Promise<{ loss: number; accuracy: number }> {
  const file = await openCheckpoint(dataPath);
  const shape = file.tensors.find((entry) => entry.name === 'x')?.shape as number[];
  const x = await file.readTensor('x', 'float32');
  const y = await file.readTensor('y', 'float64');
  await file.close();
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const logits = (await session.run({ x: new ort.Tensor('float32', x, shape) })).logits;
  await session.release();
  const classes = logits.dims[1];
  const values = logits.data as Float32Array;
  let loss = 0;
  let correct = 0;
  for (let sample = 0; sample < y.length; sample++) {
    const row = Array.from(values.subarray(sample * classes, (sample + 1) * classes));
    const max = Math.max(...row);
    const logSum = max + Math.log(row.reduce((sum, value) => sum + Math.exp(value - max), 0));
    loss += logSum - row[y[sample]];
    if (row.indexOf(max) === y[sample]) correct++;
  }
  return { loss: loss / y.length, accuracy: correct / y.length };
}

function assertClose(actual: number, expected: number, relative: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${label}: ${actual} vs ${expected}`);
}

test('MLP aligned barrier far below naive', async () => {
  const sessionsBefore = evaluationSessionsCreated();
  const report = await evaluateInterpolation({
    a: model('mlp_s0.onnx'),
    b: model('mlp_s1.safetensors'),
    data: data('digits_test_flat.npz'),
    executionProvider: 'cpu',
  });
  console.log(`MLP loss barrier: naive ${report.barrier.naive}, aligned ${report.barrier.aligned}`);
  console.log(`MLP accuracy barrier: naive ${report.accuracyBarrier.naive}, aligned ${report.accuracyBarrier.aligned}`);

  assert.equal(report.lambdas.length, 21);
  assert.equal(report.naive.loss.length, 21);
  assert.equal(report.aligned.accuracy.length, 21);
  assert.ok(report.barrier.naive > 0.3, `naive loss barrier ${report.barrier.naive} should be large`);
  assert.ok(report.barrier.aligned < 0.2 * report.barrier.naive, `aligned barrier ${report.barrier.aligned} is not below 20% of ${report.barrier.naive}`);
  assert.ok(report.accuracyBarrier.aligned < report.accuracyBarrier.naive);
  assert.equal(report.equivalence.specLikelyWrong, false);
  assert.ok(report.equivalence.maxAbsLogitDiff < 1e-4);
  assert.equal(report.sessionsCreated, 1);
  assert.equal(evaluationSessionsCreated() - sessionsBefore, 1);
});

test('curve end points reproduce A and B', async () => {
  const report = await evaluateInterpolation({
    a: model('mlp_s0.safetensors'),
    b: model('mlp_s1.pt'),
    graph: model('mlp_s0.onnx'),
    data: data('digits_test_flat.safetensors'),
    steps: 3,
    executionProvider: 'cpu',
  });
  const scoreA = await referenceScore(model('mlp_s0.onnx'), data('digits_test_flat.safetensors'));
  const scoreB = await referenceScore(model('mlp_s1.onnx'), data('digits_test_flat.safetensors'));
  assert.deepEqual(report.lambdas, [0, 0.5, 1]);

  assert.equal(report.naive.loss[0], scoreA.loss);
  assert.equal(report.aligned.loss[0], scoreA.loss);
  assert.equal(report.naive.accuracy[0], scoreA.accuracy);
  assert.equal(report.aligned.accuracy[0], scoreA.accuracy);
  assert.equal(report.naive.loss[2], scoreB.loss);
  assert.equal(report.naive.accuracy[2], scoreB.accuracy);
  // π(B) computes B's function, but reordered sums round differently in float32.
  assertClose(report.aligned.loss[2], scoreB.loss, 1e-5, 'aligned λ=1');
  assert.equal(report.aligned.accuracy[2], scoreB.accuracy);
});

test('barriers follow their definitions', () => {
  const lambdas = [0, 0.25, 0.5, 0.75, 1];
  // Line from 1 to 3: 1.5, 2, 2.5 in the middle; the largest excess is 4 − 2 = 2 at λ = 0.5.
  assert.equal(lossBarrier(lambdas, [1, 2, 4, 2.5, 3]), 2);
  // Straight curves have no barrier.
  assert.equal(lossBarrier(lambdas, [1, 1.5, 2, 2.5, 3]), 0);
  // Line from 0.9 to 0.7: 0.85 at λ = 0.25; the largest shortfall is 0.85 − 0.45 = 0.4.
  assert.ok(Math.abs(accuracyBarrier(lambdas, [0.9, 0.45, 0.7, 0.7, 0.7]) - 0.4) < 1e-12);
});

test('wrong spec is flagged by the equivalence check', async () => {
  // The MLP's spec applied to fc1 rows only: π(B) then pairs permuted hidden units with unpermuted fc2 columns.
  const folder = await mkdtemp(join(tmpdir(), 'eval-spec-'));
  try {
    const spec = join(folder, 'broken.permspec.json');
    await writeFile(spec, JSON.stringify({ axes: { 'fc1.weight': ['P_fc1', null], 'fc1.bias': ['P_fc1'] } }));
    const report = await evaluateInterpolation({ a: model('mlp_s0.onnx'), b: model('mlp_s1.onnx'), data: data('digits_test_flat.npz'), steps: 2, spec, executionProvider: 'cpu' });
    assert.equal(report.equivalence.specLikelyWrong, true);
    assert.ok(report.equivalence.maxAbsLogitDiff > 1e-4);
    assert.match(report.equivalence.message ?? '', /permutation spec/);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test('cancelled eval writes no curves', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'eval-cancel-'));
  try {
    const controller = new AbortController();
    const io = { stdout: new PassThrough(), stderr: new PassThrough(), signal: controller.signal, verbose: false };
    const pending = evalCommand.run([model('mlp_s0.onnx'), model('mlp_s1.onnx')], { data: data('digits_test_flat.npz'), out: join(folder, 'curves.json') }, io);
    controller.abort(new Error('cancelled by SIGINT'));
    await assert.rejects(pending, /cancelled by SIGINT/);
    assert.deepEqual(await readdir(folder), []);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
