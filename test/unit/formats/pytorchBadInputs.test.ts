// PyTorch reader on invalid, hostile and unusual files. Each test makes a small file in a temporary folder
// (from torch.save output, or with a hand-assembled pickle) and checks that the error names the file and the
// tensor, storage or byte offset, that a hostile pickle is reported, or that an unusual layout reads correctly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { openPytorch } from '../../../src/formats/pytorch/reader';
import { writeStoredZip, type ZipRecordSource } from '../../../src/formats/pytorch/zipWriter';

let folder = '';
let smallZip = '';
let smallLegacy = '';
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'pytorch-bad-'));
  smallZip = join(folder, 'small.pt');
  smallLegacy = join(folder, 'small.legacy.pt');
  // One Python start for both files, because importing torch takes seconds.
  python(`import sys, torch
state = {'w': torch.arange(8, dtype=torch.float32), 'b': torch.ones(3)}
torch.save(state, sys.argv[1])
torch.save(state, sys.argv[2], _use_new_zipfile_serialization=False)`, smallZip, smallLegacy);
});
after(() => { if (!process.env.KEEP) rmSync(folder, { recursive: true, force: true }); });

function python(script: string, ...args: string[]): string {
  return execFileSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8' });
}

/**
 * Copies zip `source` to `target`, dropping or replacing (with hex bytes) records whose name ends with a key of
 * `changes`, and deflating records whose name ends with `compressSuffix`.
 */
function rewriteZip(source: string, target: string, changes: Record<string, string | null>, compressSuffix = ''): void {
  python(`import sys, json, zipfile
source, target, changes, compress = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, 'w') as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        change = next((value for key, value in changes.items() if info.filename.endswith(key)), 'keep')
        if change is None:
            continue
        if change != 'keep':
            data = bytes.fromhex(change)
        method = zipfile.ZIP_DEFLATED if compress and info.filename.endswith(compress) else zipfile.ZIP_STORED
        zout.writestr(info.filename, data, compress_type=method)
`, source, target, JSON.stringify(changes), compressSuffix);
}

async function writeZip(name: string, records: ZipRecordSource[]): Promise<string> {
  const path = join(folder, name);
  const handle = await open(path, 'w');
  try {
    await writeStoredZip(handle, records);
  } finally {
    await handle.close();
  }
  return path;
}

function ascii(text: string): number[] {
  return [...text].map((char) => char.charCodeAt(0));
}

function binunicode(text: string): number[] {
  return [0x58, text.length, 0, 0, 0, ...ascii(text)];
}

/** `_rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), 0, (size,), (1,), False, {})` in protocol 2. */
function rebuildTensor(key: string, numel: number, size: number): number[] {
  return [
    ...ascii('ctorch._utils\n_rebuild_tensor_v2\n'), 0x28,
    0x28, ...binunicode('storage'), ...ascii('ctorch\nFloatStorage\n'), ...binunicode(key), ...binunicode('cpu'), 0x4b, numel, 0x74, 0x51,
    0x4b, 0, 0x4b, size, 0x85, 0x4b, 1, 0x85, 0x89, 0x7d, 0x74, 0x52,
  ];
}

async function expectError(path: string, pattern: RegExp, detail: { tensor?: string; offset?: boolean } = {}): Promise<void> {
  await assert.rejects(openPytorch(path), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `CheckpointError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${path}: `), `message names the file: ${error.message}`);
    assert.match(error.message, pattern);
    if (detail.tensor !== undefined) assert.equal(error.detail.tensor, detail.tensor);
    if (detail.offset) assert.equal(typeof error.detail.offset, 'number', 'detail has a byte offset');
    return true;
  });
}

test('zip without data.pkl', async () => {
  const path = join(folder, 'no_pickle.pt');
  rewriteZip(smallZip, path, { 'data.pkl': null });
  await expectError(path, /zip archive without a data\.pkl record/);
});

test('zip missing a data record', async () => {
  const path = join(folder, 'no_record.pt');
  rewriteZip(smallZip, path, { 'data/1': null });
  await expectError(path, /tensor "b" uses storage "1", but its zip record small\/data\/1 is missing/, { tensor: 'b' });
});

