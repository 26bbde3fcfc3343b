/**
 * Benchmark of weight matching: similarity-product throughput of the onnxruntime path against NumPy, and end-to-end
 * alignment time and peak memory against the NumPy + SciPy reference in bench/reference/weight_matching.py.
 *
 * Usage: node --import tsx bench/weightMatching.ts [--widths 2048,4096] [--repeats 5] [--precision float32|float64]
 *        [--no-products] [--no-end-to-end]
 *
 * Products: C = A·π(B)ᵀ for A, B of shape [n, m] (2·n²·m floating-point operations), B's columns gathered by a
 * permutation first, as weight matching does for a layer whose other axis is permuted. onnxruntime times one
 * `SimilaritySession.similarity` call, so index feeds and the output copy are included; NumPy times
 * `a @ b[:, q].T`. Medians of the repeats after one warm-up. (A term whose tensor has no other permuted axis
 * depends on no input, so onnxruntime folds it into a constant when the session is created.)
 * End to end: the MLP fixture pair, and generated MLPs with 784 inputs, 3 hidden layers of each width and
 * 10 outputs, where B is A with Gaussian noise (0.1 of each tensor's standard deviation) and randomly permuted
 * hidden units. Both implementations visit permutations in sorted order and run in a child process each, so the
 * peak resident set size is the run's own. Prints Markdown tables.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { env } from 'onnxruntime-node';
import { join } from 'node:path';
import type { FloatTensor } from '../src/formats/checkpoint';
import { isFloatingDType } from '../src/formats/dtype';
import { openSafetensors } from '../src/formats/safetensors/reader';
import { loadPermutationSpec } from '../src/alignment/permutationSpecFile';
import { parsePermutationSpec } from '../src/alignment/permutationSpecFile';
import { resolvePermutationSpec } from '../src/alignment/resolveSpec';
import { SeededRandom } from '../src/alignment/seededRandom';
import { matchWeights } from '../src/alignment/weightMatching';
import { SimilaritySession } from '../src/compute/similaritySession';
import type { Precision } from '../src/compute/similarityModel';

const PYTHON = '/usr/bin/python3';
const ortVersion = env.versions.node ?? 'unknown';
const REFERENCE = join(__dirname, 'reference', 'weight_matching.py');
const FIXTURES = join(__dirname, '..', 'test', 'fixtures');
const PRODUCT_SHAPES: [number, number][] = [[512, 512], [1024, 784], [2048, 2048], [4096, 4096]];

interface EndToEnd {
  seconds: number;
  /** User plus system CPU time of the match, all threads. */
  cpuSeconds: number;
  loadSeconds: number;
  sweeps: number;
  objectiveBefore: number;
  objectiveAfter: number;
  peakRssBytes: number;
  provider?: string;
}

