// Checkpoint file names, and the order in which the workspace's checkpoints are offered as a second model.
import { basename } from 'node:path';
import type { TensorEntry } from '../formats/checkpoint';

/** File name endings the inspector opens by default; `.bin` is left out because many tools use it for other data. */
export const CHECKPOINT_SUFFIXES = ['.safetensors.index.json', '.safetensors', '.pt', '.pth', '.ckpt', '.onnx', '.npz', '.npy', '.msgpack', '.gguf'] as const;

/** Glob for `workspace.findFiles` that matches every checkpoint suffix. */
export const CHECKPOINT_GLOB = `**/*{${CHECKPOINT_SUFFIXES.map((suffix) => suffix).join(',')}}`;

/** Directories whose contents are never offered: dependencies and version control. */
export const EXCLUDED_GLOB = '{**/node_modules/**,**/.git/**}';

export function isCheckpointPath(path: string): boolean {
  const name = basename(path).toLowerCase();
  return CHECKPOINT_SUFFIXES.some((suffix) => name.endsWith(suffix)) || name.endsWith('.bin');
}

/** Reduces a tensor list to what decides whether two checkpoints can be aligned: the multiset of shapes. */
export function structureKey(tensors: readonly Pick<TensorEntry, 'shape'>[]): string {
  return tensors.map((tensor) => `[${tensor.shape.join(',')}]`).sort().join(';');
}

export interface Candidate {
  readonly path: string;
  /** Headers could be read and list the same number of tensors with the same shapes as the reference. */
  readonly compatible: boolean;
}

/**
 * Orders candidate files for the quick pick: the reference itself and duplicates removed, compatible files
 * first, each group by path. `structures` maps a path to its `structureKey`, or undefined when unreadable.
 */
export function rankCandidates(reference: string, paths: readonly string[], structures: ReadonlyMap<string, string | undefined>): Candidate[] {
  const referenceKey = structures.get(reference);
  const unique = [...new Set(paths)].filter((path) => path !== reference);
  const candidates = unique.map((path) => {
    const key = structures.get(path);
    return { path, compatible: referenceKey !== undefined && key !== undefined && key === referenceKey };
  });
  return candidates.sort((x, y) => Number(y.compatible) - Number(x.compatible) || x.path.localeCompare(y.path));
}
