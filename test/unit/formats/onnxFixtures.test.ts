// Checks the ONNX fixtures (torch.onnx.export output) against test/fixtures/manifest.json, and writes a copy of
// the MLP with permuted hidden units that onnxruntime must evaluate to the same logits.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Checkpoint } from '../../../src/formats/checkpoint';
import { openOnnx } from '../../../src/formats/onnx/reader';
import { writeOnnxWithInitializers } from '../../../src/formats/onnx/writer';

const FIXTURES = join(__dirname, '../../fixtures');
const MANIFEST = join(FIXTURES, 'manifest.json');

interface ManifestTensor { name: string; shape: number[]; dtype: string; sha256: string }
interface ManifestFile { path: string; format: string; tensors: ManifestTensor[]; inputName?: string; outputName?: string; opsetVersion?: number }

const manifest = existsSync(MANIFEST) ? (JSON.parse(readFileSync(MANIFEST, 'utf8')) as { files?: ManifestFile[] }) : {};
const onnxFiles = (manifest.files ?? []).filter((file) => file.format === 'onnx');
const skip = onnxFiles.length === 0 ? 'no ONNX fixtures in test/fixtures/manifest.json; run npm run fixtures' : false;

/** Computes the manifest's value hash: float32 little-endian for floating types, int64 little-endian for integers. */
async function valueHash(checkpoint: Checkpoint, name: string, dtype: string): Promise<string> {
  let canonical: ArrayBufferView;
  if (dtype.startsWith('F') || dtype === 'BF16') {
    canonical = await checkpoint.readTensor(name, 'float32');
  } else {
    const stored = (await checkpoint.readTensor(name)).data as unknown as ArrayLike<number | bigint>;
    canonical = BigInt64Array.from({ length: stored.length }, (_, i) => BigInt(stored[i]));
  }
  return createHash('sha256').update(new Uint8Array(canonical.buffer, canonical.byteOffset, canonical.byteLength)).digest('hex');
}

test('ONNX fixtures match the manifest', { skip }, async () => {
  for (const file of onnxFiles) {
    const path = join(FIXTURES, file.path);
    const checkpoint = await openOnnx(path);
    try {
      assert.equal(checkpoint.format, 'onnx');
      assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), file.tensors.map((tensor) => tensor.name), file.path);
      for (const expected of file.tensors) {
        const entry = checkpoint.tensors.find((candidate) => candidate.name === expected.name);
        assert.ok(entry, `${file.path}: ${expected.name}`);
        assert.deepEqual(entry.shape, expected.shape, `${file.path}: ${expected.name}`);
        assert.equal(entry.dtype, expected.dtype, `${file.path}: ${expected.name}`);
        assert.equal(await valueHash(checkpoint, expected.name, expected.dtype), expected.sha256, `${file.path}: ${expected.name}`);
      }
      const graph = checkpoint.metadata.graph as { inputs: { name: string }[]; outputs: { name: string }[]; opsetImports: { domain: string; version: number }[] };
      assert.deepEqual(graph.inputs.map((input) => input.name), [file.inputName], file.path);
      assert.deepEqual(graph.outputs.map((output) => output.name), [file.outputName], file.path);
      assert.equal(graph.opsetImports.find((opset) => opset.domain === '')?.version, file.opsetVersion, file.path);
    } finally {
      await checkpoint.close();
    }
  }
});

const folder = mkdtempSync(join(tmpdir(), 'onnx-fixtures-'));
after(() => rmSync(folder, { recursive: true, force: true }));

async function logits(path: string, x: Float32Array, batch: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path);
  try {
    const result = await session.run({ x: new ort.Tensor('float32', x, [batch, 64]) });
    return result.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

const mlpPath = join(FIXTURES, 'models/mlp_s0.onnx');

test('permuted MLP copy computes the same logits', { skip: existsSync(mlpPath) ? false : 'mlp_s0.onnx is missing' }, async () => {
  const checkpoint = await openOnnx(mlpPath);
  const fc1Weight = await checkpoint.readTensor('fc1.weight', 'float32');
  const fc1Bias = await checkpoint.readTensor('fc1.bias', 'float32');
  const fc2Weight = await checkpoint.readTensor('fc2.weight', 'float32');
  const fc3Bias = await checkpoint.readTensor('fc3.bias', 'float32');
  await checkpoint.close();

  // Hidden unit i of the copy is unit perm[i] of the original: rows of fc1, columns of fc2.
  const hidden = 128;
  const perm = Array.from({ length: hidden }, (_, i) => (i * 37 + 11) % hidden);
  const permutedWeight = new Float32Array(fc1Weight.length);
  const permutedBias = new Float32Array(hidden);
  const permutedFc2 = new Float32Array(fc2Weight.length);
  for (let i = 0; i < hidden; i++) {
    permutedWeight.set(fc1Weight.subarray(perm[i] * 64, perm[i] * 64 + 64), i * 64);
    permutedBias[i] = fc1Bias[perm[i]];
    for (let row = 0; row < hidden; row++) permutedFc2[row * hidden + i] = fc2Weight[row * hidden + perm[i]];
  }
  const shiftedBias = fc3Bias.map((value) => value + 1);

  const output = join(folder, 'mlp_permuted.onnx');
  await writeOnnxWithInitializers(output, mlpPath, [
    { name: 'fc1.weight', dtype: 'F32', shape: [hidden, 64], data: permutedWeight },
    { name: 'fc1.bias', dtype: 'F32', shape: [hidden], data: permutedBias },
    { name: 'fc2.weight', dtype: 'F32', shape: [hidden, hidden], data: permutedFc2 },
    { name: 'fc3.bias', dtype: 'F32', shape: [10], data: shiftedBias },
  ], { inputs: [mlpPath], metadata: { note: 'permuted hidden units of fc1' } });

  const written = await openOnnx(output);
  assert.deepEqual(await written.readTensor('fc1.weight', 'float32'), permutedWeight);
  assert.deepEqual(await written.readTensor('fc2.weight', 'float32'), permutedFc2);
  await written.close();

  // Pixel values of the digits data set lie in [0, 16].
  const batch = 8;
  const x = Float32Array.from({ length: batch * 64 }, (_, i) => (i * 7919) % 17);
  const before = await logits(mlpPath, x, batch);
  const afterPermutation = await logits(output, x, batch);
  let maxDifference = 0;
  for (let i = 0; i < before.length; i++) maxDifference = Math.max(maxDifference, Math.abs(afterPermutation[i] - 1 - before[i]));
  assert.ok(maxDifference < 1e-4, `logits differ by ${maxDifference} beyond the +1 bias shift`);
});
