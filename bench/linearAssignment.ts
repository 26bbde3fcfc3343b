/**
 * Benchmark of solveLinearAssignment against SciPy's linear_sum_assignment and munkres-js.
 *
 * Usage: node --import tsx bench/linearAssignment.ts [--sizes 512,1024,2048,4096] [--kinds random,structured]
 *        [--repeats N] [--perturbation E] [--no-scipy] [--no-munkres]
 *
 * Every solve maximizes, as weight matching does. SciPy solves the same matrices, written to
 * temporary .npy files, and times only its solve call. The warm columns solve a perturbed copy of
 * each matrix (entries plus uniform noise of width E times the entry spread) from the solution of
 * the original, next to a cold solve of that perturbed copy. munkres-js runs until one solve takes
 * longer than 10 s. Prints a Markdown table of median process CPU times, which stay meaningful on a
 * shared machine where wall-clock times swing with the load; wall-clock medians follow it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { solveLinearAssignment, type AssignmentResult } from '../src/alignment/linearAssignment';

const computeMunkres = createRequire(__filename)('munkres-js') as (matrix: number[][]) => [number, number][];

const PYTHON = '/usr/bin/python3';
const REFERENCE_SCRIPT = join(__dirname, 'reference', 'linear_sum_assignment.py');
const MUNKRES_LIMIT_SECONDS = 10;

type MatrixKind = 'random' | 'structured';

interface BenchOptions {
  sizes: number[];
  kinds: MatrixKind[];
  repeats: number;
  perturbation: number;
  scipy: boolean;
  munkres: boolean;
}

/** Median process CPU time and median wall-clock time of one solve, in seconds. */
interface Timing {
  cpu: number;
  wall: number;
}

interface BenchRow {
  n: number;
  kind: MatrixKind;
  scipy?: Timing;
  cold: Timing;
  warm: Timing;
  perturbedCold: Timing;
  munkres?: Timing;
  totalsAgree: boolean;
}

/** Mulberry32: a small seeded PRNG with uniform output in [0, 1). */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function createGaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * Builds an n×n matrix. "random" is uniform in [0, 1). "structured" imitates a similarity matrix of
 * two copies of a layer with shuffled units: 3 on a random permutation plus standard normal noise,
 * so the planted column is the best of its row for most rows but not for all.
 */
function buildMatrix(kind: MatrixKind, n: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const matrix = new Float64Array(n * n);
  if (kind === 'random') {
    for (let k = 0; k < matrix.length; k++) matrix[k] = random();
    return matrix;
  }

  const gaussian = createGaussian(random);
  const permutation = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [permutation[i], permutation[j]] = [permutation[j], permutation[i]];
  }
  for (let k = 0; k < matrix.length; k++) matrix[k] = gaussian();
  for (let i = 0; i < n; i++) matrix[i * n + permutation[i]] += 3;
  return matrix;
}

function perturb(matrix: Float64Array, width: number, seed: number): Float64Array {
  let minimum = Infinity;
  let maximum = -Infinity;
  for (const value of matrix) {
    minimum = Math.min(minimum, value);
    maximum = Math.max(maximum, value);
  }
  const scale = width * (maximum - minimum);
  const random = createRandom(seed);
  return matrix.map((value) => value + scale * (random() - 0.5));
}

