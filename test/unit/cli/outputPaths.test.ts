import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NamedTensor } from '../../../src/formats/checkpoint';
import { openCheckpoint } from '../../../src/formats/open';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';

const modelA = 'test/fixtures/models/mlp_s0.safetensors';
const modelB = 'test/fixtures/models/mlp_s1.safetensors';

function runCli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
}

test('align rejects two outputs with one path', () => {
  const folder = mkdtempSync(join(tmpdir(), 'outputs-test-'));
  try {
    const path = join(folder, 'x.pt');
    const result = runCli('align', modelA, modelB, '--out', path, '--write-aligned', path);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--out and --write-aligned name the same file/);
    assert.deepEqual(readdirSync(folder), []);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('align rejects a missing output folder before matching', () => {
  const result = runCli('align', modelA, modelB, '--write-aligned', join(tmpdir(), 'no-such-folder-xyz', 'x.pt'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /output folder .*no-such-folder-xyz does not exist/);
  assert.doesNotMatch(result.stdout, /sweeps/, 'no matching ran');
});

test('align rejects an unwritable output type before matching', () => {
  const result = runCli('align', modelA, modelB, '--write-aligned', join(tmpdir(), 'aligned.npz'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /aligned\.npz: cannot write this file type; use one of \.safetensors/);
  assert.doesNotMatch(result.stdout, /sweeps/);
});

test('merge rejects a missing output folder', () => {
  const result = runCli('merge', modelA, modelB, '--out', join(tmpdir(), 'no-such-folder-xyz', 'merged.safetensors'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /does not exist/);
});

test('eval takes spec inference flags for transformers', () => {
  const result = runCli('eval', 'test/fixtures/models/transformer_s0.safetensors', 'test/fixtures/models/transformer_s1.safetensors',
    '--graph', 'test/fixtures/models/transformer_s0.onnx', '--data', 'test/fixtures/data/digits_test_tokens.npz',
    '--heads', '4', '--transformer-level', 'full', '--steps', '3');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /spec: auto: nn\.TransformerEncoderLayer template \(full\)/);
});

test('outputs that are not files rejected before work', () => {
  const folder = mkdtempSync(join(tmpdir(), 'outputs-test-'));
  try {
    const directory = join(folder, 'report.json');
    mkdirSync(directory);
    const fifo = join(folder, 'merged.safetensors');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');

    const align = runCli('align', modelA, modelB, '--out', directory);
    assert.equal(align.status, 1);
    assert.match(align.stderr, /report\.json: the output path is a directory; choose a file path/);
    assert.doesNotMatch(align.stdout, /sweeps/, 'no matching ran');

    const merge = runCli('merge', modelA, modelB, '--out', fifo);
    assert.equal(merge.status, 1);
    assert.match(merge.stderr, /merged\.safetensors: the output path is not a regular file; choose a file path/);
    assert.ok(statSync(fifo).isFIFO(), 'the FIFO is left in place');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('NaN weights named before matching', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'nan-weights-'));
  try {
    const source = await openCheckpoint(modelB);
    const tensors: NamedTensor[] = [];
    for (const entry of source.tensors) {
      const stored = await source.readTensor(entry.name, 'stored');
      const data = entry.name === 'fc2.weight' ? (stored.data as Float32Array).slice() : stored.data;
      if (entry.name === 'fc2.weight') (data as Float32Array)[5] = NaN;
      tensors.push({ name: entry.name, dtype: stored.dtype, shape: stored.shape, data });
    }
    await source.close();
    const broken = join(folder, 'nan.safetensors');
    await writeSafetensors(broken, tensors, { inputs: [] });

    for (const args of [['align', modelA, broken], ['merge', modelA, broken, '--out', join(folder, 'merged.safetensors')]]) {
      const result = runCli(...args);
      assert.equal(result.status, 1, `${args[0]}: ${result.stderr}`);
      assert.match(result.stderr, /nan\.safetensors: tensor "fc2\.weight" holds NaN at element 5; weight matching needs finite weights/, args[0]);
    }
    assert.deepEqual(readdirSync(folder), ['nan.safetensors'], 'no output was written');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('unusable --graph gets a visible note', () => {
  const result = runCli('align', modelA, modelB, '--graph', 'test/fixtures/models/cnn_s0.onnx');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^spec: auto: chain of 3 linear layers/m);
  assert.match(result.stdout, /^spec note: the --graph model test\/fixtures\/models\/cnn_s0\.onnx was not used \(.*match no tensor of/m);
  assert.doesNotMatch(result.stdout, /^spec note: skipped/m, 'skipped tiers stay behind --verbose');
});
