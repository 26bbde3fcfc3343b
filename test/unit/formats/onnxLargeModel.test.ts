// ONNX reader on a model of about 200 MB whose initializers are stored inside the .onnx file. Opening must read
// only the model's structure, never the initializers' raw_data, and each tensor read must read only that
// tensor's bytes. The onnx Python package writes the model and hashes each initializer with numpy_helper.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CheckpointError, type Checkpoint } from '../../../src/formats/checkpoint';
import { openOnnx } from '../../../src/formats/onnx/reader';

/**
 * Writes argv[1]/large.onnx: 40 F32 raw_data initializers of 5 MB each, an I64 and an F16 raw_data initializer,
 * a float_data initializer of 1.2 MB (large enough to be read on demand) and a small int64_data one.
 * Prints, for each initializer, its shape and the sha256 of numpy_helper.to_array's little-endian bytes.
 */
const BUILD_MODEL = String.raw`
import hashlib, json, os, sys
import numpy as np
from onnx import helper, numpy_helper, TensorProto

out = sys.argv[1]
rng = np.random.default_rng(0)
inits = [numpy_helper.from_array(rng.standard_normal((1250, 1000), dtype=np.float32), f"layer{i}.weight") for i in range(40)]
inits.append(numpy_helper.from_array(rng.integers(-2**62, 2**62, size=(3, 5), dtype=np.int64), "positions"))
inits.append(numpy_helper.from_array(rng.standard_normal(7).astype(np.float16), "scale"))
inits.append(helper.make_tensor("typed_large", TensorProto.FLOAT, [300, 1000], rng.standard_normal(300000).astype(np.float32).tolist()))
inits.append(helper.make_tensor("typed_small", TensorProto.INT64, [4], [1, -1, 2**40, 7]))
nodes = [helper.make_node("Add", ["x", init.name], [f"y{i}"]) for i, init in enumerate(inits)]
graph = helper.make_graph(
    nodes, "large",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch"])],
    [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, None) for i in range(len(inits))],
    inits,
)
model = helper.make_model(graph, producer_name="large-onnx-test", opset_imports=[helper.make_opsetid("", 13)])
with open(os.path.join(out, "large.onnx"), "wb") as handle:
    handle.write(model.SerializeToString())

expected = {}
for tensor in model.graph.initializer:
    array = numpy_helper.to_array(tensor)
    expected[tensor.name] = {"shape": list(tensor.dims), "sha256": hashlib.sha256(array.astype(array.dtype.newbyteorder("<")).tobytes()).hexdigest()}
print(json.dumps(expected))
`;

/** Bytes that opening may read: field heads around each initializer and the graph's nodes (173 KB here). */
const MAX_OPEN_READ_BYTES = 1024 * 1024;
const MIN_MODEL_BYTES = 200_000_000;
/**
 * Bytes that the process's other reads may add to rchar during one tensor read: reading /proc/self/io adds about
 * 130, and Node itself sometimes reads more (1.8 KB seen). Each initializer is 5 MB, so this still proves one tensor.
 */
const OTHER_READ_BYTES = 64 * 1024;

let folder = '';
let path = '';
let expected: Record<string, { shape: number[]; sha256: string }> = {};
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'onnx-large-'));
  path = join(folder, 'large.onnx');
  expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', BUILD_MODEL, folder], { encoding: 'utf8', maxBuffer: 1024 * 1024 }));
});
after(() => rmSync(folder, { recursive: true, force: true }));

/** Bytes this process has read through read(2) and similar calls, from Linux's /proc/self/io. */
function bytesReadByProcess(): number {
  const match = /^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  assert.ok(match, '/proc/self/io has an rchar line');
  return Number(match[1]);
}

function valueHash(values: ArrayBufferView): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

async function openCounting(): Promise<{ checkpoint: Checkpoint; bytesRead: number }> {
  const before = bytesReadByProcess();
  const checkpoint = await openOnnx(path);
  return { checkpoint, bytesRead: bytesReadByProcess() - before };
}

