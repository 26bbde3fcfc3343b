// NumPy reader: committed .npy and .npz fixtures against the manifest, and arrays NumPy writes in a temporary
// folder (every dtype in both byte orders, Fortran order, header versions 1.0 to 3.0, stored and deflated npz).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checkpoint, TensorEntry } from '../../../src/formats/checkpoint';
import { openNumpy } from '../../../src/formats/numpy/reader';
import { fixturesDir, manifest, valueHash } from './fixtureManifest';


async function collectChunks(checkpoint: Checkpoint, name: string, maxChunkBytes: number): Promise<Float32Array> {
  const chunks: Float32Array[] = [];
  for await (const chunk of checkpoint.readTensorChunks(name, maxChunkBytes)) {
    assert.ok(chunk.byteLength <= Math.max(4, maxChunkBytes), `${name}: chunk of ${chunk.byteLength} bytes`);
    chunks.push(chunk.slice());
  }
  const joined = new Float32Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let position = 0;
  for (const chunk of chunks) {
    joined.set(chunk, position);
    position += chunk.length;
  }
  return joined;
}

test('numpy fixtures match manifest', async () => {
  const files = manifest.files.filter((file) => file.format === 'npy' || file.format === 'npz');
  assert.ok(files.some((file) => file.format === 'npy') && files.some((file) => file.format === 'npz'), 'npy and npz fixtures');
  for (const file of files) {
    const checkpoint = await openNumpy(join(fixturesDir, file.path));
    try {
      assert.equal(checkpoint.format, file.format, `${file.path}: format`);
      const listed = new Map(checkpoint.tensors.map((entry) => [entry.name, entry]));
      assert.deepEqual([...listed.keys()].sort(), file.tensors.map((tensor) => tensor.name).sort(), `${file.path}: names`);
      for (const expected of file.tensors) {
        const entry = listed.get(expected.name) as TensorEntry;
        assert.deepEqual(entry.shape, expected.shape, `${file.path}: ${expected.name} shape`);
        assert.equal(entry.dtype, expected.dtype, `${file.path}: ${expected.name} dtype`);
        assert.equal(await valueHash(checkpoint, entry), expected.sha256, `${file.path}: ${expected.name} values`);
        const whole = await checkpoint.readTensor(expected.name, 'float32');
        assert.deepEqual(await collectChunks(checkpoint, expected.name, 4096), whole, `${file.path}: ${expected.name} chunks`);
      }
    } finally {
      await checkpoint.close();
    }
  }
});

// Writes arrays with NumPy and prints, per file and array, the dtype, shape and the C-order little-endian bytes
// in hex, which is what the reader must return as stored data.
const generator = `
import json, sys
import numpy as np
from numpy.lib import format as npformat
out = sys.argv[1]
rng = np.random.default_rng(7)
def sample(kind):
    if kind == 'b1': return rng.integers(0, 2, (3, 5)).astype(bool)
    if kind[0] == 'f':
        a = rng.standard_normal((3, 5)).astype(kind)
        a[0, 0] = np.nan; a[0, 1] = np.inf; a[0, 2] = -0.0
        return a
    info = np.iinfo(np.dtype(kind))
    return rng.integers(info.min, info.max, (3, 5), dtype=kind, endpoint=True)
names = {'f8': 'F64', 'f4': 'F32', 'f2': 'F16', 'i8': 'I64', 'i4': 'I32', 'i2': 'I16', 'i1': 'I8', 'u1': 'U8', 'b1': 'BOOL'}
def expected(a):
    c = a.copy(order='C')
    return {'dtype': names[c.dtype.str[1:]], 'shape': list(c.shape), 'hex': c.astype(c.dtype.newbyteorder('<')).tobytes().hex()}
result = {}
for kind in names:
    for order in ('<', '>'):
        if kind in ('i1', 'u1', 'b1') and order == '>': continue
        a = sample(kind).astype(np.dtype(kind).newbyteorder(order))
        path = f'{out}/{kind}{"_be" if order == ">" else ""}.npy'
        np.save(path, a)
        result[path] = {'array': expected(a)}
cube = np.asfortranarray(np.arange(2 * 3 * 4, dtype='<f4').reshape(2, 3, 4))
np.save(f'{out}/fortran3d.npy', cube)
result[f'{out}/fortran3d.npy'] = {'array': expected(cube)}
big_fortran = np.asfortranarray(rng.standard_normal((4, 6)).astype('>f8'))
np.save(f'{out}/fortran_be.npy', big_fortran)
result[f'{out}/fortran_be.npy'] = {'array': expected(big_fortran)}
for version in ((1, 0), (2, 0), (3, 0)):
    path = f'{out}/v{version[0]}.npy'
    a = rng.standard_normal(7).astype('<f4')
    with open(path, 'wb') as f:
        npformat.write_array(f, a, version=version)
    result[path] = {'array': expected(a)}
for name, value in (('scalar', np.array(2.5, dtype='<f8')), ('empty', np.zeros((0, 3), dtype='<f4'))):
    np.save(f'{out}/{name}.npy', value)
    result[f'{out}/{name}.npy'] = {'array': expected(value)}
arrays = {'w': rng.standard_normal((50, 40)).astype('<f4'), 'b': rng.standard_normal(40).astype('>f2'),
          'steps': np.arange(5, dtype='<i8'), 'mask': np.array([True, False]), 'fortran': np.asfortranarray(rng.standard_normal((5, 3)))}
np.savez(f'{out}/stored.npz', **arrays)
np.savez_compressed(f'{out}/deflated.npz', **arrays)
for path in (f'{out}/stored.npz', f'{out}/deflated.npz'):
    result[path] = {name: expected(a) for name, a in arrays.items()}
print(json.dumps(result))
`;

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

