// The merge command on the fixture checkpoints: weights applied once, end points exact, every tensor kind handled,
// outputs in every format readable by their own libraries, and inputs never touched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as ort from 'onnxruntime-node';
import { alignCommand } from '../../../src/cli/align';
import { UsageError, type FlagValues } from '../../../src/cli/command';
import { mergeCommand } from '../../../src/cli/merge';
import { float16BitsToNumber, numberToFloat16Bits } from '../../../src/formats/dtype';
import { OutputOverwritesInputError } from '../../../src/formats/atomicWrite';
import { openCheckpoint } from '../../../src/formats/open';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';
import { evaluateInterpolation } from '../../../src/evaluation/evaluateInterpolation';
import { VERSION } from '../../../src/version';

const fixtures = join(__dirname, '..', '..', 'fixtures');
const model = (name: string): string => join(fixtures, 'models', name);
const data = (name: string): string => join(fixtures, 'data', name);
const resnetSpec = join(fixtures, 'specs', 'resnet.permspec.json');

let folder = '';
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'merge-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function run(command: typeof mergeCommand, positionals: string[], flags: FlagValues, signal = new AbortController().signal): Promise<string> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const status = await command.run(positionals, flags, { stdout, stderr: new PassThrough(), signal, verbose: false });
  assert.equal(status, 0);
  return Buffer.concat(chunks).toString('utf8');
}

async function readAll(path: string): Promise<Map<string, { dtype: string; values: Float64Array }>> {
  const checkpoint = await openCheckpoint(path);
  const tensors = new Map<string, { dtype: string; values: Float64Array }>();
  for (const entry of checkpoint.tensors) tensors.set(entry.name, { dtype: entry.dtype, values: await checkpoint.readTensor(entry.name, 'float64') });
  await checkpoint.close();
  return tensors;
}

/** π(B) written by the align command, independently of the merge code. */
async function alignedB(a: string, b: string, flags: FlagValues = {}): Promise<string> {
  const output = join(folder, `aligned-${Math.random().toString(16).slice(2)}.safetensors`);
  await run(alignCommand, [a, b], { ...flags, 'write-aligned': output });
  return output;
}

function sha256(path: string): Promise<string> {
  return readFile(path).then((bytes) => createHash('sha256').update(bytes).digest('hex'));
}

test('two-model merge applies λ once', async () => {
  const a = model('mlp_s0.safetensors');
  const b = model('mlp_s1.safetensors');
  const output = join(folder, 'lambda03.safetensors');
  await run(mergeCommand, [a, b], { lambda: '0.3', out: output });
  const [merged, tensorsA, tensorsAligned] = await Promise.all([readAll(output), readAll(a), readAll(await alignedB(a, b))]);

  let towardB = 0;
  let total = 0;
  for (const [name, { values: x }] of tensorsA) {
    const y = (tensorsAligned.get(name) as { values: Float64Array }).values;
    const m = (merged.get(name) as { dtype: string; values: Float64Array }).values;
    assert.equal(merged.get(name)?.dtype, 'F32');
    for (let i = 0; i < x.length; i++) {
      assert.equal(m[i], Math.fround(0.7 * x[i] + 0.3 * y[i]), `${name}[${i}]`);
      towardB += (m[i] - x[i]) * (y[i] - x[i]);
      total += (y[i] - x[i]) ** 2;
    }
  }
  // Re-applying λ at each step would land near π(B): the projection of the move onto A→π(B) must be 0.3.
  assert.ok(Math.abs(towardB / total - 0.3) < 1e-6, `merged point sits at ${towardB / total} of the way to π(B)`);
});

test('λ = 0 gives A and λ = 1 gives π(B)', async () => {
  const a = model('mlp_s0.safetensors');
  const b = model('mlp_s1.pt');
  const zero = join(folder, 'zero.safetensors');
  const one = join(folder, 'one.safetensors');
  await run(mergeCommand, [a, b], { lambda: '0', out: zero });
  await run(mergeCommand, [a, b], { lambda: '1', out: one });
  assert.deepEqual(await readAll(zero), await readAll(a));
  assert.deepEqual(await readAll(one), await readAll(await alignedB(a, b)));
});

