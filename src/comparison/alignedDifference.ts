// The diff numbers after weight matching B onto A, so users see how much of the difference is only a permutation.
import type { TransformerLevel } from '../alignment/specInference';
import type { Checkpoint } from '../formats/checkpoint';
import { alignToReference, DEFAULT_MATCHING } from '../merging/alignToReference';
import type { SharedTensor } from './structureDiff';
import { TensorDifferenceAccumulator, type TensorDifference } from './tensorDifference';

export interface AlignedDifferences {
  /** Spec source used for matching, for the report. */
  readonly specSource: string;
  /** By the shared tensor's matched name; tensors that alignment does not read (non-floating) are absent. */
  readonly values: ReadonlyMap<string, TensorDifference>;
}

/**
 * Runs weight matching of B onto A and compares A with π(B) for every shared tensor of the same shape.
 * NOTE: this reads every floating tensor of both files into memory, as alignment does, unlike the streamed raw diff.
 */
export async function diffAfterAlignment(
  a: Checkpoint,
  b: Checkpoint,
  shared: readonly SharedTensor[],
  options: { readonly spec: string; readonly graph?: string; readonly specInference?: { readonly transformerLevel?: TransformerLevel; readonly heads?: number }; readonly signal: AbortSignal },
): Promise<AlignedDifferences> {
  const aligned = await alignToReference(a, b, options.spec, DEFAULT_MATCHING, options.signal, { graph: options.graph, ...options.specInference });
  const values = new Map<string, TensorDifference>();
  for (const tensor of shared) {
    if (!tensor.sameShape) continue;
    const valuesA = aligned.floatsA.get(tensor.a.rawName);
    const valuesB = aligned.alignedB.get(tensor.b.rawName);
    if (valuesA === undefined || valuesB === undefined) continue;
    const accumulator = new TensorDifferenceAccumulator();
    accumulator.add(valuesA, valuesB);
    values.set(tensor.name, accumulator.result());
  }
  return { specSource: aligned.spec.source, values };
}