test('pickle ending early', async () => {
  const source = smallZip;
  const original = python(`import sys, zipfile
z = zipfile.ZipFile(sys.argv[1]); print(z.read(next(n for n in z.namelist() if n.endswith('data.pkl'))).hex())`, source).trim();
  const path = join(folder, 'truncated_pickle.pt');
  rewriteZip(source, path, { 'data.pkl': original.slice(0, 100) });
  await expectError(path, /data\.pkl ended at byte 50, but opcode \w+ at byte \d+ needs|data\.pkl ended at byte 50 before the pickle's STOP opcode/, { offset: true });
});

test('dangerous global still reports tensors', async () => {
  const marker = join(folder, 'executed');
  const pickle = Uint8Array.from([
    0x80, 2, 0x7d, 0x28,
    ...binunicode('w'), ...rebuildTensor('0', 4, 4),
    ...binunicode('evil'), ...ascii('cos\nsystem\n'), ...binunicode(`touch ${marker}`), 0x85, 0x52,
    0x75, 0x2e,
  ]);
  const path = await writeZip('dangerous.pt', [
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/data/0', data: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) },
    { name: 'archive/version', data: Uint8Array.from(ascii('3\n')) },
  ]);
  const checkpoint = await openPytorch(path);
  try {
    assert.equal(checkpoint.pickle?.verdict, 'dangerous');
    assert.deepEqual(checkpoint.pickle?.globals.find((entry) => entry.module === 'os'), { module: 'os', name: 'system', verdict: 'dangerous' });
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), ['w']);
    assert.deepEqual([...await checkpoint.readTensor('w', 'float32')], [1, 2, 3, 4]);
    assert.equal(checkpoint.metadata.evil, 'os.system(…)');
  } finally {
    await checkpoint.close();
  }
  assert.equal(existsSync(marker), false, 'the command was not run');
});

test('tensor with mismatched stride', async () => {
  const tensor = rebuildTensor('0', 4, 4);
  // Replace the stride tuple (1,) with (1, 1): BININT1 1, TUPLE1 becomes BININT1 1, BININT1 1, TUPLE2.
  const strideAt = tensor.lastIndexOf(0x85);
  tensor.splice(strideAt, 1, 0x4b, 1, 0x86);
  const pickle = Uint8Array.from([0x80, 2, 0x7d, 0x28, ...binunicode('w'), ...tensor, 0x75, 0x2e]);
  const path = await writeZip('bad_stride.pt', [
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/data/0', data: new Uint8Array(16) },
  ]);
  await expectError(path, /entry "w": a tensor's size \(1 dims\) and stride \(2 dims\) disagree; the file is corrupt/, { tensor: 'w' });
});

test('bare malicious pickle renamed .pt', async () => {
  const marker = join(folder, 'executed_bare');
  const path = join(folder, 'bare.pt');
  writeFileSync(path, `cos\nsystem\n(S'touch ${marker}'\ntR.`, 'latin1');
  const checkpoint = await openPytorch(path);
  try {
    assert.equal(checkpoint.pickle?.verdict, 'dangerous');
    assert.deepEqual(checkpoint.pickle?.globals, [{ module: 'os', name: 'system', verdict: 'dangerous' }]);
    assert.deepEqual(checkpoint.tensors, []);
  } finally {
    await checkpoint.close();
  }
  assert.equal(existsSync(marker), false, 'the command was not run');
});

test('deeply nested data.pkl', async () => {
  const depth = 100_000;
  const pickle = new Uint8Array(depth * 2 + 4);
  pickle.set([0x80, 2], 0);
  pickle.fill(0x5d, 2, 2 + depth);
  pickle.fill(0x61, 2 + depth, 1 + 2 * depth);
  pickle[pickle.length - 1] = 0x2e;
  const path = await writeZip('nested.pt', [{ name: 'archive/data.pkl', data: pickle }]);
  await expectError(path, /archive\/data\.pkl: the pickle nests containers more than \d+ levels deep/, { offset: true });
});

test('zip entry declaring a huge size', async () => {
  const source = smallZip;
  // Patch data.pkl's sizes in the central directory: stored, then declared past the end of the file.
  const stored = readFileSync(source);
  const storedPath = join(folder, 'huge_stored.pt');
  writeFileSync(storedPath, patchCentralSizes(stored, 'data.pkl', 0x7ffffff0, 0x7ffffff0));
  await expectError(storedPath, /data\.pkl declares 2147483632 bytes at byte \d+, past the end of the file/, { offset: true });

  // A deflated data.pkl whose declared uncompressed size exceeds what the reader inflates.
  const deflatedPath = join(folder, 'huge_deflated.pt');
  rewriteZip(source, deflatedPath, {}, 'data.pkl');
  const deflated = readFileSync(deflatedPath);
  const compressedSize = centralSizes(deflated, 'data.pkl').compressed;
  writeFileSync(deflatedPath, patchCentralSizes(deflated, 'data.pkl', compressedSize, 0xfffffff0));
  await expectError(deflatedPath, /data\.pkl declares 4294967280 uncompressed bytes, more than the \d+ this reader loads/, { offset: true });
});

test('corrupt zip64 locator offset', async () => {
  // torch.save writes a ZIP64 end of central directory locator; point its record offset far past the file.
  const zip = Buffer.from(readFileSync(smallZip));
  const locator = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x07]));
  assert.ok(locator > 0, 'torch.save wrote a ZIP64 locator');
  zip.writeBigUInt64LE(0xe0000000000000n, locator + 8);
  const path = join(folder, 'bad_locator.pt');
  writeFileSync(path, zip);
  await expectError(path, /is not a valid zip archive \(the zip directory points at bytes \d+\.\.\d+, outside the file/);
});

