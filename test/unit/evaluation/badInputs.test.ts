// Invalid evaluation inputs: each must fail with an error that names the file or array and what to change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../../../src/formats/open';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';
import { evaluateInterpolation, type EvaluationOptions } from '../../../src/evaluation/evaluateInterpolation';
import { evalCommand } from '../../../src/cli/eval';
import { UsageError } from '../../../src/cli/command';

const fixtures = join(__dirname, '..', '..', 'fixtures');
const model = (name: string): string => join(fixtures, 'models', name);
const data = (name: string): string => join(fixtures, 'data', name);

const mlp: EvaluationOptions = { a: model('mlp_s0.onnx'), b: model('mlp_s1.onnx'), data: data('digits_test_flat.npz'), steps: 2, executionProvider: 'cpu' };

/** Writes the flat test split with its labels replaced, as safetensors. */
async function writeDigitsWithLabels(path: string, labels: (value: bigint, index: number) => bigint, labelType: 'I64' | 'F32' = 'I64'): Promise<void> {
  const source = await openCheckpoint(data('digits_test_flat.safetensors'));
  const x = await source.readTensor('x', 'stored');
  const y = (await source.readTensor('y', 'stored')).data as BigInt64Array;
  await source.close();
  const changed = y.map(labels);
  const yTensor = labelType === 'I64'
    ? { name: 'y', dtype: 'I64', shape: [y.length], data: changed }
    : { name: 'y', dtype: 'F32', shape: [y.length], data: Float32Array.from(changed, Number) };
  await writeSafetensors(path, [{ name: 'x', ...x }, yTensor], { inputs: [] });
}

test('data file without the input array', async () => {
  await assert.rejects(evaluateInterpolation({ ...mlp, data: model('mlp_s0.npz') }), /mlp_s0\.npz: no array named "x" \(arrays: fc1\.weight.*pass --input NAME/);
});

test('data file without the label array', async () => {
  await assert.rejects(evaluateInterpolation({ ...mlp, labelName: 'labels' }), /no array named "labels".*pass --labels NAME/);
});

test('labels out of range', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'eval-labels-'));
  try {
    const path = join(folder, 'digits.safetensors');
    await writeDigitsWithLabels(path, (value, index) => (index === 7 ? 12n : value));
    await assert.rejects(evaluateInterpolation({ ...mlp, data: path }), /digits\.safetensors: label 7 of "y" is 12, but the model has 10 output classes \(0 to 9\)/);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test('negative and non-integer labels', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'eval-labels-'));
  try {
    const negative = join(folder, 'negative.safetensors');
    await writeDigitsWithLabels(negative, (value, index) => (index === 3 ? -1n : value));
    await assert.rejects(evaluateInterpolation({ ...mlp, data: negative }), /label 3 of "y" is -1; class labels must be non-negative/);
    const floating = join(folder, 'floating.safetensors');
    await writeDigitsWithLabels(floating, (value) => value, 'F32');
    await assert.rejects(evaluateInterpolation({ ...mlp, data: floating }), /label array "y" has type F32; class labels must be integers/);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

test('input shape not matching the graph', async () => {
  await assert.rejects(
    evaluateInterpolation({ ...mlp, data: data('digits_test_image.npz') }),
    /digits_test_image\.npz: input array "x" has shape \[540, 1, 8, 8\] but graph input "x" of .*mlp_s0\.onnx expects \[batch, 64\]/,
  );
});

test('graph initializers not matching the checkpoint', async () => {
  // Constant folding renamed the transposed weights to onnx::MatMul_<n>.
  await assert.rejects(
    evaluateInterpolation({ ...mlp, a: model('transformer_s0.safetensors'), b: model('transformer_s1.safetensors'), graph: model('transformer_s0.folded.onnx'), data: data('digits_test_tokens.npz') }),
    (error: Error) => {
      assert.match(error.message, /transformer_s0\.folded\.onnx: the graph's initializers do not match the checkpoint's tensors/);
      assert.match(error.message, /initializers not in .*transformer_s0\.safetensors: onnx::MatMul_/);
      assert.match(error.message, /with no initializer: .*embed\.weight/);
      assert.match(error.message, /do_constant_folding=False/);
      assert.match(error.message, /--graph/);
      return true;
    },
  );
  await assert.rejects(
    evaluateInterpolation({ ...mlp, a: model('mlp_s0.safetensors'), b: model('mlp_s1.safetensors'), graph: model('cnn_s0.onnx') }),
    /initializers not in .*mlp_s0\.safetensors: conv1\.weight/,
  );
});

test('checkpoint without an ONNX graph', async () => {
  await assert.rejects(evaluateInterpolation({ ...mlp, a: model('mlp_s0.safetensors'), b: model('mlp_s1.safetensors') }), /mlp_s0\.safetensors: .*pass --graph MODEL\.onnx/);
});

test('eval usage errors', async () => {
  const io = { stdout: process.stdout, stderr: process.stderr, signal: new AbortController().signal, verbose: false };
  await assert.rejects(evalCommand.run([mlp.a, mlp.b], {}, io), (error: Error) => error instanceof UsageError && /--data/.test(error.message));
  await assert.rejects(evalCommand.run([mlp.a, mlp.b], { data: mlp.data, steps: '1' }, io), UsageError);
  await assert.rejects(evalCommand.run([mlp.a, mlp.b], { data: mlp.data, steps: '2.5' }, io), UsageError);
});
