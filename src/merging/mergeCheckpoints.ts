// Weighted average of checkpoints after aligning each onto the first: θ = Σ_k w_k · π_k(θ_k) / Σ_k w_k, with
// π_1 the identity. With two models and weights (1−λ, λ) this is (1−λ)·A + λ·π(B).
import { basename } from 'node:path';
import { assertOutputPath } from '../formats/atomicWrite';
import { CheckpointError, type Checkpoint, type NamedTensor, type TensorEntry } from '../formats/checkpoint';
import { isFloatingDType } from '../formats/dtype';
import { openCheckpoint } from '../formats/open';
import { assertWritableOutput, writeCheckpoint } from '../formats/write';
import { pairTensors } from '../alignment/tensorPairs';
import { commonWrapperPrefix, TensorNameIndex } from '../alignment/tensorNameMatching';
import { TOOL_NAME, VERSION } from '../version';
import { alignToReference, DEFAULT_MATCHING, readFloat64, type MatchingSettings } from './alignToReference';
import { encodeFloats, isMergeDType, type MergeDType } from './floatEncoding';
import { pickleWarnings } from '../formats/pickleWarnings';
import type { TransformerLevel } from '../alignment/specInference';

export interface MergeOptions {
  /** Checkpoint paths; the first is the reference every other model is aligned to. */
  readonly inputs: readonly string[];
  /** One weight per input, summing to a positive number; normalized by their sum. */
  readonly weights: readonly number[];
  /** Recorded in the metadata when the weights came from `--lambda`. */
  readonly lambda?: number;
  readonly output: string;
  /** `auto` or a `*.permspec.json` path; ignored without alignment. */
  readonly spec: string;
  /** Spec inference options for `auto`: transformer level and head count. */
  readonly specInference?: { readonly transformerLevel?: TransformerLevel; readonly heads?: number };
  readonly align: boolean;
  /** Element type of every floating tensor; defaults to A's type per tensor. */
  readonly dtype?: MergeDType;
  /** ONNX model whose graph an `.onnx` output copies; defaults to A when A is ONNX. */
  readonly graph?: string;
  readonly matching?: Partial<MatchingSettings>;
  readonly signal?: AbortSignal;
}

export interface CopiedTensor {
  readonly tensor: string;
  /** Path of the model the tensor was copied from. */
  readonly from: string;
  readonly reason: 'only in this model' | 'not floating' | 'not in every model';
}

export interface MergeSummary {
  readonly output: string;
  /** Normalized weights, one per input. */
  readonly weights: readonly number[];
  /** Permutation spec source per aligned model (inputs after the first), or undefined without alignment. */
  readonly specSources?: readonly string[];
  readonly merged: number;
  /** Tensors written unchanged from one model instead of averaged. */
  readonly copied: readonly CopiedTensor[];
  /** Tensors left out of an ONNX output because its graph has no initializer for them (`num_batches_tracked`). */
  readonly dropped: readonly string[];
  /** For the user: inputs whose pickle references dangerous or unknown globals (see pickleWarnings). */
  readonly warnings: readonly string[];
}

/** B's values for every tensor of A that B holds: aligned when requested, keyed by A's name. */
type Contribution = ReadonlyMap<string, Float64Array>;

