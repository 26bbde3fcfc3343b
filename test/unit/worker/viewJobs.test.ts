// The worker jobs behind the VS Code views: heatmaps against products computed here element by element, and
// the inspect, diff, merge and eval jobs on the MLP fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openCheckpoint } from '../../../src/formats/open';
import type { JobProgress, JobRequest } from '../../../src/protocol/workerMessages';
import { runJob } from '../../../src/worker/jobs';

const models = resolve('test/fixtures/models');
const specs = resolve('test/fixtures/specs');

function context(signal = new AbortController().signal) {
  const progress: JobProgress[] = [];
  return { progress, signal, onProgress: (update: JobProgress) => progress.push(update), log: () => undefined };
}

async function run<T>(job: JobRequest, signal?: AbortSignal): Promise<T> {
  return (await runJob(job, context(signal))) as T;
}

async function readAll(path: string): Promise<Map<string, { shape: readonly number[]; data: Float32Array }>> {
  const checkpoint = await openCheckpoint(path);
  try {
    const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    for (const entry of checkpoint.tensors) tensors.set(entry.name, { shape: entry.shape, data: await checkpoint.readTensor(entry.name, 'float32') });
    return tensors;
  } finally {
    await checkpoint.close();
  }
}

/** Σ ⟨A's unit i, B's unit j⟩ of P_fc1 over fc1.weight rows, fc1.bias and fc2.weight columns, B's other axes mapped by `row2`. */
function fc1Similarity(a: Map<string, { data: Float32Array }>, b: Map<string, { data: Float32Array }>, i: number, j: number, row2: (m: number) => number): number {
  const inputs = 64;
  const hidden = 128;
  let sum = 0;
  for (let k = 0; k < inputs; k++) sum += a.get('fc1.weight')!.data[i * inputs + k] * b.get('fc1.weight')!.data[j * inputs + k];
  sum += a.get('fc1.bias')!.data[i] * b.get('fc1.bias')!.data[j];
  for (let m = 0; m < hidden; m++) sum += a.get('fc2.weight')!.data[m * hidden + i] * b.get('fc2.weight')!.data[row2(m) * hidden + j];
  return sum;
}

test('alignView heatmaps match direct products', async () => {
  const pathA = join(models, 'mlp_s0.safetensors');
  const pathB = join(models, 'mlp_s1.safetensors');
  const result = await run<{ heatmaps: { permutation: string; n: number; size: number; before: Float32Array; after: Float32Array }[]; report: { permutations: Record<string, number[]> }; specText: string }>(
    { type: 'alignView', a: pathA, b: pathB, options: { spec: join(specs, 'mlp.permspec.json') } },
  );
  const a = await readAll(pathA);
  const b = await readAll(pathB);
  const fc1 = result.heatmaps.find((heatmap) => heatmap.permutation === 'P_fc1');
  assert.ok(fc1, 'no heatmap for P_fc1');
  assert.equal(fc1.n, 128);
  assert.equal(fc1.size, 128);
  assert.ok(fc1.before instanceof Float32Array);

  const perm1 = result.report.permutations.P_fc1;
  const perm2 = result.report.permutations.P_fc2;
  for (const [i, j] of [[0, 0], [3, 77], [127, 5], [64, 64]]) {
    const before = fc1Similarity(a, b, i, j, (m) => m);
    assert.ok(Math.abs(fc1.before[i * 128 + j] - before) < 1e-4 * (1 + Math.abs(before)), `before[${i}][${j}] = ${fc1.before[i * 128 + j]}, expected ${before}`);
    // After alignment column j is B's unit perm1[j], and fc2.weight's rows follow P_fc2.
    const after = fc1Similarity(a, b, i, perm1[j], (m) => perm2[m]);
    assert.ok(Math.abs(fc1.after[i * 128 + j] - after) < 1e-4 * (1 + Math.abs(after)), `after[${i}][${j}] = ${fc1.after[i * 128 + j]}, expected ${after}`);
  }
  assert.match(result.specText, /"fc2\.weight": \["P_fc2", "P_fc1"\]/);
});

