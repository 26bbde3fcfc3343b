// Structural comparison of two checkpoints: which tensors only one side has, which differ in shape or dtype,
// and which metadata keys were added, removed or changed. Reads headers only.
import type { Checkpoint, TensorEntry } from '../formats/checkpoint';
import { commonWrapperPrefix } from '../alignment/tensorNameMatching';

export interface TensorSide {
  /** Name as stored in the file, before wrapper prefixes were removed. */
  readonly rawName: string;
  readonly dtype: string;
  readonly shape: readonly number[];
}

export interface SharedTensor {
  /** Name without the file's common wrapper prefix (`module.`, `_orig_mod.`, Lightning's `model.`); the key both sides were matched on. */
  readonly name: string;
  readonly a: TensorSide;
  readonly b: TensorSide;
  /** True when the shapes agree, so values can be compared element by element (also across dtypes). */
  readonly sameShape: boolean;
  readonly sameDtype: boolean;
}

export interface StructureDiff {
  readonly onlyInA: readonly (TensorSide & { readonly name: string })[];
  readonly onlyInB: readonly (TensorSide & { readonly name: string })[];
  /** Tensors present on both sides, in A's order; `sameShape` or `sameDtype` false marks a changed tensor. */
  readonly shared: readonly SharedTensor[];
  readonly metadata: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly changed: readonly string[];
  };
}

/**
 * Matches tensors by name after removing each file's common wrapper prefix, the prefix every one of its
 * names carries, so a `module.`-prefixed copy or a Lightning checkpoint matches the plain state dict.
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
    shared.push({
      name,
      a: side(entryA),
      b: side(entryB),
      sameShape: sameShape(entryA.shape, entryB.shape),
      sameDtype: entryA.dtype === entryB.dtype,
    });
  }
  const onlyInB = [...byNameB].filter(([name]) => !byNameA.has(name)).map(([name, entry]) => ({ name, ...side(entry) }));

  return { onlyInA, onlyInB, shared, metadata: diffMetadata(a.metadata, b.metadata) };
}

function indexByName(entries: readonly TensorEntry[]): Map<string, TensorEntry> {
  const prefix = commonWrapperPrefix(entries.map((entry) => entry.name));
  return new Map(entries.map((entry) => [entry.name.slice(prefix.length), entry]));
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
  return onlyInA.length === 0 && onlyInB.length === 0 && shared.every((tensor) => tensor.sameShape && tensor.sameDtype)
    && metadata.added.length === 0 && metadata.removed.length === 0 && metadata.changed.length === 0;
}
