/**
 * Benchmark of opening a large ONNX model whose initializers are stored inside the .onnx file as raw_data.
 * Debian's onnx package (1.12) writes a model of about `--mb` MB in `--tensors` F32 initializers to the system
 * temporary folder. Each run is a fresh child process that opens the model with openOnnx, lists it and closes it.
 * The child reports the bytes it read during the open (`rchar` of /proc/self/io), the time, and its peak RSS from
 * the kernel (`ru_maxrss`). A child that only loads the reader gives the baseline RSS of Node and tsx.
 *
 * Usage: node --import tsx bench/onnxListing.ts [--mb 335] [--tensors 160] [--repeats 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { openOnnx } from '../src/formats/onnx/reader';
import { bytesReadSoFar, parsePositiveOptions } from './benchArguments';

const WRITE_MODEL = String.raw`
import sys
import numpy as np
from onnx import helper, numpy_helper, TensorProto

path, total_mb, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
columns = 1024
rows = max(1, int(total_mb * 1e6 / count / 4 / columns))
names = [f"layer{i}.weight" for i in range(count)]
inits = [numpy_helper.from_array(np.full((rows, columns), i, dtype=np.float32), name) for i, name in enumerate(names)]
nodes, previous = [], "x"
for i, name in enumerate(names):
    nodes.append(helper.make_node("MatMul", [previous, name], [f"h{i}"]))
    previous = f"h{i}"
graph = helper.make_graph(
    nodes, "chain",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", rows])],
    [helper.make_tensor_value_info(previous, TensorProto.FLOAT, ["batch", columns])],
    inits,
)
with open(path, "wb") as handle:
    handle.write(helper.make_model(graph, producer_name="onnx-listing-bench").SerializeToString())
`;

interface ChildResult {
  readonly bytesRead: number;
  readonly milliseconds: number;
  readonly maxRssBytes: number;
  readonly tensors: number;
}

function parseOptions(args: readonly string[]): { mb: number; tensors: number; repeats: number } {
  return parsePositiveOptions(args, { mb: 335, tensors: 160, repeats: 3 }, ['tensors', 'repeats']);
}

/** Runs in the child: opens `path` (or nothing, for the baseline) and prints a ChildResult as JSON. */
async function measureInChild(path: string | undefined): Promise<void> {
  const before = bytesReadSoFar();
  const start = performance.now();
  let tensors = 0;
  if (path !== undefined) {
    const checkpoint = await openOnnx(path);
    tensors = checkpoint.tensors.length;
    await checkpoint.close();
  }
  const result: ChildResult = {
    bytesRead: bytesReadSoFar() - before,
    milliseconds: performance.now() - start,
    // ru_maxrss is in KiB on Linux.
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    tensors,
  };
  console.log(JSON.stringify(result));
}

function runChild(path: string | undefined): ChildResult {
  const args = ['--import', 'tsx', __filename, path === undefined ? '--child-baseline' : '--child-open', ...(path === undefined ? [] : [path])];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as ChildResult;
}

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export async function main(args: string[] = []): Promise<void> {
  const options = parseOptions(args);
  const directory = mkdtempSync(join(tmpdir(), 'onnx-listing-bench-'));
  try {
    const path = join(directory, 'large.onnx');
    execFileSync('/usr/bin/python3', ['-c', WRITE_MODEL, path, String(options.mb), String(options.tensors)]);
    const size = statSync(path).size;
    // Read the file once so that every run finds it in the page cache.
    execFileSync('cat', [path], { maxBuffer: 1024 * 1024 * 1024, stdio: ['ignore', 'ignore', 'inherit'] });

    const baseline = runChild(undefined);
    const runs: ChildResult[] = [];
    for (let run = 0; run < options.repeats; run++) {
      const result = runChild(path);
      if (result.tensors !== options.tensors) throw new Error(`listed ${result.tensors} tensors, expected ${options.tensors}`);
      runs.push(result);
    }
    const times = runs.map((run) => run.milliseconds).sort((x, y) => x - y);

    console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`);
    console.log('| measurement | result |');
    console.log('|---|---|');
    console.log(`| open + list ${options.tensors} initializers, ${megabytes(size)} ONNX model | median ${times[Math.floor(times.length / 2)].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms over ${options.repeats} runs |`);
    console.log(`| bytes read by open + list (rchar) | max ${Math.max(...runs.map((run) => run.bytesRead))} of ${size} |`);
    console.log(`| peak RSS of the child (ru_maxrss) | max ${megabytes(Math.max(...runs.map((run) => run.maxRssBytes)))}, baseline ${megabytes(baseline.maxRssBytes)} without opening |`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [mode, path] = process.argv.slice(2);
  if (mode === '--child-open') void measureInChild(path);
  else if (mode === '--child-baseline') void measureInChild(undefined);
  else void main(process.argv.slice(2));
}