/** Aligns, averages and writes the checkpoints. Throws when the output names an input or shapes differ. */
export async function mergeCheckpoints(options: MergeOptions): Promise<MergeSummary> {
  const signal = options.signal ?? new AbortController().signal;
  if (options.inputs.length < 2) throw new Error('merging needs at least two checkpoints');
  if (options.weights.length !== options.inputs.length) throw new Error(`${options.weights.length} weights for ${options.inputs.length} checkpoints`);
  const total = options.weights.reduce((sum, weight) => sum + weight, 0);
  if (!(total > 0) || !options.weights.every(Number.isFinite)) throw new Error(`weights must be finite and sum to a positive number, got ${options.weights.join(', ')}`);
  const weights = options.weights.map((weight) => weight / total);
  const template = options.graph ?? (options.inputs[0].toLowerCase().endsWith('.onnx') ? options.inputs[0] : undefined);
  assertOutputPath(options.output, [...options.inputs, ...(template === undefined ? [] : [template])]);
  assertWritableOutput(options.output, template);

  const checkpoints: Checkpoint[] = [];
  try {
    for (const path of options.inputs) checkpoints.push(await openCheckpoint(path));
    const [a, ...others] = checkpoints;
    for (const other of others) checkShapes(a, other);
    assertSharedTensors(a, others);
    const specSources: string[] = [];
    const contributions: Contribution[] = [];
    let floatsA: ReadonlyMap<string, Float64Array> | undefined;
    for (const other of others) {
      if (options.align) {
        const aligned = await alignToReference(a, other, options.spec, { ...DEFAULT_MATCHING, ...options.matching }, signal, { graph: options.graph, ...options.specInference });
        specSources.push(aligned.spec.source);
        floatsA ??= aligned.floatsA;
        contributions.push(new Map(aligned.pairs.map((pair) => [pair.nameA, aligned.alignedB.get(pair.nameB) as Float64Array])));
      } else {
        const pairs = pairTensors(a.tensors, other.tensors, { source: 'none', permutations: new Map(), tensors: [] }).floating;
        const values = await readFloat64(other, pairs.map((pair) => pair.nameB), signal);
        contributions.push(new Map(pairs.map((pair) => [pair.nameA, values.get(pair.nameB) as Float64Array])));
      }
    }

    const { tensors, copied, merged } = await averageTensors(a, others, weights, contributions, floatsA, options.dtype, signal);
    const metadata: Record<string, string> = {
      tool: `${TOOL_NAME} merge`,
      version: VERSION,
      inputs: JSON.stringify(options.inputs.map((path) => basename(path))),
      weights: JSON.stringify(weights),
      spec: options.align ? specSources.join('; ') : 'none (--no-align)',
    };
    if (options.lambda !== undefined) metadata.lambda = String(options.lambda);
    const { written, dropped } = options.output.toLowerCase().endsWith('.onnx') && template !== undefined ? await renameForGraph(tensors, template) : { written: tensors, dropped: [] };
    await writeCheckpoint(options.output, written, { inputs: options.inputs, onnxTemplate: template, metadata, signal });
    const warnings = pickleWarnings(checkpoints);
    return { output: options.output, weights, specSources: options.align ? specSources : undefined, merged, copied, dropped, warnings };
  } finally {
    for (const checkpoint of checkpoints) await checkpoint.close();
  }
}

async function averageTensors(
  a: Checkpoint,
  others: readonly Checkpoint[],
  weights: readonly number[],
  contributions: readonly Contribution[],
  floatsA: ReadonlyMap<string, Float64Array> | undefined,
  dtype: MergeDType | undefined,
  signal: AbortSignal,
): Promise<{ tensors: NamedTensor[]; copied: CopiedTensor[]; merged: number }> {
  const tensors: NamedTensor[] = [];
  const copied: CopiedTensor[] = [];
  let merged = 0;
  for (const entry of a.tensors) {
    signal.throwIfAborted();
    if (!isFloatingDType(entry.dtype)) {
      // Step counters and `num_batches_tracked` have no meaningful average.
      tensors.push({ name: entry.name, ...(await a.readTensor(entry.name, 'stored')) });
      copied.push({ tensor: entry.name, from: a.path, reason: 'not floating' });
      continue;
    }
    if (!contributions.every((contribution) => contribution.has(entry.name))) {
      const holders = contributions.filter((contribution) => contribution.has(entry.name)).length;
      tensors.push({ name: entry.name, ...(await a.readTensor(entry.name, 'stored')) });
      copied.push({ tensor: entry.name, from: a.path, reason: holders === 0 ? 'only in this model' : 'not in every model' });
      continue;
    }
    const values = floatsA?.get(entry.name) ?? (await a.readTensor(entry.name, 'float64'));
    // Each model's weight multiplies its own values once, and the running sum is never scaled again.
    const sum = new Float64Array(values.length);
    for (let i = 0; i < sum.length; i++) sum[i] = weights[0] * values[i];
    contributions.forEach((contribution, index) => {
      const other = contribution.get(entry.name) as Float64Array;
      const weight = weights[index + 1];
      for (let i = 0; i < sum.length; i++) sum[i] += weight * other[i];
    });
    const outputType = dtype ?? entry.dtype;
    if (!isMergeDType(outputType)) {
      throw new CheckpointError(a.path, `tensor "${entry.name}" is stored as ${entry.dtype}; pass --dtype F32, F16, BF16 or F64 for the merged tensors`, { tensor: entry.name });
    }
    tensors.push({ name: entry.name, dtype: outputType, shape: entry.shape, data: encodeFloats(sum, outputType) });
    merged++;
  }

  const written = new Set(tensors.map((tensor) => tensor.name));
  const indexA = new Set(a.tensors.map((entry) => entry.name));
  for (const [index, other] of others.entries()) {
    const pairedB = new Set(pairTensors(a.tensors, other.tensors, { source: 'none', permutations: new Map(), tensors: [] }).untouched
      .filter((untouched) => untouched.reason === 'only in B').map((untouched) => untouched.tensor));
    for (const entry of other.tensors) {
      if (!pairedB.has(entry.name) || indexA.has(entry.name) || written.has(entry.name)) continue;
      signal.throwIfAborted();
      tensors.push({ name: entry.name, ...(await other.readTensor(entry.name, 'stored')) });
      copied.push({ tensor: entry.name, from: others[index].path, reason: 'only in this model' });
      written.add(entry.name);
    }
  }
  return { tensors, copied, merged };
}

