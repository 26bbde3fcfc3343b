// Tests of the ONNX reader on models built with the onnx Python package: raw_data, typed fields, external data,
// the graph summary, and invalid files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { onnx } from 'onnx-proto';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { loadOnnxModel, openOnnx } from '../../../src/formats/onnx/reader';

const PYTHON = '/usr/bin/python3';

/**
 * Builds model.onnx in argv[1]: y = Relu(x · W1 + b1) · W2, where W1 is raw_data, b1 float_data, W2 external data
 * (weights.bin at offset 16), plus unused initializers in int64_data, float16 and bfloat16 int32_data and int8.
 * argv[2] picks a defect: "escape" and "absolute" external locations, "dot" and "folder" locations that name the
 * model's folder and its empty subfolder data/, "short-raw" raw_data.
 * Prints each initializer's ONNX type, shape and the sha256 of its values (float32 for floats, int64 for integers).
 */
const BUILD_MODEL = String.raw`
import hashlib, json, os, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

out, variant = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
W1 = rng.standard_normal((3, 4)).astype(np.float32)
b1 = rng.standard_normal(4).astype(np.float32)
W2 = rng.standard_normal((4, 2)).astype(np.float32)

w1 = numpy_helper.from_array(W1, "W1")
if variant == "short-raw":
    w1.raw_data = w1.raw_data[:-4]
inits = [
    w1,
    helper.make_tensor("b1", TensorProto.FLOAT, [4], b1.tolist()),
    helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 2 ** 40]),
    helper.make_tensor("half", TensorProto.FLOAT16, [3], [1.5, 2.0, -0.25]),
    helper.make_tensor("brain", TensorProto.BFLOAT16, [2], [1.5, -0.30078125]),
    helper.make_tensor("small", TensorProto.INT8, [3], [1, -2, 3]),
]
with open(os.path.join(out, "weights.bin"), "wb") as handle:
    handle.write(b"\x07" * 16 + W2.tobytes())
w2 = TensorProto(name="W2", data_type=TensorProto.FLOAT, dims=[4, 2], data_location=TensorProto.EXTERNAL)
os.makedirs(os.path.join(out, "data"))
location = {"escape": "../weights.bin", "absolute": os.path.join(out, "weights.bin"), "dot": ".", "folder": "data"}.get(variant, "weights.bin")
for key, value in (("location", location), ("offset", "16"), ("length", "32")):
    entry = w2.external_data.add()
    entry.key, entry.value = key, value
inits.append(w2)

nodes = [
    helper.make_node("MatMul", ["x", "W1"], ["h"]),
    helper.make_node("Add", ["h", "b1"], ["a"]),
    helper.make_node("Relu", ["a"], ["r"]),
    helper.make_node("MatMul", ["r", "W2"], ["y"]),
]
graph = helper.make_graph(
    nodes, "mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
    inits,
)
model = helper.make_model(graph, producer_name="reader-test", producer_version="1.0", opset_imports=[helper.make_opsetid("", 13)])
helper.set_model_props(model, {"source": "test"})
with open(os.path.join(out, "model.onnx"), "wb") as handle:
    handle.write(model.SerializeToString())

def value_hash(array):
    array = array.astype("<f4") if np.issubdtype(array.dtype, np.floating) else array.astype("<i8")
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()

if variant == "valid":
    expected = {}
    for tensor in model.graph.initializer:
        array = numpy_helper.to_array(tensor, base_dir=out)
        expected[tensor.name] = {"type": TensorProto.DataType.Name(tensor.data_type), "shape": list(tensor.dims), "sha256": value_hash(array)}
    print(json.dumps(expected))
`;

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function buildModel(variant: string): { folder: string; path: string; expected: Record<string, { type: string; shape: number[]; sha256: string }> } {
  const folder = mkdtempSync(join(tmpdir(), 'onnx-reader-'));
  folders.push(folder);
  const output = execFileSync(PYTHON, ['-c', BUILD_MODEL, folder, variant], { encoding: 'utf8' });
  return { folder, path: join(folder, 'model.onnx'), expected: variant === 'valid' ? JSON.parse(output) : {} };
}

function valueHash(values: ArrayBufferView): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

const valid = buildModel('valid');

