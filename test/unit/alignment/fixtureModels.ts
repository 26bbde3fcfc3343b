// Loading the trained fixture models and their hand-written permutation specs for the alignment tests.
import { join } from 'node:path';
import type { FloatTensor } from '../../../src/formats/checkpoint';
import { isFloatingDType } from '../../../src/formats/dtype';
import { openSafetensors } from '../../../src/formats/safetensors/reader';
import { loadPermutationSpec } from '../../../src/alignment/permutationSpecFile';
import type { ResolvedSpec } from '../../../src/alignment/permutationSpec';
import { resolvePermutationSpec } from '../../../src/alignment/resolveSpec';
import type { TensorEntry } from '../../../src/formats/checkpoint';

export const FIXTURES = join(__dirname, '..', '..', 'fixtures');
export const ARCHITECTURES = ['mlp', 'cnn', 'resnet', 'transformer'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export function modelPath(architecture: Architecture, seed: 0 | 1, extension = 'safetensors'): string {
  return join(FIXTURES, 'models', `${architecture}_s${seed}.${extension}`);
}

export function specPath(architecture: Architecture): string {
  return join(FIXTURES, 'specs', `${architecture}.permspec.json`);
}

export interface LoadedModel {
  readonly tensors: readonly TensorEntry[];
  readonly floats: Map<string, FloatTensor>;
}

/** Reads every floating tensor of a safetensors fixture as float32 or float64. */
export async function loadModel(path: string, precision: 'float32' | 'float64' = 'float32'): Promise<LoadedModel> {
  const checkpoint = await openSafetensors(path);
  try {
    const floats = new Map<string, FloatTensor>();
    for (const entry of checkpoint.tensors) {
      if (!isFloatingDType(entry.dtype)) continue;
      const data = precision === 'float64' ? await checkpoint.readTensor(entry.name, 'float64') : await checkpoint.readTensor(entry.name, 'float32');
      floats.set(entry.name, { shape: entry.shape, data });
    }
    return { tensors: checkpoint.tensors, floats };
  } finally {
    await checkpoint.close();
  }
}

export async function loadFixtureSpec(architecture: Architecture, a: LoadedModel, b: LoadedModel): Promise<ResolvedSpec> {
  const path = specPath(architecture);
  return resolvePermutationSpec(await loadPermutationSpec(path), path, { path: 'A', tensors: a.tensors }, { path: 'B', tensors: b.tensors });
}
