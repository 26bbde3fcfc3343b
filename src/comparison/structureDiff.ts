// Structural comparison of two checkpoints: which tensors only one side has, which differ in shape or dtype,
// and which metadata keys were added, removed or changed. Reads headers only.
import type { Checkpoint, TensorEntry } from '../formats/checkpoint';
import { normalizeTensorName } from '../formats/tensorNames';

export interface TensorSide {
  /** Name as stored in the file, before wrapper prefixes were removed. */
  readonly rawName: string;
  readonly dtype: string;
  readonly shape: readonly number[];
}

export interface SharedTensor {
  /** Name after removing wrapper prefixes (`module.`, `_orig_mod.`); the key both sides were matched on. */
  readonly name: string;
  readonly a: TensorSide;
  readonly b: TensorSide;
  /** True when dtype and shape agree, so values can be compared element by element. */
  readonly sameLayout: boolean;
}

export interface StructureDiff {
  readonly onlyInA: readonly (TensorSide & { readonly name: string })[];
  readonly onlyInB: readonly (TensorSide & { readonly name: string })[];
  /** Tensors present on both sides, in A's order; `sameLayout` false marks a changed shape or dtype. */
  readonly shared: readonly SharedTensor[];
  readonly metadata: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly changed: readonly string[];
  };
}

/**
 * Matches tensors by normalized name. When normalizing would merge two tensors of one file (both `x` and
 * `module.x` stored), that file's names are compared as stored instead, so no tensor is hidden.
 */
export function diffStructure(a: Checkpoint, b: Checkpoint): StructureDiff {
  const byNameA = indexByName(a.tensors);
  const byNameB = indexByName(b.tensors);

  const onlyInA = [];
  const shared: SharedTensor[] = [];
  for (const [name, entryA] of byNameA) {
    const entryB = byNameB.get(name);
    if (!entryB) {
      onlyInA.push({ name, ...side(entryA) });
      continue;
    }
    const sameLayout = entryA.dtype === entryB.dtype && sameShape(entryA.shape, entryB.shape);
    shared.push({ name, a: side(entryA), b: side(entryB), sameLayout });
  }
  const onlyInB = [...byNameB].filter(([name]) => !byNameA.has(name)).map(([name, entry]) => ({ name, ...side(entry) }));

  return { onlyInA, onlyInB, shared, metadata: diffMetadata(a.metadata, b.metadata) };
}

function indexByName(entries: readonly TensorEntry[]): Map<string, TensorEntry> {
  const normalized = new Map<string, TensorEntry>();
  for (const entry of entries) normalized.set(normalizeTensorName(entry.name), entry);
  if (normalized.size === entries.length) return normalized;
  return new Map(entries.map((entry) => [entry.name, entry]));
}

function side(entry: TensorEntry): TensorSide {
  return { rawName: entry.name, dtype: entry.dtype, shape: entry.shape };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, axis) => size === b[axis]);
}

function diffMetadata(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): StructureDiff['metadata'] {
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return {
    added: keysB.filter((key) => !(key in a)),
    removed: keysA.filter((key) => !(key in b)),
    changed: keysA.filter((key) => key in b && JSON.stringify(a[key]) !== JSON.stringify(b[key])),
  };
}

/** True when both files list the same tensors with the same layouts and the same metadata. */
export function isStructurallyIdentical(diff: StructureDiff): boolean {
  const { onlyInA, onlyInB, shared, metadata } = diff;
  return onlyInA.length === 0 && onlyInB.length === 0 && shared.every((tensor) => tensor.sameLayout)
    && metadata.added.length === 0 && metadata.removed.length === 0 && metadata.changed.length === 0;
}
