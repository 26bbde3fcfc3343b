import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TensorEntry } from '../../../src/formats/checkpoint';
import { loadPermutationSpec, parsePermutationSpec, PermutationSpecError } from '../../../src/alignment/permutationSpecFile';
import { resolvePermutationSpec } from '../../../src/alignment/resolveSpec';
import { ARCHITECTURES, loadFixtureSpec, loadModel, modelPath } from './fixtureModels';

function entry(name: string, shape: number[], dtype = 'F32'): TensorEntry {
  return { name, dtype, shape, offset: 0, length: 0 };
}

const MLP: TensorEntry[] = [
  entry('fc1.weight', [8, 4]),
  entry('fc1.bias', [8]),
  entry('fc2.weight', [3, 8]),
  entry('fc2.bias', [3]),
  entry('bn.running_mean', [8]),
  entry('bn.num_batches_tracked', [], 'I64'),
];
const MLP_SPEC = { axes: { 'fc1.weight': ['P', null], 'fc1.bias': ['P'], 'fc2.weight': [null, 'P'], 'bn.running_mean': ['P'] } };

function resolve(axes: unknown, tensorsA: TensorEntry[] = MLP, tensorsB: TensorEntry[] = tensorsA) {
  const spec = parsePermutationSpec(axes, 'test.permspec.json');
  return resolvePermutationSpec(spec, 'test.permspec.json', { path: 'a.safetensors', tensors: tensorsA }, { path: 'b.safetensors', tensors: tensorsB });
}

function assertSpecError(run: () => unknown, tensor: string | undefined, axis: number | undefined, text: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof PermutationSpecError, `expected PermutationSpecError, got ${String(error)}`);
    assert.equal(error.detail.tensor, tensor);
    assert.equal(error.detail.axis, axis);
    assert.match(error.message, text);
    if (tensor !== undefined) assert.ok(error.message.includes(`"${tensor}"`), error.message);
    if (axis !== undefined) assert.ok(error.message.includes(`axis ${axis}`), error.message);
    return true;
  });
}

