// Aligns one checkpoint onto a reference with weight matching and returns both models' floating tensors in
// float64, B's with the permutations applied. `eval` and `merge` share it.
import type { Checkpoint, FloatTensor } from '../formats/checkpoint';
import { permuteTensor } from '../alignment/applyPermutation';
import { assertFiniteSpecTensors } from '../alignment/finiteWeights';
import type { ResolvedSpec } from '../alignment/permutationSpec';
import { chooseSpec, type SpecChoiceOptions } from '../alignment/specChoice';
import { pairTensors, type FloatingPair } from '../alignment/tensorPairs';
import { matchWeights, type WeightMatchingResult } from '../alignment/weightMatching';
import { pickleWarnings } from '../formats/pickleWarnings';
import type { ExecutionProviderChoice } from '../compute/executionProvider';

export interface MatchingSettings {
  readonly seed: number;
  readonly order: 'random' | 'sorted';
  readonly maxSweeps: number;
  readonly executionProvider: ExecutionProviderChoice;
}

export const DEFAULT_MATCHING: MatchingSettings = { seed: 0, order: 'random', maxSweeps: 100, executionProvider: 'auto' };

export interface AlignedPair {
  readonly spec: ResolvedSpec;
  readonly matching: WeightMatchingResult;
  /** Floating tensors present in both checkpoints with equal shapes, in A's order. */
  readonly pairs: readonly FloatingPair[];
  /** A's values keyed by A's names. */
  readonly floatsA: ReadonlyMap<string, Float64Array>;
  /** B's values keyed by B's names. */
  readonly floatsB: ReadonlyMap<string, Float64Array>;
  /** π(B) keyed by B's names; tensors outside the spec are B's own arrays. */
  readonly alignedB: ReadonlyMap<string, Float64Array>;
  /** For the user: A or B has a pickle with dangerous or unknown globals (see pickleWarnings). */
  readonly warnings: readonly string[];
}

/** Runs weight matching of B onto A and applies the permutations found to every floating tensor of B. */
export async function alignToReference(
  a: Checkpoint,
  b: Checkpoint,
  specChoice: string,
  settings: MatchingSettings,
  signal: AbortSignal,
  specOptions: SpecChoiceOptions = {},
): Promise<AlignedPair> {
  const spec = (await chooseSpec(specChoice, a, b, specOptions)).resolved;
  const pairs = pairTensors(a.tensors, b.tensors, spec).floating;
  const floatsA = await readFloat64(a, pairs.map((pair) => pair.nameA), signal);
  const floatsB = await readFloat64(b, pairs.map((pair) => pair.nameB), signal);
  assertFiniteSpecTensors(spec, (name) => floatsA.get(name), 'A', a.path);
  assertFiniteSpecTensors(spec, (name) => floatsB.get(name), 'B', b.path);

  // The products run in float32, the engine's default precision, as `align` runs them.
  const matching = await matchWeights(spec, toFloat32(floatsA, a), toFloat32(floatsB, b), { ...settings, precision: 'float32', signal });

  const byNameB = new Map(spec.tensors.map((tensor) => [tensor.nameB, tensor]));
  const shapesB = new Map(b.tensors.map((entry) => [entry.name, entry.shape]));
  const alignedB = new Map<string, Float64Array>();
  for (const [name, data] of floatsB) {
    const specTensor = byNameB.get(name);
    alignedB.set(name, specTensor === undefined ? data : permuteTensor(data, shapesB.get(name) as readonly number[], specTensor.axes, matching.permutations));
  }
  return { spec, matching, pairs, floatsA, floatsB, alignedB, warnings: pickleWarnings([a, b]) };
}

/** Reads the named tensors as float64; every stored floating type converts exactly. */
export async function readFloat64(checkpoint: Checkpoint, names: readonly string[], signal: AbortSignal): Promise<Map<string, Float64Array>> {
  const values = new Map<string, Float64Array>();
  for (const name of names) {
    signal.throwIfAborted();
    values.set(name, await checkpoint.readTensor(name, 'float64'));
  }
  return values;
}

function toFloat32(values: ReadonlyMap<string, Float64Array>, checkpoint: Checkpoint): Map<string, FloatTensor> {
  const shapes = new Map(checkpoint.tensors.map((entry) => [entry.name, entry.shape]));
  const result = new Map<string, FloatTensor>();
  for (const [name, data] of values) result.set(name, { shape: shapes.get(name) as readonly number[], data: Float32Array.from(data) });
  return result;
}