/**
 * Names the tensors as the ONNX template's initializers (matching across wrapper prefixes) and leaves out those
 * the graph does not use, since an ONNX model has no place for them.
 */
async function renameForGraph(tensors: readonly NamedTensor[], template: string): Promise<{ written: NamedTensor[]; dropped: string[] }> {
  const graph = await openCheckpoint(template);
  const initializers = new TensorNameIndex(graph.tensors.map((entry) => entry.name));
  await graph.close();
  const prefix = commonWrapperPrefix(tensors.map((tensor) => tensor.name));
  const written: NamedTensor[] = [];
  const dropped: string[] = [];
  for (const tensor of tensors) {
    const name = initializers.find(tensor.name, prefix);
    if (name === undefined) dropped.push(tensor.name);
    else written.push({ ...tensor, name });
  }
  return { written, dropped };
}

/**
 * Throws naming every input when no floating tensor of A is in all other checkpoints with the same shape: the
 * inputs are then different architectures (or a wrong file), and the output would be a mix with nothing averaged.
 */
function assertSharedTensors(a: Checkpoint, others: readonly Checkpoint[]): void {
  let shared = new Set(a.tensors.map((entry) => entry.name));
  for (const other of others) {
    const paired = pairTensors(a.tensors, other.tensors, { source: 'none', permutations: new Map(), tensors: [] }).floating;
    const names = new Set(paired.map((pair) => pair.nameA));
    shared = new Set([...shared].filter((name) => names.has(name)));
  }
  if (shared.size > 0) return;
  const paths = [a, ...others].map((checkpoint) => checkpoint.path);
  const listed = `${paths.slice(0, -1).join(', ')} and ${paths[paths.length - 1]}`;
  throw new Error(`${listed} share no floating-point tensor with the same name and shape, so nothing would be merged; pass checkpoints of the same architecture`);
}

/** Throws naming the tensor when a tensor present in both checkpoints has different shapes. */
function checkShapes(a: Checkpoint, other: Checkpoint): void {
  const pairing = pairTensors(a.tensors, other.tensors, { source: 'none', permutations: new Map(), tensors: [] });
  const differing = pairing.untouched.find((untouched) => untouched.reason === 'shapes differ');
  if (differing === undefined) return;
  const shapeA = (a.tensors.find((entry) => entry.name === differing.tensor) as TensorEntry).shape;
  throw new CheckpointError(
    other.path,
    `tensor "${differing.tensor}" has shape [${shapeA.join(', ')}] in ${a.path} but a different shape here; merging needs checkpoints of the same architecture`,
    { tensor: differing.tensor },
  );
}
