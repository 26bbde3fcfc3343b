// PyTorch zip reader on TorchScript archives. The fixtures were written by torch.jit.script(model).save, and their
// manifest entries list the reloaded module's state_dict(). The hand-assembled archives test hostile and unusual
// pickles that torch would not write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checkpoint, StoredTensor } from '../../../src/formats/checkpoint';
import { classifyGlobal } from '../../../src/formats/pickle/globals';
import { pickleReport } from '../../../src/formats/pickle/unpickler';
import { pickleWarnings } from '../../../src/formats/pickleWarnings';
import { openPytorch } from '../../../src/formats/pytorch/reader';
import { writeStoredZip, type ZipRecordSource } from '../../../src/formats/pytorch/zipWriter';
import { fixturesDir, manifest, valueHash, type ManifestFile } from './fixtureManifest';

interface TorchscriptFile extends ManifestFile {
  torchscriptClass: string;
}

const torchscriptFiles = manifest.files.filter((file) => file.container === 'torchscript') as TorchscriptFile[];

let folder = '';
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'torchscript-'));
});
after(() => {
  if (!process.env.KEEP) rmSync(folder, { recursive: true, force: true });
});

function fixture(name: string): string {
  return join(fixturesDir, 'models', name);
}

async function withCheckpoint<T>(path: string, use: (checkpoint: Checkpoint) => Promise<T>): Promise<T> {
  const checkpoint = await openPytorch(path);
  try {
    return await use(checkpoint);
  } finally {
    await checkpoint.close();
  }
}

function runCli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
}

function storedBytes(tensor: StoredTensor): Uint8Array {
  return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}

// ---- opcodes of hand-assembled pickles (protocol 2)

function ascii(text: string): number[] {
  return [...text].map((char) => char.charCodeAt(0));
}

function text(value: string): number[] {
  return [0x58, value.length, 0, 0, 0, ...ascii(value)]; // BINUNICODE
}

function global(module: string, name: string): number[] {
  return [0x63, ...ascii(`${module}\n${name}\n`)]; // GLOBAL
}

/** `cls.__new__(cls)` followed by BUILD with a dict of the given attribute opcodes, as ScriptModule.save writes. */
function scriptObject(module: string, name: string, attributes: number[][]): number[] {
  return [...global(module, name), 0x29, 0x81, 0x7d, 0x28, ...attributes.flat(), 0x75, 0x62];
}

/** `_rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', size), 0, (size,), (1,), False, OrderedDict())`. */
function floatTensor(key: string, size: number): number[] {
  return [
    ...global('torch._utils', '_rebuild_tensor_v2'), 0x28,
    0x28, ...text('storage'), ...global('torch', 'FloatStorage'), ...text(key), ...text('cpu'), 0x4b, size, 0x74, 0x51,
    0x4b, 0, 0x4b, size, 0x85, 0x4b, 1, 0x85, 0x89, ...global('collections', 'OrderedDict'), 0x29, 0x52, 0x74, 0x52,
  ];
}

function pickleBytes(root: number[]): Uint8Array {
  return Uint8Array.from([0x80, 2, ...root, 0x2e]);
}

function floatRecord(name: string, values: number[]): ZipRecordSource {
  return { name, data: new Uint8Array(new Float32Array(values).buffer) };
}

/**
 * Writes a stored zip of `records` plus `archive/version`. The empty `archive/code/__torch__.py` record makes it a
 * TorchScript archive without declaring any class, so every tensor attribute is listed.
 */
async function writeArchive(name: string, records: ZipRecordSource[]): Promise<string> {
  const path = join(folder, name);
  const handle = await open(path, 'w');
  try {
    await writeStoredZip(handle, [
      ...records,
      { name: 'archive/code/__torch__.py', data: new Uint8Array(0) },
      { name: 'archive/version', data: Uint8Array.from(ascii('3\n')) },
    ]);
  } finally {
    await handle.close();
  }
  return path;
}

// ---- committed fixtures

test('torchscript fixtures are in the manifest', () => {
  assert.deepEqual(torchscriptFiles.map((file) => file.path).sort(), ['models/mlp_s0.torchscript.pt', 'models/resnet_s0.torchscript.pt']);
});

