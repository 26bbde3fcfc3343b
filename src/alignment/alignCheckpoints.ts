// The whole alignment job on two checkpoint files: open, choose the spec, read the floating tensors, run
// weight matching, build the report, and optionally write π(B). The `align` command and the worker share it.
import { basename } from 'node:path';
import { assertOutputPath } from '../formats/atomicWrite';
import { elementCount, type Checkpoint, type FloatTensor, type NamedTensor } from '../formats/checkpoint';
import { openCheckpoint } from '../formats/open';
import { pickleWarnings } from '../formats/pickleWarnings';
import { assertWritableOutput, writeCheckpoint } from '../formats/write';
import type { ExecutionProviderChoice } from '../compute/executionProvider';
import type { Precision } from '../compute/similarityModel';
import { TOOL_NAME, VERSION } from '../version';
import { buildAlignReport, type AlignReport } from './alignReport';
import { assertFiniteSpecTensors } from './finiteWeights';
import { permuteTensor, type ElementArray } from './applyPermutation';
import type { PermutationSpec, ResolvedSpec } from './permutationSpec';
import { chooseSpec } from './specChoice';
import type { TransformerLevel } from './specInference';
import { pairTensors } from './tensorPairs';
import { matchWeights, type WeightMatchingProgress, type WeightMatchingResult } from './weightMatching';

export interface AlignSettings {
  readonly seed: number;
  readonly order: 'random' | 'sorted';
  readonly maxSweeps: number;
  readonly precision: Precision;
  readonly executionProvider: ExecutionProviderChoice;
}

export const DEFAULT_ALIGN_SETTINGS: AlignSettings = { seed: 0, order: 'random', maxSweeps: 100, precision: 'float32', executionProvider: 'auto' };

export interface AlignRequest {
  readonly pathA: string;
  readonly pathB: string;
  /** `auto` or a `*.permspec.json` path. */
  readonly spec: string;
  readonly graph?: string;
  readonly transformerLevel?: TransformerLevel;
  /** Attention heads per block, for spec inference of transformers whose files omit the count. */
  readonly heads?: number;
  readonly settings: AlignSettings;
  /** Output path of π(B), in the format its extension names; without it nothing is written. */
  readonly writeAligned?: string;
}

export interface AlignContext {
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: WeightMatchingProgress) => void;
  /** Stage messages for logs: loading, matching, writing. */
  readonly onStage?: (stage: string) => void;
}

export interface AlignOutcome {
  readonly report: AlignReport;
  /** The spec as written or inferred, for `--save-spec`. */
  readonly spec: PermutationSpec;
  readonly specNotes: readonly string[];
  readonly floatingTensorCount: number;
  /** One line per input whose pickle references globals outside the allow-list (nothing was executed). */
  readonly warnings: readonly string[];
}

