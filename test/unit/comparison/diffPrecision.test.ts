// diff on values that float32 cannot hold (F64 and wide integers) and on GGUF quantized tensors, which have no
// element-wise decoding. Differences below float32 precision must still make the files differ.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffCheckpoints, type CheckpointDiff } from '../../../src/comparison/checkpointDiff';
import type { NamedTensor } from '../../../src/formats/checkpoint';
import { openCheckpoint } from '../../../src/formats/open';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';

let folder = '';
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'diff-precision-'));
});
after(() => rmSync(folder, { recursive: true, force: true }));

async function diffFiles(pathA: string, pathB: string): Promise<CheckpointDiff> {
  const a = await openCheckpoint(pathA);
  const b = await openCheckpoint(pathB);
  try {
    return await diffCheckpoints(a, b, { statistics: true });
  } finally {
    await a.close();
    await b.close();
  }
}

function runCli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
}

/** Writes `tensors` to a safetensors file in the test folder and returns its path. */
async function write(name: string, tensors: NamedTensor[]): Promise<string> {
  const path = join(folder, name);
  await writeSafetensors(path, tensors, { inputs: [] });
  return path;
}

test('diff sees float64 differences below float32 precision', async () => {
  const values = Float64Array.from({ length: 1000 }, (_, index) => 1 + index * 1e-3);
  const shifted = values.map((value) => value + 1e-10);
  const pathA = await write('a64.safetensors', [{ name: 'w', dtype: 'F64', shape: [1000], data: values }]);
  const pathB = await write('b64.safetensors', [{ name: 'w', dtype: 'F64', shape: [1000], data: shifted }]);

  const difference = (await diffFiles(pathA, pathB)).values.get('w');
  assert.ok(difference !== undefined, 'w is compared');
  assert.equal(difference.identical, false);
  // Every element moved by 1e-10, up to the rounding of the additions near 1 and 2.
  assert.ok(Math.abs(difference.maxAbsDifference - 1e-10) < 1e-15, `max |A-B| ${difference.maxAbsDifference}`);
  assert.equal(runCli('diff', pathA, pathB).status, 3);
  assert.equal(runCli('diff', pathA, pathA).status, 0);
});

test('diff sees integers beyond 2^24', async () => {
  const pathA = await write('a32.safetensors', [
    { name: 'i32', dtype: 'I32', shape: [2], data: Int32Array.of(16_777_217, 5) },
    { name: 'i64', dtype: 'I64', shape: [2], data: BigInt64Array.of(2n ** 40n + 1n, 5n) },
  ]);
  const pathB = await write('b32.safetensors', [
    { name: 'i32', dtype: 'I32', shape: [2], data: Int32Array.of(16_777_216, 5) },
    { name: 'i64', dtype: 'I64', shape: [2], data: BigInt64Array.of(2n ** 40n, 5n) },
  ]);
  const diff = await diffFiles(pathA, pathB);
  for (const name of ['i32', 'i64']) {
    const difference = diff.values.get(name);
    assert.equal(difference?.identical, false, `${name} identical`);
    assert.equal(difference?.maxAbsDifference, 1, `${name} max |A-B|`);
  }
  assert.equal(runCli('diff', pathA, pathB, '--stats').status, 3);
});

test('diff compares GGUF quantized tensors by bytes', async () => {
  const original = 'test/fixtures/models/mlp_s0.gguf';
  const same = await diffFiles(original, original);
  const quantized = [...same.values].filter(([, difference]) => difference.comparedBy === 'stored-bytes');
  assert.ok(quantized.length > 0, 'the fixture has quantized tensors');
  assert.ok(quantized.every(([, difference]) => difference.identical), 'a file equals itself');
  assert.equal(same.identical, true);
  const selfDiff = runCli('diff', original, original, '--stats');
  assert.equal(selfDiff.status, 0);
  assert.match(selfDiff.stdout, new RegExp(`^${quantized[0][0].replace('.', '\\.')} +same bytes *$`, 'm'));

  // Flip one byte inside the first quantized tensor's blocks.
  const checkpoint = await openCheckpoint(original);
  const [name] = quantized[0];
  const entry = checkpoint.tensors.find((tensor) => tensor.name === name);
  await checkpoint.close();
  assert.ok(entry !== undefined, `${name} is listed`);
  const bytes = Buffer.from(readFileSync(original));
  bytes[entry.offset + Math.floor(entry.length / 2)] ^= 0x01;
  const changed = join(folder, 'changed.gguf');
  writeFileSync(changed, bytes);

  const diff = await diffFiles(original, changed);
  assert.equal(diff.values.get(name)?.identical, false, `${name} differs`);
  assert.equal(diff.identical, false);
  const cli = runCli('diff', original, changed, '--stats');
  assert.equal(cli.status, 3, cli.stderr);
});

test('diff sees I64 and U64 differences beyond 2^53', async () => {
  const pathA = await write('a_wide.safetensors', [
    { name: 'i64', dtype: 'I64', shape: [2], data: BigInt64Array.of(2n ** 53n, 0n) },
    { name: 'u64', dtype: 'U64', shape: [2], data: BigUint64Array.of(2n ** 64n - 1n, 5n) },
  ]);
  const pathB = await write('b_wide.safetensors', [
    { name: 'i64', dtype: 'I64', shape: [2], data: BigInt64Array.of(2n ** 53n + 1n, 0n) },
    { name: 'u64', dtype: 'U64', shape: [2], data: BigUint64Array.of(2n ** 64n - 2n, 5n) },
  ]);
  const diff = await diffFiles(pathA, pathB);
  assert.equal(diff.values.get('i64')?.identical, false, 'i64');
  assert.equal(diff.values.get('u64')?.identical, false, 'u64');
  assert.equal(runCli('diff', pathA, pathB).status, 3);
  assert.equal(runCli('diff', pathA, pathA).status, 0);
});
