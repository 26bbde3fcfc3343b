// What merge, eval and alignToReference tell the user about their inputs: checkpoints with nothing in common are
// rejected, partly shared ones are merged with the rest listed, and a dangerous pickle gives a warning.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { evalCommand } from '../../../src/cli/eval';
import { mergeCommand } from '../../../src/cli/merge';
import type { FlagValues } from '../../../src/cli/command';
import type { NamedTensor } from '../../../src/formats/checkpoint';
import { openCheckpoint } from '../../../src/formats/open';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';
import { evaluateInterpolation } from '../../../src/evaluation/evaluateInterpolation';
import { alignToReference, DEFAULT_MATCHING } from '../../../src/merging/alignToReference';
import { mergeCheckpoints } from '../../../src/merging/mergeCheckpoints';
import { pickleWarnings } from '../../../src/formats/pickleWarnings';

const fixtures = join(__dirname, '..', '..', 'fixtures');
const model = (name: string): string => join(fixtures, 'models', name);
const testData = join(fixtures, 'data', 'digits_test_flat.npz');

async function runCommand(command: typeof mergeCommand, positionals: string[], flags: FlagValues): Promise<{ stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  stdout.on('data', (chunk: Buffer) => chunks.stdout.push(chunk));
  stderr.on('data', (chunk: Buffer) => chunks.stderr.push(chunk));
  const status = await command.run(positionals, flags, { stdout, stderr, signal: new AbortController().signal, verbose: false });
  assert.equal(status, 0);
  return { stdout: Buffer.concat(chunks.stdout).toString('utf8'), stderr: Buffer.concat(chunks.stderr).toString('utf8') };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Copies a checkpoint to safetensors without the tensors `drop` names. */
async function writeWithout(source: string, drop: readonly string[], output: string): Promise<void> {
  const checkpoint = await openCheckpoint(source);
  const tensors: NamedTensor[] = [];
  try {
    for (const entry of checkpoint.tensors) {
      if (!drop.includes(entry.name)) tensors.push({ name: entry.name, ...(await checkpoint.readTensor(entry.name, 'stored')) });
    }
  } finally {
    await checkpoint.close();
  }
  await writeSafetensors(output, tensors, { inputs: [source] });
}

let folder = '';
before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'merge-inputs-'));
});
after(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('merge of checkpoints without shared tensors', () => {
  it('rejects an MLP and a CNN without alignment', async () => {
    const output = join(folder, 'mixed.pt');
    const inputs = [model('mlp_s0.pt'), model('cnn_s1.pt')];
    await assert.rejects(mergeCheckpoints({ inputs, weights: [1, 1], output, spec: 'auto', align: false }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal(
        error.message,
        `${inputs[0]} and ${inputs[1]} share no floating-point tensor with the same name and shape, so nothing would be merged; pass checkpoints of the same architecture`,
      );
      return true;
    });
    assert.equal(await exists(output), false);
  });

  it('rejects them before alignment too', async () => {
    const output = join(folder, 'mixed_aligned.safetensors');
    await assert.rejects(runCommand(mergeCommand, [model('mlp_s0.pt'), model('cnn_s1.pt')], { out: output }), /share no floating-point tensor with the same name and shape/);
    assert.equal(await exists(output), false);
  });

  it('names all three inputs', async () => {
    const inputs = [model('mlp_s0.pt'), model('mlp_s1.pt'), model('cnn_s1.pt')];
    await assert.rejects(
      mergeCheckpoints({ inputs, weights: [1, 1, 1], output: join(folder, 'three.pt'), spec: 'auto', align: false }),
      new RegExp(`^Error: ${inputs[0]}, ${inputs[1]} and ${inputs[2]} share no floating-point tensor`.replace(/\./g, '\\.')),
    );
  });
});

describe('merge of partly shared checkpoints', () => {
  it('merges the shared tensors and lists the rest', async () => {
    const partial = join(folder, 'mlp_s1_without_fc3.safetensors');
    await writeWithout(model('mlp_s1.safetensors'), ['fc3.weight', 'fc3.bias'], partial);
    const output = join(folder, 'partial.safetensors');
    const { stdout } = await runCommand(mergeCommand, [model('mlp_s0.safetensors'), partial], { 'no-align': true, out: output });
    assert.match(stdout, /^merged tensors: 4$/m);
    assert.match(stdout, /^only in this model, copied from .*mlp_s0\.safetensors: fc3\.weight, fc3\.bias$/m);
  });

  it('lists tensors missing from one of three', async () => {
    const partial = join(folder, 'mlp_s1_without_fc3_bias.safetensors');
    await writeWithout(model('mlp_s1.safetensors'), ['fc3.bias'], partial);
    const summary = await mergeCheckpoints({
      inputs: [model('mlp_s0.safetensors'), model('mlp_s1.safetensors'), partial], weights: [1, 1, 1], output: join(folder, 'three.safetensors'), spec: 'auto', align: false,
    });
    assert.equal(summary.merged, 5);
    assert.deepEqual(summary.copied, [{ tensor: 'fc3.bias', from: model('mlp_s0.safetensors'), reason: 'not in every model' }]);
  });
});

describe('dangerous pickle warnings', () => {
  let dangerous = '';
  let marker = '';
  before(() => {
    dangerous = join(folder, 'mlp_s1_payload.ckpt');
    marker = join(folder, 'payload_ran');
    execFileSync('/usr/bin/python3', [join(__dirname, 'dangerous_checkpoint.py'), model('mlp_s1.pt'), dangerous, marker]);
  });

  const expected = () => `${dangerous}: its pickle references dangerous globals (posix.system); nothing was executed, and only tensors were read`;

  it('merge warns on stderr', async () => {
    const output = join(folder, 'merged_payload.safetensors');
    const { stdout, stderr } = await runCommand(mergeCommand, [model('mlp_s0.pt'), dangerous], { out: output });
    assert.match(stdout, /^merged tensors: 6$/m);
    assert.equal(stderr, `warning: ${expected()}\n`);
    assert.equal(await exists(marker), false);
  });

  it('merge summary has no warning for safe inputs', async () => {
    const summary = await mergeCheckpoints({ inputs: [model('mlp_s0.pt'), model('mlp_s1.pt')], weights: [1, 1], output: join(folder, 'safe.pt'), spec: 'auto', align: false });
    assert.deepEqual(summary.warnings, []);
  });

  it('alignToReference returns the warning', async () => {
    const a = await openCheckpoint(model('mlp_s0.pt'));
    const b = await openCheckpoint(dangerous);
    try {
      const aligned = await alignToReference(a, b, 'auto', { ...DEFAULT_MATCHING, executionProvider: 'cpu' }, new AbortController().signal);
      assert.deepEqual(aligned.warnings, [expected()]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('eval reports and prints the warning', async () => {
    const options = { a: model('mlp_s0.pt'), b: dangerous, graph: model('mlp_s0.onnx'), data: testData, steps: 2, executionProvider: 'cpu' as const };
    const report = await evaluateInterpolation(options);
    assert.deepEqual(report.warnings, [expected()]);

    const { stderr } = await runCommand(evalCommand, [model('mlp_s0.pt'), dangerous], { graph: model('mlp_s0.onnx'), data: testData, steps: '2', 'execution-provider': 'cpu' });
    assert.equal(stderr, `warning: ${expected()}\n`);
    assert.equal(await exists(marker), false);
  });

  it('warning text for each verdict', () => {
    const globals = (count: number, verdict: 'allowed' | 'unknown' | 'dangerous') => Array.from({ length: count }, (_, i) => ({ module: 'pkg', name: `f${i}`, verdict }));
    const warnings = pickleWarnings([
      { path: 'safe.pt', pickle: { verdict: 'safe', globals: globals(2, 'allowed') } },
      { path: 'plain.safetensors', pickle: undefined },
      { path: 'odd.pt', pickle: { verdict: 'unknown', globals: [...globals(1, 'allowed'), { module: 'mylib', name: 'Config', verdict: 'unknown' }] } },
      { path: 'many.pt', pickle: { verdict: 'dangerous', globals: [...globals(7, 'dangerous'), { module: 'mylib', name: 'Config', verdict: 'unknown' }] } },
    ]);
    assert.deepEqual(warnings, [
      'odd.pt: its pickle references globals that are not known to be safe (mylib.Config); nothing was executed, and only tensors were read',
      'many.pt: its pickle references dangerous globals (pkg.f0, pkg.f1, pkg.f2, pkg.f3, pkg.f4 and 2 more); nothing was executed, and only tensors were read',
    ]);
  });
});
