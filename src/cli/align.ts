// `align A B`: weight matching of B onto A, with a JSON report and optionally the aligned checkpoint π(B).
import { basename } from 'node:path';
import { assertNotAnInput, writeFileAtomically } from '../formats/atomicWrite';
import { elementCount, type Checkpoint, type FloatTensor, type NamedTensor } from '../formats/checkpoint';
import { openCheckpoint } from '../formats/open';
import { writeCheckpoint } from '../formats/write';
import { buildAlignReport, formatAlignReport, type AlignReport } from '../alignment/alignReport';
import { permuteTensor, type ElementArray } from '../alignment/applyPermutation';
import type { ResolvedSpec } from '../alignment/permutationSpec';
import { loadPermutationSpec } from '../alignment/permutationSpecFile';
import { resolvePermutationSpec } from '../alignment/resolveSpec';
import { inferLinearChain } from '../alignment/specInference/chain';
import { pairTensors, type FloatingPair } from '../alignment/tensorPairs';
import { matchWeights, type WeightMatchingResult } from '../alignment/weightMatching';
import type { ExecutionProviderChoice } from '../compute/executionProvider';
import type { Precision } from '../compute/similarityModel';
import { choiceFlag, numberFlag, stringFlag, type CommandDefinition, type CommandIo } from './command';

const EXECUTION_PROVIDERS: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];