test('numpy arrays match NumPy bytes', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'numpy-test-'));
  try {
    const expectations = JSON.parse(execFileSync('/usr/bin/python3', ['-c', generator, directory], { encoding: 'utf8' })) as
      Record<string, Record<string, { dtype: string; shape: number[]; hex: string }>>;
    assert.ok(Object.keys(expectations).length >= 20, 'NumPy wrote the test files');
    for (const [path, arrays] of Object.entries(expectations)) {
      const checkpoint = await openNumpy(path);
      try {
        assert.equal(checkpoint.format, path.endsWith('.npz') ? 'npz' : 'npy', `${path}: format`);
        assert.deepEqual(checkpoint.tensors.map((entry) => entry.name).sort(), Object.keys(arrays).sort(), `${path}: names`);
        for (const [name, expected] of Object.entries(arrays)) {
          const stored = await checkpoint.readTensor(name);
          assert.equal(stored.dtype, expected.dtype, `${path} ${name}: dtype`);
          assert.deepEqual(stored.shape, expected.shape, `${path} ${name}: shape`);
          assert.equal(Buffer.from(bytesOf(stored.data)).toString('hex'), expected.hex, `${path} ${name}: bytes`);

          const asFloat = await checkpoint.readTensor(name, 'float32');
          const fromFloat64 = Float32Array.from(await checkpoint.readTensor(name, 'float64'));
          assert.deepEqual(bytesOf(asFloat), bytesOf(fromFloat64), `${path} ${name}: float32 and float64 agree`);
          // 12 bytes: three float32 values per chunk, so chunks split rows of 5.
          assert.deepEqual(bytesOf(await collectChunks(checkpoint, name, 12)), bytesOf(asFloat), `${path} ${name}: chunks`);
        }
      } finally {
        await checkpoint.close();
      }
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('stored npz offsets locate data', async () => {
  const path = join(fixturesDir, 'models', 'mlp_s0.npz');
  const checkpoint = await openNumpy(path);
  try {
    const file = readFileSync(path);
    for (const entry of checkpoint.tensors) {
      const stored = await checkpoint.readTensor(entry.name);
      assert.equal(entry.length, stored.data.byteLength, `${entry.name}: length`);
      assert.deepEqual(new Uint8Array(file.subarray(entry.offset, entry.offset + entry.length)), bytesOf(stored.data), `${entry.name}: bytes at offset`);
    }
  } finally {
    await checkpoint.close();
  }
});

test('deflated npz records member offset', async () => {
  const path = join(fixturesDir, 'models', 'mlp_s0.compressed.npz');
  const checkpoint = await openNumpy(path);
  try {
    const file = readFileSync(path);
    for (const entry of checkpoint.tensors) {
      // The offset is the member's local file header: signature PK\x03\x04, then the member name at byte 30.
      assert.equal(file.readUInt32LE(entry.offset), 0x04034b50, `${entry.name}: local header at offset`);
      const nameLength = file.readUInt16LE(entry.offset + 26);
      assert.equal(file.toString('utf8', entry.offset + 30, entry.offset + 30 + nameLength), `${entry.name}.npy`);
      assert.ok(entry.length > 0, `${entry.name}: compressed length`);
    }
  } finally {
    await checkpoint.close();
  }
});
