// Extension host tests of the pieces behind the commands: registration, the candidate order of the quick pick,
// remembered options, and output paths.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { openCheckpoint } from '../../src/formats/open';
import type { CheckpointAlignerApi } from '../../src/extension/extension';
import { alignOptionsKey } from '../../src/extension/alignOptions';
import { isCheckpointPath, rankCandidates, structureKey } from '../../src/extension/checkpointFiles';
import { evaluationInputs } from '../../src/extension/evaluationInputs';
import { parseWeights, validateLambda } from '../../src/extension/mergeFlow';
import { isInputPath, siblingOutputPath, splitCheckpointName } from '../../src/extension/outputPaths';

const extensionId = 'checkpoint-aligner.checkpoint-aligner';

async function activateExtension(): Promise<{ extension: vscode.Extension<CheckpointAlignerApi>; api: CheckpointAlignerApi }> {
  const extension = vscode.extensions.getExtension<CheckpointAlignerApi>(extensionId);
  assert.ok(extension, `extension ${extensionId} is not loaded`);
  const api = await extension.activate();
  return { extension, api };
}

function fixture(extension: vscode.Extension<unknown>, name: string): string {
  return join(extension.extensionPath, 'test', 'fixtures', 'models', name);
}

async function structureOf(path: string): Promise<string> {
  const checkpoint = await openCheckpoint(path);
  try {
    return structureKey(checkpoint.tensors);
  } finally {
    await checkpoint.close();
  }
}

suite('command registration', () => {
  const expected = [
    'checkpointAligner.showLog',
    'checkpointAligner.alignWith',
    'checkpointAligner.alignSelected',
    'checkpointAligner.merge',
    'checkpointAligner.compareSelected',
    'checkpointAligner.compareWith',
  ];

  test('registers every feature command', async () => {
    await activateExtension();
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const command of expected) assert.ok(registered.has(command), `${command} is not registered`);
  });

  test('contributes commands in one category', async () => {
    const { extension } = await activateExtension();
    const contributed = extension.packageJSON.contributes.commands as { command: string; category?: string }[];
    assert.deepEqual(contributed.map((entry) => entry.command).sort(), [...expected].sort());
    for (const entry of contributed) assert.equal(entry.category, 'Checkpoint Aligner', `${entry.command} has category ${entry.category}`);
  });

  test('declares the inspector for checkpoint files', async () => {
    const { extension } = await activateExtension();
    const editors = extension.packageJSON.contributes.customEditors as { viewType: string; priority: string; selector: { filenamePattern: string }[] }[];
    const inspector = editors.find((editor) => editor.viewType === 'checkpointAligner.inspector');
    assert.ok(inspector, 'checkpointAligner.inspector is not contributed');
    assert.equal(inspector.priority, 'default');
    const patterns = inspector.selector.map((selector) => selector.filenamePattern);
    for (const pattern of ['*.safetensors', '*.onnx', '*.pt', '*.gguf', '*.safetensors.index.json']) assert.ok(patterns.includes(pattern), `${pattern} is missing`);
    const optional = editors.find((editor) => editor.selector.some((selector) => selector.filenamePattern === '*.bin'));
    assert.equal(optional?.priority, 'option');
  });
});

suite('quick pick candidates', () => {
  test('puts same-structure checkpoints first', async () => {
    const { extension } = await activateExtension();
    const reference = fixture(extension, 'mlp_s0.safetensors');
    const paths = ['cnn_s0.safetensors', 'mlp_s1.pt', 'mlp_s1.safetensors', 'transformer_s1.safetensors'].map((name) => fixture(extension, name));
    const structures = new Map<string, string | undefined>();
    for (const path of [reference, ...paths]) structures.set(path, await structureOf(path));

    const ranked = rankCandidates(reference, [...paths, reference], structures);

    assert.deepEqual(ranked.map((candidate) => candidate.compatible), [true, true, false, false]);
    assert.deepEqual(ranked.slice(0, 2).map((candidate) => candidate.path).sort(), [fixture(extension, 'mlp_s1.pt'), fixture(extension, 'mlp_s1.safetensors')].sort());
    assert.equal(ranked.some((candidate) => candidate.path === reference), false, 'the reference is offered as its own partner');
  });

  test('marks unreadable headers incompatible', async () => {
    const { extension } = await activateExtension();
    const reference = fixture(extension, 'mlp_s0.safetensors');
    const broken = join(extension.extensionPath, 'README.md');
    const structures = new Map<string, string | undefined>([[reference, await structureOf(reference)], [broken, undefined]]);

    assert.deepEqual(rankCandidates(reference, [broken], structures), [{ path: broken, compatible: false }]);
  });

  test('recognizes checkpoint file names', () => {
    assert.equal(isCheckpointPath('/m/model.safetensors.index.json'), true);
    assert.equal(isCheckpointPath('/m/pytorch_model.bin'), true);
    assert.equal(isCheckpointPath('/m/MODEL.PT'), true);
    assert.equal(isCheckpointPath('/m/config.json'), false);
  });
});