describe('permutation spec validation', () => {
  it('resolves sizes, names and the default cost set', () => {
    const spec = resolve(MLP_SPEC);
    assert.deepEqual([...spec.permutations], [['P', 8]]);
    const cost = spec.tensors.filter((tensor) => tensor.cost).map((tensor) => tensor.name);
    assert.deepEqual(cost, ['fc1.weight', 'fc1.bias', 'fc2.weight']);
    assert.deepEqual(spec.tensors[0].axes, [{ permutation: 'P', outer: 1, inner: 1, size: 8 }, null]);
  });

  it('uses an explicit cost list', () => {
    const spec = resolve({ ...MLP_SPEC, cost: ['fc2.weight'] });
    assert.deepEqual(spec.tensors.filter((tensor) => tensor.cost).map((tensor) => tensor.name), ['fc2.weight']);
  });

  it('rejects an unknown tensor', () => {
    assertSpecError(() => resolve({ axes: { 'fc9.weight': ['P', null] } }), 'fc9.weight', undefined, /not found in a\.safetensors/);
  });

  it('rejects a tensor missing from B only', () => {
    assertSpecError(() => resolve(MLP_SPEC, MLP, MLP.slice(1)), 'fc1.weight', undefined, /not found in b\.safetensors/);
  });

  it('rejects a wrong number of axes', () => {
    assertSpecError(() => resolve({ axes: { 'fc1.weight': ['P'] } }), 'fc1.weight', 1, /has 1 axis entry but the tensor has 2 axes/);
    assertSpecError(() => resolve({ axes: { 'fc1.bias': ['P', null] } }), 'fc1.bias', 1, /has 2 axis entries but the tensor has 1 axes/);
  });

  it('rejects disagreeing permutation sizes', () => {
    assertSpecError(() => resolve({ axes: { 'fc1.weight': ['P', 'P'] } }), 'fc1.weight', 1, /"P" has 4 units here but 8 on tensor "fc1.weight" axis 0/);
  });

  it('rejects disagreeing sizes after grouping', () => {
    const tensors = [entry('attn.in_proj_weight', [24, 8]), entry('attn.out_proj.weight', [8, 8])];
    const axes = { 'attn.in_proj_weight': [{ perm: 'H', outer: 3, inner: 4 }, null], 'attn.out_proj.weight': [null, { perm: 'H', outer: 1, inner: 2 }] };
    assertSpecError(() => resolve({ axes }, tensors), 'attn.out_proj.weight', 1, /"H" has 4 units here but 2/);
  });

  it('rejects a grouped axis that does not divide', () => {
    assertSpecError(() => resolve({ axes: { 'fc1.weight': [{ perm: 'H', outer: 3, inner: 1 }, null] } }), 'fc1.weight', 0, /not divisible by outer × inner = 3 × 1/);
  });

  it('rejects an axis claimed twice through a wrapper prefix', () => {
    const axes = { 'fc1.weight': ['P', null], 'module.fc1.weight': ['Q', null] };
    const tensors = MLP.map((tensor) => entry(`module.${tensor.name}`, [...tensor.shape], tensor.dtype));
    assertSpecError(() => resolve({ axes }, tensors), 'module.fc1.weight', 0, /same tensor "module.fc1.weight" as "fc1.weight", so its axes are claimed twice/);
  });

  it('rejects shapes that differ between A and B', () => {
    const wider = MLP.map((tensor) => (tensor.name === 'fc1.weight' ? entry('fc1.weight', [8, 5]) : tensor));
    assertSpecError(() => resolve(MLP_SPEC, MLP, wider), 'fc1.weight', 1, /\[8, 4\] in a\.safetensors differs from \[8, 5\] in b\.safetensors/);
  });

  it('rejects malformed axis entries', () => {
    assertSpecError(() => resolve({ axes: { 'fc1.weight': [3, null] } }), 'fc1.weight', 0, /expected a permutation name/);
    assertSpecError(() => resolve({ axes: { 'fc1.weight': [{ perm: 'H', outer: 0, inner: 1 }, null] } }), 'fc1.weight', 0, /grouped entry/);
    assertSpecError(() => resolve({ axes: { 'fc1.weight': 'P' } }), 'fc1.weight', undefined, /one entry per axis/);
  });

  it('rejects a cost entry outside axes', () => {
    assertSpecError(() => resolve({ ...MLP_SPEC, cost: ['fc2.bias'] }), 'fc2.bias', undefined, /"cost" lists a tensor/);
  });

  it('matches names across wrapper prefixes on either side', () => {
    const wrappedA = MLP.map((tensor) => entry(`module.${tensor.name}`, [...tensor.shape], tensor.dtype));
    const wrappedB = MLP.map((tensor) => entry(`_orig_mod.${tensor.name}`, [...tensor.shape], tensor.dtype));
    const spec = resolve(MLP_SPEC, wrappedA, wrappedB);
    assert.equal(spec.tensors[0].nameA, 'module.fc1.weight');
    assert.equal(spec.tensors[0].nameB, '_orig_mod.fc1.weight');

    const lightningSpec = { axes: { 'model.fc1.weight': ['P', null], 'model.fc1.bias': ['P'] } };
    const plain = resolve(lightningSpec, MLP);
    assert.equal(plain.tensors[0].nameA, 'fc1.weight');
  });
});

describe('permutation spec files', () => {
  let folder = '';
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'permspec-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('reports JSON errors with file, line and column', async () => {
    const path = join(folder, 'broken.permspec.json');
    await writeFile(path, '{\n  "axes": {\n    "fc1.weight": ["P", nul]\n  }\n}\n');
    await assert.rejects(loadPermutationSpec(path), (error: Error) => {
      assert.ok(error.message.startsWith(`${path}: invalid JSON at line 3, column 25`), error.message);
      return true;
    });
  });

  it('rejects duplicate tensor keys', async () => {
    const path = join(folder, 'duplicate.permspec.json');
    await writeFile(path, '{"axes": {"fc1.weight": ["P", null],\n "fc1.weight": [null, null]}}');
    await assert.rejects(loadPermutationSpec(path), /line 2, column 2: duplicate key "fc1.weight"/);
  });

  it('names a missing file', async () => {
    const path = join(folder, 'missing.permspec.json');
    await assert.rejects(loadPermutationSpec(path), (error: Error) => error.message.startsWith(`${path}: cannot read`));
  });

  for (const architecture of ARCHITECTURES) {
    it(`fixture spec for ${architecture} resolves`, async () => {
      const a = await loadModel(modelPath(architecture, 0));
      const b = await loadModel(modelPath(architecture, 1));
      const spec = await loadFixtureSpec(architecture, a, b);
      assert.ok(spec.permutations.size >= 2);
      for (const tensor of spec.tensors) {
        if (/running_(mean|var)$/.test(tensor.name)) assert.equal(tensor.cost, false, tensor.name);
      }
    });
  }
});
