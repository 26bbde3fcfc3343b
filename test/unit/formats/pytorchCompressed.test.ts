// PyTorch zip archives whose records a zip tool has repacked with compression. torch.save stores records
// uncompressed, but torch.load also reads deflated ones, so the reader must too. The archive comes from Debian's
// torch.save, is repacked with Python's zipfile, and torch.load of the repacked file gives the reference values.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, type Checkpoint } from '../../../src/formats/checkpoint';
import { openPytorch } from '../../../src/formats/pytorch/reader';

let folder = '';
let deflatedPath = '';
let reference: Record<string, { shape: number[]; dtype: string; sha256: string }> = {};

const repack = `
import sys, zipfile
source, target, suffix, method = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, 'w') as zout:
    for info in zin.infolist():
        compress = method if info.filename.endswith(suffix) or (suffix == 'all' and '/data/' in info.filename) else zipfile.ZIP_STORED
        zout.writestr(info.filename, zin.read(info.filename), compress_type=compress)
`;

before(() => {
  folder = mkdtempSync(join(tmpdir(), 'pytorch-compressed-'));
  const stored = join(folder, 'stored.pt');
  deflatedPath = join(folder, 'deflated.pt');
  // Tied tensors on one storage (a transposed view and a view with a storage offset), float16, and a tensor large
  // enough to inflate in many pieces.
  execFileSync('/usr/bin/python3', ['-c', `
import sys, torch
torch.manual_seed(0)
w = torch.arange(1000, dtype=torch.float32).reshape(40, 25) / 7
state = {'w': w, 'wt': w.t(), 'tail': w.view(-1)[900:], 'h': torch.randn(33, dtype=torch.float16),
         'big': torch.randn(300_000)}
torch.save(state, sys.argv[1])
`, stored]);
  execFileSync('/usr/bin/python3', ['-c', repack, stored, deflatedPath, 'all', '8']);
  // torch.load reads the repacked archive; its values, converted to float32 in C order, are the reference.
  const json = execFileSync('/usr/bin/python3', ['-c', `
import sys, json, hashlib, zipfile, torch
with zipfile.ZipFile(sys.argv[1]) as archive:
    methods = {info.filename: info.compress_type for info in archive.infolist()}
assert all(method == zipfile.ZIP_DEFLATED for name, method in methods.items() if '/data/' in name), methods
state = torch.load(sys.argv[1])
print(json.dumps({name: {'shape': list(t.shape), 'dtype': str(t.dtype),
                         'sha256': hashlib.sha256(t.float().contiguous().numpy().tobytes()).hexdigest()}
                  for name, t in state.items()}))
`, deflatedPath], { encoding: 'utf8' });
  reference = JSON.parse(json) as typeof reference;
});
after(() => rmSync(folder, { recursive: true, force: true }));

function hashFloats(values: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

async function withCheckpoint(path: string, body: (checkpoint: Checkpoint) => Promise<void>): Promise<void> {
  const checkpoint = await openPytorch(path);
  try {
    await body(checkpoint);
  } finally {
    await checkpoint.close();
  }
}

test('deflated records read like torch.load', async () => {
  await withCheckpoint(deflatedPath, async (checkpoint) => {
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name).sort(), Object.keys(reference).sort());
    for (const entry of checkpoint.tensors) {
      const expected = reference[entry.name];
      assert.deepEqual(entry.shape, expected.shape, `${entry.name} shape`);
      assert.equal(hashFloats(await checkpoint.readTensor(entry.name, 'float32')), expected.sha256, `${entry.name} values`);
    }
  });
});

test('deflated record chunks equal whole read', async () => {
  await withCheckpoint(deflatedPath, async (checkpoint) => {
    for (const name of ['w', 'wt', 'tail', 'h', 'big']) {
      const whole = await checkpoint.readTensor(name, 'float32');
      const joined = new Float32Array(whole.length);
      let position = 0;
      // 4004 bytes: 1001 values per chunk, so chunk boundaries fall inside the inflated pieces.
      for await (const chunk of checkpoint.readTensorChunks(name, 4004)) {
        assert.ok(chunk.length <= 1001, `${name}: chunk of ${chunk.length} values`);
        joined.set(chunk, position);
        position += chunk.length;
      }
      assert.equal(position, whole.length, `${name}: chunks cover the tensor`);
      assert.deepEqual(joined, whole, `${name}: chunks equal the whole read`);
    }
  });
});

test('deflated record stops inflating early', async () => {
  await withCheckpoint(deflatedPath, async (checkpoint) => {
    let first: Float32Array | undefined;
    for await (const chunk of checkpoint.readTensorChunks('big', 4096)) {
      first = chunk.slice();
      break;
    }
    const whole = await checkpoint.readTensor('big', 'float32');
    assert.deepEqual(first, whole.subarray(0, 1024));
  });
});

test('corrupt deflated record', async () => {
  const path = join(folder, 'corrupt.pt');
  const bytes = Buffer.from(readFileSync(deflatedPath));
  // Overwrite compressed bytes in the middle of the largest record, past its local header.
  const name = Buffer.from('stored/data/2');
  const header = bytes.indexOf(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04])]), bytes.indexOf(name) - 30);
  const dataStart = header + 30 + bytes.readUInt16LE(header + 26) + bytes.readUInt16LE(header + 28);
  bytes.fill(0xa5, dataStart + 1000, dataStart + 1400);
  writeFileSync(path, bytes);
  await withCheckpoint(path, async (checkpoint) => {
    const entry = checkpoint.tensors.find((tensor) => tensor.name === 'big');
    assert.ok(entry !== undefined, 'tensor "big" is listed');
    await assert.rejects(checkpoint.readTensor('big', 'float32'), (error: unknown) => {
      assert.ok(error instanceof CheckpointError, `CheckpointError, got ${String(error)}`);
      assert.ok(error.message.startsWith(`${path}: `), `message names the file: ${error.message}`);
      assert.match(error.message, /cannot inflate zip record stored\/data\/2/);
      assert.equal(typeof error.detail.offset, 'number', 'detail has a byte offset');
      return true;
    });
  });
});

test('bzip2 record is unreadable', async () => {
  const path = join(folder, 'bzip2.pt');
  execFileSync('/usr/bin/python3', ['-c', repack, deflatedPath, path, 'data/0', '12']);
  await withCheckpoint(path, async (checkpoint) => {
    const record = checkpoint.tensors.find((tensor) => tensor.name === 'w');
    assert.ok(record !== undefined, 'tensor "w" is still listed');
    const pattern = /tensor "w" cannot be read: its zip record stored\/data\/0 uses compression method 12, and only stored and deflated records can be read/;
    await assert.rejects(checkpoint.readTensor('w'), pattern);
    await assert.rejects(async () => {
      for await (const chunk of checkpoint.readTensorChunks('w', 1024)) assert.fail(`unexpected chunk of ${chunk.length}`);
    }, pattern);
    assert.equal(hashFloats(await checkpoint.readTensor('h', 'float32')), reference.h.sha256, 'other records still read');
  });
});