test('three models averaged with equal weights', async () => {
  const inputs = [model('mlp_s0.safetensors'), model('mlp_s1.safetensors'), model('mlp_s0.bf16.safetensors')];
  const output = join(folder, 'three.safetensors');
  const stdout = await run(mergeCommand, inputs, { 'no-align': true, out: output });
  assert.match(stdout, /alignment: none/);
  const [merged, ...models] = await Promise.all([readAll(output), ...inputs.map(readAll)]);
  for (const [name, { values }] of merged) {
    const [x, y, z] = models.map((tensors) => (tensors.get(name) as { values: Float64Array }).values);
    for (let i = 0; i < values.length; i++) {
      const mean = (x[i] + y[i] + z[i]) / 3;
      assert.ok(Math.abs(values[i] - mean) <= 1e-7 * Math.abs(mean) + 1e-12, `${name}[${i}]: ${values[i]} vs mean ${mean}`);
    }
  }
  // Folding the third model in at λ = 1/2 after an equal A/B merge would give it half the weight.
  const folded = 0.25 * models[0].get('fc1.weight')!.values[0] + 0.25 * models[1].get('fc1.weight')!.values[0] + 0.5 * models[2].get('fc1.weight')!.values[0];
  assert.notEqual(merged.get('fc1.weight')?.values[0], Math.fround(folded));
});

test('three models aligned to the first', async () => {
  const output = join(folder, 'three-aligned.safetensors');
  const stdout = await run(mergeCommand, [model('mlp_s0.safetensors'), model('mlp_s1.safetensors'), model('mlp_s1.pt')], { weights: '2,1,1', out: output });
  assert.match(stdout, /alignment: auto: chain of 3 linear layers; auto: chain of 3 linear layers/);
  const merged = await readAll(output);
  const a = await readAll(model('mlp_s0.safetensors'));
  const aligned = await readAll(await alignedB(model('mlp_s0.safetensors'), model('mlp_s1.safetensors')));
  for (const [name, { values }] of merged) {
    const x = a.get(name)!.values;
    const y = aligned.get(name)!.values;
    for (let i = 0; i < values.length; i++) assert.equal(values[i], Math.fround(0.5 * x[i] + 0.25 * y[i] + 0.25 * y[i]), `${name}[${i}]`);
  }
});

test('--weights are divided by their sum', async () => {
  const a = model('mlp_s0.safetensors');
  const b = model('mlp_s1.safetensors');
  const output = join(folder, 'weights.safetensors');
  await run(mergeCommand, [a, b], { weights: '1,3', 'no-align': true, out: output });
  const [merged, x, y] = await Promise.all([readAll(output), readAll(a), readAll(b)]);
  for (const [name, { values }] of merged) {
    for (let i = 0; i < values.length; i++) assert.equal(values[i], Math.fround(0.25 * x.get(name)!.values[i] + 0.75 * y.get(name)!.values[i]));
  }
});

test('buffers from A, statistics averaged', async () => {
  const a = model('resnet_s0.pt');
  const b = model('resnet_s1.pt');
  const output = join(folder, 'resnet.safetensors');
  const stdout = await run(mergeCommand, [a, b], { spec: resnetSpec, out: output });
  assert.match(stdout, /not floating, copied from .*resnet_s0\.pt: bn1\.num_batches_tracked/);
  const [merged, x] = await Promise.all([readAll(output), readAll(a)]);
  assert.equal(merged.get('bn1.num_batches_tracked')?.dtype, 'I64');
  assert.deepEqual(merged.get('bn1.num_batches_tracked')?.values, x.get('bn1.num_batches_tracked')?.values);
  assert.notDeepEqual(merged.get('bn1.running_var')?.values, x.get('bn1.running_var')?.values);
  // fc.bias is in no permutation, but it is still interpolated.
  assert.notDeepEqual(merged.get('fc.bias')?.values, x.get('fc.bias')?.values);
});