test('torchscript tensors match scripted state_dict', async () => {
  for (const file of torchscriptFiles) {
    await withCheckpoint(join(fixturesDir, file.path), async (checkpoint) => {
      assert.equal(checkpoint.format, 'pytorch-zip', file.path);
      assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), file.tensors.map((tensor) => tensor.name), `${file.path}: names`);
      for (const [index, expected] of file.tensors.entries()) {
        const entry = checkpoint.tensors[index];
        assert.deepEqual(entry.shape, expected.shape, `${file.path} ${expected.name}: shape`);
        assert.equal(entry.dtype, expected.dtype, `${file.path} ${expected.name}: dtype`);
        assert.equal(await valueHash(checkpoint, entry), expected.sha256, `${file.path} ${expected.name}: values`);
      }
    });
  }
});

test('torchscript metadata names root class', async () => {
  for (const file of torchscriptFiles) {
    await withCheckpoint(join(fixturesDir, file.path), async (checkpoint) => {
      assert.equal(checkpoint.metadata.torchscript, true, file.path);
      assert.equal(checkpoint.metadata.torchscriptClass, file.torchscriptClass, file.path);
      assert.equal(checkpoint.metadata.torchscriptSharedModules, undefined, `${file.path}: no shared submodules`);
    });
  }
});

test('torchscript values equal torch.save copy', async () => {
  for (const model of ['mlp_s0', 'resnet_s0']) {
    await withCheckpoint(fixture(`${model}.torchscript.pt`), (scripted) => withCheckpoint(fixture(`${model}.pt`), async (plain) => {
      assert.deepEqual(scripted.tensors.map((entry) => entry.name), plain.tensors.map((entry) => entry.name), `${model}: names`);
      for (const entry of plain.tensors) {
        const expected = await plain.readTensor(entry.name, 'stored');
        const actual = await scripted.readTensor(entry.name, 'stored');
        assert.equal(actual.dtype, expected.dtype, `${model} ${entry.name}: dtype`);
        assert.deepEqual(actual.shape, expected.shape, `${model} ${entry.name}: shape`);
        assert.deepEqual(storedBytes(actual), storedBytes(expected), `${model} ${entry.name}: bytes`);
      }
    }));
  }
});

test('torchscript chunks agree with readTensor', async () => {
  await withCheckpoint(fixture('resnet_s0.torchscript.pt'), async (checkpoint) => {
    assert.ok(checkpoint.tensors.length > 0, 'the archive lists tensors');
    for (const entry of checkpoint.tensors) {
      const whole = await checkpoint.readTensor(entry.name, 'float32');
      const parts: number[] = [];
      // 100 bytes is 25 floats, so most tensors arrive in several chunks and the last one is short.
      for await (const chunk of checkpoint.readTensorChunks(entry.name, 100)) {
        assert.ok(chunk.byteLength <= 100, `${entry.name}: chunk of ${chunk.byteLength} bytes`);
        parts.push(...chunk);
      }
      assert.deepEqual(Float32Array.from(parts), whole, entry.name);
    }
  });
});

test('torchscript pickle report lists classes', async () => {
  await withCheckpoint(fixture('resnet_s0.torchscript.pt'), async (checkpoint) => {
    const report = checkpoint.pickle;
    assert.ok(report !== undefined, 'a pickle report');
    assert.equal(report.verdict, 'unknown');
    assert.equal(report.torchscript, true);
    const classes = report.globals.filter((entry) => entry.module.startsWith('__torch__'));
    assert.ok(classes.length > 0, 'the pickle references __torch__ classes');
    for (const entry of classes) assert.equal(entry.verdict, 'torchscript-class', `${entry.module}.${entry.name}`);
    const names = classes.map((entry) => `${entry.module}.${entry.name}`);
    assert.ok(names.includes('__torch__.architectures.DigitsResNet'), names.join(', '));
    assert.ok(names.includes('__torch__.architectures.BasicBlock'), names.join(', '));
    assert.ok(names.includes('__torch__.torch.nn.modules.batchnorm.BatchNorm2d'), names.join(', '));
    // A Conv2d's padding is a typed int list that the TorchScript pickler wraps in this helper.
    assert.deepEqual(report.globals.find((entry) => entry.module === 'torch.jit._pickle'),
      { module: 'torch.jit._pickle', name: 'build_intlist', verdict: 'allowed' });
    const others = report.globals.filter((entry) => !entry.module.startsWith('__torch__'));
    for (const entry of others) assert.equal(entry.verdict, 'allowed', `${entry.module}.${entry.name}`);
  });
});

