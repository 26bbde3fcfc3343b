// Unit similarity matrices for the alignment panel's heatmaps: for each permutation, entry (i, j) is
// Σ ⟨A's unit i, B's unit j⟩ over the cost tensors' axes it acts on, the sum weight matching maximizes. The
// engine's onnxruntime similarity session computes them, as it does during matching.
import type { ResolvedSpec } from '../alignment/permutationSpec';
import type { ExecutionProviderChoice } from '../compute/executionProvider';
import type { Precision } from '../compute/similarityModel';
import { SimilaritySession } from '../compute/similaritySession';
import type { FloatTensor } from '../formats/checkpoint';
import type { PermutationHeatmap } from '../protocol/webviewMessages';
import { downsampleBlockMax } from '../../webview/logic/blockMax';

/** Side above which matrices are reduced by block maximum before they are sent: 1024² float32 is 4 MiB. */
export const MAX_HEATMAP_SIZE = 1024;

/** Returns the matrix with column j taken from column `perm[j]`, so B's units appear in aligned order. */
function reorderColumns(matrix: ArrayLike<number>, n: number, perm: ArrayLike<number>): Float32Array {
  const result = new Float32Array(n * n);
  for (let row = 0; row < n; row++) {
    const offset = row * n;
    for (let column = 0; column < n; column++) result[offset + column] = matrix[offset + perm[column]];
  }
  return result;
}

/**
 * Computes one heatmap per permutation that a cost tensor votes on. `floatsA` is keyed by A's names and
 * `floatsB` by B's. `before` has B as stored; `after` puts B's unit `perm[j]` in column j, with every other
 * permutation applied too.
 */
export async function computeHeatmaps(
  spec: ResolvedSpec,
  floatsA: ReadonlyMap<string, FloatTensor>,
  floatsB: ReadonlyMap<string, FloatTensor>,
  permutations: ReadonlyMap<string, ArrayLike<number>>,
  options: { readonly precision: Precision; readonly executionProvider: ExecutionProviderChoice },
  signal: AbortSignal,
): Promise<PermutationHeatmap[]> {
  const session = await SimilaritySession.create(spec, floatsA, floatsB, options);
  try {
    const heatmaps: PermutationHeatmap[] = [];
    for (const [name, n] of spec.permutations) {
      if (!session.hasCostTerms(name)) continue;
      signal.throwIfAborted();
      const identity = Int32Array.from({ length: n }, (_, index) => index);
      const perm = permutations.get(name) ?? identity;

      const before = Float32Array.from(await session.similarity(name, new Map()));
      const after = reorderColumns(await session.similarity(name, permutations), n, perm);

      const reducedBefore = downsampleBlockMax({ size: n, data: before }, MAX_HEATMAP_SIZE);
      const reducedAfter = downsampleBlockMax({ size: n, data: after }, MAX_HEATMAP_SIZE);
      heatmaps.push({ permutation: name, n, size: reducedBefore.size, before: reducedBefore.data, after: reducedAfter.data });
    }
    return heatmaps;
  } finally {
    await session.release();
  }
}
