// π(B): reorders the permuted axes of B's tensors so that aligned unit i is B's unit perm[i].
import type { AxisPermutation, ResolvedSpec } from './permutationSpec';
import { axisLayout, type AxisLayout } from './axisLayout';

/** Any typed array; permuting moves elements and never converts them, so results are bit-identical copies. */
export type ElementArray =
  | Float64Array | Float32Array | Uint16Array | Int16Array | Uint8Array | Int8Array | Int32Array | Uint32Array | BigInt64Array;

/** Permutation name → `perm`, where `perm[i]` is B's unit for aligned unit i. */
export type Permutations = ReadonlyMap<string, ArrayLike<number>>;

/** Returns `take(data, perm, axis)` for one axis viewed through `layout`, as a new array of the same type. */
export function takeAlongAxis<T extends ElementArray>(data: T, layout: AxisLayout, perm: ArrayLike<number>): T {
  const { before, outer, size, inner, after } = layout;
  const result = new (data.constructor as new (length: number) => T)(data.length);
  const run = inner * after;
  for (let block = 0; block < before * outer; block++) {
    const base = block * size * run;
    for (let unit = 0; unit < size; unit++) {
      const source = base + perm[unit] * run;
      // Typed arrays of one type copy with `set` without conversion, which keeps NaN payloads and -0.
      (result as ElementArray).set((data as ElementArray).subarray(source, source + run) as never, base + unit * run);
    }
  }
  return result;
}

/** Permutes every permuted axis of one tensor; axes whose permutation is missing from `permutations` stay as they are. */
export function permuteTensor<T extends ElementArray>(
  data: T,
  shape: readonly number[],
  axes: readonly (AxisPermutation | null)[],
  permutations: Permutations,
): T {
  let result = data;
  axes.forEach((axis, index) => {
    if (axis === null) return;
    const perm = permutations.get(axis.permutation);
    if (perm === undefined || isIdentity(perm)) return;
    result = takeAlongAxis(result, axisLayout(shape, index, axis), perm);
  });
  return result;
}

/** Applies the permutations to B's tensors (keyed by B's names). Tensors outside the spec are returned unchanged. */
export function applyPermutations<T extends ElementArray>(
  spec: ResolvedSpec,
  tensorsB: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: T }>,
  permutations: Permutations,
): Map<string, { shape: readonly number[]; data: T }> {
  const byName = new Map(spec.tensors.map((tensor) => [tensor.nameB, tensor]));
  const result = new Map<string, { shape: readonly number[]; data: T }>();
  for (const [name, tensor] of tensorsB) {
    const specTensor = byName.get(name);
    const data = specTensor === undefined ? tensor.data : permuteTensor(tensor.data, tensor.shape, specTensor.axes, permutations);
    result.set(name, { shape: tensor.shape, data });
  }
  return result;
}

export function isIdentity(perm: ArrayLike<number>): boolean {
  for (let i = 0; i < perm.length; i++) if (perm[i] !== i) return false;
  return true;
}

/** Returns the inverse permutation: `inverse[perm[i]] = i`. */
export function invertPermutation(perm: ArrayLike<number>): Int32Array {
  const inverse = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) inverse[perm[i]] = i;
  return inverse;
}
