// Tests of writeOnnxWithInitializers: values read back, onnx.checker accepts the output, onnxruntime computes
// with the new weights, and everything else in the template survives.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { OutputOverwritesInputError } from '../../../src/formats/atomicWrite';
import type { NamedTensor } from '../../../src/formats/checkpoint';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { openOnnx } from '../../../src/formats/onnx/reader';
import { encodeVarint, scanFields } from '../../../src/formats/onnx/wire';
import { writeOnnxWithInitializers } from '../../../src/formats/onnx/writer';

const PYTHON = '/usr/bin/python3';

/** model.onnx in argv[1]: y = Relu(x · W1 + b1) · W2 + b2; W1 raw_data, b1 and b2 float_data, W2 external data. */
const BUILD_TEMPLATE = String.raw`
import os, sys
import numpy as np
from onnx import helper, numpy_helper, TensorProto

out = sys.argv[1]
rng = np.random.default_rng(1)
W1 = rng.standard_normal((3, 5)).astype(np.float32)
W2 = rng.standard_normal((5, 2)).astype(np.float32)
with open(os.path.join(out, "w2.bin"), "wb") as handle:
    handle.write(W2.tobytes())
w2 = TensorProto(name="W2", data_type=TensorProto.FLOAT, dims=[5, 2], data_location=TensorProto.EXTERNAL)
for key, value in (("location", "w2.bin"), ("offset", "0"), ("length", "40")):
    entry = w2.external_data.add()
    entry.key, entry.value = key, value
inits = [
    numpy_helper.from_array(W1, "W1"),
    helper.make_tensor("b1", TensorProto.FLOAT, [5], rng.standard_normal(5).astype(np.float32).tolist()),
    w2,
    helper.make_tensor("b2", TensorProto.FLOAT, [2], [0.25, -0.5]),
]
nodes = [
    helper.make_node("MatMul", ["x", "W1"], ["h"]),
    helper.make_node("Add", ["h", "b1"], ["a"]),
    helper.make_node("Relu", ["a"], ["r"]),
    helper.make_node("MatMul", ["r", "W2"], ["m"]),
    helper.make_node("Add", ["m", "b2"], ["y"]),
]
graph = helper.make_graph(
    nodes, "mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
    inits,
)
model = helper.make_model(graph, producer_name="writer-test", opset_imports=[helper.make_opsetid("", 13)])
helper.set_model_props(model, {"source": "test", "tool": "old"})
with open(os.path.join(out, "model.onnx"), "wb") as handle:
    handle.write(model.SerializeToString())
`;

/** Runs onnx.checker on argv[1] and prints the sha256 of each initializer's float32 values as JSON. */
const CHECK_OUTPUT = String.raw`
import hashlib, json, sys
import numpy as np
import onnx
from onnx import numpy_helper

model = onnx.load(sys.argv[1])
onnx.checker.check_model(model)
print(json.dumps({t.name: hashlib.sha256(numpy_helper.to_array(t).astype("<f4").tobytes()).hexdigest() for t in model.graph.initializer}))
`;

const folder = mkdtempSync(join(tmpdir(), 'onnx-writer-'));
after(() => rmSync(folder, { recursive: true, force: true }));
execFileSync(PYTHON, ['-c', BUILD_TEMPLATE, folder]);
const template = join(folder, 'model.onnx');

async function readAll(path: string): Promise<Record<string, Float32Array>> {
  const checkpoint = await openOnnx(path);
  try {
    const values: Record<string, Float32Array> = {};
    for (const entry of checkpoint.tensors) values[entry.name] = await checkpoint.readTensor(entry.name, 'float32');
    return values;
  } finally {
    await checkpoint.close();
  }
}

function f32(name: string, shape: number[], data: Float32Array): NamedTensor {
  return { name, dtype: 'F32', shape, data };
}

/** y = Relu(x · W1 + b1) · W2 + b2 for one row x, in float64. */
function forward(x: number[], weights: Record<string, Float32Array>): number[] {
  const hidden = Array.from({ length: 5 }, (_, j) => Math.max(0, x.reduce((sum, xi, i) => sum + xi * weights.W1[i * 5 + j], 0) + weights.b1[j]));
  return Array.from({ length: 2 }, (_, k) => hidden.reduce((sum, h, j) => sum + h * weights.W2[j * 2 + k], 0) + weights.b2[k]);
}

async function runModel(path: string, x: number[]): Promise<number[]> {
  const session = await ort.InferenceSession.create(path);
  try {
    const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [1, 3]) });
    return [...(result.y.data as Float32Array)];
  } finally {
    await session.release();
  }
}

