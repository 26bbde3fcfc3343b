// safetensors reader and writer: committed fixtures against the manifest, round trips of every dtype,
// tied weights, chunked reads, sharded checkpoints, and a cross-check of written files with NumPy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checkpoint, NamedTensor, TensorEntry } from '../../../src/formats/checkpoint';
import { openSafetensors } from '../../../src/formats/safetensors/reader';
import { openShardedSafetensors } from '../../../src/formats/safetensors/sharded';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';
import { OutputOverwritesInputError } from '../../../src/formats/atomicWrite';
import { fixturesDir, manifest, valueHash, type ManifestFile } from './fixtureManifest';


async function checkAgainstManifest(file: ManifestFile, checkpoint: Checkpoint): Promise<void> {
  assert.equal(checkpoint.format, file.format, `${file.path}: format`);
  const listed = new Map(checkpoint.tensors.map((entry) => [entry.name, entry]));
  assert.deepEqual([...listed.keys()].sort(), file.tensors.map((tensor) => tensor.name).sort(), `${file.path}: tensor names`);
  for (const expected of file.tensors) {
    const entry = listed.get(expected.name) as TensorEntry;
    assert.deepEqual(entry.shape, expected.shape, `${file.path}: ${expected.name} shape`);
    assert.equal(entry.dtype, expected.dtype, `${file.path}: ${expected.name} dtype`);
    assert.equal(await valueHash(checkpoint, entry), expected.sha256, `${file.path}: ${expected.name} values`);
  }
}

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'safetensors-test-'));
}

test('safetensors fixtures match manifest', async () => {
  const files = manifest.files.filter((file) => file.format === 'safetensors');
  assert.ok(files.length > 0, 'no safetensors fixtures in the manifest');
  for (const file of files) {
    const checkpoint = await openSafetensors(join(fixturesDir, file.path));
    try {
      await checkAgainstManifest(file, checkpoint);
    } finally {
      await checkpoint.close();
    }
  }
});

test('sharded safetensors fixture matches manifest', async () => {
  const files = manifest.files.filter((file) => file.format === 'safetensors-sharded');
  assert.ok(files.length > 0, 'no sharded safetensors fixtures in the manifest');
  for (const file of files) {
    const indexPath = join(fixturesDir, file.path);
    const checkpoint = await openShardedSafetensors(indexPath);
    try {
      await checkAgainstManifest(file, checkpoint);
      for (const entry of checkpoint.tensors) {
        assert.match(entry.file ?? '', /model-0000[12]-of-00002\.safetensors$/, `${entry.name}: shard path`);
        assert.ok(entry.offset + entry.length <= statSync(entry.file as string).size, `${entry.name}: offset inside its shard`);
      }
      assert.equal(typeof checkpoint.metadata.total_size, 'number');
    } finally {
      await checkpoint.close();
    }
  }
});

test('safetensors entries follow offsets', async () => {
  const path = join(fixturesDir, 'models', 'mlp_s0.safetensors');
  const checkpoint = await openSafetensors(path);
  try {
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    let expectedOffset = 8 + headerLength;
    for (const entry of checkpoint.tensors) {
      assert.equal(entry.offset, expectedOffset, `${entry.name}: offset`);
      expectedOffset += entry.length;
    }
    assert.equal(expectedOffset, bytes.length);
  } finally {
    await checkpoint.close();
  }
});

test('safetensors chunks equal whole read', async () => {
  const checkpoint = await openSafetensors(join(fixturesDir, 'models', 'mlp_s0.bf16.safetensors'));
  try {
    for (const entry of checkpoint.tensors) {
      const whole = await checkpoint.readTensor(entry.name, 'float32');
      // 7 elements of 4 bytes: chunk boundaries fall inside rows, and the last chunk is short.
      const chunks: Float32Array[] = [];
      for await (const chunk of checkpoint.readTensorChunks(entry.name, 28)) chunks.push(chunk.slice());
      assert.ok(chunks.every((chunk) => chunk.length <= 7), `${entry.name}: chunk size bound`);
      const joined = new Float32Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
      let position = 0;
      for (const chunk of chunks) {
        joined.set(chunk, position);
        position += chunk.length;
      }
      assert.deepEqual(joined, whole, `${entry.name}: chunked values`);
    }
  } finally {
    await checkpoint.close();
  }
});