test('tensor in one model only is copied and listed', async () => {
  const source = await openCheckpoint(model('mlp_s1.safetensors'));
  const tensors = [];
  for (const entry of source.tensors) tensors.push({ name: entry.name, ...(await source.readTensor(entry.name, 'stored')) });
  await source.close();
  const extended = join(folder, 'mlp_s1_extra.safetensors');
  await writeSafetensors(extended, [...tensors, { name: 'extra.scale', dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) }], { inputs: [] });

  const output = join(folder, 'extra.safetensors');
  const stdout = await run(mergeCommand, [model('mlp_s0.safetensors'), extended], { out: output });
  assert.match(stdout, /only in this model, copied from .*mlp_s1_extra\.safetensors: extra\.scale/);
  const merged = await readAll(output);
  assert.deepEqual(Array.from(merged.get('extra.scale')!.values), [1, 2, 3]);
  assert.equal(merged.size, 7);
});

test('dtype follows A unless --dtype', async () => {
  const a = model('mlp_s0.bf16.safetensors');
  const b = model('mlp_s1.safetensors');
  const followed = join(folder, 'bf16.safetensors');
  const half = join(folder, 'f16.safetensors');
  const single = join(folder, 'f32.safetensors');
  await run(mergeCommand, [a, b], { 'no-align': true, out: followed });
  await run(mergeCommand, [a, b], { 'no-align': true, dtype: 'F16', out: half });
  await run(mergeCommand, [a, b], { 'no-align': true, dtype: 'F32', out: single });
  const [bf16, f16, f32] = await Promise.all([readAll(followed), readAll(half), readAll(single)]);
  for (const [name, { dtype, values }] of f32) {
    assert.equal(dtype, 'F32');
    assert.equal(bf16.get(name)?.dtype, 'BF16');
    assert.equal(f16.get(name)?.dtype, 'F16');
    const rounded = f16.get(name)!.values;
    for (let i = 0; i < values.length; i++) assert.equal(rounded[i], float16BitsToNumber(numberToFloat16Bits(values[i])), `${name}[${i}]`);
  }
});

test('metadata records inputs, λ, spec and version', async () => {
  const output = join(folder, 'metadata.safetensors');
  await run(mergeCommand, [model('mlp_s0.safetensors'), model('mlp_s1.safetensors')], { lambda: '0.25', out: output });
  const checkpoint = await openCheckpoint(output);
  const metadata = checkpoint.metadata as Record<string, string>;
  await checkpoint.close();
  assert.equal(metadata.tool, 'checkpoint-aligner merge');
  assert.equal(metadata.version, VERSION);
  assert.deepEqual(JSON.parse(metadata.inputs), ['mlp_s0.safetensors', 'mlp_s1.safetensors']);
  assert.deepEqual(JSON.parse(metadata.weights), [0.75, 0.25]);
  assert.equal(metadata.lambda, '0.25');
  assert.equal(metadata.spec, 'auto: chain of 3 linear layers');
});

test('merge refuses to write over an input', async () => {
  const a = join(folder, 'input_a.safetensors');
  await copyFile(model('mlp_s0.safetensors'), a);
  const before = await sha256(a);
  await assert.rejects(run(mergeCommand, [a, model('mlp_s1.safetensors')], { out: a }), OutputOverwritesInputError);
  assert.equal(await sha256(a), before);
});

test('merge usage errors for λ and weights', async () => {
  const inputs = [model('mlp_s0.safetensors'), model('mlp_s1.safetensors')];
  const out = join(folder, 'never.safetensors');
  for (const flags of [{ lambda: '1.5' }, { lambda: '-0.1' }, { lambda: 'half' }, { weights: '1,-1' }, { weights: '0,0' }, { weights: '1,2,3' }, { weights: '1,x' }, { lambda: '0.5', weights: '1,1' }]) {
    await assert.rejects(run(mergeCommand, inputs, { ...flags, out }), UsageError, JSON.stringify(flags));
  }
  await assert.rejects(run(mergeCommand, [...inputs, model('mlp_s1.pt')], { lambda: '0.5', out }), UsageError);
  await assert.rejects(run(mergeCommand, inputs, {}), UsageError);
  assert.ok(!(await readdir(folder)).includes('never.safetensors'));
});

