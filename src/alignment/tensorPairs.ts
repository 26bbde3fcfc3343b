// Pairs the tensors of A and B by name and lists those that alignment leaves alone, with the reason.
import type { TensorEntry } from '../formats/checkpoint';
import { isFloatingDType } from '../formats/dtype';
import type { ResolvedSpec } from './permutationSpec';
import { TensorNameIndex } from './tensorNameMatching';

export type UntouchedReason = 'only in A' | 'only in B' | 'not floating' | 'shapes differ' | 'not in spec';

export interface UntouchedTensor {
  /** Name in A, or in B for `only in B`. */
  readonly tensor: string;
  readonly reason: UntouchedReason;
}

/** A floating-point tensor present in both checkpoints with the same shape. */
export interface FloatingPair {
  readonly nameA: string;
  readonly nameB: string;
  readonly shape: readonly number[];
}

export interface TensorPairing {
  /** Every floating pair, in A's order: the tensors that distance and cosine similarity cover. */
  readonly floating: readonly FloatingPair[];
  readonly untouched: readonly UntouchedTensor[];
}

/** Pairs A's and B's tensors, matching names across a differing wrapper prefix (`module.`, `model.`, `_orig_mod.`). */
export function pairTensors(tensorsA: readonly TensorEntry[], tensorsB: readonly TensorEntry[], spec: ResolvedSpec): TensorPairing {
  const indexA = new TensorNameIndex(tensorsA.map((entry) => entry.name));
  const indexB = new TensorNameIndex(tensorsB.map((entry) => entry.name));
  const entriesB = new Map(tensorsB.map((entry) => [entry.name, entry]));
  const inSpec = new Set(spec.tensors.map((tensor) => tensor.nameA));
  const matchedB = new Set<string>();
  const floating: FloatingPair[] = [];
  const untouched: UntouchedTensor[] = [];

  for (const entryA of tensorsA) {
    const nameB = indexB.find(entryA.name, indexA.prefix);
    if (nameB === undefined) {
      untouched.push({ tensor: entryA.name, reason: 'only in A' });
      continue;
    }
    matchedB.add(nameB);
    const entryB = entriesB.get(nameB) as TensorEntry;
    const sameShape = entryA.shape.length === entryB.shape.length && entryA.shape.every((size, axis) => size === entryB.shape[axis]);
    if (!isFloatingDType(entryA.dtype) || !isFloatingDType(entryB.dtype)) untouched.push({ tensor: entryA.name, reason: 'not floating' });
    else if (!sameShape) untouched.push({ tensor: entryA.name, reason: 'shapes differ' });
    else {
      floating.push({ nameA: entryA.name, nameB, shape: entryA.shape });
      if (!inSpec.has(entryA.name)) untouched.push({ tensor: entryA.name, reason: 'not in spec' });
    }
  }
  for (const entryB of tensorsB) {
    if (!matchedB.has(entryB.name)) untouched.push({ tensor: entryB.name, reason: 'only in B' });
  }
  return { floating, untouched };
}
