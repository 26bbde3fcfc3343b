// Weight matching sums products of weights into similarity matrices, so one NaN or infinity in a spec tensor makes
// a whole matrix non-finite and the linear assignment fails far from its cause. This check names the cause first.
import { CheckpointError } from '../formats/checkpoint';
import type { ResolvedSpec } from './permutationSpec';

/**
 * Throws a CheckpointError naming `path` and the first spec tensor of one side (`side` picks the names) whose
 * values, as `valuesOf` returns the ones weight matching will read, hold a NaN or an infinity.
 */
export function assertFiniteSpecTensors(
  spec: ResolvedSpec,
  valuesOf: (name: string) => ArrayLike<number> | undefined,
  side: 'A' | 'B',
  path: string,
): void {
  for (const tensor of spec.tensors) {
    const name = side === 'A' ? tensor.nameA : tensor.nameB;
    const data = valuesOf(name);
    if (data === undefined) continue;
    for (let i = 0; i < data.length; i++) {
      if (Number.isFinite(data[i])) continue;
      throw new CheckpointError(
        path,
        `tensor "${name}" holds ${String(data[i])} at element ${i}; weight matching needs finite weights, so repair or drop this checkpoint`,
        { tensor: name },
      );
    }
  }
}