test('cancelled merge leaves nothing', async () => {
  const target = await mkdtemp(join(tmpdir(), 'merge-cancel-'));
  try {
    const controller = new AbortController();
    const pending = run(mergeCommand, [model('mlp_s0.safetensors'), model('mlp_s1.safetensors')], { out: join(target, 'merged.safetensors') }, controller.signal);
    controller.abort(new Error('cancelled by SIGINT'));
    await assert.rejects(pending, /cancelled by SIGINT/);
    assert.deepEqual(await readdir(target), []);
  } finally {
    await rm(target, { recursive: true, force: true });
  }
});

test('tied weights merge into safetensors', async () => {
  const copy = join(folder, 'shared_copy.pt');
  await copyFile(model('shared_storage.pt'), copy);
  const output = join(folder, 'shared.safetensors');
  await run(mergeCommand, [model('shared_storage.pt'), copy], { 'no-align': true, out: output });
  // Averaging a model with itself gives it back, tied tensors each with their own bytes.
  assert.deepEqual(await readAll(output), await readAll(model('shared_storage.pt')));
});

test('merged .pt matches evaluation in PyTorch', async () => {
  const cases = [
    { name: 'mlp', className: 'DigitsMLP', layout: 'flat', flags: {} },
    { name: 'resnet', className: 'DigitsResNet', layout: 'image', flags: { spec: resnetSpec } },
  ];
  for (const { name, className, layout, flags } of cases) {
    const output = join(folder, `${name}_merged.pt`);
    await run(mergeCommand, [model(`${name}_s0.pt`), model(`${name}_s1.pt`)], { ...flags, lambda: '0.5', out: output });
    const loaded = JSON.parse(execFileSync('/usr/bin/python3', [join(fixtures, 'gen', 'torch_load_check.py'), output], { encoding: 'utf8' }));
    assert.ok('fc.weight' in loaded || 'fc1.weight' in loaded);

    const testData = data(`digits_test_${layout}.npz`);
    const python = JSON.parse(execFileSync('/usr/bin/python3', [join(__dirname, 'merged_accuracy.py'), output, className, testData], { encoding: 'utf8' }));
    const report = await evaluateInterpolation({
      a: model(`${name}_s0.pt`), b: model(`${name}_s1.pt`), graph: model(`${name}_s0.onnx`), data: testData, steps: 3, executionProvider: 'cpu', ...flags,
    });
    assert.equal(report.lambdas[1], 0.5);
    const samples = 540;
    console.log(`${name} merged at λ=0.5: PyTorch ${python.correct} correct, evaluation ${report.aligned.accuracy[1] * samples}`);
    assert.ok(Math.abs(python.accuracy - report.aligned.accuracy[1]) * samples <= 1 + 1e-9, `${name}: PyTorch ${python.accuracy}, evaluation ${report.aligned.accuracy[1]}`);
    assert.ok(Math.abs(python.loss - report.aligned.loss[1]) < 1e-4, `${name}: PyTorch loss ${python.loss}, evaluation ${report.aligned.loss[1]}`);
  }
});

test('merged ONNX model runs in onnxruntime', async () => {
  const output = join(folder, 'merged.onnx');
  const stdout = await run(mergeCommand, [model('resnet_s0.safetensors'), model('resnet_s1.safetensors')], { spec: resnetSpec, graph: model('resnet_s0.onnx'), out: output });
  assert.match(stdout, /left out \(no initializer in the ONNX graph\): bn1\.num_batches_tracked/);
  const report = await evaluateInterpolation({ a: output, b: output, data: data('digits_test_image.npz'), spec: resnetSpec, steps: 2, executionProvider: 'cpu' });
  const reference = await evaluateInterpolation({
    a: model('resnet_s0.safetensors'), b: model('resnet_s1.safetensors'), graph: model('resnet_s0.onnx'), data: data('digits_test_image.npz'), spec: resnetSpec, steps: 3, executionProvider: 'cpu',
  });
  assert.equal(report.naive.accuracy[0], reference.aligned.accuracy[1]);
  const session = await ort.InferenceSession.create(output);
  assert.deepEqual(session.outputNames, ['logits']);
  await session.release();
});
