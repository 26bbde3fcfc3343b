/**
 * Benchmark of interpolation curves: time per λ point on the fixture models, on the CPU execution provider.
 *
 * Usage: node --import tsx bench/evaluation.ts [--steps 21] [--repeats 3]
 *
 * For each fixture model (seed 0 against seed 1, digits test split of 540 samples) runs evaluateInterpolation with
 * `--steps` points, naive and aligned, and for the ResNet once more with BatchNorm reset on the training split
 * (1257 samples). Each point is one evaluation of one line, so a run scores 2 × steps points. The table reports
 * the fastest of `--repeats` runs in wall-clock time and the least process CPU time (user + system, alignment
 * included) of those runs. It also shows the session creations counted by the evaluator and the time one session
 * creation takes, which every point would add if each λ created its own session. Prints Markdown.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { evaluateInterpolation, type EvaluationOptions, type EvaluationReport } from '../src/evaluation/evaluateInterpolation';
import { EvaluationSession, evaluationSessionsCreated } from '../src/evaluation/evaluationSession';
import { parameterizeGraph } from '../src/evaluation/parameterizedGraph';
import { openCheckpoint } from '../src/formats/open';

const fixtures = join(__dirname, '..', 'test', 'fixtures');

interface Case {
  readonly label: string;
  readonly options: EvaluationOptions;
}

function cases(steps: number): Case[] {
  const base = (name: string, layout: string, spec: boolean): EvaluationOptions => ({
    a: join(fixtures, 'models', `${name}_s0.onnx`),
    b: join(fixtures, 'models', `${name}_s1.onnx`),
    data: join(fixtures, 'data', `digits_test_${layout}.npz`),
    spec: spec ? join(fixtures, 'specs', `${name}.permspec.json`) : 'auto',
    steps,
    executionProvider: 'cpu',
  });
  return [
    { label: 'mlp', options: base('mlp', 'flat', false) },
    { label: 'cnn', options: base('cnn', 'image', true) },
    { label: 'resnet', options: base('resnet', 'image', true) },
    { label: 'resnet, BatchNorm reset', options: { ...base('resnet', 'image', true), resetBn: join(fixtures, 'data', 'digits_train_image.npz') } },
    { label: 'transformer', options: base('transformer', 'tokens', true) },
  ];
}

/** Seconds to parameterize the graph and create one session, the cost a session per λ would repeat. */
async function sessionCreationSeconds(graphPath: string): Promise<number> {
  const checkpoint = await openCheckpoint(graphPath);
  try {
    const start = performance.now();
    const graph = await parameterizeGraph(graphPath, checkpoint);
    const session = await EvaluationSession.create(graph, 'cpu');
    const seconds = (performance.now() - start) / 1000;
    await session.release();
    return seconds;
  } finally {
    await checkpoint.close();
  }
}

function parseOptions(args: readonly string[]): { steps: number; repeats: number } {
  const value = (name: string, fallback: number): number => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? Number(args[index + 1]) : fallback;
  };
  return { steps: value('steps', 21), repeats: value('repeats', 3) };
}

export async function main(args: string[] = process.argv.slice(2)): Promise<void> {
  const { steps, repeats } = parseOptions(args);
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; Node ${process.version}; ${steps} λ points, fastest of ${repeats} runs\n`);
  console.log('| model | points (2 lines × λ) | session creations | evaluation total s | ms per point | CPU s, whole run | one session creation ms | alignment s |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const { label, options } of cases(steps)) {
    let best: EvaluationReport | undefined;
    let bestCpu = Infinity;
    const createdBefore = evaluationSessionsCreated();
    for (let repeat = 0; repeat < repeats; repeat++) {
      const cpuStart = process.cpuUsage();
      const report = await evaluateInterpolation(options);
      const cpu = process.cpuUsage(cpuStart);
      bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1e6);
      if (best === undefined || report.seconds.evaluate < best.seconds.evaluate) best = report;
    }
    const report = best as EvaluationReport;
    const created = evaluationSessionsCreated() - createdBefore;
    const points = 2 * report.lambdas.length;
    const creation = await sessionCreationSeconds(options.a);
    console.log(
      `| ${label} | ${points} | ${report.sessionsCreated} per run (${created} in ${repeats} runs) | ${report.seconds.evaluate.toFixed(2)} | ${((report.seconds.evaluate / points) * 1000).toFixed(1)} | ${bestCpu.toFixed(2)} | ${(creation * 1000).toFixed(1)} | ${report.seconds.align.toFixed(3)} |`,
    );
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