test('generated model is over 200 MB', () => {
  assert.ok(statSync(path).size > MIN_MODEL_BYTES, `model has ${statSync(path).size} bytes`);
});

test('opening reads no raw_data', async () => {
  const { checkpoint, bytesRead } = await openCounting();
  try {
    assert.ok(bytesRead > 0, 'rchar counted the open');
    assert.ok(bytesRead < MAX_OPEN_READ_BYTES, `open read ${bytesRead} bytes`);
    assert.equal(checkpoint.tensors.length, 44);
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name).sort(), Object.keys(expected).sort());
    for (const entry of checkpoint.tensors) assert.deepEqual(entry.shape, expected[entry.name].shape, entry.name);
  } finally {
    await checkpoint.close();
  }
});

test('opening keeps the graph summary', async () => {
  const { checkpoint } = await openCounting();
  try {
    const graph = checkpoint.metadata.graph as Record<string, unknown>;
    assert.equal(graph.producerName, 'large-onnx-test');
    assert.equal(graph.nodeCount, 44);
    assert.deepEqual(graph.operatorCounts, { Add: 44 });
    assert.deepEqual(graph.opsetImports, [{ domain: '', version: 13 }]);
    assert.equal(graph.initializerCount, 44);
    assert.deepEqual(graph.inputs, [{ name: 'x', kind: 'tensor', elementType: 'F32', shape: ['batch'] }]);
  } finally {
    await checkpoint.close();
  }
});

test('tensor reads read only their bytes', async () => {
  const { checkpoint } = await openCounting();
  try {
    for (const entry of checkpoint.tensors) {
      if (entry.name.startsWith('typed_')) continue;
      const before = bytesReadByProcess();
      const stored = await checkpoint.readTensor(entry.name);
      const bytesRead = bytesReadByProcess() - before;
      assert.ok(bytesRead >= entry.length, `${entry.name}: read ${bytesRead} of its ${entry.length} bytes`);
      assert.ok(bytesRead - entry.length < OTHER_READ_BYTES, `${entry.name}: read ${bytesRead - entry.length} bytes beyond its ${entry.length}`);
      assert.equal(valueHash(stored.data), expected[entry.name].sha256, entry.name);
    }
  } finally {
    await checkpoint.close();
  }
});

test('large float_data is read on demand', async () => {
  const { checkpoint, bytesRead } = await openCounting();
  try {
    const entry = checkpoint.tensors.find((candidate) => candidate.name === 'typed_large');
    assert.ok(entry);
    assert.ok(bytesRead < entry.length, `open read ${bytesRead} bytes, the float_data field has ${entry.length}`);
    const values = await checkpoint.readTensor('typed_large', 'float32');
    assert.equal(valueHash(values), expected.typed_large.sha256);

    const chunked: number[] = [];
    for await (const chunk of checkpoint.readTensorChunks('typed_large', 4096)) {
      assert.ok(chunk.length <= 1024);
      chunked.push(...chunk);
    }
    assert.deepEqual(chunked, [...values]);
  } finally {
    await checkpoint.close();
  }
});

test('small int64_data is decoded at open', async () => {
  const { checkpoint } = await openCounting();
  try {
    const stored = await checkpoint.readTensor('typed_small');
    assert.deepEqual([...(stored.data as BigInt64Array)], [1n, -1n, 2n ** 40n, 7n]);
    assert.equal(valueHash(stored.data), expected.typed_small.sha256);
  } finally {
    await checkpoint.close();
  }
});

test('reads after close are rejected', async () => {
  const { checkpoint } = await openCounting();
  await checkpoint.close();
  await assert.rejects(checkpoint.readTensor('typed_large'), /closed/);
  await assert.rejects(checkpoint.readTensor('layer0.weight'), /closed/);
});

// Runs last: it cuts the model in half, inside the raw_data of an initializer.
test('model cut inside raw_data is rejected', async () => {
  truncateSync(path, Math.floor(statSync(path).size / 2));
  await assert.rejects(openOnnx(path), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, String(error));
    assert.match(error.message, /truncated/);
    return true;
  });
});
