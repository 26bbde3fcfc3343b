// `eval A B`: interpolation curves of loss and accuracy, naive and aligned, with their barriers.
import { assertOutputPath, writeFileAtomically } from '../formats/atomicWrite';
import { evaluateInterpolation, type Curve, type EvaluationReport } from '../evaluation/evaluateInterpolation';
import type { ExecutionProviderChoice } from '../compute/executionProvider';
import { choiceFlag, numberFlag, stringFlag, UsageError, type CommandDefinition } from './command';
import { SPEC_INFERENCE_OPTIONS, specInferenceFlags } from './specFlags';
import { printable } from './textFormat';

const EXECUTION_PROVIDERS: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];

export const evalCommand: CommandDefinition = {
  name: 'eval',
  usage: 'A B --graph MODEL.onnx --data DATA [--input NAME] [--labels NAME] [--steps 21] [--spec auto|FILE] [--transformer-level local|full] [--heads N] [--reset-bn TRAIN_DATA] [--execution-provider auto|cpu|cuda|dml|coreml] [--out CURVES.json]',
  summary: 'Loss and accuracy along the interpolation from A to B, naive and after aligning B to A.',
  positionals: [2, 2],
  options: [
    { name: 'graph', kind: 'value', valueName: 'MODEL.onnx', description: 'ONNX model of the architecture, exported with do_constant_folding=False (default: A, when A is an ONNX file).' },
    { name: 'data', kind: 'value', valueName: 'DATA', description: 'Evaluation data: .npz or .safetensors with an input array and integer class labels.' },
    { name: 'input', kind: 'value', valueName: 'NAME', description: 'Name of the input array in the data files (default x).' },
    { name: 'labels', kind: 'value', valueName: 'NAME', description: 'Name of the label array in the data files (default y).' },
    { name: 'steps', kind: 'value', valueName: 'N', description: 'Number of evenly spaced λ in [0, 1], end points included (default 21).' },
    { name: 'spec', kind: 'value', valueName: 'auto|FILE', description: 'Permutation spec file (*.permspec.json), or auto to infer it (default auto).' },
    ...SPEC_INFERENCE_OPTIONS,
    { name: 'reset-bn', kind: 'value', valueName: 'TRAIN_DATA', description: 'Also evaluate with BatchNorm running statistics recomputed on this training data at every λ.' },
    { name: 'execution-provider', kind: 'value', valueName: 'auto|cpu|cuda|dml|coreml', description: 'onnxruntime execution provider for matching and evaluation (default auto).' },
    { name: 'out', kind: 'value', valueName: 'CURVES.json', description: 'Write the curves, barriers and equivalence check as JSON.' },
  ],
  async run([pathA, pathB], flags, io) {
    const data = stringFlag(flags, 'data');
    if (data === undefined) throw new UsageError('eval needs --data DATA (.npz or .safetensors with the input array and labels)');
    const steps = numberFlag(flags, 'steps', 21, 2, 10_000, true);
    if (!Number.isInteger(steps)) throw new UsageError(`--steps expects a whole number of points, got ${steps}`);
    const output = stringFlag(flags, 'out');
    const resetBn = stringFlag(flags, 'reset-bn');
    const graph = stringFlag(flags, 'graph');
    if (output !== undefined) assertOutputPath(output, [pathA, pathB, data, ...(graph === undefined ? [] : [graph]), ...(resetBn === undefined ? [] : [resetBn])]);

    const report = await evaluateInterpolation({
      a: pathA,
      b: pathB,
      graph,
      data,
      inputName: stringFlag(flags, 'input'),
      labelName: stringFlag(flags, 'labels'),
      steps,
      spec: stringFlag(flags, 'spec'),
      specInference: specInferenceFlags(flags),
      resetBn,
      executionProvider: choiceFlag(flags, 'execution-provider', EXECUTION_PROVIDERS, 'auto'),
      signal: io.signal,
    });
    io.stdout.write(summarize(report));
    for (const warning of report.warnings) io.stderr.write(`warning: ${printable(warning)}\n`);
    if (report.equivalence.message !== undefined) io.stderr.write(`warning: ${report.equivalence.message}\n`);
    if (resetBn !== undefined && report.batchNormLayers === 0) {
      io.stderr.write(`warning: ${report.graph} has no BatchNormalization node whose running statistics are checkpoint tensors, so --reset-bn changed nothing\n`);
    }
    if (output !== undefined) {
      await writeFileAtomically(output, [pathA, pathB, data], (handle) => handle.writeFile(`${JSON.stringify(report, null, 2)}\n`), io.signal);
      io.stdout.write(`curves: ${output}\n`);
    }
    return 0;
  },
};

function summarize(report: EvaluationReport): string {
  const middle = report.lambdas.reduce((best, lambda, index) => (Math.abs(lambda - 0.5) < Math.abs(report.lambdas[best] - 0.5) ? index : best), 0);
  const at = (curve: Curve): string => `loss ${format(curve.loss[middle])}, accuracy ${format(curve.accuracy[middle])}`;
  const lines = [
    `spec: ${report.spec.source}`,
    `execution provider: ${report.executionProvider}; ${report.lambdas.length} points, ${report.sessionsCreated} inference session`,
    `end points: A loss ${format(report.naive.loss[0])}, accuracy ${format(report.naive.accuracy[0])}; B loss ${format(report.naive.loss.at(-1) as number)}, accuracy ${format(report.naive.accuracy.at(-1) as number)}`,
    `naive   at λ=${report.lambdas[middle]}: ${at(report.naive)}; loss barrier ${format(report.barrier.naive)}, accuracy barrier ${format(report.accuracyBarrier.naive)}`,
    `aligned at λ=${report.lambdas[middle]}: ${at(report.aligned)}; loss barrier ${format(report.barrier.aligned)}, accuracy barrier ${format(report.accuracyBarrier.aligned)}`,
  ];
  if (report.naiveResetBn && report.alignedResetBn && report.barrierResetBn && report.accuracyBarrierResetBn) {
    lines.push(
      `naive   with BatchNorm reset: loss barrier ${format(report.barrierResetBn.naive)}, accuracy barrier ${format(report.accuracyBarrierResetBn.naive)}`,
      `aligned with BatchNorm reset: loss barrier ${format(report.barrierResetBn.aligned)}, accuracy barrier ${format(report.accuracyBarrierResetBn.aligned)}`,
    );
  }
  lines.push(`equivalence of B and π(B): max |Δlogit| ${format(report.equivalence.maxAbsLogitDiff)}${report.equivalence.specLikelyWrong ? ' (spec likely wrong)' : ''}`);
  return `${lines.join('\n')}\n`;
}

function format(value: number): string {
  return value === 0 || (Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6) ? value.toFixed(4) : value.toExponential(3);
}
