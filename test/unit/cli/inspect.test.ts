import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';
import { printable } from '../../../src/cli/textFormat';

function runCli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
}

test('printable escapes terminal control characters', () => {
  assert.equal(printable('a\u001b[2Kb'), 'a\\u{1b}[2Kb');
  assert.equal(printable('line\rover'), 'line\\u{d}over');
  assert.equal(printable('\u202eevil'), '\\u{202e}evil');
  assert.equal(printable('fc1.weight λ'), 'fc1.weight λ');
});

test('inspect output carries no control characters from the file', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'inspect-test-'));
  try {
    const path = join(folder, 'forged.safetensors');
    await writeSafetensors(path, [{ name: 'w\r\u001b[1A', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }], {
      inputs: [],
      metadata: { 'note\u001b[2K': '\u001b[1A\rpickle: safe' },
    });
    const result = runCli('inspect', path);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(!result.stdout.includes('\u001b'), 'no escape character');
    assert.ok(!result.stdout.includes('\r'), 'no carriage return');
    assert.match(result.stdout, /note\\u\{1b\}\[2K: \\u\{1b\}\[1A\\u\{d\}pickle: safe/);
    assert.match(result.stdout, /w\\u\{d\}\\u\{1b\}\[1A/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('inspect lists tensors of a PyTorch fixture as JSON', () => {
  const result = runCli('inspect', 'test/fixtures/models/mlp_s0.pt', '--json');
  assert.equal(result.status, 0, result.stderr);
  const listing = JSON.parse(result.stdout) as { format: string; tensors: { name: string; dtype: string; shape: number[] }[]; pickle: { verdict: string } };
  assert.equal(listing.format, 'pytorch-zip');
  assert.equal(listing.pickle.verdict, 'safe');
  assert.deepEqual(listing.tensors.map((tensor) => tensor.name), ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
  assert.deepEqual(listing.tensors[0].shape, [128, 64]);
});

test('inspect --stats adds statistics', () => {
  const result = runCli('inspect', 'test/fixtures/models/mlp_s0.safetensors', '--json', '--stats');
  assert.equal(result.status, 0, result.stderr);
  const listing = JSON.parse(result.stdout) as { tensors: { stats: { histogram: { counts: number[] }; nan: number } }[] };
  for (const tensor of listing.tensors) {
    assert.equal(tensor.stats.histogram.counts.length, 64);
    assert.equal(tensor.stats.nan, 0);
  }
});