/** Runs the alignment job. Outputs over an input are rejected before any work; cancelling leaves no output file. */
export async function alignCheckpoints(request: AlignRequest, context: AlignContext): Promise<AlignOutcome> {
  const { pathA, pathB, settings } = request;
  if (request.writeAligned !== undefined) {
    assertOutputPath(request.writeAligned, [pathA, pathB]);
    assertWritableOutput(request.writeAligned, onnxTemplate(request));
  }

  const loadStart = performance.now();
  context.onStage?.(`opening ${pathA} and ${pathB}`);
  const a = await openCheckpoint(pathA);
  try {
    const b = await openCheckpoint(pathB);
    try {
      const chosen = await chooseSpec(request.spec, a, b, { graph: request.graph, transformerLevel: request.transformerLevel, heads: request.heads });
      const spec = chosen.resolved;
      const pairing = pairTensors(a.tensors, b.tensors, spec);
      const floatsA = await readFloats(a, pairing.floating.map((pair) => pair.nameA), settings.precision, context.signal);
      const floatsB = await readFloats(b, pairing.floating.map((pair) => pair.nameB), settings.precision, context.signal);
      assertFiniteSpecTensors(spec, (name) => floatsA.get(name)?.data, 'A', pathA);
      assertFiniteSpecTensors(spec, (name) => floatsB.get(name)?.data, 'B', pathB);
      const load = (performance.now() - loadStart) / 1000;

      context.onStage?.(`weight matching with spec ${spec.source}`);
      const matchStart = performance.now();
      const result = await matchWeights(spec, floatsA, floatsB, { ...settings, signal: context.signal, onProgress: context.onProgress });
      const match = (performance.now() - matchStart) / 1000;

      const alignedB = alignFloats(spec, floatsB, result);
      const report = buildAlignReport({
        a: pathA, b: pathB, spec, result, pairs: pairing.floating, untouched: pairing.untouched,
        floatsA, floatsB, alignedB, settings: { precision: settings.precision, order: settings.order, seed: settings.seed }, seconds: { load, match },
      });

      if (request.writeAligned !== undefined) {
        context.onStage?.(`writing ${request.writeAligned}`);
        await writeAligned(b, spec, result, request.writeAligned, { inputs: [pathA, pathB], template: onnxTemplate(request), alignedTo: basename(pathA), signal: context.signal });
      }
      return { report, spec: chosen.spec, specNotes: chosen.notes, floatingTensorCount: pairing.floating.length, warnings: pickleWarnings([a, b]) };
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

/** Returns the model whose graph an ONNX output of π(B) copies: `--graph`, else B itself when B is ONNX. */
function onnxTemplate(request: AlignRequest): string | undefined {
  return request.graph ?? (request.pathB.toLowerCase().endsWith('.onnx') ? request.pathB : undefined);
}

async function readFloats(checkpoint: Checkpoint, names: readonly string[], precision: Precision, signal: AbortSignal): Promise<Map<string, FloatTensor>> {
  const shapes = new Map(checkpoint.tensors.map((entry) => [entry.name, entry.shape]));
  const tensors = new Map<string, FloatTensor>();
  for (const name of names) {
    signal.throwIfAborted();
    // Readers convert float16, bfloat16 and float8 exactly, so every product receives float32 or float64 values.
    const data = precision === 'float64' ? await checkpoint.readTensor(name, 'float64') : await checkpoint.readTensor(name, 'float32');
    tensors.set(name, { shape: shapes.get(name) as readonly number[], data });
  }
  return tensors;
}

function alignFloats(spec: ResolvedSpec, floatsB: ReadonlyMap<string, FloatTensor>, result: WeightMatchingResult): Map<string, FloatTensor> {
  const byName = new Map(spec.tensors.map((tensor) => [tensor.nameB, tensor]));
  const aligned = new Map<string, FloatTensor>();
  for (const [name, tensor] of floatsB) {
    const specTensor = byName.get(name);
    aligned.set(name, specTensor === undefined ? tensor : { shape: tensor.shape, data: permuteTensor(tensor.data, tensor.shape, specTensor.axes, result.permutations) });
  }
  return aligned;
}

/** Writes every tensor of B in its stored type, spec tensors permuted; permuting moves elements, so no value changes. */
async function writeAligned(
  b: Checkpoint,
  spec: ResolvedSpec,
  result: WeightMatchingResult,
  output: string,
  options: { inputs: string[]; template?: string; alignedTo: string; signal: AbortSignal },
): Promise<void> {
  const byName = new Map(spec.tensors.map((tensor) => [tensor.nameB, tensor]));
  const tensors: NamedTensor[] = [];
  for (const entry of b.tensors) {
    options.signal.throwIfAborted();
    const stored = await b.readTensor(entry.name, 'stored');
    const specTensor = byName.get(entry.name);
    let data = stored.data;
    if (specTensor !== undefined && specTensor.axes.some((axis) => axis !== null)) {
      if ((data as ElementArray).length !== elementCount(entry.shape)) {
        throw new Error(`${b.path}: tensor "${entry.name}" is stored as ${entry.dtype} blocks, which cannot be permuted element-wise; convert the checkpoint first`);
      }
      data = permuteTensor(data as ElementArray, entry.shape, specTensor.axes, result.permutations);
    }
    tensors.push({ name: entry.name, dtype: stored.dtype, shape: stored.shape, data });
  }
  await writeCheckpoint(output, tensors, {
    inputs: options.inputs,
    onnxTemplate: options.template,
    signal: options.signal,
    metadata: { tool: `${TOOL_NAME} ${VERSION} align`, aligned_to: options.alignedTo, source: basename(b.path), spec: spec.source },
  });
}
