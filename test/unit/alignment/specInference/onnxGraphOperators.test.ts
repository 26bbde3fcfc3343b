// Graph inference across operators the fixtures do not use: BatchNormalization after a biased Conv, a depthwise
// Conv, a per-channel Mul, a residual Add of two activations, GlobalAveragePool, Squeeze and Unsqueeze, Reshape to
// [0, -1] and LayerNormalization. The graph is written here and run in onnxruntime before and after permuting.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { elementCount } from '../../../../src/formats/checkpoint';
import { openOnnx } from '../../../../src/formats/onnx/reader';
import { writeOnnxWithInitializers } from '../../../../src/formats/onnx/writer';
import { inferSpecFromGraph } from '../../../../src/alignment/specInference/graphSpec';
import { maxRelativeDifference, permutedTensors, randomPermutations, resolveAgainst, runOnnx, withTemporaryDirectory } from './specTestHelpers';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const { INT, INTS } = onnx.AttributeProto.AttributeType;

const SHAPES: Record<string, number[]> = {
  'c1.weight': [4, 2, 3, 3], 'c1.bias': [4],
  'bn.weight': [4], 'bn.bias': [4], 'bn.running_mean': [4], 'bn.running_var': [4],
  'dw.weight': [4, 1, 3, 3], 'dw.bias': [4],
  scale: [1, 4, 1, 1],
  'fc1.weight': [5, 4], 'fc1.bias': [5],
  'ln.weight': [5], 'ln.bias': [5],
  'fc2.weight': [3, 5], 'fc2.bias': [3],
};

function initializer(name: string, shape: number[], index: number): onnx.ITensorProto {
  // Variances must be positive; everything else is a fixed pseudo-random pattern.
  const values = Float32Array.from({ length: elementCount(shape) }, (_, i) => (name.endsWith('running_var') ? 1.5 : 0) + Math.sin(index * 31 + i * 1.3));
  return { name, dataType: FLOAT, dims: shape, rawData: new Uint8Array(values.buffer) };
}

async function writeGraph(path: string): Promise<void> {
  const pads = { name: 'pads', type: INTS, ints: [1, 1, 1, 1] };
  const nodes: onnx.INodeProto[] = [
    { opType: 'Conv', name: 'c1', input: ['x', 'c1.weight', 'c1.bias'], output: ['a1'], attribute: [pads] },
    { opType: 'BatchNormalization', name: 'bn', input: ['a1', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], output: ['a2'] },
    { opType: 'Relu', name: 'relu', input: ['a2'], output: ['a3'] },
    { opType: 'Conv', name: 'dw', input: ['a3', 'dw.weight', 'dw.bias'], output: ['a4'], attribute: [pads, { name: 'group', type: INT, i: 4 }] },
    { opType: 'Mul', name: 'scale_mul', input: ['a4', 'scale'], output: ['a5'] },
    { opType: 'Add', name: 'residual', input: ['a5', 'a3'], output: ['a6'] },
    { opType: 'Sigmoid', name: 'sigmoid', input: ['a6'], output: ['a7'] },
    { opType: 'GlobalAveragePool', name: 'pool', input: ['a7'], output: ['a8'] },
    { opType: 'Squeeze', name: 'squeeze', input: ['a8', 'last_axis'], output: ['a8_squeezed'] },
    { opType: 'Unsqueeze', name: 'unsqueeze', input: ['a8_squeezed', 'last_axis'], output: ['a8_restored'] },
    { opType: 'Reshape', name: 'flatten', input: ['a8_restored', 'flat_shape'], output: ['a9'] },
    { opType: 'Gemm', name: 'fc1', input: ['a9', 'fc1.weight', 'fc1.bias'], output: ['a10'], attribute: [{ name: 'transB', type: INT, i: 1 }] },
    { opType: 'LayerNormalization', name: 'ln', input: ['a10', 'ln.weight', 'ln.bias'], output: ['a11'] },
    { opType: 'Tanh', name: 'tanh', input: ['a11'], output: ['a12'] },
    { opType: 'Gemm', name: 'fc2', input: ['a12', 'fc2.weight', 'fc2.bias'], output: ['y'], attribute: [{ name: 'transB', type: INT, i: 1 }] },
  ];
  const shape = new BigInt64Array([0n, -1n]);
  const valueInfo = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) } } },
  });
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'operators',
      node: nodes,
      input: [valueInfo('x', ['N', 2, 6, 6])],
      output: [valueInfo('y', ['N', 3])],
      initializer: [
        ...Object.entries(SHAPES).map(([name, dims], index) => initializer(name, dims, index)),
        { name: 'flat_shape', dataType: INT64, dims: [2], rawData: new Uint8Array(shape.buffer) },
        { name: 'last_axis', dataType: INT64, dims: [1], rawData: new Uint8Array(new BigInt64Array([-1n]).buffer) },
      ],
    },
  };
  await writeFile(path, onnx.ModelProto.encode(model).finish());
}

describe('graph inference operators', () => {
  it('places every operator and keeps outputs', async () => {
    await withTemporaryDirectory(async (directory) => {
      const path = join(directory, 'operators.onnx');
      await writeGraph(path);
      const model = await openOnnx(path);
      try {
        const inferred = await inferSpecFromGraph(path, model);
        const axes = inferred.spec.axes;
        assert.deepEqual(axes['c1.weight'], ['P_c1', null, null, null]);
        for (const name of ['c1.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'dw.bias']) assert.deepEqual(axes[name], ['P_c1'], name);
        assert.deepEqual(axes['dw.weight'], ['P_c1', null, null, null]);
        assert.deepEqual(axes['scale'], [null, 'P_c1', null, null]);
        assert.deepEqual(axes['fc1.weight'], ['P_fc1', 'P_c1']);
        for (const name of ['fc1.bias', 'ln.weight', 'ln.bias']) assert.deepEqual(axes[name], ['P_fc1'], name);
        assert.deepEqual(axes['fc2.weight'], [null, 'P_fc1']);
        assert.deepEqual(axes['fc2.bias'], [null]);
        assert.equal(axes['flat_shape'], undefined);
        assert.equal(axes['last_axis'], undefined);

        const resolved = resolveAgainst(inferred.spec, model, model);
        const tensors = await permutedTensors(resolved, model, randomPermutations(resolved, 4));
        const output = join(directory, 'permuted.onnx');
        await writeOnnxWithInitializers(output, path, tensors, { inputs: [path] });
        const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * 2 * 6 * 6 }, (_, i) => Math.cos(i * 0.7)), [3, 2, 6, 6]);
        const original = await runOnnx(path, x);
        const permuted = await runOnnx(output, x);
        const difference = maxRelativeDifference(original, permuted);
        assert.ok(difference <= 1e-5, `max relative |Δy| = ${difference}`);
      } finally {
        await model.close();
      }
    });
  });
});
