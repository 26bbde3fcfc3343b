// The `align --out` report: permutations, objective, distances and per-tensor cosine similarity.
import type { FloatTensor } from '../formats/checkpoint';
import { cosineSimilarity, squaredDistance } from './objective';
import type { ResolvedSpec } from './permutationSpec';
import type { FloatingPair, UntouchedTensor } from './tensorPairs';
import type { WeightMatchingResult } from './weightMatching';

export interface AlignReport {
  readonly a: string;
  readonly b: string;
  readonly spec: { readonly source: string; readonly permutations: Record<string, number> };
  /** Permutation name → perm as a plain array; aligned unit i is B's unit perm[i]. */
  readonly permutations: Record<string, number[]>;
  readonly objective: { readonly before: number; readonly after: number; readonly perSweep: readonly number[] };
  readonly sweeps: number;
  readonly converged: boolean;
  /** L2 norm of A − B and of A − π(B) over every floating tensor present in both with the same shape. */
  readonly distance: { readonly before: number; readonly after: number };
  readonly layers: readonly { readonly tensor: string; readonly cosineBefore: number; readonly cosineAfter: number }[];
  readonly executionProvider: string;
  readonly executionProviderReason: string;
  readonly precision: string;
  readonly order: string;
  readonly seed: number;
  /** Permutations no cost tensor votes on; they stay the identity. */
  readonly withoutCost: readonly string[];
  readonly untouched: readonly UntouchedTensor[];
  readonly seconds: { readonly load: number; readonly match: number };
}

export interface AlignReportInput {
  readonly a: string;
  readonly b: string;
  readonly spec: ResolvedSpec;
  readonly result: WeightMatchingResult;
  readonly pairs: readonly FloatingPair[];
  readonly untouched: readonly UntouchedTensor[];
  readonly floatsA: ReadonlyMap<string, FloatTensor>;
  /** B before and after alignment, keyed by B's names. */
  readonly floatsB: ReadonlyMap<string, FloatTensor>;
  readonly alignedB: ReadonlyMap<string, FloatTensor>;
  readonly settings: { readonly precision: string; readonly order: string; readonly seed: number };
  readonly seconds: { readonly load: number; readonly match: number };
}

export function buildAlignReport(input: AlignReportInput): AlignReport {
  let before = 0;
  let after = 0;
  const layers: { tensor: string; cosineBefore: number; cosineAfter: number }[] = [];
  for (const pair of input.pairs) {
    const a = tensor(input.floatsA, pair.nameA);
    const b = tensor(input.floatsB, pair.nameB);
    const aligned = tensor(input.alignedB, pair.nameB);
    before += squaredDistance(a.data, b.data);
    after += squaredDistance(a.data, aligned.data);
    layers.push({ tensor: pair.nameA, cosineBefore: cosineSimilarity(a.data, b.data), cosineAfter: cosineSimilarity(a.data, aligned.data) });
  }

  const { result } = input;
  return {
    a: input.a,
    b: input.b,
    spec: { source: input.spec.source, permutations: Object.fromEntries(input.spec.permutations) },
    permutations: Object.fromEntries([...result.permutations].map(([name, perm]) => [name, Array.from(perm)])),
    objective: result.objective,
    sweeps: result.sweeps,
    converged: result.converged,
    distance: { before: Math.sqrt(before), after: Math.sqrt(after) },
    layers,
    executionProvider: result.executionProvider.name,
    executionProviderReason: result.executionProvider.reason,
    ...input.settings,
    withoutCost: result.withoutCost,
    untouched: input.untouched,
    seconds: input.seconds,
  };
}

function tensor(tensors: ReadonlyMap<string, FloatTensor>, name: string): FloatTensor {
  const found = tensors.get(name);
  if (found === undefined) throw new Error(`tensor "${name}" was not loaded`);
  return found;
}

/** Serializes the report as indented JSON with each array of numbers on one line, so permutations stay readable. */
export function formatAlignReport(report: AlignReport): string {
  const text = JSON.stringify(report, null, 2);
  return `${text.replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_match, body: string) => `[${body.split(/,\s*/).join(', ')}]`)}\n`;
}
