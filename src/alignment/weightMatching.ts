// Weight matching (Ainsworth, Hayase and Srinivasa, "Git Re-Basin", ICLR 2023, algorithm 2): coordinate ascent
// over the permutations of B, each step solving one linear assignment problem exactly.
import type { FloatTensor } from '../formats/checkpoint';
import type { ExecutionProviderChoice, ExecutionProviderUsed } from '../compute/executionProvider';
import type { Precision } from '../compute/similarityModel';
import { SimilaritySession } from '../compute/similaritySession';
import { permuteTensor } from './applyPermutation';
import { solveLinearAssignment } from './linearAssignment';
import { innerProduct } from './objective';
import type { ResolvedSpec } from './permutationSpec';
import { SeededRandom } from './seededRandom';

export interface WeightMatchingProgress {
  /** 1-based sweep number. */
  readonly sweep: number;
  readonly permutation: string;
  /** Objective Σ ⟨A, π(B)⟩ over the cost tensors after this step. */
  readonly objective: number;
}

export interface WeightMatchingOptions {
  readonly seed?: number;
  /** `random`: a seeded random visiting order drawn anew each sweep; `sorted`: permutation names in sorted order. */
  readonly order?: 'random' | 'sorted';
  /** Default 100. */
  readonly maxSweeps?: number;
  /** Element type of the similarity products; the objective itself is always summed in float64. */
  readonly precision?: Precision;
  readonly executionProvider?: ExecutionProviderChoice;
  readonly onProgress?: (progress: WeightMatchingProgress) => void;
  /** Checked between permutations; aborting rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface WeightMatchingResult {
  /** Permutation name → perm, where aligned unit i is B's unit perm[i]. */
  readonly permutations: ReadonlyMap<string, Int32Array>;
  readonly objective: { readonly before: number; readonly after: number; readonly perSweep: readonly number[] };
  readonly sweeps: number;
  /** False when `maxSweeps` ended the search while permutations were still improving. */
  readonly converged: boolean;
  readonly executionProvider: ExecutionProviderUsed;
  /** Permutations that no cost tensor votes on; they stay the identity. */
  readonly withoutCost: readonly string[];
}

/**
 * Finds the permutations of B's units that maximize Σ ⟨A, π(B)⟩ over the spec's cost tensors. `a` and `b` are
 * keyed by each checkpoint's own tensor names and hold float32 or float64 data (convert float16 and bfloat16
 * first). The similarity products run in one onnxruntime session.
 */
export async function matchWeights(
  spec: ResolvedSpec,
  a: ReadonlyMap<string, FloatTensor>,
  b: ReadonlyMap<string, FloatTensor>,
  options: WeightMatchingOptions = {},
): Promise<WeightMatchingResult> {
  const maxSweeps = options.maxSweeps ?? 100;
  const precision = options.precision ?? 'float32';
  const names = [...spec.permutations.keys()];
  const permutations = new Map(names.map((name) => [name, identity(spec.permutations.get(name) as number)]));
  const before = costObjective(spec, a, b, permutations);

  options.signal?.throwIfAborted();
  const session = await SimilaritySession.create(spec, a, b, { precision, executionProvider: options.executionProvider ?? 'auto' });
  try {
    const voting = names.filter((name) => session.hasCostTerms(name));
    const random = new SeededRandom(options.seed ?? 0);
    const warmStarts = new Map<string, { rowToColumn: Int32Array; columnDual: Float64Array }>();
    const perSweep: number[] = [];
    let objective = before;
    let converged = voting.length === 0;

    while (!converged && perSweep.length < maxSweeps) {
      const sweep = perSweep.length + 1;
      const order = options.order === 'sorted' ? voting : random.shuffle([...voting]);
      let improved = false;
      for (const name of order) {
        options.signal?.throwIfAborted();
        const size = spec.permutations.get(name) as number;
        const similarity = await session.similarity(name, permutations);
        const current = permutations.get(name) as Int32Array;
        let currentTotal = 0;
        for (let i = 0; i < size; i++) currentTotal += similarity[i * size + current[i]];

        const solution = solveLinearAssignment(similarity, size, size, { maximize: true, warmStart: warmStarts.get(name) });
        warmStarts.set(name, { rowToColumn: solution.rowToColumn, columnDual: solution.columnDual });
        const gain = solution.total - currentTotal;
        // float32 products carry relative rounding, so the threshold scales with the objective there.
        const threshold = precision === 'float32' ? 1e-12 * Math.abs(objective) : 1e-12;
        if (gain > threshold) {
          permutations.set(name, Int32Array.from(solution.rowToColumn));
          objective += gain;
          improved = true;
        }
        options.onProgress?.({ sweep, permutation: name, objective });
      }
      perSweep.push(objective);
      converged = !improved;
    }

    const after = costObjective(spec, a, b, permutations);
    return {
      permutations,
      objective: { before, after, perSweep },
      sweeps: perSweep.length,
      converged,
      executionProvider: session.provider,
      withoutCost: names.filter((name) => !voting.includes(name)),
    };
  } finally {
    await session.release();
  }
}

/** Σ ⟨A, π(B)⟩ over the cost tensors, in float64. */
export function costObjective(
  spec: ResolvedSpec,
  a: ReadonlyMap<string, FloatTensor>,
  b: ReadonlyMap<string, FloatTensor>,
  permutations: ReadonlyMap<string, ArrayLike<number>>,
): number {
  let total = 0;
  for (const tensor of spec.tensors) {
    if (!tensor.cost) continue;
    const tensorA = a.get(tensor.nameA);
    const tensorB = b.get(tensor.nameB);
    if (tensorA === undefined || tensorB === undefined) throw new Error(`cost tensor "${tensor.name}" was not loaded`);
    total += innerProduct(tensorA.data, permuteTensor(tensorB.data, tensor.shape, tensor.axes, permutations));
  }
  return total;
}

function identity(size: number): Int32Array {
  return Int32Array.from({ length: size }, (_, i) => i);
}
