import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffCheckpoints, type CheckpointDiff } from '../../../src/comparison/checkpointDiff';
import type { NamedTensor } from '../../../src/formats/checkpoint';
import { openCheckpoint } from '../../../src/formats/open';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';

const models = 'test/fixtures/models';

async function diffFiles(pathA: string, pathB: string, statistics = true): Promise<CheckpointDiff> {
  const a = await openCheckpoint(pathA);
  const b = await openCheckpoint(pathB);
  try {
    return await diffCheckpoints(a, b, { statistics });
  } finally {
    await a.close();
    await b.close();
  }
}

function runCli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
}

test('diff of a checkpoint with itself is identical', async () => {
  const diff = await diffFiles(`${models}/mlp_s0.safetensors`, `${models}/mlp_s0.safetensors`);
  assert.equal(diff.identical, true);
  assert.equal(diff.structure.shared.length, 6);
  for (const stats of diff.values.values()) {
    assert.equal(stats.relativeL2, 0);
    assert.equal(stats.maxAbsDifference, 0);
  }
});

test('diff of two seeds shares tensors with different values', async () => {
  const diff = await diffFiles(`${models}/mlp_s0.safetensors`, `${models}/mlp_s1.safetensors`);
  assert.equal(diff.identical, false);
  assert.equal(diff.structure.onlyInA.length, 0);
  assert.equal(diff.structure.onlyInB.length, 0);
  assert.equal(diff.values.size, 6);
  for (const [name, stats] of diff.values) {
    assert.ok(stats.relativeL2 > 0.1, `${name} moved by ${stats.relativeL2}`);
    assert.notEqual(stats.cosine, null, `${name} has a cosine`);
    assert.ok((stats.cosine as number) < 0.9, `${name} cosine ${stats.cosine}`);
  }
});

test('diff matches module-prefixed and Lightning copies', async () => {
  for (const copy of ['mlp_s0.module.pth', 'mlp_s0.orig_mod.pth', 'mlp_s0.ckpt']) {
    const diff = await diffFiles(`${models}/mlp_s0.pt`, `${models}/${copy}`);
    assert.deepEqual(diff.structure.onlyInA, [], copy);
    assert.deepEqual(diff.structure.onlyInB, [], copy);
    assert.equal(diff.structure.shared.length, 6, copy);
    assert.ok(diff.structure.shared.some((tensor) => tensor.b.rawName !== tensor.name), `${copy} keeps its raw names`);
    for (const [name, stats] of diff.values) assert.equal(stats.identical, true, `${copy}: ${name}`);
  }
});

test('diff against float16 copy reports dtype and small differences', async () => {
  const diff = await diffFiles(`${models}/mlp_s0.safetensors`, `${models}/mlp_s0.f16.safetensors`);
  assert.equal(diff.identical, false);
  assert.ok(diff.structure.shared.every((tensor) => !tensor.sameDtype && tensor.sameShape));
  for (const [name, stats] of diff.values) {
    assert.ok(stats.relativeL2 > 0, `${name} differs after rounding to float16`);
    assert.ok(stats.relativeL2 < 1e-3, `${name} relative L2 ${stats.relativeL2}`);
  }
});

test('diff lists removed and reshaped tensors', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'diff-test-'));
  try {
    const source = await openCheckpoint(`${models}/mlp_s0.safetensors`);
    const tensors: NamedTensor[] = [];
    for (const entry of source.tensors) {
      if (entry.name === 'fc3.bias') continue;
      const stored = await source.readTensor(entry.name, 'stored');
      const shape = entry.name === 'fc2.bias' ? [2, 64] : stored.shape;
      tensors.push({ name: entry.name, dtype: stored.dtype, shape, data: stored.data });
    }
    await source.close();
    const edited = join(folder, 'edited.safetensors');
    await writeSafetensors(edited, tensors, { inputs: [] });

    const diff = await diffFiles(`${models}/mlp_s0.safetensors`, edited);
    assert.deepEqual(diff.structure.onlyInA.map((tensor) => tensor.name), ['fc3.bias']);
    const reshaped = diff.structure.shared.filter((tensor) => !tensor.sameShape);
    assert.deepEqual(reshaped.map((tensor) => [tensor.name, tensor.b.shape]), [['fc2.bias', [2, 64]]]);
    assert.equal(diff.identical, false);

    const cli = runCli('diff', `${models}/mlp_s0.safetensors`, edited);
    assert.equal(cli.status, 3, cli.stderr);
    assert.match(cli.stdout, /only in A \(1\):\n {2}- fc3\.bias F32 \[10\]/);
    assert.match(cli.stdout, /~ fc2\.bias F32 \[128\] -> fc2\.bias F32 \[2, 64\]/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('diff command exit status and JSON', () => {
  const same = runCli('diff', `${models}/mlp_s0.safetensors`, `${models}/mlp_s0.safetensors`);
  assert.equal(same.status, 0, same.stderr);

  const seeds = runCli('diff', `${models}/mlp_s0.safetensors`, `${models}/mlp_s1.safetensors`);
  assert.equal(seeds.status, 3, seeds.stderr);
  assert.match(seeds.stdout, /values differ, first in fc1\.weight/);

  const different = runCli('diff', `${models}/mlp_s0.safetensors`, `${models}/mlp_s1.safetensors`, '--json', '--stats');
  assert.equal(different.status, 3, different.stderr);
  const report = JSON.parse(different.stdout) as { identical: boolean; shared: { name: string; stats: { relativeL2: number } }[] };
  assert.equal(report.identical, false);
  assert.equal(report.shared.length, 6);
  assert.ok(report.shared.every((tensor) => tensor.stats.relativeL2 > 0));

  const missing = runCli('diff', `${models}/mlp_s0.safetensors`, `${models}/does-not-exist.safetensors`);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /does-not-exist\.safetensors/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace without --verbose');
});

test('diff --align shrinks the difference of two seeds', () => {
  const result = runCli('diff', `${models}/mlp_s0.safetensors`, `${models}/mlp_s1.safetensors`, '--align', '--json');
  assert.equal(result.status, 3, result.stderr);
  const report = JSON.parse(result.stdout) as {
    alignment: { spec: string };
    shared: { name: string; stats: { relativeL2: number; cosine: number }; alignedStats?: { relativeL2: number; cosine: number } }[];
  };
  assert.match(report.alignment.spec, /chain/);
  for (const name of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
    const tensor = report.shared.find((candidate) => candidate.name === name)!;
    assert.ok(tensor.alignedStats, `${name} has aligned numbers`);
    assert.ok(tensor.alignedStats.relativeL2 < tensor.stats.relativeL2, `${name}: ${tensor.alignedStats.relativeL2} < ${tensor.stats.relativeL2}`);
    assert.ok(tensor.alignedStats.cosine > tensor.stats.cosine + 0.2, `${name}: cosine ${tensor.stats.cosine} -> ${tensor.alignedStats.cosine}`);
  }
});