test('initializers match numpy_helper', async () => {
  const checkpoint = await openOnnx(valid.path);
  try {
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), ['W1', 'b1', 'shape', 'half', 'brain', 'small', 'W2']);
    const dtypes = Object.fromEntries(checkpoint.tensors.map((entry) => [entry.name, entry.dtype]));
    assert.deepEqual(dtypes, { W1: 'F32', b1: 'F32', shape: 'I64', half: 'F16', brain: 'BF16', small: 'I8', W2: 'F32' });
    for (const entry of checkpoint.tensors) {
      const expected = valid.expected[entry.name];
      assert.deepEqual(entry.shape, expected.shape, entry.name);
      if (entry.dtype === 'I64' || entry.dtype === 'I8') {
        const stored = await checkpoint.readTensor(entry.name);
        const integers = stored.data as unknown as ArrayLike<number | bigint>;
        const asInt64 = BigInt64Array.from({ length: integers.length }, (_, i) => BigInt(integers[i]));
        assert.equal(valueHash(asInt64), expected.sha256, entry.name);
      } else {
        assert.equal(valueHash(await checkpoint.readTensor(entry.name, 'float32')), expected.sha256, entry.name);
      }
    }
  } finally {
    await checkpoint.close();
  }
});

test('int64_data keeps values beyond 2^32', async () => {
  const checkpoint = await openOnnx(valid.path);
  const stored = await checkpoint.readTensor('shape');
  assert.deepEqual([...(stored.data as BigInt64Array)], [-1n, 2n ** 40n]);
  await checkpoint.close();
});

test('raw_data offset points at the tensor bytes', async () => {
  const checkpoint = await openOnnx(valid.path);
  const entry = checkpoint.tensors.find((candidate) => candidate.name === 'W1');
  assert.ok(entry);
  assert.equal(entry.length, 48);
  assert.equal(entry.file, undefined);
  const fileBytes = readFileSync(valid.path).subarray(entry.offset, entry.offset + entry.length);
  const values = await checkpoint.readTensor('W1', 'float32');
  assert.deepEqual(new Uint8Array(fileBytes), new Uint8Array(values.buffer));
  await checkpoint.close();
});

test('external data entry names its file and offset', async () => {
  const checkpoint = await openOnnx(valid.path);
  const entry = checkpoint.tensors.find((candidate) => candidate.name === 'W2');
  assert.ok(entry);
  assert.equal(entry.file, join(valid.folder, 'weights.bin'));
  assert.equal(entry.offset, 16);
  assert.equal(entry.length, 32);
  await checkpoint.close();
});

test('chunks cover the tensor in order', async () => {
  const checkpoint = await openOnnx(valid.path);
  for (const name of ['W1', 'W2', 'b1', 'half']) {
    const whole = await checkpoint.readTensor(name, 'float32');
    const parts: number[] = [];
    for await (const chunk of checkpoint.readTensorChunks(name, 12)) {
      assert.ok(chunk.length <= 3, name);
      parts.push(...chunk);
    }
    assert.deepEqual(parts, [...whole], name);
  }
  await checkpoint.close();
});

test('graph summary lists inputs, opsets and operators', async () => {
  const checkpoint = await openOnnx(valid.path);
  const graph = checkpoint.metadata.graph as Record<string, unknown>;
  assert.deepEqual(graph.inputs, [{ name: 'x', kind: 'tensor', elementType: 'F32', shape: ['batch', 3] }]);
  assert.deepEqual(graph.outputs, [{ name: 'y', kind: 'tensor', elementType: 'F32', shape: ['batch', 2] }]);
  assert.deepEqual(graph.opsetImports, [{ domain: '', version: 13 }]);
  assert.deepEqual(graph.operatorCounts, { MatMul: 2, Add: 1, Relu: 1 });
  assert.equal(graph.nodeCount, 4);
  assert.equal(graph.producerName, 'reader-test');
  assert.equal(graph.producerVersion, '1.0');
  assert.equal(graph.irVersion, 8);
  assert.deepEqual(checkpoint.metadata.metadataProps, { source: 'test' });
  await checkpoint.close();
});

test('loadOnnxModel returns the whole graph', async () => {
  const model = await loadOnnxModel(valid.path);
  assert.deepEqual(model.graph?.node?.map((node) => node.opType), ['MatMul', 'Add', 'Relu', 'MatMul']);
  assert.equal(model.graph?.initializer?.[0].rawData?.length, 48);
});

test('unknown tensor name is rejected', async () => {
  const checkpoint = await openOnnx(valid.path);
  await assert.rejects(checkpoint.readTensor('missing'), /no tensor named "missing"/);
  await checkpoint.close();
});

async function assertOpenFails(path: string, pattern: RegExp, tensor?: string): Promise<void> {
  await assert.rejects(openOnnx(path), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, String(error));
    assert.match(error.message, pattern);
    assert.ok(error.message.includes(path), error.message);
    if (tensor !== undefined) assert.equal(error.detail.tensor, tensor);
    return true;
  });
}

