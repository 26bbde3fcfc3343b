// PyTorch reader against the committed torch.save fixtures. Every pytorch-zip and pytorch-legacy file in the
// manifest is checked for names, shapes, dtypes and sha256 of the values, and so are Lightning metadata and
// shared storages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Checkpoint, TensorEntry } from '../../../src/formats/checkpoint';
import { openPytorch } from '../../../src/formats/pytorch/reader';
import { fixturesDir, integerDTypes, manifest, valueHash, type ManifestFile } from './fixtureManifest';

const pytorchFiles = manifest.files.filter((file) => file.format === 'pytorch-zip' || file.format === 'pytorch-legacy');

async function chunkHash(checkpoint: Checkpoint, name: string, maxChunkBytes: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of checkpoint.readTensorChunks(name, maxChunkBytes)) {
    assert.ok(chunk.byteLength <= Math.max(4, maxChunkBytes), `${name}: chunk of ${chunk.byteLength} bytes`);
    hash.update(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return hash.digest('hex');
}

test('pytorch fixtures exist in both formats', () => {
  assert.ok(pytorchFiles.some((file) => file.format === 'pytorch-zip'), 'zip fixtures');
  assert.ok(pytorchFiles.some((file) => file.format === 'pytorch-legacy'), 'legacy fixtures');
  assert.ok(pytorchFiles.some((file) => file.container === 'lightning'), 'Lightning fixtures');
});

test('pytorch fixtures match manifest', async () => {
  for (const file of pytorchFiles) {
    const checkpoint = await openPytorch(join(fixturesDir, file.path));
    try {
      assert.equal(checkpoint.format, file.format, file.path);
      const expectedVerdict = file.container === 'torchscript' ? 'unknown' : 'safe';
      assert.equal(checkpoint.pickle?.verdict, expectedVerdict, `${file.path}: pickle verdict`);
      assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), file.tensors.map((tensor) => tensor.name), `${file.path}: names`);
      for (const expected of file.tensors) {
        const entry = checkpoint.tensors.find((candidate) => candidate.name === expected.name) as TensorEntry;
        assert.deepEqual(entry.shape, expected.shape, `${file.path} ${expected.name}: shape`);
        assert.equal(entry.dtype, expected.dtype, `${file.path} ${expected.name}: dtype`);
        assert.equal(await valueHash(checkpoint, entry), expected.sha256, `${file.path} ${expected.name}: values`);
      }
    } finally {
      await checkpoint.close();
    }
  }
});

test('pytorch chunks match manifest', async () => {
  for (const file of pytorchFiles.filter((candidate) => candidate.path.endsWith('mlp_s0.pt') || candidate.path.endsWith('shared_storage.pt'))) {
    const checkpoint = await openPytorch(join(fixturesDir, file.path));
    try {
      for (const expected of file.tensors.filter((tensor) => !integerDTypes.has(tensor.dtype))) {
        assert.equal(await chunkHash(checkpoint, expected.name, 100), expected.sha256, `${file.path} ${expected.name}: chunks`);
      }
    } finally {
      await checkpoint.close();
    }
  }
});

test('pytorch Lightning metadata and optimizer', async () => {
  const files = pytorchFiles.filter((file) => file.container === 'lightning');
  for (const file of files) {
    const checkpoint = await openPytorch(join(fixturesDir, file.path));
    try {
      assert.equal(checkpoint.metadata.stateDictKey, file.stateDictKey, `${file.path}: state dict key`);
      for (const [key, value] of Object.entries(file.metadata ?? {})) {
        assert.deepEqual(checkpoint.metadata[key], value, `${file.path}: metadata ${key}`);
      }
      const optimizer = checkpoint.metadata.optimizer_states as { tensorCount: number; tensorBytes: number };
      const expectedTensors = file.optimizerTensors ?? [];
      assert.equal(optimizer.tensorCount, expectedTensors.length, `${file.path}: optimizer tensor count`);
      const expectedBytes = expectedTensors.reduce((sum, tensor) => sum + 4 * tensor.shape.reduce((a, b) => a * b, 1), 0);
      assert.equal(optimizer.tensorBytes, expectedBytes, `${file.path}: optimizer bytes`);
      const names = new Set(checkpoint.tensors.map((entry) => entry.name));
      for (const tensor of expectedTensors) assert.ok(!names.has(tensor.name), `${file.path}: ${tensor.name} is not a model tensor`);
      assert.ok(JSON.stringify(checkpoint.metadata).length < 100_000, `${file.path}: metadata stays small`);
    } finally {
      await checkpoint.close();
    }
  }
});

test('pytorch shared storage offsets', async () => {
  const file = pytorchFiles.find((candidate) => candidate.path.endsWith('shared_storage.pt')) as ManifestFile;
  assert.ok(file, 'shared_storage.pt is in the manifest');
  const checkpoint = await openPytorch(join(fixturesDir, file.path));
  try {
    const byName = new Map(checkpoint.tensors.map((entry) => [entry.name, entry]));
    const storageStart = new Map<string, number>();
    for (const expected of file.tensors) {
      const entry = byName.get(expected.name) as TensorEntry;
      const span = expected.shape.reduce((sum, size, axis) => sum + (size - 1) * (expected.stride as number[])[axis], 1);
      assert.equal(entry.length, span * 4, `${expected.name}: span length`);
      const start = entry.offset - (expected.storageOffset as number) * 4;
      const key = expected.storageKey as string;
      if (storageStart.has(key)) assert.equal(start, storageStart.get(key), `${expected.name}: shares storage ${key}`);
      storageStart.set(key, start);
      assert.equal(start % 64, 0, `${expected.name}: storage record is 64-byte aligned`);
    }
  } finally {
    await checkpoint.close();
  }
});
