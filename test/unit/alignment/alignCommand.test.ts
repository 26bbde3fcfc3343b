import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { alignCommand } from '../../../src/cli/align';
import type { FlagValues } from '../../../src/cli/command';
import { openCheckpoint } from '../../../src/formats/open';
import { openSafetensors } from '../../../src/formats/safetensors/reader';
import { FIXTURES, modelPath, specPath } from './fixtureModels';

async function runAlign(positionals: string[], flags: FlagValues): Promise<{ status: number; stdout: string }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const io = { stdout, stderr: new PassThrough(), signal: new AbortController().signal, verbose: false };
  const status = await alignCommand.run(positionals, flags, io);
  return { status, stdout: Buffer.concat(chunks).toString('utf8') };
}

describe('align command', () => {
  let folder = '';
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'align-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('aligns the MLP pair with an inferred chain spec', async () => {
    const out = join(folder, 'mlp.json');
    const aligned = join(folder, 'mlp_aligned.safetensors');
    const { status, stdout } = await runAlign([modelPath('mlp', 0), modelPath('mlp', 1)], { out, 'write-aligned': aligned, order: 'sorted' });
    assert.equal(status, 0);
    assert.match(stdout, /spec: auto: chain of 3 linear layers/);
    assert.match(stdout, /objective: \S+ → \S+/);

    const report = JSON.parse(await readFile(out, 'utf8'));
    assert.equal(report.spec.source, 'auto: chain of 3 linear layers');
    assert.deepEqual(report.spec.permutations, { P_fc1: 128, P_fc2: 128 });
    assert.ok(report.objective.after > report.objective.before);
    assert.ok(report.distance.after < report.distance.before);
    assert.equal(report.layers.length, 6);
    assert.deepEqual(report.untouched, []);
    assert.equal(typeof report.executionProvider, 'string');
    assert.ok(report.seconds.load >= 0);
    assert.ok(report.seconds.match >= 0);

    // π(B) on disk: fc2.weight rows by P_fc2 and columns by P_fc1, fc3.bias unchanged.
    const written = await openSafetensors(aligned);
    const original = await openSafetensors(modelPath('mlp', 1));
    try {
      const fc2 = await written.readTensor('fc2.weight', 'float32');
      const fc2B = await original.readTensor('fc2.weight', 'float32');
      const p1: number[] = report.permutations.P_fc1;
      const p2: number[] = report.permutations.P_fc2;
      for (let i = 0; i < 128; i++) {
        for (let j = 0; j < 128; j++) assert.equal(fc2[i * 128 + j], fc2B[p2[i] * 128 + p1[j]]);
      }
      assert.deepEqual(await written.readTensor('fc3.bias', 'float32'), await original.readTensor('fc3.bias', 'float32'));
    } finally {
      await written.close();
      await original.close();
    }
  });

  it('converts a float16 checkpoint before matching', async () => {
    const out = join(folder, 'f16.json');
    const { status } = await runAlign([join(FIXTURES, 'models', 'mlp_s0.f16.safetensors'), modelPath('mlp', 1)], { out });
    assert.equal(status, 0);
    const report = JSON.parse(await readFile(out, 'utf8'));
    assert.ok(report.objective.after > 2 * report.objective.before);
  });

  it('lists untouched tensors with reasons', async () => {
    const out = join(folder, 'resnet.json');
    const { status } = await runAlign([modelPath('resnet', 0), modelPath('resnet', 1)], { out, spec: specPath('resnet') });
    assert.equal(status, 0);
    const report = JSON.parse(await readFile(out, 'utf8'));
    const counters = report.untouched.filter((entry: { reason: string }) => entry.reason === 'not floating');
    assert.equal(counters.length, 5);
    assert.ok(counters.every((entry: { tensor: string }) => entry.tensor.endsWith('num_batches_tracked')));
  });

  it('asks for a spec file when inference fails', async () => {
    // Tied and strided tensors of unrelated shapes: no graph, template or chain explains them.
    const odd = 'test/fixtures/models/shared_storage.pt';
    await assert.rejects(runAlign([odd, odd], {}), /cannot infer a permutation spec .*pass --graph MODEL\.onnx .*or --spec FILE/);
  });

  it('refuses to write over an input', async () => {
    const copy = join(folder, 'b.safetensors');
    await copyFile(modelPath('mlp', 1), copy);
    await assert.rejects(runAlign([modelPath('mlp', 0), copy], { 'write-aligned': copy }), /refusing to write the output over an input/);
    assert.ok((await readFile(copy)).equals(await readFile(modelPath('mlp', 1))));
  });

  it('writes an aligned ONNX model that computes the same function', async () => {
    const aligned = join(folder, 'cnn_aligned.onnx');
    const modelB = modelPath('cnn', 1, 'onnx');
    const { status } = await runAlign([modelPath('cnn', 0, 'onnx'), modelB], { spec: specPath('cnn'), 'write-aligned': aligned });
    assert.equal(status, 0);

    const x = new ort.Tensor('float32', Float32Array.from({ length: 16 * 64 }, (_, i) => Math.sin(i) * 8 + 8), [16, 1, 8, 8]);
    const run = async (path: string) => {
      const session = await ort.InferenceSession.create(path);
      try {
        return (await session.run({ [session.inputNames[0]]: x }))[session.outputNames[0]].data as Float32Array;
      } finally {
        await session.release();
      }
    };
    const expected = await run(modelB);
    const actual = await run(aligned);
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(expected[i] - actual[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])), `logit ${i}`);
  });
});

describe('align command across wrapper prefixes', () => {
  let folder = '';
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'align-prefix-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('matches module. against model. names', async () => {
    const options = { order: 'sorted', precision: 'float64' };
    const plainReport = join(folder, 'plain.json');
    const wrappedReport = join(folder, 'wrapped.json');
    const aligned = join(folder, 'aligned.pt');
    const wrappedA = join(FIXTURES, 'models', 'mlp_s0.module.pth');
    const wrappedB = join(FIXTURES, 'models', 'mlp_s1.ckpt');

    assert.equal((await runAlign([modelPath('mlp', 0), modelPath('mlp', 1)], { ...options, out: plainReport })).status, 0);
    assert.equal((await runAlign([wrappedA, wrappedB], { ...options, out: wrappedReport, 'write-aligned': aligned })).status, 0);

    const plain = JSON.parse(await readFile(plainReport, 'utf8'));
    const wrapped = JSON.parse(await readFile(wrappedReport, 'utf8'));
    assert.deepEqual(Object.keys(wrapped.permutations), ['P_fc1', 'P_fc2']);
    assert.deepEqual(wrapped.permutations, plain.permutations);
    assert.deepEqual(wrapped.untouched, []);

    const written = await openCheckpoint(aligned);
    try {
      assert.deepEqual(written.tensors.map((entry) => entry.name), ['model.fc1.weight', 'model.fc1.bias', 'model.fc2.weight', 'model.fc2.bias', 'model.fc3.weight', 'model.fc3.bias']);
      const bias = await written.readTensor('model.fc1.bias', 'float64');
      const source = await openCheckpoint(wrappedB);
      try {
        const original = await source.readTensor('model.fc1.bias', 'float64');
        wrapped.permutations.P_fc1.forEach((unit: number, i: number) => assert.equal(bias[i], original[unit]));
      } finally {
        await source.close();
      }
    } finally {
      await written.close();
    }
  });
});