function parseOptions(args: string[]) {
  const value = (name: string, fallback: string) => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 && index + 1 < args.length ? args[index + 1] : fallback;
  };
  return {
    widths: value('widths', '2048,4096').split(',').map(Number),
    repeats: Number(value('repeats', '5')),
    precision: value('precision', 'float32') as Precision,
    products: !args.includes('--no-products'),
    endToEnd: !args.includes('--no-end-to-end'),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

function python(args: string[]): Record<string, unknown> {
  const run = spawnSync(PYTHON, [REFERENCE, ...args], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  if (run.status !== 0) throw new Error(`${PYTHON} ${REFERENCE} ${args.join(' ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** Median wall-clock seconds and median CPU seconds (all threads) of one product. */
async function onnxruntimeProduct(rows: number, columns: number, precision: Precision, repeats: number): Promise<{ seconds: number; cpuSeconds: number }> {
  const random = new SeededRandom(rows + columns);
  const data = () => {
    const values = precision === 'float64' ? new Float64Array(rows * columns) : new Float32Array(rows * columns);
    for (let i = 0; i < values.length; i++) values[i] = random.next() - 0.5;
    return new Map<string, FloatTensor>([['w', { shape: [rows, columns], data: values }]]);
  };
  const entries = [{ name: 'w', dtype: precision === 'float64' ? 'F64' : 'F32', shape: [rows, columns], offset: 0, length: 0 }];
  const spec = resolvePermutationSpec(parsePermutationSpec({ axes: { w: ['P', 'Q'] } }, 'bench'), 'bench', { path: 'a', tensors: entries }, { path: 'b', tensors: entries });
  const session = await SimilaritySession.create(spec, data(), data(), { precision, executionProvider: 'cpu' });
  try {
    const permutations = new Map([['P', random.permutation(rows)], ['Q', random.permutation(columns)]]);
    const durations: number[] = [];
    const cpuDurations: number[] = [];
    for (let repeat = 0; repeat <= repeats; repeat++) {
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      await session.similarity('P', permutations);
      const cpu = process.cpuUsage(cpuStart);
      if (repeat > 0) {
        durations.push((performance.now() - start) / 1000);
        cpuDurations.push((cpu.user + cpu.system) / 1e6);
      }
    }
    return { seconds: median(durations), cpuSeconds: median(cpuDurations) };
  } finally {
    await session.release();
  }
}

async function benchProducts(options: ReturnType<typeof parseOptions>): Promise<void> {
  console.log(`\n### Similarity products (${options.precision}, GFLOP/s, higher is better)\n`);
  console.log('| n × m | onnxruntime CPU EP, wall | NumPy, wall | onnxruntime, per CPU second | NumPy, per CPU second |');
  console.log('|---|---|---|---|---|');
  for (const [rows, columns] of PRODUCT_SHAPES) {
    const flops = 2 * rows * rows * columns;
    const ours = await onnxruntimeProduct(rows, columns, options.precision, options.repeats);
    const numpy = python(['products', '--rows', `${rows}`, '--columns', `${columns}`, '--precision', options.precision, '--repeats', `${options.repeats}`, '--gather']);
    const rate = (seconds: number) => (flops / seconds / 1e9).toFixed(1);
    console.log(`| ${rows} × ${columns} | ${rate(ours.seconds)} | ${rate(numpy.seconds as number)} | ${rate(ours.cpuSeconds)} | ${rate(numpy.cpuSeconds as number)} |`);
  }
}

/** Child process: loads A and B, aligns them in sorted order, prints the EndToEnd JSON. */
async function runChild(pathA: string, pathB: string, specFile: string, precision: Precision): Promise<void> {
  const loadStart = performance.now();
  const load = async (path: string) => {
    const checkpoint = await openSafetensors(path);
    const floats = new Map<string, FloatTensor>();
    for (const entry of checkpoint.tensors) {
      if (!isFloatingDType(entry.dtype)) continue;
      const data = precision === 'float64' ? await checkpoint.readTensor(entry.name, 'float64') : await checkpoint.readTensor(entry.name, 'float32');
      floats.set(entry.name, { shape: entry.shape, data });
    }
    await checkpoint.close();
    return { path, tensors: checkpoint.tensors, floats };
  };
  const a = await load(pathA);
  const b = await load(pathB);
  const spec = resolvePermutationSpec(await loadPermutationSpec(specFile), specFile, a, b);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const result = await matchWeights(spec, a.floats, b.floats, { order: 'sorted', precision });
  const cpu = process.cpuUsage(cpuStart);
  const seconds = (performance.now() - start) / 1000;
  const report: EndToEnd = {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    loadSeconds,
    sweeps: result.sweeps,
    objectiveBefore: result.objective.before,
    objectiveAfter: result.objective.after,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    provider: result.executionProvider.name,
  };
  console.log(JSON.stringify(report));
}

function nodeChild(pathA: string, pathB: string, specFile: string, precision: Precision): EndToEnd {
  const run = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', pathA, pathB, specFile, precision], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`weight matching child failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as EndToEnd;
}

function benchEndToEnd(options: ReturnType<typeof parseOptions>): void {
  console.log(`\n### End to end (${options.precision}, sorted order)\n`);
  console.log('| model | implementation | sweeps | match s | match CPU s | load s | peak RSS MiB | objective before → after |');
  console.log('|---|---|---|---|---|---|---|---|');
  const folder = mkdtempSync(join(tmpdir(), 'weight-matching-bench-'));
  try {
    const cases: [string, string, string, string][] = [
      ['MLP fixture (64-128-128-10)', join(FIXTURES, 'models', 'mlp_s0.safetensors'), join(FIXTURES, 'models', 'mlp_s1.safetensors'), join(FIXTURES, 'specs', 'mlp.permspec.json')],
    ];
    for (const width of options.widths) {
      const directory = join(folder, `w${width}`);
      python(['generate', directory, '--widths', [width, width, width].join(','), '--seed', `${width}`]);
      cases.push([`MLP 784-${width}×3-10`, join(directory, 'a.safetensors'), join(directory, 'b.safetensors'), join(directory, 'mlp.permspec.json')]);
    }
    for (const [label, pathA, pathB, specFile] of cases) {
      const ours = nodeChild(pathA, pathB, specFile, options.precision);
      const reference = python(['match', pathA, pathB, specFile, '--precision', options.precision]) as unknown as EndToEnd;
      const row = (name: string, run: EndToEnd) =>
        `| ${label} | ${name} | ${run.sweeps} | ${run.seconds.toFixed(2)} | ${run.cpuSeconds.toFixed(2)} | ${run.loadSeconds.toFixed(2)} | ${(run.peakRssBytes / 2 ** 20).toFixed(0)} | ${run.objectiveBefore.toFixed(2)} → ${run.objectiveAfter.toFixed(2)} |`;
      console.log(row(`onnxruntime ${ours.provider} + JS assignment`, ours));
      console.log(row('NumPy + SciPy', reference));
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export async function main(args: string[] = process.argv.slice(2)): Promise<void> {
  const childIndex = args.indexOf('--child');
  if (childIndex >= 0) {
    const [pathA, pathB, specFile, precision] = args.slice(childIndex + 1);
    return runChild(pathA, pathB, specFile, precision as Precision);
  }
  const options = parseOptions(args);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, onnxruntime-node ${ortVersion}`;
  console.log(`${machine}; load average at start ${loadavg().map((load) => load.toFixed(1)).join(' ')}`);
  if (options.products) await benchProducts(options);
  if (options.endToEnd) benchEndToEnd(options);
  console.log(`\nload average at end ${loadavg().map((load) => load.toFixed(1)).join(' ')}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
