/**
 * Benchmark of `diff`: the structural comparison of two 4 GB checkpoints (headers only) and the throughput of the
 * streamed statistical comparison on data in the page cache.
 *
 * Usage: node --import tsx bench/diff.ts [--structure-gb 4] [--tensors 300] [--statistics-gb 0.5] [--repeats 3]
 *
 * 1. Writes two sparse safetensors files of about `--structure-gb` GB with `--tensors` F32 tensors each; their data
 *    is a hole. Times opening both, `diffStructure` and closing.
 * 2. Writes two files with one F32 tensor of `--statistics-gb` GiB of different pseudo-random normal values, reads
 *    them once to fill the page cache, then times `diffCheckpoints` with statistics. Throughput is bytes of one
 *    file divided by the wall time.
 * Temporary files go to the system temporary folder and are deleted afterwards. Prints a Markdown table.
 */
import { mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { diffCheckpoints } from '../src/comparison/checkpointDiff';
import { diffStructure } from '../src/comparison/structureDiff';
import { openCheckpoint } from '../src/formats/open';
import { writeRandomSafetensors, writeSparseSafetensors } from './syntheticSafetensors';

const GIB = 1024 ** 3;

interface DiffBenchOptions {
  structureGb: number;
  tensors: number;
  statisticsGb: number;
  repeats: number;
}

function parseOptions(args: readonly string[]): DiffBenchOptions {
  const options: DiffBenchOptions = { structureGb: 4, tensors: 300, statisticsGb: 0.5, repeats: 3 };
  for (let i = 0; i < args.length; i += 2) {
    const value = Number(args[i + 1]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${args[i]} expects a positive number, got ${args[i + 1]}`);
    if (args[i] === '--structure-gb') options.structureGb = value;
    else if (args[i] === '--tensors') options.tensors = Math.round(value);
    else if (args[i] === '--statistics-gb') options.statisticsGb = value;
    else if (args[i] === '--repeats') options.repeats = Math.round(value);
    else throw new Error(`unknown option ${args[i]}`);
  }
  return options;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeStructure(pathA: string, pathB: string): Promise<number> {
  const start = performance.now();
  const a = await openCheckpoint(pathA);
  const b = await openCheckpoint(pathB);
  const diff = diffStructure(a, b);
  await a.close();
  await b.close();
  if (diff.shared.length === 0) throw new Error('the benchmark files share no tensors');
  return performance.now() - start;
}

async function timeStatistics(pathA: string, pathB: string): Promise<number> {
  const start = performance.now();
  const a = await openCheckpoint(pathA);
  const b = await openCheckpoint(pathB);
  const diff = await diffCheckpoints(a, b, { statistics: true });
  await a.close();
  await b.close();
  if (diff.identical) throw new Error('the benchmark files were expected to differ');
  return performance.now() - start;
}

export async function main(args: string[] = []): Promise<void> {
  const options = parseOptions(args);
  const directory = mkdtempSync(join(tmpdir(), 'diff-bench-'));
  const free = statfsSync(directory);
  const neededBytes = 2 * options.statisticsGb * GIB + 2 * 64 * 1024 * 1024;
  if (free.bavail * free.bsize < neededBytes) throw new Error(`${directory}: needs ${(neededBytes / 1e9).toFixed(1)} GB free`);

  try {
    const elementsPerTensor = Math.floor((options.structureGb * 1e9) / options.tensors / 4 / 1024) * 1024;
    const tensors = Array.from({ length: options.tensors }, (_, i) => ({ name: `layers.${Math.floor(i / 6)}.block_${i % 6}.weight`, shape: [elementsPerTensor / 1024, 1024] }));
    const sparseA = join(directory, 'a.safetensors');
    const sparseB = join(directory, 'b.safetensors');
    const sparseBytes = await writeSparseSafetensors(sparseA, tensors);
    await writeSparseSafetensors(sparseB, tensors);
    const structureTimes: number[] = [];
    for (let run = 0; run < options.repeats; run++) structureTimes.push(await timeStructure(sparseA, sparseB));
    rmSync(sparseA);
    rmSync(sparseB);

    const elements = Math.floor((options.statisticsGb * GIB) / 4 / 1024) * 1024;
    const denseA = join(directory, 'dense_a.safetensors');
    const denseB = join(directory, 'dense_b.safetensors');
    const denseBytes = await writeRandomSafetensors(denseA, { name: 'weight', shape: [elements / 1024, 1024] }, 1);
    await writeRandomSafetensors(denseB, { name: 'weight', shape: [elements / 1024, 1024] }, 2);
    readFileSync(denseA);
    readFileSync(denseB);
    const statisticsTimes: number[] = [];
    for (let run = 0; run < options.repeats; run++) statisticsTimes.push(await timeStatistics(denseA, denseB));
    const throughput = statisticsTimes.map((milliseconds) => denseBytes / 1e9 / (milliseconds / 1000));

    console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / GIB).toFixed(0)} GiB, Node ${process.version}`);
    console.log('| measurement | result | goal |');
    console.log('|---|---|---|');
    console.log(`| structural diff of two ${(sparseBytes / 1e9).toFixed(2)} GB files, ${options.tensors} tensors each | median ${median(structureTimes).toFixed(1)} ms over ${options.repeats} runs | < 200 ms |`);
    console.log(`| statistical diff, two ${(denseBytes / 1e9).toFixed(2)} GB files in the page cache | median ${median(throughput).toFixed(2)} GB/s per file (${options.repeats} runs, min ${Math.min(...throughput).toFixed(2)}) | ≥ 0.5 GB/s |`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (require.main === module) void main(process.argv.slice(2));
