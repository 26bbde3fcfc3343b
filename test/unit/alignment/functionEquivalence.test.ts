import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { openSafetensors } from '../../../src/formats/safetensors/reader';
import { applyPermutations, isIdentity } from '../../../src/alignment/applyPermutation';
import { SeededRandom } from '../../../src/alignment/seededRandom';
import { ARCHITECTURES, FIXTURES, loadFixtureSpec, loadModel, modelPath, type Architecture } from './fixtureModels';

const DATA_LAYOUT: Record<Architecture, { file: string; shape: (batch: number) => number[] }> = {
  mlp: { file: 'digits_test_flat.safetensors', shape: (batch) => [batch, 64] },
  cnn: { file: 'digits_test_image.safetensors', shape: (batch) => [batch, 1, 8, 8] },
  resnet: { file: 'digits_test_image.safetensors', shape: (batch) => [batch, 1, 8, 8] },
  transformer: { file: 'digits_test_tokens.safetensors', shape: (batch) => [batch, 8, 8] },
};
const BATCH = 128;

async function testInputs(architecture: Architecture): Promise<ort.Tensor> {
  const checkpoint = await openSafetensors(join(FIXTURES, 'data', DATA_LAYOUT[architecture].file));
  try {
    const x = await checkpoint.readTensor('x', 'float32');
    const shape = DATA_LAYOUT[architecture].shape(BATCH);
    return new ort.Tensor('float32', x.slice(0, shape.reduce((p, q) => p * q, 1)), shape);
  } finally {
    await checkpoint.close();
  }
}

async function logits(model: Uint8Array, x: ort.Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  try {
    const result = await session.run({ [session.inputNames[0]]: x });
    return result[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('permutations from the fixture specs preserve the function', () => {
  for (const architecture of ARCHITECTURES) {
    it(`keeps ${architecture} ONNX outputs`, async () => {
      const bytes = await readFile(modelPath(architecture, 1, 'onnx'));
      const model = await loadModel(modelPath(architecture, 1));
      const spec = await loadFixtureSpec(architecture, model, model);
      const random = new SeededRandom(11);
      const permutations = new Map([...spec.permutations].map(([name, size]) => [name, random.permutation(size)]));
      for (const [name, perm] of permutations) assert.equal(isIdentity(perm), false, name);
      const permuted = applyPermutations(spec, model.floats, permutations);

      const graph = onnx.ModelProto.decode(bytes);
      let replaced = 0;
      for (const initializer of graph.graph?.initializer ?? []) {
        const tensor = permuted.get(initializer.name ?? '');
        if (tensor === undefined || !spec.tensors.some((entry) => entry.name === initializer.name)) continue;
        assert.equal(initializer.dataType, onnx.TensorProto.DataType.FLOAT, initializer.name ?? '');
        initializer.floatData = [];
        initializer.rawData = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
        replaced++;
      }
      assert.equal(replaced, spec.tensors.length);

      const x = await testInputs(architecture);
      const original = await logits(bytes, x);
      const afterPermutation = await logits(onnx.ModelProto.encode(graph).finish(), x);
      assert.equal(afterPermutation.length, original.length);
      // Permuting reorders float32 sums, so logits agree to rounding: 1e-5 relative to the logit's magnitude (at least 1).
      let maxDifference = 0;
      for (let i = 0; i < original.length; i++) {
        maxDifference = Math.max(maxDifference, Math.abs(original[i] - afterPermutation[i]) / Math.max(1, Math.abs(original[i])));
      }
      assert.ok(maxDifference <= 1e-5, `max relative |Δlogit| = ${maxDifference}`);
    });
  }

  it('detects a permutation that breaks the function', async () => {
    // A control: permuting only fc1's rows without fc2's columns must change the MLP's outputs.
    const bytes = await readFile(modelPath('mlp', 1, 'onnx'));
    const graph = onnx.ModelProto.decode(bytes);
    const fc1 = graph.graph?.initializer?.find((initializer) => initializer.name === 'fc1.bias');
    assert.ok(fc1?.rawData);
    assert.ok(fc1.rawData.length > 0);
    const values = new Float32Array(new Uint8Array(fc1.rawData).buffer);
    values.reverse();
    fc1.rawData = new Uint8Array(values.buffer);
    const x = await testInputs('mlp');
    const original = await logits(bytes, x);
    const broken = await logits(onnx.ModelProto.encode(graph).finish(), x);
    assert.ok(original.some((value, i) => Math.abs(value - broken[i]) > 1e-3));
  });
});
