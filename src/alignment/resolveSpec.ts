// Validates a permutation spec against the tensor lists of both checkpoints.
import type { TensorEntry } from '../formats/checkpoint';
import { isFloatingDType } from '../formats/dtype';
import {
  axisPermutationName,
  isGroupedAxis,
  isRunningStatistic,
  type AxisPermutation,
  type PermutationSpec,
  type ResolvedSpec,
  type SpecTensor,
} from './permutationSpec';
import { PermutationSpecError } from './permutationSpecFile';
import { commonWrapperPrefix, TensorNameIndex } from './tensorNameMatching';

/** The tensor list of one checkpoint, with the path that names it in errors. */
export interface CheckpointTensors {
  readonly path: string;
  readonly tensors: readonly TensorEntry[];
}

/**
 * Matches every spec tensor to A and B and checks ranks, shapes and permutation sizes.
 * Throws PermutationSpecError naming the tensor and axis when a tensor is missing from either checkpoint, has the
 * wrong number of axes or differing shapes in A and B, or has a grouped axis that `outer * inner` does not divide.
 * It also throws when the axes of one permutation disagree on its size, and when two spec names resolve to the same
 * stored tensor. A permuted tensor must be floating-point in both A and B, so quantized blocks and integers are
 * rejected. The spec must define at least one permutation that a cost tensor votes on.
 */
export function resolvePermutationSpec(spec: PermutationSpec, source: string, a: CheckpointTensors, b: CheckpointTensors): ResolvedSpec {
  const specNames = Object.keys(spec.axes);
  const specPrefix = commonWrapperPrefix(specNames);
  const indexA = new TensorNameIndex(a.tensors.map((entry) => entry.name));
  const indexB = new TensorNameIndex(b.tensors.map((entry) => entry.name));
  const entriesA = new Map(a.tensors.map((entry) => [entry.name, entry]));
  const entriesB = new Map(b.tensors.map((entry) => [entry.name, entry]));
  const costNames = spec.cost === undefined ? undefined : new Set(spec.cost);

  const claimedBy = new Map<string, string>();
  const sizes = new Map<string, { size: number; tensor: string; axis: number }>();
  const tensors: SpecTensor[] = [];

  for (const name of specNames) {
    const entries = spec.axes[name];
    const nameA = indexA.find(name, specPrefix);
    const nameB = indexB.find(name, specPrefix);
    if (nameA === undefined) throw new PermutationSpecError(source, `not found in ${a.path}; check the name or remove it from the spec`, { tensor: name });
    if (nameB === undefined) throw new PermutationSpecError(source, `not found in ${b.path}; check the name or remove it from the spec`, { tensor: name });
    const previous = claimedBy.get(nameA);
    if (previous !== undefined) {
      throw new PermutationSpecError(source, `resolves to the same tensor "${nameA}" as "${previous}", so its axes are claimed twice; keep one entry`, { tensor: name, axis: 0 });
    }
    claimedBy.set(nameA, name);

    const entryA = entriesA.get(nameA) as TensorEntry;
    const entryB = entriesB.get(nameB) as TensorEntry;
    if (!sameShape(entryA.shape, entryB.shape)) {
      const axis = firstDifferentAxis(entryA.shape, entryB.shape);
      throw new PermutationSpecError(source, `shape [${entryA.shape.join(', ')}] in ${a.path} differs from [${entryB.shape.join(', ')}] in ${b.path}; the checkpoints are not the same architecture`, { tensor: name, axis });
    }
    if (entries.length !== entryA.shape.length) {
      throw new PermutationSpecError(source, `the spec has ${entries.length} axis ${entries.length === 1 ? 'entry' : 'entries'} but the tensor has ${entryA.shape.length} axes (shape [${entryA.shape.join(', ')}])`, { tensor: name, axis: Math.min(entries.length, entryA.shape.length) });
    }

    const axes = entries.map((entry, axis): AxisPermutation | null => {
      const permutation = axisPermutationName(entry);
      if (permutation === undefined) return null;
      const outer = isGroupedAxis(entry) ? entry.outer : 1;
      const inner = isGroupedAxis(entry) ? entry.inner : 1;
      const dimension = entryA.shape[axis];
      if (dimension % (outer * inner) !== 0) {
        throw new PermutationSpecError(source, `axis size ${dimension} is not divisible by outer × inner = ${outer} × ${inner}`, { tensor: name, axis });
      }
      const size = dimension / (outer * inner);
      const known = sizes.get(permutation);
      if (known === undefined) sizes.set(permutation, { size, tensor: name, axis });
      else if (known.size !== size) {
        throw new PermutationSpecError(
          source,
          `permutation "${permutation}" has ${size} units here but ${known.size} on tensor "${known.tensor}" axis ${known.axis}`,
          { tensor: name, axis },
        );
      }
      return { permutation, outer, inner, size };
    });

    const floating = isFloatingDType(entryA.dtype) && isFloatingDType(entryB.dtype);
    const permuted = axes.some((axis) => axis !== null);
    if (permuted && !floating) {
      const [path, dtype] = isFloatingDType(entryA.dtype) ? [b.path, entryB.dtype] : [a.path, entryA.dtype];
      throw new PermutationSpecError(
        source,
        `stored as ${dtype} in ${path}, but only floating-point tensors can be permuted; dequantize the checkpoint or convert it to a floating dtype (F32, F16 or BF16) first`,
        { tensor: name },
      );
    }
    if (costNames?.has(name) && !floating) {
      throw new PermutationSpecError(source, `"cost" lists a tensor of type ${entryA.dtype}; only floating-point tensors can vote`, { tensor: name });
    }
    const cost = costNames === undefined ? floating && permuted && !isRunningStatistic(name) : costNames.has(name);
    tensors.push({ name, nameA, nameB, shape: entryA.shape, axes, cost });
  }

  const sortedNames = [...sizes.keys()].sort();
  const permutations = new Map(sortedNames.map((permutation) => [permutation, (sizes.get(permutation) as { size: number }).size]));
  assertPermutationsHaveVotes(source, specNames.length, sortedNames, tensors);
  return { source, permutations, tensors };
}

/**
 * Throws unless at least one permutation has a cost tensor with an axis on it. Without one, weight matching has no
 * similarity to compute, and the spec is almost certainly not what its author meant.
 */
function assertPermutationsHaveVotes(source: string, tensorCount: number, permutations: readonly string[], tensors: readonly SpecTensor[]): void {
  if (tensorCount === 0) {
    throw new PermutationSpecError(source, '"axes" maps no tensors, so the spec defines no permutation; map each weight and bias to its axis entries (permutation names or null)');
  }
  if (permutations.length === 0) {
    throw new PermutationSpecError(source, 'every axis entry is null, so the spec defines no permutation; give the hidden axes of the layers a permutation name');
  }
  const voted = tensors.some((tensor) => tensor.cost && tensor.axes.some((axis) => axis !== null));
  if (!voted) {
    throw new PermutationSpecError(
      source,
      `no cost tensor has an axis on any of the permutations ${permutations.join(', ')}, so weight matching has nothing to compare; list floating-point tensors with permuted axes in "cost", or remove "cost" to let every such tensor vote`,
    );
  }
}

function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((size, axis) => size === y[axis]);
}

function firstDifferentAxis(x: readonly number[], y: readonly number[]): number {
  let axis = 0;
  while (axis < x.length && axis < y.length && x[axis] === y[axis]) axis++;
  return axis;
}
