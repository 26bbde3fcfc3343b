/**
 * Benchmark of the safetensors reader and tensor statistics.
 *
 * Usage: node --import tsx bench/formats.ts [--listing-gb 4] [--tensors 300] [--statistics-gb 1] [--repeats 5]
 *        [--chunk-mib 4] [--dtype F32|F16|BF16]
 *
 * 1. Writes a sparse safetensors file of about `--listing-gb` GB with `--tensors` F32 tensors. Its data reads as
 *    zeros and takes almost no disk. Then times openSafetensors + listing + close, and counts the bytes the
 *    process read meanwhile from the `rchar` field of /proc/self/io.
 *    Then computes the statistics of every tensor of that file in a child process, reporting its peak RSS.
 * 2. Writes a safetensors file with one tensor (F32, or `--dtype`) of `--statistics-gb` GiB of pseudo-random normal values, reads it
 *    once to fill the page cache, then runs computeTensorStatistics in a child process, timing it and sampling
 *    the child's resident set size (RSS); the child also reports its peak RSS from the kernel (ru_maxrss).
 * Temporary files go to the system temporary folder and are deleted afterwards. Prints a Markdown table.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statfsSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { openSafetensors } from '../src/formats/safetensors/reader';
import { computeTensorStatistics } from '../src/formats/statistics';
import { bytesReadSoFar } from './benchArguments';
import { headerBytes, writeRandomSafetensors, writeSparseSafetensors, type SyntheticDType } from './syntheticSafetensors';

interface BenchOptions {
  listingGb: number;
  tensors: number;
  statisticsGb: number;
  repeats: number;
  /** Chunk size for readTensorChunks in MiB; 4 is the statistics default. */
  chunkMib: number;
  /** Dtype of the random tensor whose statistics are timed. */
  dtype: SyntheticDType;
}

const GIB = 1024 ** 3;

