// Specs that give weight matching nothing to do are rejected before any onnxruntime session exists, and an
// onnxruntime failure reaches the user once, after a sentence naming the step.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { FloatTensor, TensorEntry } from '../../../src/formats/checkpoint';
import { openCheckpoint } from '../../../src/formats/open';
import { PermutationSpecError } from '../../../src/alignment/permutationSpecFile';
import type { ResolvedSpec } from '../../../src/alignment/permutationSpec';
import { resolvePermutationSpec } from '../../../src/alignment/resolveSpec';
import { chooseSpec } from '../../../src/alignment/specChoice';
import { createSession, OnnxRuntimeError } from '../../../src/compute/executionProvider';
import { SimilaritySession } from '../../../src/compute/similaritySession';
import { modelPath } from './fixtureModels';

const REPOSITORY = join(__dirname, '..', '..', '..');
const run = promisify(execFile);

function entry(name: string, shape: number[]): TensorEntry {
  return { name, dtype: 'F32', shape, offset: 0, length: 0 };
}

const TENSORS = [entry('fc1.weight', [8, 4]), entry('fc1.bias', [8]), entry('fc2.weight', [2, 8])];
const resolve = (spec: Parameters<typeof resolvePermutationSpec>[0]) =>
  resolvePermutationSpec(spec, 'my.permspec.json', { path: 'a.safetensors', tensors: TENSORS }, { path: 'b.safetensors', tensors: TENSORS });

/** Runs the command line in a child process, so that what onnxruntime prints to stderr is captured too. */
async function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', join(REPOSITORY, 'src', 'cli', 'main.ts'), ...args], { cwd: REPOSITORY });
    return { code: 0, stderr };
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}

describe('spec without permutations', () => {
  it('rejects empty axes', () => {
    assert.throws(() => resolve({ axes: {} }), (error: unknown) => {
      assert.ok(error instanceof PermutationSpecError);
      assert.match(error.message, /^my\.permspec\.json: "axes" maps no tensors, so the spec defines no permutation/);
      return true;
    });
  });

  it('rejects all-null axes', () => {
    assert.throws(
      () => resolve({ axes: { 'fc1.weight': [null, null], 'fc1.bias': [null] } }),
      /^PermutationSpecError: my\.permspec\.json: every axis entry is null, so the spec defines no permutation/,
    );
  });

  it('rejects cost without permuted axes', () => {
    const spec = { axes: { 'fc1.weight': ['P', null], 'fc1.bias': [null], 'fc2.weight': [null, 'P'] }, cost: ['fc1.bias'] };
    assert.throws(() => resolve(spec), /^PermutationSpecError: my\.permspec\.json: no cost tensor has an axis on any of the permutations P, so weight matching has nothing to compare/);
  });

  it('accepts a permutation without votes beside one with', () => {
    const tensors = [...TENSORS, entry('fc3.weight', [8, 8])];
    const spec = { axes: { 'fc1.weight': ['P', null], 'fc2.weight': [null, 'P'], 'fc3.weight': ['Q', null] }, cost: ['fc1.weight', 'fc2.weight'] };
    const resolved = resolvePermutationSpec(spec, 'my.permspec.json', { path: 'a', tensors }, { path: 'b', tensors });
    assert.deepEqual([...resolved.permutations.keys()], ['P', 'Q']);
  });

  it('spec file with empty axes names the file', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'empty-spec-'));
    try {
      const specFile = join(folder, 'empty_axes.permspec.json');
      await writeFile(specFile, '{"axes": {}}\n');
      const a = await openCheckpoint(modelPath('mlp', 0));
      const b = await openCheckpoint(modelPath('mlp', 1));
      try {
        await assert.rejects(chooseSpec(specFile, a, b), (error: unknown) => {
          assert.ok(error instanceof PermutationSpecError);
          assert.ok(error.message.startsWith(`${specFile}: "axes" maps no tensors`), error.message);
          return true;
        });
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('onnxruntime failures', () => {
  let folder = '';
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'onnxruntime-errors-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('align with empty axes prints one error', async () => {
    const specFile = join(folder, 'empty_axes.permspec.json');
    await writeFile(specFile, '{"axes": {}}\n');
    const { code, stderr } = await runCli(['align', modelPath('mlp', 0), modelPath('mlp', 1), '--spec', specFile]);
    assert.equal(code, 1);
    assert.equal(stderr, `error: ${specFile}: "axes" maps no tensors, so the spec defines no permutation; map each weight and bias to its axis entries (permutation names or null)\n`);
  });

  it('similarity session without cost tensors', async () => {
    const spec: ResolvedSpec = {
      source: 'hand-made spec',
      permutations: new Map([['P', 8]]),
      tensors: [{ name: 'fc1.bias', nameA: 'fc1.bias', nameB: 'fc1.bias', shape: [8], axes: [{ permutation: 'P', outer: 1, inner: 1, size: 8 }], cost: false }],
    };
    const tensors = new Map<string, FloatTensor>([['fc1.bias', { shape: [8], data: new Float32Array(8) }]]);
    await assert.rejects(
      SimilaritySession.create(spec, tensors, tensors, { precision: 'float32', executionProvider: 'cpu' }),
      /^Error: hand-made spec: no cost tensor has a permuted axis, so weight matching has no similarity to compute/,
    );
  });

  it('session creation names the step', async () => {
    await assert.rejects(createSession(Uint8Array.from([8, 7, 18, 1, 120]), 'cpu', 'the test model'), (error: unknown) => {
      assert.ok(error instanceof OnnxRuntimeError);
      assert.match(error.message, /^creating the onnxruntime CPU session for the test model failed\. onnxruntime reported: \S/);
      return true;
    });
  });

  it('onnxruntime prints nothing itself', async () => {
    // A model with an initializer and no output fails inside onnxruntime's session initialization, which logs
    // the failure at error severity unless the session's log level hides it.
    const script = join(folder, 'no_output_model.mts');
    await writeFile(script, [
      `import { createSession } from ${JSON.stringify(join(REPOSITORY, 'src', 'compute', 'executionProvider.ts'))};`,
      `import { buildSimilarityModel } from ${JSON.stringify(join(REPOSITORY, 'src', 'compute', 'similarityModel.ts'))};`,
      `const model = buildSimilarityModel({ source: 'none', permutations: new Map(), tensors: [] }, new Map(), new Map(), 'float32');`,
      `await createSession(model.bytes, 'cpu', 'a model without outputs').then(() => console.log('created'), (error) => console.log(error.message));`,
    ].join('\n'));
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script], { cwd: REPOSITORY });
    assert.match(stdout, /^creating the onnxruntime CPU session for a model without outputs failed\. onnxruntime reported: /);
    assert.equal(stderr, '');
  });
});