/** Writes a C-order float64 .npy file (format version 1.0). */
function writeNpy(path: string, matrix: Float64Array, rows: number, columns: number): void {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${rows}, ${columns}), }`;
  // Magic (6 bytes), version (2) and header length (2) precede the header, padded to 64 bytes.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(matrix.buffer, matrix.byteOffset, matrix.byteLength)]));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Process CPU time in seconds (user plus system, all threads of this process). */
function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

function timeSolve(solve: () => AssignmentResult, repeats: number): { timing: Timing; result: AssignmentResult } {
  const cpuDurations: number[] = [];
  const wallDurations: number[] = [];
  let result: AssignmentResult | undefined;
  for (let r = 0; r < repeats; r++) {
    const wallStart = performance.now();
    const cpuStart = cpuSeconds();
    result = solve();
    cpuDurations.push(cpuSeconds() - cpuStart);
    wallDurations.push((performance.now() - wallStart) / 1000);
  }
  return { timing: { cpu: median(cpuDurations), wall: median(wallDurations) }, result: result as AssignmentResult };
}

/** Runs SciPy on the matrices and returns the median solve times and the total per matrix. */
function runScipy(matrices: Float64Array[], n: number, repeats: number): { timing: Timing; total: number }[] {
  const directory = mkdtempSync(join(tmpdir(), 'linear-assignment-bench-'));
  try {
    const files = matrices.map((matrix, index) => {
      const path = join(directory, `matrix-${index}.npy`);
      writeNpy(path, matrix, n, n);
      return path;
    });
    const output = spawnSync(PYTHON, [REFERENCE_SCRIPT, '--maximize', '--repeats', String(repeats), ...files], { encoding: 'utf8' });
    if (output.status !== 0) {
      throw new Error(`SciPy reference failed (exit ${output.status}): ${output.stderr}`);
    }
    return output.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const parsed = JSON.parse(line) as { seconds: number; cpu_seconds: number; total: number };
        return { timing: { cpu: parsed.cpu_seconds, wall: parsed.seconds }, total: parsed.total };
      });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function runMunkres(matrix: Float64Array, n: number): { timing: Timing; total: number } {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(matrix.subarray(i * n, (i + 1) * n), (value) => -value));
  const wallStart = performance.now();
  const cpuStart = cpuSeconds();
  const pairs = computeMunkres(rows);
  const timing = { cpu: cpuSeconds() - cpuStart, wall: (performance.now() - wallStart) / 1000 };
  let total = 0;
  for (const [i, j] of pairs) total += matrix[i * n + j];
  return { timing, total };
}

function totalsClose(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

function benchOne(kind: MatrixKind, n: number, options: BenchOptions, runMunkresHere: boolean): BenchRow {
  const seed = n * 7919 + (kind === 'random' ? 1 : 2);
  const matrix = buildMatrix(kind, n, seed);
  const perturbed = perturb(matrix, options.perturbation, seed + 1);

  const cold = timeSolve(() => solveLinearAssignment(matrix, n, n, { maximize: true }), options.repeats);
  const perturbedCold = timeSolve(() => solveLinearAssignment(perturbed, n, n, { maximize: true }), options.repeats);
  const warmStart = { rowToColumn: cold.result.rowToColumn, columnDual: cold.result.columnDual };
  const warm = timeSolve(() => solveLinearAssignment(perturbed, n, n, { maximize: true, warmStart }), options.repeats);

  let totalsAgree = totalsClose(warm.result.total, perturbedCold.result.total);
  const row: BenchRow = { n, kind, cold: cold.timing, warm: warm.timing, perturbedCold: perturbedCold.timing, totalsAgree };

  if (options.scipy) {
    const [original, changed] = runScipy([matrix, perturbed], n, options.repeats);
    row.scipy = original.timing;
    totalsAgree &&= totalsClose(original.total, cold.result.total) && totalsClose(changed.total, perturbedCold.result.total);
  }
  if (runMunkresHere) {
    const munkres = runMunkres(matrix, n);
    row.munkres = munkres.timing;
    totalsAgree &&= totalsClose(munkres.total, cold.result.total);
  }
  row.totalsAgree = totalsAgree;
  return row;
}

function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

function formatRow(row: BenchRow, clock: keyof Timing): string {
  const ratio = row.scipy === undefined ? '–' : (row.cold[clock] / row.scipy[clock]).toFixed(2);
  const cells = [
    String(row.n),
    row.kind,
    formatSeconds(row.scipy?.[clock]),
    formatSeconds(row.cold[clock]),
    ratio,
    formatSeconds(row.warm[clock]),
    formatSeconds(row.perturbedCold[clock]),
    formatSeconds(row.munkres?.[clock]),
    row.totalsAgree ? 'yes' : 'NO',
  ];
  return `| ${cells.join(' | ')} |`;
}

const TABLE_HEADER = [
  '| n | matrix | SciPy | ours cold | ours / SciPy | ours warm (perturbed) | ours cold (perturbed) | munkres-js | totals agree |',
  '|---|---|---|---|---|---|---|---|---|',
];

function parseOptions(args: string[]): BenchOptions {
  const options: BenchOptions = { sizes: [512, 1024, 2048, 4096], kinds: ['random', 'structured'], repeats: 3, perturbation: 1e-3, scipy: true, munkres: true };
  for (let k = 0; k < args.length; k++) {
    const flag = args[k];
    const value = (): string => {
      const next = args[++k];
      if (next === undefined) throw new Error(`Missing value after ${flag}.`);
      return next;
    };
    if (flag === '--sizes') options.sizes = value().split(',').map(Number);
    else if (flag === '--kinds') options.kinds = value().split(',') as MatrixKind[];
    else if (flag === '--repeats') options.repeats = Number(value());
    else if (flag === '--perturbation') options.perturbation = Number(value());
    else if (flag === '--no-scipy') options.scipy = false;
    else if (flag === '--no-munkres') options.munkres = false;
    else throw new Error(`Unknown option ${flag}; see the usage at the top of bench/linearAssignment.ts.`);
  }
  for (const kind of options.kinds) {
    if (kind !== 'random' && kind !== 'structured') throw new Error(`Invalid kind "${kind}": expected random or structured.`);
  }
  return options;
}

export function main(args: string[] = []): void {
  const options = parseOptions(args);
  // Compile the solver's hot loops before timing.
  for (let r = 0; r < 3; r++) solveLinearAssignment(buildMatrix('random', 256, r), 256, 256, { maximize: true });

  console.log(`Linear assignment, maximize, median of ${options.repeats} runs, warm start after a perturbation of ${options.perturbation}.`);
  console.log('Process CPU time:');
  console.log(TABLE_HEADER.join('\n'));
  const rows: BenchRow[] = [];
  const munkresActive = new Map(options.kinds.map((kind) => [kind, options.munkres]));
  for (const n of options.sizes) {
    for (const kind of options.kinds) {
      const row = benchOne(kind, n, options, munkresActive.get(kind) === true);
      if (row.munkres !== undefined && row.munkres.wall > MUNKRES_LIMIT_SECONDS) munkresActive.set(kind, false);
      rows.push(row);
      console.log(formatRow(row, 'cpu'));
    }
  }
  console.log('\nWall-clock time:');
  console.log(TABLE_HEADER.join('\n'));
  for (const row of rows) console.log(formatRow(row, 'wall'));
}

if (require.main === module) main(process.argv.slice(2));