test('shared lists expanding exponentially', async () => {
  // Level 0 is a list of 1000 None; level k is a list of 1000 references to level k - 1 (memo entry k - 1).
  const levels = 6;
  const body: number[] = [0x80, 2, 0x7d, ...binunicode('x')];
  for (let level = 0; level < levels; level++) {
    body.push(0x5d, 0x28);
    for (let i = 0; i < 1000; i++) body.push(...(level === 0 ? [0x4e] : [0x68, level - 1]));
    body.push(0x65, 0x71, level);
    // POP every level but the last, which becomes the value of 'x'.
    if (level < levels - 1) body.push(0x30);
  }
  body.push(0x73, 0x2e);
  const path = await writeZip('expanding.pt', [{ name: 'archive/data.pkl', data: Uint8Array.from(body) }]);
  const checkpoint = await openPytorch(path);
  try {
    assert.deepEqual(checkpoint.tensors, []);
    assert.match(JSON.stringify(checkpoint.metadata), /<omitted: the metadata is too large>/);
  } finally {
    await checkpoint.close();
  }
});

test('text file renamed .pt', async () => {
  const path = join(folder, 'notes.pt');
  writeFileSync(path, 'this is not a checkpoint\n');
  await expectError(path, /is not a PyTorch checkpoint: it starts with "this is " instead of a zip signature/);
  const empty = join(folder, 'empty.pt');
  writeFileSync(empty, '');
  await expectError(empty, /is empty, so it is not a PyTorch checkpoint/);
});

test('storage shorter than tensor extent', async () => {
  const path = join(folder, 'short_storage.pt');
  rewriteZip(smallZip, path, { 'data/0': '00'.repeat(16) });
  await expectError(path, /zip record [^ ]*data\/0 declares 16 uncompressed bytes, but tensor "w" uses it as storage "0" of 8 F32 elements \(32 bytes\)/, { tensor: 'w', offset: true });
});

test('storage numel shorter than tensor', async () => {
  // The record matches the 4 elements its persistent id declares, but the tensor spans 8.
  const pickle = Uint8Array.from([0x80, 2, 0x7d, 0x28, ...binunicode('w'), ...rebuildTensor('0', 4, 8), 0x75, 0x2e]);
  const path = await writeZip('short_numel.pt', [
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/data/0', data: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) },
  ]);
  await expectError(path, /tensor "w" \(F32 \[8\], storage offset 0\) needs bytes 0\.\.32 of storage "0" \(zip record archive\/data\/0\), which has only 16 bytes/, { tensor: 'w', offset: true });
});

