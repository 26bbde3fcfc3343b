import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FloatTensor } from '../../../src/formats/checkpoint';
import { applyPermutations, invertPermutation, isIdentity } from '../../../src/alignment/applyPermutation';
import { parsePermutationSpec } from '../../../src/alignment/permutationSpecFile';
import { resolvePermutationSpec } from '../../../src/alignment/resolveSpec';
import { SeededRandom } from '../../../src/alignment/seededRandom';
import { costObjective, matchWeights } from '../../../src/alignment/weightMatching';
import { ARCHITECTURES, loadFixtureSpec, loadModel, modelPath, specPath } from './fixtureModels';

function bytesOf(tensor: FloatTensor): Buffer {
  return Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}

describe('weight matching exact recovery', () => {
  for (const architecture of ARCHITECTURES) {
    for (const order of ['random', 'sorted'] as const) {
      it(`recovers a permuted ${architecture} in ${order} order`, async () => {
        const a = await loadModel(modelPath(architecture, 0));
        const spec = await loadFixtureSpec(architecture, a, a);
        const random = new SeededRandom(architecture.length * 31 + (order === 'sorted' ? 1 : 0));
        const hidden = new Map([...spec.permutations].map(([name, size]) => [name, random.permutation(size)]));
        // B's unit i is A's unit hidden[i], so the alignment must pick perm = hidden⁻¹.
        const b = applyPermutations(spec, a.floats, hidden);
        for (const [name, perm] of hidden) assert.equal(isIdentity(perm), false, `${name} is the identity`);

        const result = await matchWeights(spec, a.floats, b, { seed: 3, order, executionProvider: 'cpu' });

        assert.equal(result.converged, true);
        for (const [name, perm] of hidden) assert.deepEqual([...(result.permutations.get(name) as Int32Array)], [...invertPermutation(perm)], name);
        const aligned = applyPermutations(spec, b, result.permutations);
        for (const [name, tensor] of a.floats) {
          assert.ok(bytesOf(aligned.get(name) as FloatTensor).equals(bytesOf(tensor)), `${name} differs from A after alignment`);
        }
      });
    }
  }
});

describe('weight matching on trained pairs', () => {
  for (const architecture of ARCHITECTURES) {
    it(`raises the objective for ${architecture} seed 0 vs 1`, async () => {
      const a = await loadModel(modelPath(architecture, 0));
      const b = await loadModel(modelPath(architecture, 1));
      const spec = await loadFixtureSpec(architecture, a, b);
      const result = await matchWeights(spec, a.floats, b.floats, { seed: 0 });

      const { before, after, perSweep } = result.objective;
      assert.ok(after - before > 0.1 * Math.abs(after), `objective ${before} → ${after}`);
      assert.equal(perSweep.length, result.sweeps);
      for (let sweep = 1; sweep < perSweep.length; sweep++) assert.ok(perSweep[sweep] >= perSweep[sweep - 1], `sweep ${sweep + 1} lowered the objective`);
      // The running objective is tracked from the traces of C_p; it must agree with a direct recomputation.
      assert.ok(Math.abs(perSweep[perSweep.length - 1] - after) <= 1e-4 * Math.abs(after), `${perSweep[perSweep.length - 1]} vs ${after}`);
      assert.equal(costObjective(spec, a.floats, b.floats, result.permutations), after);
    });
  }

  it('is deterministic in float64 with sorted order', async () => {
    const a = await loadModel(modelPath('mlp', 0), 'float64');
    const b = await loadModel(modelPath('mlp', 1), 'float64');
    const spec = await loadFixtureSpec('mlp', a, b);
    const options = { order: 'sorted', precision: 'float64', executionProvider: 'cpu' } as const;
    const first = await matchWeights(spec, a.floats, b.floats, options);
    const second = await matchWeights(spec, a.floats, b.floats, options);
    assert.deepEqual(first.objective, second.objective);
    assert.equal(first.sweeps, second.sweeps);
    for (const [name, perm] of first.permutations) assert.deepEqual([...perm], [...(second.permutations.get(name) as Int32Array)], name);
  });

  it('stops at maxSweeps without claiming convergence', async () => {
    const a = await loadModel(modelPath('mlp', 0));
    const b = await loadModel(modelPath('mlp', 1));
    const spec = await loadFixtureSpec('mlp', a, b);
    const result = await matchWeights(spec, a.floats, b.floats, { maxSweeps: 1, order: 'sorted' });
    assert.equal(result.sweeps, 1);
    assert.equal(result.converged, false);
  });

  it('reports progress and stops when cancelled', async () => {
    const a = await loadModel(modelPath('cnn', 0));
    const b = await loadModel(modelPath('cnn', 1));
    const spec = await loadFixtureSpec('cnn', a, b);
    const controller = new AbortController();
    const steps: string[] = [];
    const run = matchWeights(spec, a.floats, b.floats, {
      signal: controller.signal,
      onProgress: ({ sweep, permutation }) => {
        steps.push(`${sweep}:${permutation}`);
        controller.abort(new Error('cancelled by the test'));
      },
    });
    await assert.rejects(run, /cancelled by the test/);
    assert.equal(steps.length, 1);
  });
});

