// `merge A B [C …]`: the weighted average of checkpoints after aligning each onto A, in the output's format.
import { mergeCheckpoints, type MergeSummary } from '../merging/mergeCheckpoints';
import { MERGE_DTYPES } from '../merging/floatEncoding';
import type { ExecutionProviderChoice } from '../compute/executionProvider';
import { choiceFlag, numberFlag, stringFlag, UsageError, type CommandDefinition, type FlagValues } from './command';
import { SPEC_INFERENCE_OPTIONS, specInferenceFlags } from './specFlags';
import { printable } from './textFormat';

const EXECUTION_PROVIDERS: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];

export const mergeCommand: CommandDefinition = {
  name: 'merge',
  usage: 'A B [C …] [--lambda 0.5] [--weights w1,w2,…] [--spec auto|FILE] [--transformer-level local|full] [--heads N] [--no-align] [--dtype F32|F16|BF16|F64] [--graph MODEL.onnx] [--execution-provider auto|cpu|cuda|dml|coreml] --out FILE',
  summary: 'Write (1−λ)·A + λ·π(B), or the weighted average of several checkpoints each aligned to A.',
  positionals: [2, 1000],
  options: [
    { name: 'lambda', kind: 'value', valueName: 'λ', description: 'Weight of B in [0, 1] for two checkpoints (default 0.5): the output is (1−λ)·A + λ·π(B).' },
    { name: 'weights', kind: 'value', valueName: 'w1,w2,…', description: 'One weight per checkpoint, divided by their sum (default: equal weights).' },
    { name: 'spec', kind: 'value', valueName: 'auto|FILE', description: 'Permutation spec file (*.permspec.json), or auto to infer it (default auto).' },
    ...SPEC_INFERENCE_OPTIONS,
    { name: 'no-align', kind: 'switch', description: 'Average the checkpoints as they are, without weight matching.' },
    { name: 'dtype', kind: 'value', valueName: 'F32|F16|BF16|F64', description: 'Element type of the merged floating tensors (default: A\'s type of each tensor).' },
    { name: 'graph', kind: 'value', valueName: 'MODEL.onnx', description: 'ONNX model whose graph a .onnx output copies (default: A, when A is ONNX).' },
    { name: 'execution-provider', kind: 'value', valueName: 'auto|cpu|cuda|dml|coreml', description: 'onnxruntime execution provider for weight matching (default auto).' },
    { name: 'out', kind: 'value', valueName: 'FILE', description: 'Output checkpoint; the extension chooses the format (.safetensors, .pt, .onnx, …). Never one of the inputs.' },
  ],
  async run(inputs, flags, io) {
    const output = stringFlag(flags, 'out');
    if (output === undefined) throw new UsageError('merge needs --out FILE');
    const { weights, lambda } = mergeWeights(flags, inputs.length);
    const summary = await mergeCheckpoints({
      inputs,
      weights,
      lambda,
      output,
      spec: stringFlag(flags, 'spec') ?? 'auto',
      specInference: specInferenceFlags(flags),
      align: flags['no-align'] !== true,
      dtype: flags.dtype === undefined ? undefined : choiceFlag(flags, 'dtype', MERGE_DTYPES, 'F32'),
      graph: stringFlag(flags, 'graph'),
      matching: { executionProvider: choiceFlag(flags, 'execution-provider', EXECUTION_PROVIDERS, 'auto') },
      signal: io.signal,
    });
    io.stdout.write(summarize(summary, inputs));
    for (const warning of summary.warnings) io.stderr.write(`warning: ${printable(warning)}\n`);
    return 0;
  },
};

/** Reads `--lambda` or `--weights` into one weight per checkpoint. Throws UsageError for invalid values. */
export function mergeWeights(flags: FlagValues, count: number): { weights: number[]; lambda?: number } {
  const listed = stringFlag(flags, 'weights');
  if (flags.lambda !== undefined && listed !== undefined) throw new UsageError('pass either --lambda or --weights, not both');
  if (listed !== undefined) {
    const weights = listed.split(',').map((text) => Number(text.trim()));
    if (weights.length !== count) throw new UsageError(`--weights lists ${weights.length} values for ${count} checkpoints; give one weight per checkpoint`);
    if (!weights.every(Number.isFinite)) throw new UsageError(`--weights expects comma-separated numbers, got "${listed}"`);
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    if (!(total > 0)) throw new UsageError(`--weights must sum to a positive number, got ${listed} (sum ${total})`);
    return { weights };
  }
  if (flags.lambda !== undefined) {
    if (count !== 2) throw new UsageError(`--lambda weighs two checkpoints, got ${count}; use --weights w1,w2,… for more`);
    const lambda = numberFlag(flags, 'lambda', 0.5, 0, 1);
    return { weights: [1 - lambda, lambda], lambda };
  }
  if (count === 2) return { weights: [0.5, 0.5], lambda: 0.5 };
  return { weights: new Array<number>(count).fill(1) };
}

function summarize(summary: MergeSummary, inputs: readonly string[]): string {
  const lines = [
    `weights: ${inputs.map((input, index) => `${input} ${summary.weights[index]}`).join(', ')}`,
    `alignment: ${summary.specSources === undefined ? 'none (--no-align)' : summary.specSources.join('; ')}`,
    `merged tensors: ${summary.merged}`,
  ];
  const byReason = new Map<string, string[]>();
  for (const copy of summary.copied) {
    const key = `${copy.reason}, copied from ${copy.from}`;
    byReason.set(key, [...(byReason.get(key) ?? []), copy.tensor]);
  }
  for (const [reason, tensors] of byReason) lines.push(`${reason}: ${tensors.join(', ')}`);
  if (summary.dropped.length > 0) lines.push(`left out (no initializer in the ONNX graph): ${summary.dropped.join(', ')}`);
  lines.push(`output: ${summary.output}`);
  return `${lines.join('\n')}\n`;
}