export const alignCommand: CommandDefinition = {
  name: 'align',
  usage: 'A B [--spec auto|FILE] [--graph MODEL.onnx] [--seed N] [--order random|sorted] [--max-sweeps N] [--precision float32|float64] [--execution-provider auto|cpu|cuda|dml|coreml] [--out REPORT.json] [--write-aligned FILE]',
  summary: 'Find the permutations of B\'s units that best match A (Git Re-Basin weight matching).',
  positionals: [2, 2],
  options: [
    { name: 'spec', kind: 'value', valueName: 'auto|FILE', description: 'Permutation spec file (*.permspec.json), or auto to infer it (default auto; a plain chain of Linear layers for now).' },
    { name: 'graph', kind: 'value', valueName: 'MODEL.onnx', description: 'ONNX model whose graph --write-aligned copies when writing .onnx.' },
    { name: 'seed', kind: 'value', valueName: 'N', description: 'Seed of the random visiting order (default 0).' },
    { name: 'order', kind: 'value', valueName: 'random|sorted', description: 'Visit permutations in a seeded random order each sweep, or in sorted name order (default random).' },
    { name: 'max-sweeps', kind: 'value', valueName: 'N', description: 'Maximum number of sweeps over all permutations (default 100).' },
    { name: 'precision', kind: 'value', valueName: 'float32|float64', description: 'Element type of the similarity products (default float32).' },
    { name: 'execution-provider', kind: 'value', valueName: 'auto|cpu|cuda|dml|coreml', description: 'onnxruntime execution provider for the products (default auto: the platform\'s accelerator when installed, else CPU).' },
    { name: 'out', kind: 'value', valueName: 'REPORT.json', description: 'Write the JSON report (permutations, objective, distances, per-tensor cosine similarity).' },
    { name: 'write-aligned', kind: 'value', valueName: 'FILE', description: 'Write π(B) in the format the extension names (.safetensors, .pt, .onnx, …).' },
  ],
  async run([pathA, pathB], flags, io) {
    const settings = {
      seed: numberFlag(flags, 'seed', 0, 0, 2 ** 32 - 1),
      order: choiceFlag(flags, 'order', ['random', 'sorted'] as const, 'random'),
      maxSweeps: numberFlag(flags, 'max-sweeps', 100, 1, 1e6),
      precision: choiceFlag(flags, 'precision', ['float32', 'float64'] as const, 'float32'),
      executionProvider: choiceFlag(flags, 'execution-provider', EXECUTION_PROVIDERS, 'auto'),
    };
    const specChoice = stringFlag(flags, 'spec') ?? 'auto';
    const graph = stringFlag(flags, 'graph');
    const reportPath = stringFlag(flags, 'out');
    const alignedPath = stringFlag(flags, 'write-aligned');
    // Reject an output over an input before any work is done.
    for (const output of [reportPath, alignedPath]) if (output !== undefined) assertNotAnInput(output, [pathA, pathB]);

    const loadStart = performance.now();
    const a = await openCheckpoint(pathA);
    try {
      const b = await openCheckpoint(pathB);
      try {
        const spec = await resolveSpec(specChoice, a, b);
        const pairing = pairTensors(a.tensors, b.tensors, spec);
        const floatsA = await readFloats(a, pairing.floating.map((pair) => pair.nameA), settings.precision, io);
        const floatsB = await readFloats(b, pairing.floating.map((pair) => pair.nameB), settings.precision, io);
        const load = (performance.now() - loadStart) / 1000;

        const matchStart = performance.now();
        const result = await matchWeights(spec, floatsA, floatsB, {
          ...settings,
          signal: io.signal,
          onProgress: io.verbose ? ({ sweep, permutation, objective }) => io.stderr.write(`sweep ${sweep} ${permutation}: objective ${objective}\n`) : undefined,
        });
        const match = (performance.now() - matchStart) / 1000;

        const alignedB = alignFloats(spec, floatsB, result);
        const report = buildAlignReport({
          a: pathA, b: pathB, spec, result, pairs: pairing.floating, untouched: pairing.untouched,
          floatsA, floatsB, alignedB, settings: { precision: settings.precision, order: settings.order, seed: settings.seed }, seconds: { load, match },
        });
        io.stdout.write(summarize(report, pairing.floating));

        if (reportPath !== undefined) {
          await writeFileAtomically(reportPath, [pathA, pathB], (handle) => handle.writeFile(formatAlignReport(report)), io.signal);
          io.stdout.write(`report: ${reportPath}\n`);
        }
        if (alignedPath !== undefined) {
          const template = graph ?? (b.format === 'onnx' ? pathB : undefined);
          await writeAligned(b, spec, result, alignedPath, { inputs: [pathA, pathB], template, aligned: basename(pathA), signal: io.signal });
          io.stdout.write(`aligned checkpoint: ${alignedPath}\n`);
        }
        return 0;
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  },
};

async function resolveSpec(choice: string, a: Checkpoint, b: Checkpoint): Promise<ResolvedSpec> {
  const tensorsA = { path: a.path, tensors: a.tensors };
  const tensorsB = { path: b.path, tensors: b.tensors };
  if (choice !== 'auto') return resolvePermutationSpec(await loadPermutationSpec(choice), choice, tensorsA, tensorsB);

  // NOTE: inference from an ONNX graph and from known architectures is not implemented yet; only Linear chains are.
  const inferred = inferLinearChain(a.tensors);
  if ('failure' in inferred) {
    throw new Error(
      `${a.path}: cannot infer a permutation spec (${inferred.failure}); write one and pass --spec FILE.permspec.json (the README describes the format)`,
    );
  }
  return resolvePermutationSpec(inferred.spec, inferred.source, tensorsA, tensorsB);
}

async function readFloats(checkpoint: Checkpoint, names: readonly string[], precision: Precision, io: CommandIo): Promise<Map<string, FloatTensor>> {
  const shapes = new Map(checkpoint.tensors.map((entry) => [entry.name, entry.shape]));
  const tensors = new Map<string, FloatTensor>();
  for (const name of names) {
    io.signal.throwIfAborted();
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
  options: { inputs: string[]; template?: string; aligned: string; signal: AbortSignal },
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
    metadata: { tool: 'checkpoint-aligner align', aligned_to: options.aligned },
  });
}

function summarize(report: AlignReport, pairs: readonly FloatingPair[]): string {
  const reasons = new Map<string, number>();
  for (const { reason } of report.untouched) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  const untouched = [...reasons].map(([reason, count]) => `${count} ${reason}`).join(', ');
  const lines = [
    `spec: ${report.spec.source} (${Object.keys(report.spec.permutations).length} permutations)`,
    `execution provider: ${report.executionProviderReason}`,
    `sweeps: ${report.sweeps}${report.converged ? ' (converged)' : ' (stopped at --max-sweeps before converging)'}`,
    `objective: ${format(report.objective.before)} → ${format(report.objective.after)}`,
    `distance over ${pairs.length} floating tensors: ${format(report.distance.before)} → ${format(report.distance.after)}`,
    `untouched tensors: ${report.untouched.length === 0 ? 'none' : untouched}`,
  ];
  if (report.withoutCost.length > 0) lines.push(`permutations without cost tensors (left as identity): ${report.withoutCost.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function format(value: number): string {
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? value.toFixed(4) : value.toExponential(4);
}