/** Returns one tensor of every dtype, with bit patterns that include signs, subnormals, NaN and infinities. */
function everyDTypeTensors(): NamedTensor[] {
  return [
    { name: 'f64', dtype: 'F64', shape: [2, 3], data: new Float64Array([1.5, -0, Number.MIN_VALUE, NaN, Infinity, -1e300]) },
    { name: 'f32', dtype: 'F32', shape: [4], data: new Float32Array([3.25, -1e-45, -Infinity, 65504]) },
    { name: 'f16', dtype: 'F16', shape: [2, 2], data: new Uint16Array([0x3c00, 0x8001, 0x7e00, 0xfbff]) },
    { name: 'bf16', dtype: 'BF16', shape: [3], data: new Uint16Array([0x3f80, 0xff80, 0x0001]) },
    { name: 'f8e4m3', dtype: 'F8_E4M3', shape: [3], data: new Uint8Array([0x38, 0xff, 0x01]) },
    { name: 'f8e5m2', dtype: 'F8_E5M2', shape: [3], data: new Uint8Array([0x3c, 0x7c, 0x83]) },
    { name: 'i64', dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 2n ** 60n + 1n]) },
    { name: 'i32', dtype: 'I32', shape: [1, 2], data: new Int32Array([-2147483648, 7]) },
    { name: 'i16', dtype: 'I16', shape: [2], data: new Int16Array([-32768, 32767]) },
    { name: 'i8', dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
    { name: 'u8', dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
    { name: 'bool', dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([42]) },
    { name: 'empty', dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
  ];
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

test('safetensors round trip every dtype', async () => {
  const directory = temporaryDirectory();
  try {
    const output = join(directory, 'all.safetensors');
    const tensors = everyDTypeTensors();
    await writeSafetensors(output, tensors, { inputs: [], metadata: { format: 'pt', tool: 'test' } });

    const headerLength = Number(readFileSync(output).readBigUInt64LE(0));
    assert.equal((8 + headerLength) % 8, 0, 'byte buffer starts 8-byte aligned');

    const checkpoint = await openSafetensors(output);
    try {
      assert.deepEqual(checkpoint.metadata, { format: 'pt', tool: 'test' });
      assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), tensors.map((tensor) => tensor.name));
      for (const tensor of tensors) {
        const stored = await checkpoint.readTensor(tensor.name);
        assert.equal(stored.dtype, tensor.dtype, `${tensor.name}: dtype`);
        assert.deepEqual(stored.shape, tensor.shape, `${tensor.name}: shape`);
        assert.equal(stored.data.constructor, tensor.data.constructor, `${tensor.name}: array type`);
        assert.deepEqual(bytesOf(stored.data), bytesOf(tensor.data), `${tensor.name}: bytes`);
      }
    } finally {
      await checkpoint.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('safetensors writer copies tied weights', async () => {
  const directory = temporaryDirectory();
  try {
    const output = join(directory, 'tied.safetensors');
    const shared = new Float32Array([1, 2, 3, 4, 5, 6]);
    const tensors: NamedTensor[] = [
      { name: 'embed.weight', dtype: 'F32', shape: [2, 3], data: shared },
      { name: 'lm_head.weight', dtype: 'F32', shape: [2, 3], data: shared },
      // A view into the same buffer that overlaps both tensors above.
      { name: 'middle', dtype: 'F32', shape: [2], data: shared.subarray(2, 4) },
    ];
    await writeSafetensors(output, tensors, { inputs: [] });

    const checkpoint = await openSafetensors(output);
    try {
      const [embed, head, middle] = checkpoint.tensors;
      assert.equal(head.offset, embed.offset + embed.length, 'second copy follows the first');
      assert.equal(middle.offset, head.offset + head.length, 'view copy follows the second');
      assert.deepEqual(await checkpoint.readTensor('embed.weight', 'float32'), shared);
      assert.deepEqual(await checkpoint.readTensor('lm_head.weight', 'float32'), shared);
      assert.deepEqual(await checkpoint.readTensor('middle', 'float32'), new Float32Array([3, 4]));
    } finally {
      await checkpoint.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('safetensors writer refuses input path', async () => {
  const directory = temporaryDirectory();
  try {
    const input = join(directory, 'input.safetensors');
    const tensors: NamedTensor[] = [{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array([1]) }];
    await writeSafetensors(input, tensors, { inputs: [] });
    const before = readFileSync(input);
    await assert.rejects(writeSafetensors(input, [], { inputs: [input] }), OutputOverwritesInputError);
    assert.deepEqual(readFileSync(input), before, 'input unchanged');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('safetensors writer rejects invalid tensors', async () => {
  const directory = temporaryDirectory();
  try {
    const output = join(directory, 'bad.safetensors');
    const wrongLength: NamedTensor = { name: 'w', dtype: 'F32', shape: [3], data: new Float32Array(2) };
    await assert.rejects(writeSafetensors(output, [wrongLength], { inputs: [] }), /tensor "w" has 8 bytes of data but F32 \[3\] needs 12/);
    const duplicate: NamedTensor = { name: 'w', dtype: 'F32', shape: [2], data: new Float32Array(2) };
    await assert.rejects(writeSafetensors(output, [duplicate, duplicate], { inputs: [] }), /listed twice/);
    const quantized: NamedTensor = { name: 'q', dtype: 'Q8_0', shape: [32], data: new Uint8Array(34) };
    await assert.rejects(writeSafetensors(output, [quantized], { inputs: [] }), /dtype Q8_0/);
    assert.throws(() => statSync(output), /ENOENT/, 'no output file left behind');
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('safetensors writer stops on abort', async () => {
  const directory = temporaryDirectory();
  try {
    const output = join(directory, 'aborted.safetensors');
    const controller = new AbortController();
    controller.abort();
    const tensors: NamedTensor[] = [{ name: 'w', dtype: 'F32', shape: [4], data: new Float32Array(4) }];
    await assert.rejects(writeSafetensors(output, tensors, { inputs: [], signal: controller.signal }));
    assert.throws(() => statSync(output), /ENOENT/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

// Parses the written file with NumPy alone and prints each tensor's dtype, shape and values as JSON.
// BF16 and float8 have no NumPy dtype, so their raw bit patterns are compared.
const numpyChecker = `
import json, sys
import numpy as np
data = open(sys.argv[1], 'rb').read()
n = int.from_bytes(data[:8], 'little')
assert (8 + n) % 8 == 0, 'buffer not aligned'
header = json.loads(data[8:8 + n].decode('utf-8'))
buffer = data[8 + n:]
kinds = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'BF16': '<u2', 'F8_E4M3': 'u1', 'F8_E5M2': 'u1',
         'I64': '<i8', 'I32': '<i4', 'I16': '<i2', 'I8': 'i1', 'U8': 'u1', 'BOOL': '?'}
result = {'__metadata__': header.pop('__metadata__', None)}
for name, info in header.items():
    begin, end = info['data_offsets']
    array = np.frombuffer(buffer[begin:end], dtype=kinds[info['dtype']]).reshape(info['shape'])
    values = array.astype(np.float64) if array.dtype.kind == 'f' else array
    result[name] = {'dtype': info['dtype'], 'shape': list(array.shape), 'values': [str(v) for v in values.reshape(-1).tolist()]}
print(json.dumps(result))
`;

test('safetensors output parses with NumPy', async () => {
  const directory = temporaryDirectory();
  try {
    const output = join(directory, 'numpy-check.safetensors');
    // NaN and infinities print as "nan" and "inf" in Python, so every tensor here is compared as text.
    const tensors = everyDTypeTensors();
    await writeSafetensors(output, tensors, { inputs: [], metadata: { note: 'ünïcode ✓' } });
    const parsed = JSON.parse(execFileSync('/usr/bin/python3', ['-c', numpyChecker, output], { encoding: 'utf8' })) as Record<string, { dtype: string; shape: number[]; values: string[] } | null>;
    assert.deepEqual(parsed.__metadata__, { note: 'ünïcode ✓' });
    for (const tensor of tensors) {
      const found = parsed[tensor.name];
      assert.ok(found, `${tensor.name}: missing in NumPy's view`);
      assert.equal(found.dtype, tensor.dtype, `${tensor.name}: dtype`);
      assert.deepEqual(found.shape, tensor.shape, `${tensor.name}: shape`);
      const expected = Array.from(tensor.data as unknown as ArrayLike<number | bigint>, (value) => pythonText(tensor.dtype, value));
      assert.deepEqual(found.values, expected, `${tensor.name}: values`);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

/** Formats a value as Python's str() does for the element types the checker prints. */
function pythonText(dtype: string, value: number | bigint): string {
  if (dtype === 'BOOL') return value ? 'True' : 'False';
  if (typeof value === 'bigint' || dtype.startsWith('I') || dtype === 'U8' || dtype === 'BF16' || dtype.startsWith('F8')) return String(value);
  if (dtype === 'F16') return float16Text(value);
  return floatText(value);
}

function floatText(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (Object.is(value, -0)) return '-0.0';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  // Python's repr uses the shortest round-trip digits, as JavaScript does, but writes exponents as e-05 and e+300.
  return String(value).replace(/e([+-])(\d)$/, 'e$10$2');
}

function float16Text(bits: number): string {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f && fraction !== 0) return 'nan';
  if (exponent === 0x1f) return sign < 0 ? '-inf' : 'inf';
  const magnitude = exponent === 0 ? fraction * 2 ** -24 : (1 + fraction / 1024) * 2 ** (exponent - 15);
  return floatText(sign * magnitude);
}

test('sharded safetensors lists shard paths', async () => {
  const directory = temporaryDirectory();
  try {
    await writeSafetensors(join(directory, 'a.safetensors'), [
      { name: 'x', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
      { name: 'y', dtype: 'I32', shape: [1], data: new Int32Array([9]) },
    ], { inputs: [] });
    await writeSafetensors(join(directory, 'b.safetensors'), [
      { name: 'z', dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) },
    ], { inputs: [] });
    const indexPath = join(directory, 'model.safetensors.index.json');
    writeFileSync(indexPath, JSON.stringify({ metadata: { total_size: 14 }, weight_map: { z: 'b.safetensors', x: 'a.safetensors', y: 'a.safetensors' } }));

    const checkpoint = await openShardedSafetensors(indexPath);
    try {
      assert.equal(checkpoint.format, 'safetensors-sharded');
      assert.deepEqual(checkpoint.tensors.map((entry) => [entry.name, entry.file]), [
        ['x', join(directory, 'a.safetensors')],
        ['y', join(directory, 'a.safetensors')],
        ['z', join(directory, 'b.safetensors')],
      ]);
      assert.deepEqual(checkpoint.metadata, { total_size: 14 });
      assert.deepEqual(await checkpoint.readTensor('z', 'float32'), new Float32Array([1]));
      assert.deepEqual(await checkpoint.readTensor('y', 'float64'), new Float64Array([9]));
    } finally {
      await checkpoint.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
