// Invalid safetensors files: each is rejected at open with one CheckpointError naming the file and the tensor
// or byte offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { openSafetensors } from '../../../src/formats/safetensors/reader';
import { openShardedSafetensors } from '../../../src/formats/safetensors/sharded';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';

const directory = mkdtempSync(join(tmpdir(), 'safetensors-bad-'));
test.after(() => rmSync(directory, { recursive: true, force: true }));

let fileNumber = 0;

function writeBytes(bytes: Uint8Array): string {
  const path = join(directory, `case${fileNumber++}.safetensors`);
  writeFileSync(path, bytes);
  return path;
}

/** Writes a safetensors file with the given header object (or raw header text) and `bufferLength` bytes of data. */
function safetensorsFile(header: object | string, bufferLength: number, declaredLength?: bigint): string {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(text.length));
  return writeBytes(Buffer.concat([prefix, text, Buffer.alloc(bufferLength, 7)]));
}

/** Opens `path` expecting a CheckpointError; checks it names the file and matches `pattern`. */
async function expectRejected(path: string, pattern: RegExp, detail: { tensor?: string; offset?: number }): Promise<void> {
  await assert.rejects(openSafetensors(path), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${path}: `), `message names the file: ${error.message}`);
    assert.match(error.message, pattern);
    if (detail.tensor !== undefined) assert.equal(error.detail.tensor, detail.tensor);
    if (detail.offset !== undefined) assert.equal(error.detail.offset, detail.offset);
    return true;
  });
}

const f32 = (begin: number, end: number, shape: number[]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

test('file shorter than length prefix', async () => {
  await expectRejected(writeBytes(new Uint8Array([1, 2, 3])), /3 bytes long, shorter than the 8-byte header length/, { offset: 0 });
});

test('header length beyond end of file', async () => {
  const path = safetensorsFile({ a: f32(0, 4, [1]) }, 4, 1000n);
  await expectRejected(path, /header length of 1000 bytes, but only \d+ bytes follow/, { offset: 0 });
});

test('header length over the cap', async () => {
  const path = join(directory, 'sparse-cap.safetensors');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(200_000_000n);
  writeFileSync(path, prefix);
  // Extend the file sparsely so the declared length fits inside it and only the cap can reject it.
  truncateSync(path, 8 + 200_000_000);
  await expectRejected(path, /200000000 bytes, more than the 100000000-byte limit/, { offset: 0 });
});

test('truncated header JSON', async () => {
  const full = JSON.stringify({ a: f32(0, 4, [1]) });
  await expectRejected(safetensorsFile(full.slice(0, full.length - 5), 0), /header is not valid JSON/, { offset: 8 });
});

test('truncated tensor data', async () => {
  const path = safetensorsFile({ a: f32(0, 4, [1]), b: f32(4, 40, [9]) }, 20);
  await expectRejected(path, /tensor "b": data_offsets \[4, 40\] end past the 20-byte data buffer/, { tensor: 'b' });
});

test('overlapping data offsets', async () => {
  const path = safetensorsFile({ first: f32(0, 8, [2]), second: f32(4, 12, [2]) }, 12);
  await expectRejected(path, /tensors "first" \[0, 8\] and "second" \[4, 12\] overlap/, { tensor: 'second' });
});

test('offsets past the end', async () => {
  const path = safetensorsFile({ a: f32(0, 4, [1]), b: f32(4, 8, [1]) }, 4);
  await expectRejected(path, /tensor "b": data_offsets \[4, 8\] end past the 4-byte data buffer/, { tensor: 'b' });
});

test('hole between tensors', async () => {
  const header = { a: f32(0, 4, [1]), b: f32(8, 12, [1]) };
  const headerLength = JSON.stringify(header).length;
  const path = safetensorsFile(header, 12);
  const start = 8 + headerLength;
  await expectRejected(path, new RegExp(`bytes ${start + 4}\\.\\.${start + 8} of the file \\(buffer offsets \\[4, 8\\]\\) belong to no tensor, before tensor "b"`), { tensor: 'b', offset: start + 4 });
});

test('trailing bytes after last tensor', async () => {
  const path = safetensorsFile({ a: f32(0, 4, [1]) }, 10);
  await expectRejected(path, /buffer offsets \[4, 10\]\) belong to no tensor/, {});
});

test('shape and length disagree', async () => {
  const path = safetensorsFile({ 'fc1.weight': f32(0, 400, [10, 20]) }, 400);
  await expectRejected(path, /tensor "fc1.weight": data_offsets \[0, 400\] give 400 bytes but F32 \[10,20\] needs 800/, { tensor: 'fc1.weight' });
});

test('unknown dtype names tensor', async () => {
  const path = safetensorsFile({ w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, 16);
  await expectRejected(path, /tensor "w": unknown dtype "F128"/, { tensor: 'w' });
});

test('negative shape rejected', async () => {
  const path = safetensorsFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, 0);
  await expectRejected(path, /tensor "w": "shape" must be a list of non-negative integers/, { tensor: 'w' });
});

test('metadata values must be strings', async () => {
  const path = safetensorsFile({ __metadata__: { epoch: 3 }, a: f32(0, 4, [1]) }, 4);
  await expectRejected(path, /"__metadata__" entry "epoch" is a number/, { offset: 8 });
});

test('text file with safetensors extension', async () => {
  const path = writeBytes(Buffer.from('This is a README, not a checkpoint.\n', 'utf8'));
  await expectRejected(path, /header length of \d+ bytes, but only \d+ bytes follow them; the file is truncated or not a safetensors file/, { offset: 0 });
});

test('header that is not an object', async () => {
  await expectRejected(safetensorsFile('[1, 2, 3]', 0), /does not start with "\{"/, { offset: 8 });
});

test('invalid UTF-8 header', async () => {
  const text = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  await expectRejected(writeBytes(Buffer.concat([prefix, text])), /not valid UTF-8/, { offset: 8 });
});

test('truncated file names tensor', async () => {
  const path = join(directory, 'cut.safetensors');
  await writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [100], data: new Float32Array(100) }], { inputs: [] });
  truncateSync(path, 200);
  await expectRejected(path, /tensor "w": data_offsets \[0, 400\] end past the \d+-byte data buffer; the file is truncated/, { tensor: 'w' });
});

test('tensor too large for one read', async () => {
  // A sparse file: the 4.3 GB of data is a hole, so the test takes no real disk space.
  const elements = 1_075_000_000;
  const path = safetensorsFile({ huge: f32(0, elements * 4, [elements]) }, 0);
  truncateSync(path, statSync(path).size + elements * 4);
  const checkpoint = await openSafetensors(path);
  try {
    await assert.rejects(checkpoint.readTensor('huge', 'float32'), (error: unknown) => {
      assert.ok(error instanceof CheckpointError);
      assert.match(error.message, /tensor "huge" is 4300000000 bytes, more than the \d+ bytes one read can hold; read it with readTensorChunks instead/);
      assert.equal(error.detail.tensor, 'huge');
      return true;
    });
  } finally {
    await checkpoint.close();
  }
});

test('sharded index names missing tensor', async () => {
  const shard = join(directory, 'shard-a.safetensors');
  await writeSafetensors(shard, [{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array([1]) }], { inputs: [] });
  const indexPath = join(directory, 'missing.safetensors.index.json');
  writeFileSync(indexPath, JSON.stringify({ weight_map: { x: 'shard-a.safetensors', ghost: 'shard-a.safetensors' } }));
  await assert.rejects(openShardedSafetensors(indexPath), (error: unknown) => {
    assert.ok(error instanceof CheckpointError);
    assert.match(error.message, /assigns tensor "ghost" to shard "shard-a.safetensors", but that shard has no such tensor/);
    assert.equal(error.detail.tensor, 'ghost');
    return true;
  });
});

test('sharded shard tensor missing from map', async () => {
  const shard = join(directory, 'shard-b.safetensors');
  await writeSafetensors(shard, [
    { name: 'x', dtype: 'F32', shape: [1], data: new Float32Array([1]) },
    { name: 'extra', dtype: 'F32', shape: [1], data: new Float32Array([2]) },
  ], { inputs: [] });
  const indexPath = join(directory, 'extra.safetensors.index.json');
  writeFileSync(indexPath, JSON.stringify({ weight_map: { x: 'shard-b.safetensors' } }));
  await assert.rejects(openShardedSafetensors(indexPath), /shard "shard-b.safetensors" contains tensor "extra", which the weight_map does not list/);
});

test('sharded index escaping its folder', async () => {
  const indexPath = join(directory, 'escape.safetensors.index.json');
  writeFileSync(indexPath, JSON.stringify({ weight_map: { x: '../elsewhere.safetensors' } }));
  await assert.rejects(openShardedSafetensors(indexPath), /outside the index's folder/);
});

test('sharded index missing shard file', async () => {
  const indexPath = join(directory, 'absent.safetensors.index.json');
  writeFileSync(indexPath, JSON.stringify({ weight_map: { x: 'absent.safetensors' } }));
  await assert.rejects(openShardedSafetensors(indexPath), (error: unknown) => {
    assert.ok(error instanceof CheckpointError);
    assert.match(error.message, /absent\.safetensors: cannot open the file/);
    return true;
  });
});