describe('weight matching against the NumPy and SciPy reference', () => {
  const PYTHON = '/usr/bin/python3';
  const available = spawnSync(PYTHON, ['-c', 'import numpy, scipy'], { stdio: 'ignore' }).status === 0;

  for (const architecture of ['mlp', 'cnn', 'transformer'] as const) {
    it(`finds the same permutations for ${architecture} in float64 sorted order`, { skip: available ? false : `${PYTHON} with NumPy and SciPy not found` }, async () => {
      const script = join(__dirname, '..', '..', '..', 'bench', 'reference', 'weight_matching.py');
      const run = spawnSync(PYTHON, [script, 'match', modelPath(architecture, 0), modelPath(architecture, 1), specPath(architecture), '--precision', 'float64'], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const reference = JSON.parse(run.stdout) as { sweeps: number; objectiveAfter: number; permutations: Record<string, number[]> };

      const a = await loadModel(modelPath(architecture, 0), 'float64');
      const b = await loadModel(modelPath(architecture, 1), 'float64');
      const spec = await loadFixtureSpec(architecture, a, b);
      const result = await matchWeights(spec, a.floats, b.floats, { order: 'sorted', precision: 'float64', executionProvider: 'cpu' });

      assert.equal(result.sweeps, reference.sweeps);
      assert.ok(Math.abs(result.objective.after - reference.objectiveAfter) <= 1e-9 * Math.abs(reference.objectiveAfter));
      for (const [name, perm] of result.permutations) assert.deepEqual([...perm], reference.permutations[name], name);
    });
  }
});

describe('weight matching cost sets', () => {
  it('leaves permutations without cost tensors as identity', async () => {
    const a = await loadModel(modelPath('mlp', 0));
    const b = await loadModel(modelPath('mlp', 1));
    const spec = parsePermutationSpec({ ...JSON.parse(await readFile(specPath('mlp'), 'utf8')), cost: ['fc1.weight', 'fc1.bias'] }, 'mlp cost');
    const resolved = resolvePermutationSpec(spec, 'mlp cost', { path: 'A', tensors: a.tensors }, { path: 'B', tensors: b.tensors });
    const result = await matchWeights(resolved, a.floats, b.floats, { executionProvider: 'cpu' });

    assert.deepEqual(result.withoutCost, ['P_fc2']);
    assert.equal(isIdentity(result.permutations.get('P_fc2') as Int32Array), true);
    assert.equal(isIdentity(result.permutations.get('P_fc1') as Int32Array), false);
    assert.ok(result.objective.after > result.objective.before);
  });
});
