// The one-loop moments of statistics.ts shift values by a chunk's first element. These cases check that mean and
// standard deviation match a two-pass float64 reference when that element is an outlier far from the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors } from '../../../src/formats/safetensors/reader';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';
import { computeTensorStatistics } from '../../../src/formats/statistics';

/** Mean and population standard deviation in float64 with two passes, as a reference. */
function reference(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

async function statisticsOf(values: Float32Array, maxChunkBytes: number) {
  const folder = mkdtempSync(join(tmpdir(), 'statistics-shift-'));
  try {
    const path = join(folder, 'values.safetensors');
    await writeSafetensors(path, [{ name: 'x', dtype: 'F32', shape: [values.length], data: values }], { inputs: [] });
    const checkpoint = await openSafetensors(path);
    try {
      return await computeTensorStatistics(checkpoint, 'x', { maxChunkBytes });
    } finally {
      await checkpoint.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

test('outlier first value keeps std exact', async () => {
  const values = new Float32Array(4096);
  values[0] = 1e7;
  for (let i = 1; i < values.length; i++) values[i] = 1000 + (i % 7) * 1e-3;
  const expected = reference(values);
  for (const chunkBytes of [64, 4096, 1 << 20]) {
    const stats = await statisticsOf(values, chunkBytes);
    assert.ok(Math.abs(stats.mean - expected.mean) <= 1e-9 * Math.abs(expected.mean), `chunk ${chunkBytes}: mean ${stats.mean} vs ${expected.mean}`);
    assert.ok(Math.abs(stats.std - expected.std) <= 1e-9 * expected.std, `chunk ${chunkBytes}: std ${stats.std} vs ${expected.std}`);
  }
});

test('clustered values after outlier chunk', async () => {
  // Chunks of 16 values: the first chunk starts with a far outlier, later chunks are tight clusters far from zero.
  const values = new Float32Array(1024);
  for (let i = 0; i < values.length; i++) values[i] = 5e5 + (i % 3) * 0.0625;
  values[0] = -5e5;
  const expected = reference(values);
  const stats = await statisticsOf(values, 64);
  assert.ok(Math.abs(stats.std - expected.std) <= 1e-9 * expected.std, `std ${stats.std} vs ${expected.std}`);
  assert.equal(stats.min, -5e5);
  assert.equal(stats.max, 5e5 + 0.125);
});
