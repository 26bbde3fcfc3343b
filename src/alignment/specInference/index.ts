// `--spec auto`: infers a permutation spec from an ONNX graph, a known architecture or a plain chain of layers.
import type { Checkpoint } from '../../formats/checkpoint';
import type { PermutationSpec } from '../permutationSpec';
import { resolvePermutationSpec } from '../resolveSpec';
import { inferLinearChain } from './chain';
import { inferConvChain } from './convChain';
import { inferFlaxDenseChain } from './flaxChain';
import { inferSpecFromGraph } from './graphSpec';
import { SpecInferenceError } from './inferenceError';
import { isLayerTensor } from './layerTensors';
import { readSiblingConfig } from './modelConfig';
import { inferFromTemplates, type TransformerLevel } from './templates';

export { SpecInferenceError } from './inferenceError';
export type { TransformerLevel } from './templates';

export interface InferredSpec {
  spec: PermutationSpec;
  /** For reports: `auto: …` naming the tier and, for templates, the architecture and level. */
  source: string;
  /** Facts for the user about the spec: permutation sizes, traced names, tensors left unpermuted, skipped tiers. */
  notes: string[];
}

export interface InferenceOptions {
  /** An ONNX export of the model; defaults to A itself when A is an ONNX model. */
  graph?: string;
  /** For transformers: `local` permutes MLP units and whole heads per block; `full` also the residual stream. Default `local`. */
  transformerLevel?: TransformerLevel;
  /** Number of attention heads (query heads for grouped-query attention); overrides the metadata and config.json. */
  heads?: number;
}

const SPEC_HELP = 'pass --graph MODEL.onnx with an ONNX export of the model, or --spec FILE with a permutation spec (see "Permutation convention and spec files" in the README)';

/**
 * Tries, in order: the ONNX graph (`options.graph`, or A itself when A is ONNX), a known architecture recognized
 * from tensor names, a plain chain of Linear, convolution or Flax Dense layers. The spec is validated against both
 * checkpoints. Throws one error naming the tensors that could not be placed and what to pass instead.
 */
export async function inferPermutationSpec(a: Checkpoint, b: Checkpoint, options: InferenceOptions = {}): Promise<InferredSpec> {
  const failures: string[] = [];
  let unplaced: readonly string[] = [];
  const record = (error: unknown, tier: string) => {
    if (!(error instanceof SpecInferenceError)) throw error;
    failures.push(`${tier}: ${error.message}`);
    if (unplaced.length === 0) unplaced = error.unplaced;
  };

  const attempts: [string, () => Promise<InferredSpec>][] = [];
  const graph = options.graph ?? (a.format === 'onnx' ? a.path : undefined);
  if (graph !== undefined) attempts.push(['ONNX graph', () => inferSpecFromGraph(graph, a)]);
  attempts.push(['known architectures', async () => {
    const sibling = await readSiblingConfig(a.path);
    // Metadata stored in the checkpoint takes precedence; the folder's config.json fills in what it lacks.
    const metadata = sibling.config === undefined ? a.metadata : { ...a.metadata, 'config.json': sibling.config };
    const inferred = inferFromTemplates({ tensors: a.tensors, metadata }, { level: options.transformerLevel ?? 'local', heads: options.heads });
    if (sibling.note !== undefined) inferred.notes.push(sibling.note);
    return inferred;
  }]);
  attempts.push(['chain of layers', async () => inferChain(a)]);

  for (const [tier, attempt] of attempts) {
    let inferred: InferredSpec;
    try {
      inferred = await attempt();
    } catch (error) {
      record(error, tier);
      continue;
    }
    // A graph the user passed explicitly and that could not be used gets a note of its own, shown without
    // --verbose, because the README has the graph tried first and a silent fallback would hide the mismatch.
    const graphFailure = options.graph === undefined ? undefined : failures.find((failure) => failure.startsWith('ONNX graph: '));
    if (graphFailure !== undefined) inferred.notes.push(`the --graph model ${options.graph} was not used (${graphFailure.slice('ONNX graph: '.length)})`);
    for (const failure of failures) inferred.notes.push(`skipped ${failure}`);
    resolvePermutationSpec(inferred.spec, inferred.source, { path: a.path, tensors: a.tensors }, { path: b.path, tensors: b.tensors });
    return inferred;
  }

  if (unplaced.length === 0) unplaced = a.tensors.filter(isLayerTensor).map((entry) => entry.name);
  const shown = unplaced.slice(0, 12).map((name) => `"${name}"`).join(', ');
  const more = unplaced.length > 12 ? ` and ${unplaced.length - 12} more` : '';
  throw new SpecInferenceError(
    `${a.path}: cannot infer a permutation spec (${failures.join('; ')}); tensors that could not be placed: ${shown}${more}; ${SPEC_HELP}`,
    unplaced,
  );
}

function inferChain(a: Checkpoint): InferredSpec {
  const linear = inferLinearChain(a.tensors);
  if ('spec' in linear) return { spec: linear.spec, source: linear.source, notes: [] };
  const convolution = inferConvChain(a.tensors);
  if ('spec' in convolution) return { spec: convolution.spec, source: convolution.source, notes: convolution.notes };
  const flax = inferFlaxDenseChain(a.tensors);
  if ('spec' in flax) return { spec: flax.spec, source: flax.source, notes: [] };
  throw new SpecInferenceError(`not a Linear chain (${linear.failure}), a convolution chain (${convolution.failure}) nor a Flax Dense chain (${flax.failure})`, convolution.unplaced);
}

/** Writes a spec as a `*.permspec.json` file: pretty JSON, one line per tensor, in the spec's tensor order. */
export function serializePermutationSpec(spec: PermutationSpec): string {
  const lines = Object.entries(spec.axes).map(([tensor, entries]) => `    ${JSON.stringify(tensor)}: [${entries.map(formatEntry).join(', ')}]`);
  const parts = [`  "axes": {\n${lines.join(',\n')}\n  }`];
  if (spec.cost !== undefined) parts.push(`  "cost": [${spec.cost.map((name) => JSON.stringify(name)).join(', ')}]`);
  return `{\n${parts.join(',\n')}\n}\n`;
}

function formatEntry(entry: PermutationSpec['axes'][string][number]): string {
  if (entry === null || typeof entry === 'string') return JSON.stringify(entry);
  return `{ "perm": ${JSON.stringify(entry.perm)}, "outer": ${entry.outer}, "inner": ${entry.inner} }`;
}
