// Tests of the Flax msgpack reader on files written with Python's msgpack package the way
// flax.serialization.to_bytes writes them, on the fixtures, and on invalid files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { openFlaxMsgpack } from '../../../src/formats/flax/reader';

const PYTHON = '/usr/bin/python3';

/**
 * Writes argv[1] as flax.serialization.to_bytes would (ndarray leaves as extension type 1, NumPy scalars as type 3,
 * complex numbers as type 2, an array in Flax's chunked form), and prints the expected arrays, each decoded back
 * from the file by msgpack.unpackb, as {name: [dtype name, shape, sha256]}. sha256 is over float32 values for
 * floating types and int64 values otherwise.
 */
const WRITE_CHECKPOINT = String.raw`
import hashlib, json, sys
import msgpack
import numpy as np

def ext(array, code=1):
    return msgpack.ExtType(code, msgpack.packb((array.shape, array.dtype.name, array.tobytes("C")), use_bin_type=True))

rng = np.random.default_rng(0)
bf16_bits = np.array([0x3FC0, 0xBE9A, 0x4049], dtype="<u2")
chunked = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
tree = {
    "params": {
        "Dense_0": {"kernel": ext(rng.standard_normal((3, 5)).astype(np.float32)), "bias": ext(np.zeros(5, np.float32))},
        "Embed_0": {"embedding": ext(rng.standard_normal((4, 2)).astype(np.float16))},
        "Norm": {"scale": msgpack.ExtType(1, msgpack.packb(((3,), "bfloat16", bf16_bits.tobytes()), use_bin_type=True))},
        "Big": {"__msgpack_chunked_array__": True, "shape": {"0": 3, "1": 4},
                "chunks": {"0": ext(chunked.reshape(-1)[:5]), "1": ext(chunked.reshape(-1)[5:])}},
    },
    "batch_stats": {"mask": ext(np.array([True, False, True])), "counts": ext(np.array([[1, -2], [3, 2 ** 40]], np.int64))},
    "extra": {"u16": ext(np.array([1, 2], np.uint16)), "c64": ext(np.array([1 + 2j], np.complex64))},
    "step": 100,
    "huge": 2 ** 60,
    "lr": 0.001,
    "name": "run-7",
    "ema": msgpack.ExtType(3, msgpack.packb(((), "float32", np.float32(0.5).tobytes()), use_bin_type=True)),
    "phase": msgpack.ExtType(2, msgpack.packb((1.5, -2.0))),
    "empty": {},
}
payload = msgpack.packb(tree, use_bin_type=True)
with open(sys.argv[1], "wb") as handle:
    handle.write(payload)

def hook(code, data):
    if code != 1:
        return msgpack.ExtType(code, data)
    shape, dtype, raw = msgpack.unpackb(data, raw=False)
    if dtype == "bfloat16":
        return ("bfloat16", (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4").reshape(shape))
    return (dtype, np.frombuffer(raw, dtype).reshape(shape))

def walk(prefix, node, out):
    if isinstance(node, dict) and "__msgpack_chunked_array__" in node:
        parts = [node["chunks"][str(i)] for i in range(len(node["chunks"]))]
        shape = [node["shape"][str(i)] for i in range(len(node["shape"]))]
        out[prefix] = (parts[0][0], np.concatenate([p[1] for p in parts]).reshape(shape))
    elif isinstance(node, dict):
        for key, value in node.items():
            walk(f"{prefix}/{key}" if prefix else key, value, out)
    elif isinstance(node, tuple) and len(node) == 2 and isinstance(node[1], np.ndarray):
        out[prefix] = node

arrays = {}
walk("", msgpack.unpackb(payload, ext_hook=hook, raw=False), arrays)
expected = {}
for name, (dtype, array) in arrays.items():
    # Complex arrays are listed but not read, so their hash is of the real parts only.
    canonical = array.astype("<f4") if array.dtype.kind == "f" else array.real.astype("<i8")
    expected[name] = [dtype, list(array.shape), hashlib.sha256(canonical.tobytes()).hexdigest()]
print(json.dumps(expected))
`;

const folder = mkdtempSync(join(tmpdir(), 'flax-reader-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const checkpointPath = join(folder, 'state.msgpack');
const expected = JSON.parse(execFileSync(PYTHON, ['-c', WRITE_CHECKPOINT, checkpointPath], { encoding: 'utf8' })) as Record<string, [string, number[], string]>;

const DTYPES: Record<string, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', bool: 'BOOL', int64: 'I64', uint16: 'U16', complex64: 'complex64' };

function sha256(view: ArrayBufferView): string {
  return createHash('sha256').update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).digest('hex');
}

test('arrays match msgpack.unpackb', async () => {
  const checkpoint = await openFlaxMsgpack(checkpointPath);
  try {
    assert.equal(checkpoint.format, 'flax-msgpack');
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name).sort(), Object.keys(expected).sort());
    for (const entry of checkpoint.tensors) {
      const [numpyName, shape, hash] = expected[entry.name];
      assert.equal(entry.dtype, DTYPES[numpyName], entry.name);
      assert.deepEqual(entry.shape, shape, entry.name);
      if (entry.dtype === 'complex64') {
        await assert.rejects(checkpoint.readTensor(entry.name), /NumPy dtype complex64, which this reader cannot convert/);
      } else if (entry.dtype.startsWith('F') || entry.dtype === 'BF16') {
        assert.equal(sha256(await checkpoint.readTensor(entry.name, 'float32')), hash, entry.name);
      } else {
        const stored = (await checkpoint.readTensor(entry.name)).data as unknown as ArrayLike<number | bigint>;
        assert.equal(sha256(BigInt64Array.from({ length: stored.length }, (_, i) => BigInt(stored[i]))), hash, entry.name);
      }
    }
  } finally {
    await checkpoint.close();
  }
});