test('truncated model is rejected', async () => {
  const { folder } = buildModel('valid');
  const path = join(folder, 'model.onnx');
  const bytes = readFileSync(path);
  for (const keep of [bytes.length - 1, Math.floor(bytes.length / 2), 7]) {
    writeFileSync(path, bytes.subarray(0, keep));
    await assertOpenFails(path, /truncated/);
  }
});

test('non-ONNX files are rejected', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'onnx-reader-'));
  folders.push(folder);
  const samples: Record<string, Uint8Array> = {
    'text.onnx': Buffer.from('This is a plain text file, not a model.\n'),
    'empty.onnx': new Uint8Array(0),
    'png.onnx': Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
    'safetensors.onnx': Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')]),
    'no-ir-version.onnx': onnx.ModelProto.encode({ graph: { name: 'g' } }).finish(),
  };
  for (const [name, bytes] of Object.entries(samples)) {
    const path = join(folder, name);
    writeFileSync(path, bytes);
    await assertOpenFails(path, /not (a valid ONNX model|an ONNX model)/);
  }
});

test('missing external data file is named', async () => {
  const { folder, path } = buildModel('valid');
  rmSync(join(folder, 'weights.bin'));
  await assertOpenFails(path, /initializer "W2".*weights\.bin.*not found/, 'W2');
});

test('short external data file is named', async () => {
  const { folder, path } = buildModel('valid');
  truncateSync(join(folder, 'weights.bin'), 40);
  await assertOpenFails(path, /initializer "W2".*weights\.bin.*40 bytes.*48/, 'W2');
});

test('external location outside the folder is rejected', async () => {
  await assertOpenFails(buildModel('escape').path, /"W2".*"\.\.\/weights\.bin" leaves the model's folder/, 'W2');
  await assertOpenFails(buildModel('absolute').path, /"W2".*leaves the model's folder/, 'W2');
});

test('external location naming a folder is rejected', async () => {
  await assertOpenFails(buildModel('dot').path, /"W2": external data location "\." names a folder, not a file/, 'W2');
  await assertOpenFails(buildModel('folder').path, /"W2": external data location "data" names a folder, not a file/, 'W2');
});

test('external data behind a symbolic link is rejected', async () => {
  const { folder, path } = buildModel('valid');
  const outside = mkdtempSync(join(tmpdir(), 'onnx-outside-'));
  renameSync(join(folder, 'weights.bin'), join(outside, 'weights.bin'));
  symlinkSync(join(outside, 'weights.bin'), join(folder, 'weights.bin'));
  await assertOpenFails(path, /"W2".*"weights\.bin" is a link to .*outside the model's folder/, 'W2');
  rmSync(outside, { recursive: true, force: true });
});

/** Builds argv[1]/big.onnx whose initializer "far" lies 3 GiB into a sparse external data file. */
const BUILD_FAR_EXTERNAL = String.raw`
import os, sys
import numpy as np
from onnx import helper, TensorProto

out = sys.argv[1]
offset = 3 << 30
with open(os.path.join(out, "big.bin"), "wb") as handle:
    handle.truncate(offset)
    handle.seek(offset)
    handle.write(np.array([1.5, -2.5, 3.5, 4.25], dtype="<f4").tobytes())
far = TensorProto(name="far", data_type=TensorProto.FLOAT, dims=[4], data_location=TensorProto.EXTERNAL)
for key, value in (("location", "big.bin"), ("offset", str(offset)), ("length", "16")):
    entry = far.external_data.add()
    entry.key, entry.value = key, value
graph = helper.make_graph(
    [helper.make_node("Add", ["x", "far"], ["y"])], "far",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
    [far],
)
with open(os.path.join(out, "big.onnx"), "wb") as handle:
    handle.write(helper.make_model(graph).SerializeToString())
`;

test('external data beyond 2 GiB reads one tensor', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'onnx-reader-'));
  folders.push(folder);
  execFileSync(PYTHON, ['-c', BUILD_FAR_EXTERNAL, folder]);
  const checkpoint = await openOnnx(join(folder, 'big.onnx'));
  const entry = checkpoint.tensors[0];
  assert.equal(entry.offset, 3 * 2 ** 30);
  assert.equal(entry.length, 16);
  assert.deepEqual([...(await checkpoint.readTensor('far', 'float32'))], [1.5, -2.5, 3.5, 4.25]);
  await checkpoint.close();
});

test('raw_data of the wrong length is rejected', async () => {
  await assertOpenFails(buildModel('short-raw').path, /"W1": raw_data holds 44 bytes but FLOAT \[3,4\] needs 48/, 'W1');
});