suite('remembered options', () => {
  let saved: unknown;

  setup(async () => {
    saved = (await activateExtension()).api.workspaceState.get(alignOptionsKey);
  });

  teardown(async () => {
    await (await activateExtension()).api.workspaceState.update(alignOptionsKey, saved);
  });

  test('persist in the workspace state', async () => {
    const { api } = await activateExtension();
    await api.alignOptions.update({ spec: '/specs/mlp.permspec.json', graph: '/models/mlp.onnx' });
    await api.alignOptions.update({ data: '/data/test.npz' });

    assert.deepEqual(api.workspaceState.get(alignOptionsKey), { spec: '/specs/mlp.permspec.json', graph: '/models/mlp.onnx', data: '/data/test.npz' });
    assert.deepEqual(api.alignOptions.get(), { spec: '/specs/mlp.permspec.json', graph: '/models/mlp.onnx', data: '/data/test.npz' });
  });

  test('fall back to auto for invalid values', async () => {
    const { api } = await activateExtension();
    await api.workspaceState.update(alignOptionsKey, { spec: 42, graph: ['x'] });
    assert.deepEqual(api.alignOptions.get(), { spec: 'auto' });

    await api.workspaceState.update(alignOptionsKey, 'auto');
    assert.deepEqual(api.alignOptions.get(), { spec: 'auto' });
  });

  test('decide which evaluation inputs are missing', () => {
    const settings = { inputName: 'x', labelName: 'y', steps: 21 };
    assert.deepEqual(evaluationInputs('/m/a.onnx', { spec: 'auto' }, settings), { graph: undefined, data: undefined, missingGraph: false, missingData: true });
    assert.deepEqual(evaluationInputs('/m/a.pt', { spec: 'auto', data: '/d.npz' }, settings), { graph: undefined, data: '/d.npz', missingGraph: true, missingData: false });
    assert.deepEqual(
      evaluationInputs('/m/a.pt', { spec: 'auto', graph: '/g.onnx', data: '/d.npz' }, { ...settings, dataFile: '/setting.npz' }),
      { graph: '/g.onnx', data: '/setting.npz', missingGraph: false, missingData: false },
    );
  });
});

suite('output paths', () => {
  test('default beside the first input', () => {
    assert.equal(siblingOutputPath('/m/mlp_s0.safetensors', 'merged'), '/m/mlp_s0_merged.safetensors');
    assert.equal(siblingOutputPath('/m/model.safetensors.index.json', 'merged'), '/m/model_merged.safetensors');
    assert.equal(siblingOutputPath('/m/run.v2.ckpt', 'aligned'), '/m/run.v2_aligned.ckpt');
    assert.deepEqual(splitCheckpointName('/m/weights.data'), { stem: 'weights', extension: '.data' });
  });

  test('reject an input, also through a link', async () => {
    const { extension } = await activateExtension();
    const input = fixture(extension, 'mlp_s0.safetensors');
    const folder = mkdtempSync(join(tmpdir(), 'checkpoint-aligner-paths-'));
    try {
      const link = join(folder, 'link.safetensors');
      symlinkSync(input, link);

      assert.equal(isInputPath(input, [input]), true);
      assert.equal(isInputPath(link, [input]), true);
      assert.equal(isInputPath(join(folder, 'merged.safetensors'), [input]), false);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('validate λ and weights', () => {
    assert.equal(validateLambda('0.25'), undefined);
    assert.equal(validateLambda('1'), undefined);
    assert.match(validateLambda('1.5') ?? '', /between 0 and 1/);
    assert.match(validateLambda('half') ?? '', /number/);
    assert.deepEqual(parseWeights('1, 2, 1', 3), [1, 2, 1]);
    assert.match(parseWeights('1, 2', 3) as string, /3 weights/);
    assert.match(parseWeights('0, 0', 2) as string, /positive/);
    assert.match(parseWeights('1, -1', 2) as string, /negative/);
  });
});