test('inspect --json lists torchscript tensors', () => {
  const file = torchscriptFiles.find((candidate) => candidate.path.endsWith('resnet_s0.torchscript.pt')) as TorchscriptFile;
  const result = runCli('inspect', join(fixturesDir, file.path), '--json');
  assert.equal(result.status, 0, result.stderr);
  const listing = JSON.parse(result.stdout) as {
    format: string;
    tensors: { name: string; dtype: string; shape: number[] }[];
    metadata: Record<string, unknown>;
    pickle: { verdict: string; torchscript?: boolean; globals: { module: string; name: string; verdict: string }[] };
  };
  assert.equal(listing.format, 'pytorch-zip');
  assert.deepEqual(listing.tensors.map((tensor) => tensor.name), file.tensors.map((tensor) => tensor.name));
  assert.deepEqual(listing.tensors.map((tensor) => tensor.shape), file.tensors.map((tensor) => tensor.shape));
  assert.deepEqual(listing.tensors.map((tensor) => tensor.dtype), file.tensors.map((tensor) => tensor.dtype));
  assert.equal(listing.metadata.torchscript, true);
  assert.equal(listing.metadata.torchscriptClass, file.torchscriptClass);
  assert.equal(listing.pickle.verdict, 'unknown');
  assert.equal(listing.pickle.torchscript, true);
  assert.ok(listing.pickle.globals.some((entry) => entry.verdict === 'torchscript-class'), 'a torchscript-class global');
});

test('inspect text explains torchscript verdict', () => {
  const result = runCli('inspect', fixture('mlp_s0.torchscript.pt'));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /format: pytorch-zip, 6 tensors/);
  assert.match(result.stdout, /^pickle: unknown \(nothing was executed\)$/m);
  assert.match(result.stdout, /torch\.jit\.load would compile and run the code\/ records/);
  assert.match(result.stdout, /^ {2}torchscript-class: __torch__\.architectures\.DigitsMLP$/m);
});

test('align treats torchscript like torch.save', () => {
  const run = (a: string) => {
    const out = join(folder, `align-${a}.json`);
    const result = runCli('align', fixture(a), fixture('mlp_s1.pt'), '--spec', 'auto', '--order', 'sorted', '--out', out);
    assert.equal(result.status, 0, result.stderr);
    return { report: JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>, stderr: result.stderr };
  };
  const scripted = run('mlp_s0.torchscript.pt');
  const plain = run('mlp_s0.pt');
  assert.deepEqual(scripted.report.permutations, plain.report.permutations);
  assert.deepEqual(scripted.report.objective, plain.report.objective);
  assert.deepEqual(scripted.report.distance, plain.report.distance);
  assert.match(scripted.stderr, /mlp_s0\.torchscript\.pt: its pickle references TorchScript classes \(__torch__\.architectures\.DigitsMLP/);
});

// ---- verdicts

test('classifyGlobal recognizes TorchScript names', () => {
  assert.equal(classifyGlobal('__torch__', 'Net'), 'torchscript-class');
  assert.equal(classifyGlobal('__torch__.torch.nn.modules.linear', 'Linear'), 'torchscript-class');
  assert.equal(classifyGlobal('__torch__x', 'Net'), 'unknown');
  assert.equal(classifyGlobal('torch.jit._pickle', 'build_intlist'), 'allowed');
  assert.equal(classifyGlobal('torch.jit._pickle', 'restore_type_tag'), 'allowed');
  assert.equal(classifyGlobal('torch.jit._pickle', 'other'), 'dangerous');
  assert.equal(classifyGlobal('torch.jit', 'load'), 'dangerous');
});

test('pickleReport flags torchscript as unknown', () => {
  const torchscriptClass = { module: '__torch__', name: 'Net', verdict: 'torchscript-class' } as const;
  const allowed = { module: 'torch', name: 'Size', verdict: 'allowed' } as const;
  const archive = { torchscriptArchive: true };
  assert.equal(pickleReport([allowed, torchscriptClass], archive).verdict, 'unknown');
  assert.equal(pickleReport([allowed, torchscriptClass], archive).torchscript, true);
  assert.equal(pickleReport([torchscriptClass, { module: 'mylib', name: 'Config', verdict: 'unknown' }], archive).verdict, 'unknown');
  assert.equal(pickleReport([torchscriptClass, { module: 'os', name: 'system', verdict: 'dangerous' }], archive).verdict, 'dangerous');
  assert.equal(pickleReport([torchscriptClass, { module: 'os', name: 'system', verdict: 'dangerous' }], archive).torchscript, true);
  assert.equal(pickleReport([allowed], archive).verdict, 'safe');
  assert.equal(pickleReport([allowed], archive).torchscript, undefined);
});

test('pickleReport outside torchscript archives', () => {
  const torchscriptClass = { module: '__torch__', name: 'Net', verdict: 'torchscript-class' } as const;
  const report = pickleReport([torchscriptClass], { torchscriptArchive: false });
  assert.equal(report.verdict, 'unknown');
  assert.equal(report.torchscript, undefined);
  assert.deepEqual(report.globals, [{ module: '__torch__', name: 'Net', verdict: 'unknown' }]);
});

test('pickleWarnings names TorchScript classes', () => {
  const warnings = pickleWarnings([{
    path: 'net.pt',
    pickle: { verdict: 'unknown', torchscript: true, globals: [{ module: 'torch', name: 'Size', verdict: 'allowed' }, { module: '__torch__', name: 'Net', verdict: 'torchscript-class' }] },
  }]);
  assert.deepEqual(warnings, ['net.pt: its pickle references TorchScript classes (__torch__.Net); nothing was executed, and only tensors were read']);
});

// ---- hand-assembled archives

test('torchscript pickle with os.system is dangerous', async () => {
  const marker = join(folder, 'executed');
  const root = scriptObject('__torch__', 'Net', [
    [...text('training'), 0x89],
    [...text('fc'), ...scriptObject('__torch__.torch.nn.modules.linear', 'Linear', [
      [...text('weight'), ...floatTensor('0', 4)],
    ])],
    [...text('hook'), ...global('os', 'system'), ...text(`touch ${marker}`), 0x85, 0x52],
  ]);
  const path = await writeArchive('dangerous.pt', [
    { name: 'archive/data.pkl', data: pickleBytes(root) },
    floatRecord('archive/data/0', [1, 2, 3, 4]),
  ]);
  await withCheckpoint(path, async (checkpoint) => {
    const report = checkpoint.pickle;
    assert.equal(report?.verdict, 'dangerous');
    assert.deepEqual(report?.globals.find((entry) => entry.module === 'os'), { module: 'os', name: 'system', verdict: 'dangerous' });
    assert.deepEqual(report?.globals.find((entry) => entry.module === '__torch__'), { module: '__torch__', name: 'Net', verdict: 'torchscript-class' });
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), ['fc.weight']);
    assert.deepEqual([...await checkpoint.readTensor('fc.weight', 'float32')], [1, 2, 3, 4]);
    assert.equal(checkpoint.metadata.torchscriptClass, '__torch__.Net');
  });
  assert.equal(existsSync(marker), false, 'the command was not run');
});

