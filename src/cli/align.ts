// `align A B`: weight matching of B onto A, with a JSON report and optionally the aligned checkpoint π(B).
import { writeFileAtomically, assertOutputPath } from '../formats/atomicWrite';
import { alignCheckpoints } from '../alignment/alignCheckpoints';
import { formatAlignReport, type AlignReport } from '../alignment/alignReport';
import { serializePermutationSpec } from '../alignment/specInference';
import type { ExecutionProviderChoice } from '../compute/executionProvider';
import { resolve } from 'node:path';
import { choiceFlag, numberFlag, stringFlag, UsageError, type CommandDefinition } from './command';
import { SPEC_INFERENCE_OPTIONS, specInferenceFlags } from './specFlags';
import { printable, printableLines } from './textFormat';

const EXECUTION_PROVIDERS: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];

export const alignCommand: CommandDefinition = {
  name: 'align',
  usage: 'A B [--spec auto|FILE] [--graph MODEL.onnx] [--transformer-level local|full] [--heads N] [--save-spec FILE] [--seed N] [--order random|sorted] [--max-sweeps N] [--precision float32|float64] [--execution-provider auto|cpu|cuda|dml|coreml] [--out REPORT.json] [--write-aligned FILE]',
  summary: 'Find the permutations of B\'s units that best match A (Git Re-Basin weight matching).',
  positionals: [2, 2],
  options: [
    { name: 'spec', kind: 'value', valueName: 'auto|FILE', description: 'Permutation spec file (*.permspec.json), or auto to infer it from the ONNX graph, a known architecture, or a plain chain of layers (default auto).' },
    { name: 'graph', kind: 'value', valueName: 'MODEL.onnx', description: 'ONNX export of the model: the spec is inferred from its graph, and --write-aligned copies it when writing .onnx.' },
    ...SPEC_INFERENCE_OPTIONS,
    { name: 'save-spec', kind: 'value', valueName: 'FILE', description: 'Write the permutation spec used (inferred or given) as a *.permspec.json file.' },
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
      seed: numberFlag(flags, 'seed', 0, 0, 2 ** 32 - 1, true),
      order: choiceFlag(flags, 'order', ['random', 'sorted'] as const, 'random'),
      maxSweeps: numberFlag(flags, 'max-sweeps', 100, 1, 1e6, true),
      precision: choiceFlag(flags, 'precision', ['float32', 'float64'] as const, 'float32'),
      executionProvider: choiceFlag(flags, 'execution-provider', EXECUTION_PROVIDERS, 'auto'),
    };
    const reportPath = stringFlag(flags, 'out');
    const specPath = stringFlag(flags, 'save-spec');
    // Reject an output over an input, into a missing folder, or over another output before any work is done.
    for (const output of [reportPath, specPath]) if (output !== undefined) assertOutputPath(output, [pathA, pathB]);
    const outputs = [['--out', reportPath], ['--save-spec', specPath], ['--write-aligned', stringFlag(flags, 'write-aligned')]] as const;
    for (const [index, [flag, output]] of outputs.entries()) {
      const clash = outputs.slice(0, index).find(([, other]) => output !== undefined && other !== undefined && resolve(other) === resolve(output));
      if (clash) throw new UsageError(`${clash[0]} and ${flag} name the same file ${output}; give each output its own path`);
    }

    const outcome = await alignCheckpoints({
      pathA,
      pathB,
      spec: stringFlag(flags, 'spec') ?? 'auto',
      graph: stringFlag(flags, 'graph'),
      ...specInferenceFlags(flags),
      settings,
      writeAligned: stringFlag(flags, 'write-aligned'),
    }, {
      signal: io.signal,
      onProgress: io.verbose ? ({ sweep, permutation, objective }) => io.stderr.write(`sweep ${sweep} ${permutation}: objective ${objective}\n`) : undefined,
    });
    const { report } = outcome;
    io.stdout.write(printableLines(summarize(report, outcome.floatingTensorCount)));
    for (const warning of outcome.warnings) io.stderr.write(`warning: ${printable(warning)}\n`);
    // Notes about tiers that did not apply are noise when a later tier succeeded; --verbose shows them.
    const notes = io.verbose ? outcome.specNotes : outcome.specNotes.filter((note) => !note.startsWith('skipped '));
    for (const note of notes) io.stdout.write(`${printableLines(`spec note: ${note}`)}\n`);

    if (reportPath !== undefined) {
      await writeFileAtomically(reportPath, [pathA, pathB], (handle) => handle.writeFile(formatAlignReport(report)), io.signal);
      io.stdout.write(`report: ${reportPath}\n`);
    }
    if (specPath !== undefined) {
      await writeFileAtomically(specPath, [pathA, pathB], (handle) => handle.writeFile(serializePermutationSpec(outcome.spec)), io.signal);
      io.stdout.write(`permutation spec: ${specPath}\n`);
    }
    const aligned = stringFlag(flags, 'write-aligned');
    if (aligned !== undefined) io.stdout.write(`aligned checkpoint: ${aligned}\n`);
    return 0;
  },
};

function summarize(report: AlignReport, floatingTensorCount: number): string {
  const reasons = new Map<string, number>();
  for (const { reason } of report.untouched) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  const untouched = [...reasons].map(([reason, count]) => `${count} ${reason}`).join(', ');
  const lines = [
    `spec: ${report.spec.source} (${Object.keys(report.spec.permutations).length} permutations)`,
    `execution provider: ${report.executionProviderReason}`,
    `sweeps: ${report.sweeps}${report.converged ? ' (converged)' : ' (stopped at --max-sweeps before converging)'}`,
    `objective: ${format(report.objective.before)} → ${format(report.objective.after)}`,
    `distance over ${floatingTensorCount} floating tensors: ${format(report.distance.before)} → ${format(report.distance.after)}`,
    `untouched tensors: ${report.untouched.length === 0 ? 'none' : untouched}`,
  ];
  if (report.withoutCost.length > 0) lines.push(`permutations without cost tensors (left as identity): ${report.withoutCost.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function format(value: number): string {
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? value.toFixed(4) : value.toExponential(4);
}
