import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JobCancelledError, WorkerClient } from '../../../src/worker/client';
import type { JobProgress } from '../../../src/protocol/workerMessages';

const models = resolve('test/fixtures/models');
const workerScript = resolve('dist/worker.js');

before(() => {
  // The worker runs from its bundle, as in the extension.
  execFileSync(process.execPath, ['scripts/build.mjs', 'worker']);
});

test('worker computes tensor statistics', async () => {
  const client = new WorkerClient(workerScript);
  try {
    const stats = await client.run({ type: 'statistics', file: join(models, 'mlp_s0.safetensors'), tensor: 'fc1.weight' });
    assert.equal(stats.count, 128 * 64);
    assert.ok(stats.std > 0);
    assert.equal(stats.histogram.counts.length, 64);
  } finally {
    await client.dispose();
  }
});

test('worker aligns and reports progress', async () => {
  const logs: string[] = [];
  const client = new WorkerClient(workerScript, (_level, message) => logs.push(message));
  const progress: JobProgress[] = [];
  try {
    const report = await client.run(
      { type: 'align', a: join(models, 'mlp_s0.safetensors'), b: join(models, 'mlp_s1.safetensors'), options: { order: 'sorted' } },
      { onProgress: (update) => progress.push(update) },
    );
    assert.ok(report.objective.after > report.objective.before);
    assert.deepEqual(Object.keys(report.permutations).length, 2);
    assert.ok(progress.some((update) => update.stage === 'matching' && update.sweep === 1));
    assert.ok(logs.some((line) => line.startsWith('align: done')), logs.join('\n'));
  } finally {
    await client.dispose();
  }
});

test('worker reports errors with file name', async () => {
  const client = new WorkerClient(workerScript);
  try {
    await assert.rejects(
      client.run({ type: 'statistics', file: join(models, 'missing.safetensors'), tensor: 'x' }),
      /missing\.safetensors/,
    );
  } finally {
    await client.dispose();
  }
});

test('cancelled align leaves no output file', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'worker-cancel-'));
  const client = new WorkerClient(workerScript);
  try {
    const controller = new AbortController();
    const output = join(folder, 'aligned.safetensors');
    const job = client.run(
      { type: 'align', a: join(models, 'resnet_s0.safetensors'), b: join(models, 'resnet_s1.safetensors'), options: { spec: 'test/fixtures/specs/resnet.permspec.json', writeAligned: output } },
      { signal: controller.signal, onProgress: (update) => { if (update.stage === 'matching') controller.abort(); } },
    );
    await assert.rejects(job, JobCancelledError);
    assert.equal(existsSync(output), false);
    assert.deepEqual(readdirSync(folder), []);
  } finally {
    await client.dispose();
    rmSync(folder, { recursive: true, force: true });
  }
});