test('torchscript shared submodule is listed once', async () => {
  // `first` is memoized with BINPUT 0 and `second` refers to the same object with BINGET 0.
  const shared = [...scriptObject('__torch__', 'Block', [[...text('w'), ...floatTensor('0', 2)]]), 0x71, 0];
  const root = scriptObject('__torch__', 'Net', [
    [...text('b'), ...floatTensor('1', 2)],
    [...text('first'), ...shared],
    [...text('second'), 0x68, 0],
  ]);
  const path = await writeArchive('shared.pt', [
    { name: 'archive/data.pkl', data: pickleBytes(root) },
    floatRecord('archive/data/0', [5, 6]),
    floatRecord('archive/data/1', [7, 8]),
  ]);
  await withCheckpoint(path, async (checkpoint) => {
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), ['b', 'first.w']);
    assert.deepEqual(checkpoint.metadata.torchscriptSharedModules, { second: 'first' });
    assert.deepEqual([...await checkpoint.readTensor('first.w', 'float32')], [5, 6]);
    assert.equal(checkpoint.pickle?.verdict, 'unknown');
    assert.equal(checkpoint.pickle?.torchscript, true);
  });
});

test('torchscript object with non-dict state stays opaque', async () => {
  // A class with its own __getstate__ may store a tuple, whose tensors are not module attributes.
  const root = [...global('__torch__', 'Custom'), 0x29, 0x81, ...floatTensor('0', 2), 0x85, 0x62];
  const path = await writeArchive('custom_state.pt', [
    { name: 'archive/data.pkl', data: pickleBytes(root) },
    floatRecord('archive/data/0', [1, 2]),
  ]);
  await withCheckpoint(path, async (checkpoint) => {
    assert.deepEqual(checkpoint.tensors, []);
    assert.equal(checkpoint.metadata.torchscript, undefined);
    assert.equal(checkpoint.metadata.root, '__torch__.Custom(…)');
    assert.equal(checkpoint.pickle?.verdict, 'unknown');
    assert.equal(checkpoint.pickle?.torchscript, true);
  });
});