function sha256(values: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

test('written model carries the new values', async () => {
  const original = await readAll(template);
  const W1 = original.W1.map((value) => -1.5 * value);
  const b1 = Float32Array.from([0.5, -0.25, 1, 2, -3]);
  const output = join(folder, 'replaced.onnx');
  await writeOnnxWithInitializers(output, template, [f32('W1', [3, 5], W1), f32('b1', [5], b1)], {
    inputs: [],
    metadata: { tool: 'checkpoint-aligner', lambda: '0.5' },
  });

  const written = await readAll(output);
  assert.deepEqual(written.W1, W1);
  assert.deepEqual(written.b1, b1);
  assert.deepEqual(written.W2, original.W2);
  assert.deepEqual(written.b2, original.b2);

  const checkpoint = await openOnnx(output);
  assert.equal(checkpoint.tensors.find((entry) => entry.name === 'W2')?.file, undefined, 'external data is copied inline');
  assert.deepEqual(checkpoint.metadata.metadataProps, { source: 'test', tool: 'checkpoint-aligner', lambda: '0.5' });
  const source = await openOnnx(template);
  assert.deepEqual(checkpoint.metadata.graph, source.metadata.graph);
  await checkpoint.close();
  await source.close();

  const hashes = JSON.parse(execFileSync(PYTHON, ['-c', CHECK_OUTPUT, output], { encoding: 'utf8' })) as Record<string, string>;
  assert.deepEqual(hashes, { W1: sha256(W1), b1: sha256(b1), W2: sha256(original.W2), b2: sha256(original.b2) });

  const x = [0.3, -1.2, 2.0];
  const before = await runModel(template, x);
  const afterReplace = await runModel(output, x);
  const expectedBefore = forward(x, original);
  const expectedAfter = forward(x, { ...original, W1, b1 });
  for (let k = 0; k < 2; k++) {
    assert.ok(Math.abs(before[k] - expectedBefore[k]) < 1e-5, `template output ${before[k]} vs ${expectedBefore[k]}`);
    assert.ok(Math.abs(afterReplace[k] - expectedAfter[k]) < 1e-5, `written output ${afterReplace[k]} vs ${expectedAfter[k]}`);
  }
  assert.notDeepEqual(before, afterReplace);
});

test('unknown protobuf fields survive', async () => {
  // Field 999 is in no ONNX version; a copy must keep it as the template has it.
  const unknownField = Buffer.concat([encodeVarint(999 * 8), encodeVarint(424242)]);
  const withUnknown = join(folder, 'with-unknown.onnx');
  writeFileSync(withUnknown, Buffer.concat([readFileSync(template), unknownField]));
  const output = join(folder, 'with-unknown-out.onnx');
  await writeOnnxWithInitializers(output, withUnknown, [], { inputs: [] });
  const bytes = readFileSync(output);
  const field = scanFields(bytes).find((candidate) => candidate.fieldNumber === 999);
  assert.ok(field);
  assert.deepEqual(bytes.subarray(field.start, field.end), unknownField);
});

async function assertWriteFails(tensors: NamedTensor[], pattern: RegExp, tensor: string): Promise<void> {
  const output = join(folder, 'rejected.onnx');
  await assert.rejects(writeOnnxWithInitializers(output, template, tensors, { inputs: [] }), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, String(error));
    assert.match(error.message, pattern);
    assert.equal(error.detail.tensor, tensor);
    return true;
  });
  assert.equal(existsSync(output), false);
}

test('unknown initializer name is rejected', async () => {
  await assertWriteFails([f32('fc9.weight', [2], new Float32Array(2))], /no initializer named "fc9.weight"/, 'fc9.weight');
});

test('wrong shape is rejected', async () => {
  await assertWriteFails([f32('W1', [5, 3], new Float32Array(15))], /"W1" has shape \[3,5\] but the new values have shape \[5,3\]/, 'W1');
});

test('wrong dtype is rejected', async () => {
  await assertWriteFails([{ name: 'b2', dtype: 'F64', shape: [2], data: new Float64Array(2) }], /"b2" is F32 but the new values are F64/, 'b2');
});

test('writing over the template is rejected', async () => {
  await assert.rejects(writeOnnxWithInitializers(template, template, [], { inputs: [] }), OutputOverwritesInputError);
  assert.equal(readdirSync(folder).some((name) => name.endsWith('.partial')), false);
});
