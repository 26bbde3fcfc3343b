// Helpers for the spec inference tests: comparing specs up to permutation names, permuting a model's weights with
// random permutations, and running ONNX models in onnxruntime on the fixture data.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Checkpoint, NamedTensor } from '../../../../src/formats/checkpoint';
import { isFloatingDType } from '../../../../src/formats/dtype';
import { openSafetensors } from '../../../../src/formats/safetensors/reader';
import { applyPermutations, isIdentity } from '../../../../src/alignment/applyPermutation';
import { axisPermutationName, isGroupedAxis, type PermutationSpec, type ResolvedSpec } from '../../../../src/alignment/permutationSpec';
import { resolvePermutationSpec, type CheckpointTensors } from '../../../../src/alignment/resolveSpec';
import { SeededRandom } from '../../../../src/alignment/seededRandom';

export const FIXTURES = join(__dirname, '..', '..', '..', 'fixtures');
export const MODELS = join(FIXTURES, 'models');

/**
 * Returns the spec as a partition: one sorted list of `tensor axis outer×inner` per permutation, the lists sorted.
 * Two specs with equal partitions differ only in permutation names. Null axes do not appear.
 */
export function partition(spec: PermutationSpec): string[][] {
  const groups = new Map<string, string[]>();
  for (const [tensor, entries] of Object.entries(spec.axes)) {
    entries.forEach((entry, axis) => {
      const name = axisPermutationName(entry);
      if (name === undefined) return;
      const grouping = isGroupedAxis(entry) ? `${entry.outer}x${entry.inner}` : '1x1';
      const members = groups.get(name) ?? [];
      members.push(`${tensor} ${axis} ${grouping}`);
      groups.set(name, members);
    });
  }
  return [...groups.values()].map((members) => members.sort()).sort((x, y) => x[0].localeCompare(y[0]));
}

export function resolveAgainst(spec: PermutationSpec, a: CheckpointTensors, b: CheckpointTensors): ResolvedSpec {
  return resolvePermutationSpec(spec, 'inferred', { path: a.path, tensors: a.tensors }, { path: b.path, tensors: b.tensors });
}

/** Draws a random non-identity permutation for every permutation of the spec. */
export function randomPermutations(spec: ResolvedSpec, seed: number): Map<string, Int32Array> {
  const random = new SeededRandom(seed);
  const permutations = new Map<string, Int32Array>();
  for (const [name, size] of spec.permutations) {
    let perm = random.permutation(size);
    while (size > 1 && isIdentity(perm)) perm = random.permutation(size);
    permutations.set(name, perm);
  }
  return permutations;
}

/** Reads B's floating tensors as float32 and returns π(B) as named tensors ready to write. */
export async function permutedTensors(spec: ResolvedSpec, b: Checkpoint, permutations: Map<string, Int32Array>): Promise<NamedTensor[]> {
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const entry of b.tensors) {
    if (isFloatingDType(entry.dtype)) tensors.set(entry.name, { shape: entry.shape, data: await b.readTensor(entry.name, 'float32') });
  }
  const permuted = applyPermutations(spec, tensors, permutations);
  return [...permuted].map(([name, tensor]) => ({ name, dtype: 'F32', shape: tensor.shape, data: tensor.data }));
}

export async function withTemporaryDirectory<T>(work: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(join(tmpdir(), 'spec-inference-'));
  try {
    return await work(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

const DATA: Record<string, { file: string; shape: (batch: number) => number[] }> = {
  mlp: { file: 'digits_test_flat.safetensors', shape: (batch) => [batch, 64] },
  cnn: { file: 'digits_test_image.safetensors', shape: (batch) => [batch, 1, 8, 8] },
  resnet: { file: 'digits_test_image.safetensors', shape: (batch) => [batch, 1, 8, 8] },
  transformer: { file: 'digits_test_tokens.safetensors', shape: (batch) => [batch, 8, 8] },
};

/** Reads the first `batch` test samples in the layout the architecture's ONNX model takes. */
export async function testInputs(architecture: string, batch = 64): Promise<ort.Tensor> {
  const layout = DATA[architecture];
  const checkpoint = await openSafetensors(join(FIXTURES, 'data', layout.file));
  try {
    const x = await checkpoint.readTensor('x', 'float32');
    const shape = layout.shape(batch);
    return new ort.Tensor('float32', x.slice(0, shape.reduce((p, q) => p * q, 1)), shape);
  } finally {
    await checkpoint.close();
  }
}

export async function runOnnx(path: string, x: ort.Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(await readFile(path), { executionProviders: ['cpu'] });
  try {
    const result = await session.run({ [session.inputNames[0]]: x });
    return result[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Largest |x − y| relative to max(1, |x|): float32 sums in another order agree to rounding. */
export function maxRelativeDifference(x: Float32Array, y: Float32Array): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(x[i])));
  return max;
}
