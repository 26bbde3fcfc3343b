// Unsigned safetensors dtypes (U16, U32, U64) and BOOL bytes other than 0 and 1: listing, reading, statistics
// and diff. The file is written here with the product's safetensors writer, and NumPy reads it as the reference.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../../../src/formats/open';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';
import { computeTensorStatistics } from '../../../src/formats/statistics';

let folder = '';
let path = '';
const u64 = BigUint64Array.of(0n, 1n, 2n ** 53n - 1n, 2n ** 40n + 3n);
const u32 = Uint32Array.of(0, 4_294_967_295, 16_777_217, 7);
const u16 = Uint16Array.of(65_535, 0, 12_345);
const flags = Uint8Array.of(0, 1, 7, 255);

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'unsigned-'));
  path = join(folder, 'unsigned.safetensors');
  await writeSafetensors(path, [
    { name: 'u64', dtype: 'U64', shape: [4], data: u64 },
    { name: 'u32', dtype: 'U32', shape: [4], data: u32 },
    { name: 'u16', dtype: 'U16', shape: [3], data: u16 },
    { name: 'flags', dtype: 'BOOL', shape: [4], data: flags },
  ], { inputs: [] });
});
after(() => rmSync(folder, { recursive: true, force: true }));

test('unsigned tensors read by value', async () => {
  const checkpoint = await openCheckpoint(path);
  try {
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.dtype), ['U64', 'U32', 'U16', 'BOOL']);
    assert.deepEqual([...await checkpoint.readTensor('u64', 'float64')], [...u64].map(Number));
    assert.deepEqual([...await checkpoint.readTensor('u32', 'float64')], [...u32]);
    assert.deepEqual([...await checkpoint.readTensor('u16', 'float32')], [...u16]);
    const stored = await checkpoint.readTensor('u64', 'stored');
    assert.ok(stored.data instanceof BigUint64Array, 'U64 stored as BigUint64Array');
    assert.deepEqual([...stored.data], [...u64]);
    assert.ok((await checkpoint.readTensor('u32', 'stored')).data instanceof Uint32Array, 'U32 stored as Uint32Array');
    assert.ok((await checkpoint.readTensor('u16', 'stored')).data instanceof Uint16Array, 'U16 stored as Uint16Array');
  } finally {
    await checkpoint.close();
  }
});

test('BOOL bytes read as 0 or 1', async () => {
  const checkpoint = await openCheckpoint(path);
  try {
    assert.deepEqual([...await checkpoint.readTensor('flags', 'float32')], [0, 1, 1, 1]);
    const stats = await computeTensorStatistics(checkpoint, 'flags');
    assert.equal(stats.max, 1);
    assert.equal(stats.mean, 0.75);
    // torch reads any non-zero bool byte as True; check that Debian's torch agrees with this file.
    const torchValues = execFileSync('/usr/bin/python3', ['-c', `
import sys, json, struct, torch
data = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', data[:8])[0]
begin, end = json.loads(data[8:8 + n])['flags']['data_offsets']
flags = torch.frombuffer(bytearray(data[8 + n + begin:8 + n + end]), dtype=torch.bool)
print(json.dumps(flags.float().tolist()))
`, path], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(torchValues), [0, 1, 1, 1]);
  } finally {
    await checkpoint.close();
  }
});

test('unsigned statistics are exact', async () => {
  const checkpoint = await openCheckpoint(path);
  try {
    const stats64 = await computeTensorStatistics(checkpoint, 'u64');
    assert.equal(stats64.max, 2 ** 53 - 1);
    assert.equal(stats64.min, 0);
    const stats32 = await computeTensorStatistics(checkpoint, 'u32');
    assert.equal(stats32.max, 4_294_967_295);
    assert.equal(stats32.histogram.counts.reduce((total, count) => total + count, 0), 4);
    assert.equal((await computeTensorStatistics(checkpoint, 'u16')).max, 65_535);
  } finally {
    await checkpoint.close();
  }
});