test('array offsets point at the raw bytes', async () => {
  const checkpoint = await openFlaxMsgpack(checkpointPath);
  const entry = checkpoint.tensors.find((candidate) => candidate.name === 'params/Dense_0/kernel');
  assert.ok(entry);
  assert.equal(entry.length, 60);
  const fileBytes = readFileSync(checkpointPath).subarray(entry.offset, entry.offset + entry.length);
  const values = await checkpoint.readTensor(entry.name, 'float32');
  assert.deepEqual(new Uint8Array(fileBytes), new Uint8Array(values.buffer));
  await checkpoint.close();
});

test('chunked array reads whole and in chunks', async () => {
  const checkpoint = await openFlaxMsgpack(checkpointPath);
  const whole = await checkpoint.readTensor('params/Big', 'float32');
  assert.deepEqual([...whole], Array.from({ length: 12 }, (_, i) => Math.fround(Math.fround(i) / 7)));
  const parts: number[] = [];
  for await (const chunk of checkpoint.readTensorChunks('params/Big', 20)) {
    assert.ok(chunk.length <= 5);
    parts.push(...chunk);
  }
  assert.deepEqual(parts, [...whole]);
  await checkpoint.close();
});

test('scalars go into the metadata', async () => {
  const checkpoint = await openFlaxMsgpack(checkpointPath);
  const scalars = checkpoint.metadata.scalars as Record<string, unknown>;
  assert.equal(scalars.step, 100);
  assert.equal(scalars.huge, (2n ** 60n).toString());
  assert.equal(scalars.lr, 0.001);
  assert.equal(scalars.name, 'run-7');
  assert.equal(scalars.ema, 0.5);
  assert.deepEqual(scalars.phase, { real: 1.5, imag: -2 });
  assert.match(String(checkpoint.metadata.layout), /Dense kernels are \[in, out\]/);
  await checkpoint.close();
});

const fixturesManifest = join(__dirname, '../../fixtures/manifest.json');
interface ManifestFile { path: string; format: string; tensors: { name: string; shape: number[]; dtype: string; sha256: string }[] }
const flaxFixtures = existsSync(fixturesManifest)
  ? ((JSON.parse(readFileSync(fixturesManifest, 'utf8')) as { files?: ManifestFile[] }).files ?? []).filter((file) => file.format === 'flax-msgpack')
  : [];

test('Flax fixtures match the manifest', { skip: flaxFixtures.length === 0 ? 'no flax-msgpack fixtures in the manifest' : false }, async () => {
  for (const file of flaxFixtures) {
    const checkpoint = await openFlaxMsgpack(join(__dirname, '../../fixtures', file.path));
    try {
      assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), file.tensors.map((tensor) => tensor.name), file.path);
      for (const tensor of file.tensors) {
        const entry = checkpoint.tensors.find((candidate) => candidate.name === tensor.name);
        assert.ok(entry, `${file.path}: ${tensor.name}`);
        assert.deepEqual(entry.shape, tensor.shape, `${file.path}: ${tensor.name}`);
        assert.equal(entry.dtype, tensor.dtype, `${file.path}: ${tensor.name}`);
        assert.equal(sha256(await checkpoint.readTensor(tensor.name, 'float32')), tensor.sha256, `${file.path}: ${tensor.name}`);
      }
    } finally {
      await checkpoint.close();
    }
  }
});

async function assertOpenFails(bytes: Uint8Array, pattern: RegExp, label: string): Promise<void> {
  const path = join(folder, `${label}.msgpack`);
  writeFileSync(path, bytes);
  await assert.rejects(openFlaxMsgpack(path), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, String(error));
    assert.match(error.message, pattern, label);
    assert.ok(error.message.startsWith(path), error.message);
    assert.equal(typeof error.detail.offset, 'number', label);
    return true;
  });
}

test('truncated files are rejected', async () => {
  const bytes = readFileSync(checkpointPath);
  // Cuts inside a key, inside an array's raw bytes, inside a header, and after the first byte.
  for (const keep of [bytes.length - 1, Math.floor(bytes.length / 2), 30, 1]) {
    await assertOpenFails(bytes.subarray(0, keep), /truncated/, `truncated-${keep}`);
  }
});

test('deep nesting is rejected', async () => {
  // 100,000 nested single-entry maps: {"a": {"a": … }}.
  const depth = 100_000;
  const bytes = new Uint8Array(depth * 3 + 1);
  for (let i = 0; i < depth; i++) bytes.set([0x81, 0xa1, 0x61], i * 3);
  bytes[depth * 3] = 0xc0;
  await assertOpenFails(bytes, /nested deeper than 256 levels/, 'deep');
});

test('corrupt structures are rejected', async () => {
  await assertOpenFails(Uint8Array.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61, 0x01]), /declares 4294967295 entries/, 'huge-map');
  await assertOpenFails(Uint8Array.from([0x81, 0xa1, 0x61, 0xc1]), /invalid msgpack type byte 0xc1/, 'invalid-byte');
  await assertOpenFails(Uint8Array.from([0x80, 0x80]), /unexpected data after the msgpack value/, 'trailing');
  await assertOpenFails(Uint8Array.from([0x81, 0x90, 0x01]), /map key .* is a array/, 'array-key');
  // An ndarray extension whose shape [4] needs 16 float32 bytes but whose data has 8.
  const payload = Uint8Array.from([0x93, 0x91, 0x04, 0xa7, ...Buffer.from('float32'), 0xc4, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]);
  const file = Uint8Array.from([0x81, 0xa1, 0x77, 0xc7, payload.length, 0x01, ...payload]);
  await assertOpenFails(file, /array "w": 8 data bytes but float32 \[4\] needs 16/, 'short-array');
});