test('alignView after-trace exceeds before-trace', async () => {
  const result = await run<{ heatmaps: { n: number; before: Float32Array; after: Float32Array }[] }>(
    { type: 'alignView', a: join(models, 'mlp_s0.safetensors'), b: join(models, 'mlp_s1.safetensors'), options: {} },
  );
  assert.equal(result.heatmaps.length, 2);
  for (const { n, before, after } of result.heatmaps) {
    let traceBefore = 0;
    let traceAfter = 0;
    for (let i = 0; i < n; i++) {
      traceBefore += before[i * n + i];
      traceAfter += after[i * n + i];
    }
    assert.ok(traceAfter > traceBefore, `trace after ${traceAfter} is not above trace before ${traceBefore}`);
  }
});

test('inspect job lists headers and provider', async () => {
  const result = await run<{ format: string; tensors: { name: string }[]; executionProvider: string }>({ type: 'inspect', file: join(models, 'mlp_s0.pt') });
  assert.equal(result.format, 'pytorch-zip');
  assert.deepEqual(result.tensors.map((tensor) => tensor.name).sort(), ['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight', 'fc3.bias', 'fc3.weight']);
  assert.ok(['cpu', 'cuda', 'dml', 'coreml'].includes(result.executionProvider), result.executionProvider);
});

test('inspect job rejects a text file', async () => {
  await assert.rejects(run({ type: 'inspect', file: resolve('README.md') }), /README\.md/);
});

test('diff job returns statistics per tensor', async () => {
  const result = await run<{ values: [string, { relativeL2: number; cosine: number | null }][]; identical: boolean }>(
    { type: 'diff', a: join(models, 'mlp_s0.safetensors'), b: join(models, 'mlp_s1.safetensors') },
  );
  assert.equal(result.identical, false);
  assert.equal(result.values.length, 6);
  for (const [name, stats] of result.values) assert.ok(stats.relativeL2 > 0, `${name} has relative L2 ${stats.relativeL2}`);
});

test('merge job writes; cancelled leaves nothing', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'checkpoint-aligner-merge-job-'));
  try {
    const inputs = [join(models, 'mlp_s0.safetensors'), join(models, 'mlp_s1.safetensors')];
    const output = join(folder, 'merged.safetensors');
    const summary = await run<{ output: string; merged: number }>({ type: 'merge', options: { inputs, weights: [0.5, 0.5], output, spec: 'auto', align: true } });
    assert.equal(summary.output, output);
    assert.equal(summary.merged, 6);
    assert.ok(existsSync(output));

    const controller = new AbortController();
    controller.abort();
    const cancelled = join(folder, 'cancelled.safetensors');
    await assert.rejects(run({ type: 'merge', options: { inputs, weights: [0.5, 0.5], output: cancelled, spec: 'auto', align: true } }, controller.signal));
    assert.deepEqual(readdirSync(folder), ['merged.safetensors']);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('eval job computes both curves', async () => {
  const report = await run<{ lambdas: number[]; naive: { loss: number[] }; aligned: { loss: number[] }; barrier: { naive: number; aligned: number } }>({
    type: 'eval',
    options: { a: join(models, 'mlp_s0.onnx'), b: join(models, 'mlp_s1.onnx'), data: resolve('test/fixtures/data/digits_test_flat.npz'), steps: 5 },
  });
  assert.deepEqual(report.lambdas, [0, 0.25, 0.5, 0.75, 1]);
  assert.equal(report.naive.loss.length, 5);
  assert.equal(report.aligned.loss.length, 5);
  assert.ok(report.barrier.aligned < report.barrier.naive, `aligned barrier ${report.barrier.aligned} is not below naive ${report.barrier.naive}`);
});