function parseOptions(args: string[]): BenchOptions {
  const options: BenchOptions = { listingGb: 4, tensors: 300, statisticsGb: 1, repeats: 5, chunkMib: 4, dtype: 'F32' };
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--dtype') {
      if (args[i + 1] !== 'F32' && args[i + 1] !== 'F16' && args[i + 1] !== 'BF16') throw new Error(`--dtype needs F32, F16 or BF16, got ${args[i + 1]}`);
      options.dtype = args[i + 1] as SyntheticDType;
      continue;
    }
    const value = Number(args[i + 1]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${args[i]} needs a positive number, got ${args[i + 1]}`);
    if (args[i] === '--listing-gb') options.listingGb = value;
    else if (args[i] === '--tensors') options.tensors = Math.round(value);
    else if (args[i] === '--statistics-gb') options.statisticsGb = value;
    else if (args[i] === '--repeats') options.repeats = Math.round(value);
    else if (args[i] === '--chunk-mib') options.chunkMib = value;
    else throw new Error(`unknown option ${args[i]}`);
  }
  return options;
}

/** Bytes that reading /proc/self/io itself adds to `rchar` between two readings; subtracted from each measurement. */
function procReadOverhead(): number {
  const first = bytesReadSoFar();
  return bytesReadSoFar() - first;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function readWholeFile(path: string): Promise<void> {
  for await (const piece of createReadStream(path, { highWaterMark: 16 * 1024 * 1024 })) void piece;
}

async function benchListing(directory: string, options: BenchOptions): Promise<string[]> {
  const path = join(directory, 'listing.safetensors');
  const elementsPerTensor = Math.floor((options.listingGb * 1e9) / options.tensors / 4 / 1024) * 1024;
  const tensors = Array.from({ length: options.tensors }, (_, i) => ({
    name: `model.layers.${Math.floor(i / 6)}.block_${i % 6}.weight`,
    shape: [elementsPerTensor / 1024, 1024],
  }));
  const fileBytes = await writeSparseSafetensors(path, tensors);
  const headerLength = headerBytes(tensors).header.length;

  const overhead = procReadOverhead();
  const times: number[] = [];
  const reads: number[] = [];
  for (let repeat = 0; repeat < options.repeats + 1; repeat++) {
    const readBefore = bytesReadSoFar();
    const start = process.hrtime.bigint();
    const checkpoint = await openSafetensors(path);
    const listed = checkpoint.tensors.map((entry) => `${entry.name} ${entry.dtype} ${entry.shape.join('x')} ${entry.offset}`);
    await checkpoint.close();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    const read = bytesReadSoFar() - readBefore - overhead;
    if (listed.length !== options.tensors) throw new Error(`listed ${listed.length} tensors, expected ${options.tensors}`);
    // The first run includes one-time costs such as lazy module loading and compilation, so it is reported apart.
    if (repeat === 0) {
      console.error(`first open + list: ${elapsed.toFixed(1)} ms, ${read} bytes read`);
      continue;
    }
    times.push(elapsed);
    reads.push(read);
  }
  return [
    `| open + list ${options.tensors} tensors, ${(fileBytes / 1e9).toFixed(2)} GB file (sparse) | median ${median(times).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms over ${options.repeats} runs | < 100 ms |`,
    `| bytes read by open + list (rchar of /proc/self/io) | ${Math.max(...reads)}: header ${headerLength} bytes incl. the 8-byte length, the rest 8-byte eventfd reads of libuv (seen with strace) | header only |`,
  ];
}

interface ChildReport {
  seconds: number;
  /** User plus system CPU time of the statistics call; on a loaded machine it shows the cost the wall time hides. */
  cpuSeconds: number;
  peakSampledRss: number;
  maxRss: number;
  baselineRss: number;
  mean: number;
  std: number;
}

/**
 * Runs in the child process: statistics of tensor `name`, or of every tensor when `name` is `*`, with RSS
 * sampling every 5 ms. The reported mean and std are those of the last tensor.
 */
async function statisticsChild(path: string, name: string, chunkMib: number): Promise<void> {
  const baselineRss = process.memoryUsage().rss;
  let peakSampledRss = baselineRss;
  const timer = setInterval(() => {
    peakSampledRss = Math.max(peakSampledRss, process.memoryUsage().rss);
  }, 5);
  const checkpoint = await openSafetensors(path);
  const names = name === '*' ? checkpoint.tensors.map((entry) => entry.name) : [name];
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let stats = { mean: NaN, std: NaN };
  for (const tensor of names) stats = await computeTensorStatistics(checkpoint, tensor, { maxChunkBytes: chunkMib * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  clearInterval(timer);
  await checkpoint.close();
  peakSampledRss = Math.max(peakSampledRss, process.memoryUsage().rss);
  const report: ChildReport = { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakSampledRss, maxRss: process.resourceUsage().maxRSS * 1024, baselineRss, mean: stats.mean, std: stats.std };
  process.stdout.write(JSON.stringify(report));
}

function runStatisticsChild(path: string, name: string, chunkMib: number): ChildReport {
  const result = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--statistics-child', path, name, String(chunkMib)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`statistics child failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as ChildReport;
}

/** Statistics of every tensor of the sparse listing file: the memory bound on a whole multi-GB checkpoint. */
async function benchWholeFileStatistics(directory: string, options: BenchOptions): Promise<string[]> {
  const path = join(directory, 'listing.safetensors');
  const fileBytes = statSync(path).size;
  const report = runStatisticsChild(path, '*', options.chunkMib);
  rmSync(path);
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  return [
    `| statistics of all ${options.tensors} tensors of the ${(fileBytes / 1e9).toFixed(2)} GB sparse file (zeros, read from holes) | ${report.seconds.toFixed(1)} s, ${(fileBytes / 1e9 / report.seconds).toFixed(2)} GB/s; peak RSS ${mb(report.maxRss)} MB (ru_maxrss), sampled ${mb(report.peakSampledRss)} MB, baseline ${mb(report.baselineRss)} MB | < 200 MB |`,
  ];
}

async function benchStatistics(directory: string, options: BenchOptions): Promise<string[]> {
  const path = join(directory, 'statistics.safetensors');
  const elementBytes = options.dtype === 'F32' ? 4 : 2;
  const elements = Math.floor((options.statisticsGb * GIB) / elementBytes / 4096) * 4096;
  const tensorBytes = elements * elementBytes;
  await writeRandomSafetensors(path, { name: 'random', shape: [elements / 4096, 4096], dtype: options.dtype });
  await readWholeFile(path);

  const reports: ChildReport[] = [];
  for (let repeat = 0; repeat < options.repeats; repeat++) reports.push(runStatisticsChild(path, 'random', options.chunkMib));
  rmSync(path);
  const rates = reports.map((report) => tensorBytes / 1e9 / report.seconds);
  const cpuRates = reports.map((report) => tensorBytes / 1e9 / report.cpuSeconds);
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  const first = reports[0];
  return [
    `| statistics of one ${(tensorBytes / GIB).toFixed(2)} GiB ${options.dtype} tensor (${(elements / 1e6).toFixed(0)} M values), page cache warm (two passes) | median ${median(rates).toFixed(2)} GB/s, min ${Math.min(...rates).toFixed(2)} GB/s over ${options.repeats} runs (${median(reports.map((report) => report.seconds)).toFixed(2)} s) | ≥ 1 GB/s |`,
    `| same, bytes per CPU second of the child (user + system) | median ${median(cpuRates).toFixed(2)} GB/s, min ${Math.min(...cpuRates).toFixed(2)} GB/s | |`,
    `| peak RSS during statistics (${options.chunkMib} MiB chunks) | ${mb(Math.max(...reports.map((report) => report.maxRss)))} MB (ru_maxrss), sampled ${mb(Math.max(...reports.map((report) => report.peakSampledRss)))} MB, process baseline ${mb(first.baselineRss)} MB | < 200 MB |`,
    `| check: mean, std of N(0, 1) data | ${first.mean.toFixed(5)}, ${first.std.toFixed(5)} | 0, 1 |`,
  ];
}

export async function main(args: string[] = []): Promise<void> {
  if (args[0] === '--statistics-child') {
    await statisticsChild(args[1], args[2], Number(args[3]));
    return;
  }
  const options = parseOptions(args);
  const directory = mkdtempSync(join(tmpdir(), 'bench-formats-'));
  const free = statfsSync(directory);
  const freeBytes = free.bavail * free.bsize;
  if (freeBytes < options.statisticsGb * GIB + 2 * GIB) {
    rmSync(directory, { recursive: true, force: true });
    throw new Error(`${directory}: ${(freeBytes / GIB).toFixed(1)} GiB free, need ${options.statisticsGb + 2} GiB for the random-data file`);
  }
  try {
    const rows = [
      ...await benchListing(directory, options),
      ...await benchWholeFileStatistics(directory, options),
      ...await benchStatistics(directory, options),
    ];
    console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / GIB).toFixed(0)} GiB RAM, Node ${process.version}`);
    console.log(`Command: node --import tsx bench/formats.ts ${args.join(' ')}`.trimEnd());
    console.log('');
    console.log('| measurement | result | goal |');
    console.log('|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
