// Evaluation through graphs that differ from the plain fixtures: wrapper prefixes on the checkpoint's names, a fixed
// batch size (the last batch is padded), and float64 weights and inputs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateInterpolation, type EvaluationOptions, type EvaluationReport } from '../../../src/evaluation/evaluateInterpolation';

const fixtures = join(__dirname, '..', '..', 'fixtures');
const model = (name: string): string => join(fixtures, 'models', name);

const plain: EvaluationOptions = {
  a: model('mlp_s0.safetensors'),
  b: model('mlp_s1.safetensors'),
  graph: model('mlp_s0.onnx'),
  data: join(fixtures, 'data', 'digits_test_flat.npz'),
  steps: 5,
  executionProvider: 'cpu',
};

let folder = '';
let reference: EvaluationReport;
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'eval-graphs-'));
  // A batch of 128 leaves 540 − 4 × 128 = 28 real samples in the last, padded batch.
  execFileSync('/usr/bin/python3', [join(__dirname, 'graph_variants.py'), model('mlp_s0.onnx'), folder, '128']);
  reference = await evaluateInterpolation(plain);
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

function assertCurvesClose(actual: EvaluationReport, tolerance: number): void {
  for (const line of ['naive', 'aligned'] as const) {
    actual[line].loss.forEach((loss, index) => {
      assert.ok(Math.abs(loss - reference[line].loss[index]) <= tolerance, `${line} loss at λ=${actual.lambdas[index]}: ${loss} vs ${reference[line].loss[index]}`);
    });
    assert.deepEqual(actual[line].accuracy, reference[line].accuracy);
  }
}

test('checkpoint names with wrapper prefixes', async () => {
  const report = await evaluateInterpolation({ ...plain, a: model('mlp_s0.module.pth'), b: model('mlp_s1.orig_mod.pth') });
  assert.deepEqual(report.naive, reference.naive);
  assert.deepEqual(report.aligned, reference.aligned);
});

test('fixed batch size pads the last batch', async () => {
  const report = await evaluateInterpolation({ ...plain, graph: join(folder, 'fixed_batch.onnx') });
  assertCurvesClose(report, 1e-6);
});

test('float64 graph', async () => {
  const report = await evaluateInterpolation({ ...plain, a: join(folder, 'float64.onnx'), graph: undefined });
  // Float64 arithmetic moves the losses by float32 rounding only.
  assertCurvesClose(report, 1e-5);
  assert.equal(report.sessionsCreated, 1);
});