test('legacy file cut inside a storage', async () => {
  const source = smallLegacy;
  const bytes = readFileSync(source);
  const path = join(folder, 'cut.legacy.pt');
  writeFileSync(path, bytes.subarray(0, bytes.length - 4));
  await expectError(path, /storage "\d+" at byte \d+ declares \d+ elements of F32, past the end of the file/, { offset: true });
});

test('legacy file cut inside its pickles', async () => {
  const source = smallLegacy;
  const path = join(folder, 'cut_pickle.legacy.pt');
  writeFileSync(path, readFileSync(source).subarray(0, 120));
  await expectError(path, /the sys_info pickle at byte \d+ ended at byte 120, but opcode \w+ at byte \d+ needs/, { offset: true });
});

/** Finds the central directory header of the record whose name ends with `suffix`. */
function centralHeaderOffset(zip: Buffer, suffix: string): number {
  for (let offset = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])); offset >= 0; offset--) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) continue;
    const nameLength = zip.readUInt16LE(offset + 28);
    if (zip.subarray(offset + 46, offset + 46 + nameLength).toString('latin1').endsWith(suffix)) return offset;
  }
  throw new Error(`no central directory entry for ${suffix}`);
}

function centralSizes(zip: Buffer, suffix: string): { compressed: number; uncompressed: number } {
  const offset = centralHeaderOffset(zip, suffix);
  return { compressed: zip.readUInt32LE(offset + 20), uncompressed: zip.readUInt32LE(offset + 24) };
}

function patchCentralSizes(zip: Buffer, suffix: string, compressed: number, uncompressed: number): Buffer {
  const copy = Buffer.from(zip);
  const offset = centralHeaderOffset(copy, suffix);
  copy.writeUInt32LE(compressed, offset + 20);
  copy.writeUInt32LE(uncompressed, offset + 24);
  return copy;
}

test('untyped storage with dtype argument', async () => {
  // _rebuild_tensor_v3(('storage', UntypedStorage, '0', 'cpu', 16), 1, (2,), (1,), False, {}, torch.float32)
  const pickle = Uint8Array.from([
    0x80, 2, 0x7d, 0x28, ...binunicode('w'),
    ...ascii('ctorch._utils\n_rebuild_tensor_v3\n'), 0x28,
    0x28, ...binunicode('storage'), ...ascii('ctorch.storage\nUntypedStorage\n'), ...binunicode('0'), ...binunicode('cpu'), 0x4b, 16, 0x74, 0x51,
    0x4b, 1, 0x4b, 2, 0x85, 0x4b, 1, 0x85, 0x89, 0x7d, ...ascii('ctorch\nfloat32\n'), 0x74, 0x52,
    0x75, 0x2e,
  ]);
  const path = await writeZip('untyped.pt', [
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/data/0', data: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) },
  ]);
  const checkpoint = await openPytorch(path);
  try {
    assert.equal(checkpoint.tensors[0].dtype, 'F32');
    assert.deepEqual(checkpoint.tensors[0].shape, [2]);
    assert.deepEqual([...await checkpoint.readTensor('w', 'float32')], [2, 3]);
    await assert.rejects(checkpoint.readTensor('missing'), /no tensor named "missing"; run inspect to list the tensor names/);
  } finally {
    await checkpoint.close();
  }
});

test('big-endian byteorder record', async () => {
  const pickle = Uint8Array.from([0x80, 2, 0x7d, 0x28, ...binunicode('w'), ...rebuildTensor('0', 2, 2), 0x75, 0x2e]);
  const data = Buffer.alloc(8);
  data.writeFloatBE(1.5, 0);
  data.writeFloatBE(-2, 4);
  const path = await writeZip('big_endian.pt', [
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/byteorder', data: Uint8Array.from(ascii('big')) },
    { name: 'archive/data/0', data },
  ]);
  const checkpoint = await openPytorch(path);
  try {
    assert.deepEqual([...await checkpoint.readTensor('w', 'float32')], [1.5, -2]);
    const chunks: number[] = [];
    for await (const chunk of checkpoint.readTensorChunks('w', 4)) chunks.push(...chunk);
    assert.deepEqual(chunks, [1.5, -2]);
  } finally {
    await checkpoint.close();
  }
});
