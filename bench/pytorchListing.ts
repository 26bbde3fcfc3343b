/**
 * Benchmark of opening a large PyTorch zip checkpoint. `torch.save` (Debian's python3-torch) writes a state dict
 * of about `--gb` GB in `--tensors` F32 tensors to the system temporary folder. Then openPytorch + listing + close
 * is timed `--repeats` times, and the bytes the process reads are counted from /proc/self/io (`rchar`).
 *
 * Usage: node --import tsx bench/pytorchListing.ts [--gb 4] [--tensors 300] [--repeats 5]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { openPytorch } from '../src/formats/pytorch/reader';
import { bytesReadSoFar, parsePositiveOptions } from './benchArguments';

const WRITE_STATE_DICT = String.raw`
import sys, torch
path, total_gb, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
columns = 1024
rows = max(1, int(total_gb * 1e9 / count / 4 / columns))
torch.save({f"model.layers.{i // 6}.block_{i % 6}.weight": torch.zeros(rows, columns) for i in range(count)}, path)
`;

function parseOptions(args: readonly string[]): { gb: number; tensors: number; repeats: number } {
  return parsePositiveOptions(args, { gb: 4, tensors: 300, repeats: 5 }, ['tensors', 'repeats']);
}

export async function main(args: string[] = []): Promise<void> {
  const options = parseOptions(args);
  const directory = mkdtempSync(join(tmpdir(), 'pytorch-listing-bench-'));
  try {
    const path = join(directory, 'large.pt');
    execFileSync('/usr/bin/python3', ['-c', WRITE_STATE_DICT, path, String(options.gb), String(options.tensors)]);
    const size = statSync(path).size;

    const times: number[] = [];
    const bytesRead: number[] = [];
    for (let run = 0; run < options.repeats; run++) {
      const before = bytesReadSoFar();
      const start = performance.now();
      const checkpoint = await openPytorch(path);
      const listed = checkpoint.tensors.length;
      await checkpoint.close();
      times.push(performance.now() - start);
      bytesRead.push(bytesReadSoFar() - before);
      if (listed !== options.tensors) throw new Error(`listed ${listed} tensors, expected ${options.tensors}`);
    }
    times.sort((x, y) => x - y);
    console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`);
    console.log('| measurement | result | goal |');
    console.log('|---|---|---|');
    console.log(`| open + list ${options.tensors} tensors, ${(size / 1e9).toFixed(2)} GB PyTorch zip | median ${times[Math.floor(times.length / 2)].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms over ${options.repeats} runs | < 100 ms |`);
    console.log(`| bytes read by open + list (rchar) | max ${Math.max(...bytesRead)} of ${size} | no tensor bytes |`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (require.main === module) void main(process.argv.slice(2));
