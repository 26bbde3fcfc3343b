// Layers stored as quantized blocks or integers: `--spec auto` must place them like any other layer, and no spec may
// permute them. Skipping such a layer used to link the layers around it and give π(B) a different function.
import assert from 'node:assert/strict';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { alignCommand } from '../../../src/cli/align';
import type { NamedTensor, TensorEntry } from '../../../src/formats/checkpoint';
import { openCheckpoint } from '../../../src/formats/open';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';
import { PermutationSpecError } from '../../../src/alignment/permutationSpecFile';
import { resolvePermutationSpec } from '../../../src/alignment/resolveSpec';
import { chooseSpec } from '../../../src/alignment/specChoice';
import { inferLinearChain } from '../../../src/alignment/specInference/chain';
import { isLayerTensor } from '../../../src/alignment/specInference/layerTensors';
import { inferFromTemplates } from '../../../src/alignment/specInference/templates';
import { FIXTURES, modelPath } from './fixtureModels';

const GGUF_A = join(FIXTURES, 'models', 'mlp_s0.gguf');

function entry(name: string, shape: number[], dtype = 'F32'): TensorEntry {
  return { name, dtype, shape, offset: 0, length: 0 };
}

/** Copies a safetensors fixture with `name` stored as symmetric per-tensor int8, as a naive quantizer would. */
async function writeInt8Copy(source: string, name: string, output: string): Promise<void> {
  const checkpoint = await openCheckpoint(source);
  const tensors: NamedTensor[] = [];
  try {
    for (const tensorEntry of checkpoint.tensors) {
      if (tensorEntry.name !== name) {
        tensors.push({ name: tensorEntry.name, ...(await checkpoint.readTensor(tensorEntry.name, 'stored')) });
        continue;
      }
      const values = await checkpoint.readTensor(name, 'float64');
      const scale = values.reduce((max, value) => Math.max(max, Math.abs(value)), 0) / 127;
      const data = Int8Array.from(values, (value) => Math.round(value / scale));
      tensors.push({ name, dtype: 'I8', shape: tensorEntry.shape, data });
    }
  } finally {
    await checkpoint.close();
  }
  await writeSafetensors(output, tensors, { inputs: [source] });
}

async function chooseAuto(pathA: string, pathB: string): Promise<unknown> {
  const a = await openCheckpoint(pathA);
  const b = await openCheckpoint(pathB);
  try {
    return await chooseSpec('auto', a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

async function runAlign(positionals: string[], flags: Record<string, string>): Promise<number> {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), signal: new AbortController().signal, verbose: false };
  return alignCommand.run(positionals, flags, io);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

describe('layer tensors of any dtype', () => {
  it('classifies layer tensors', () => {
    const cases: [TensorEntry, boolean][] = [
      [entry('fc1.weight', [4, 3]), true],
      [entry('fc2.weight', [4, 4], 'Q8_0'), true],
      [entry('fc2.weight', [4, 4], 'I8'), true],
      [entry('fc2.bias', [4], 'I32'), true],
      [entry('Dense_1/kernel', [4, 4], 'I8'), true],
      [entry('layers.0.self_attn.in_proj_weight', [12, 4], 'I8'), true],
      [entry('bn1.num_batches_tracked', [], 'I64'), false],
      [entry('step', [], 'I64'), false],
      [entry('embeddings.position_ids', [1, 16], 'I64'), false],
      [entry('fc1.weight', [], 'I64'), false],
    ];
    for (const [tensor, expected] of cases) assert.equal(isLayerTensor(tensor), expected, `${tensor.name} ${tensor.dtype} [${tensor.shape.join(', ')}]`);
  });

  it('chain keeps an int8 middle layer', () => {
    const result = inferLinearChain([
      entry('fc1.weight', [8, 4]), entry('fc1.bias', [8]),
      entry('fc2.weight', [8, 8], 'I8'), entry('fc2.bias', [8]),
      entry('fc3.weight', [2, 8]), entry('fc3.bias', [2]),
    ]);
    assert.ok('spec' in result, 'failure' in result ? result.failure : '');
    assert.deepEqual(result.spec.axes['fc2.weight'], ['P_fc2', 'P_fc1']);
    assert.deepEqual(result.spec.axes['fc3.weight'], [null, 'P_fc2']);
  });

  it('MLP stack template keeps a quantized layer', () => {
    const tensors = [
      entry('net.0.weight', [8, 4]), entry('net.0.bias', [8]),
      entry('net.2.weight', [8, 8], 'Q8_0'), entry('net.2.bias', [8]),
      entry('net.4.weight', [2, 8]), entry('net.4.bias', [2]),
    ];
    const { axes } = inferFromTemplates({ tensors, metadata: {} }, { level: 'local' }).spec;
    const [hiddenOut, hiddenIn] = axes['net.2.weight'];
    assert.equal(hiddenIn, axes['net.0.weight'][0]);
    assert.notEqual(hiddenOut, null);
    assert.notEqual(hiddenIn, null);
    assert.deepEqual(axes['net.4.weight'], [null, hiddenOut]);
  });

  it('VGG template names an unknown quantized tensor', () => {
    const tensors = [
      entry('features.0.weight', [8, 3, 3, 3]), entry('classifier.0.weight', [2, 8]),
      entry('extra.weight', [8, 8], 'Q4_K'),
    ];
    assert.throws(() => inferFromTemplates({ tensors, metadata: {} }, { level: 'local' }), /VGG: the template does not know "extra\.weight"/);
  });
});

describe('non-floating tensors in a spec', () => {
  const tensorsA = [entry('a.weight', [8, 4]), entry('b.weight', [8, 8], 'I8'), entry('c.weight', [2, 8])];
  const tensorsB = [entry('a.weight', [8, 4]), entry('b.weight', [8, 8]), entry('c.weight', [2, 8])];

  it('rejects a permuted integer tensor', () => {
    const spec = { axes: { 'a.weight': ['P_a', null], 'b.weight': ['P_b', 'P_a'], 'c.weight': [null, 'P_b'] } };
    assert.throws(
      () => resolvePermutationSpec(spec, 'int.permspec.json', { path: 'a.safetensors', tensors: tensorsA }, { path: 'b.safetensors', tensors: tensorsB }),
      (error: unknown) => {
        assert.ok(error instanceof PermutationSpecError);
        assert.match(error.message, /^int\.permspec\.json: tensor "b\.weight": stored as I8 in a\.safetensors/);
        assert.match(error.message, /dequantize the checkpoint or convert it to a floating dtype/);
        return true;
      },
    );
  });

  it('names B when only B is not floating', () => {
    const spec = { axes: { 'a.weight': ['P_a', null], 'b.weight': ['P_b', 'P_a'], 'c.weight': [null, 'P_b'] } };
    assert.throws(
      () => resolvePermutationSpec(spec, 'int.permspec.json', { path: 'b.safetensors', tensors: tensorsB }, { path: 'a.safetensors', tensors: tensorsA }),
      /tensor "b\.weight": stored as I8 in a\.safetensors/,
    );
  });

  it('accepts an integer tensor with null axes', () => {
    const spec = { axes: { 'a.weight': ['P_a', null], 'b.weight': [null, null], 'c.weight': [null, 'P_a'] } };
    const resolved = resolvePermutationSpec(spec, 'int.permspec.json', { path: 'a.safetensors', tensors: tensorsA }, { path: 'b.safetensors', tensors: tensorsB });
    assert.deepEqual([...resolved.permutations], [['P_a', 8]]);
  });
});

describe('auto spec with a non-floating layer', () => {
  let folder = '';
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'non-floating-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('rejects the GGUF fixture as A', async () => {
    await assert.rejects(chooseAuto(GGUF_A, modelPath('mlp', 1)), (error: unknown) => {
      assert.ok(error instanceof PermutationSpecError);
      assert.match(error.message, /tensor "fc2\.weight": stored as Q8_0 in .*mlp_s0\.gguf/);
      assert.match(error.message, /dequantize the checkpoint or convert it to a floating dtype/);
      return true;
    });
  });

  it('rejects the GGUF fixture as B', async () => {
    await assert.rejects(chooseAuto(modelPath('mlp', 1), GGUF_A), /tensor "fc2\.weight": stored as Q8_0 in .*mlp_s0\.gguf/);
  });

  it('rejects an int8 safetensors copy', async () => {
    const int8 = join(folder, 'mlp_s0_int8.safetensors');
    await writeInt8Copy(modelPath('mlp', 0), 'fc2.weight', int8);
    await assert.rejects(chooseAuto(int8, modelPath('mlp', 1)), /tensor "fc2\.weight": stored as I8 in .*mlp_s0_int8\.safetensors/);
    await assert.rejects(chooseAuto(modelPath('mlp', 1), int8), /tensor "fc2\.weight": stored as I8 in .*mlp_s0_int8\.safetensors/);
  });

  it('align writes nothing for the GGUF A', async () => {
    const aligned = join(folder, 'gguf_aligned.safetensors');
    const saved = join(folder, 'gguf.permspec.json');
    await assert.rejects(runAlign([GGUF_A, modelPath('mlp', 1)], { 'write-aligned': aligned, 'save-spec': saved }), /stored as Q8_0/);
    assert.equal(await exists(aligned), false);
    assert.equal(await exists(saved), false);
  });

  it('rejects a spec file permuting the int8 layer', async () => {
    const int8 = join(folder, 'mlp_s1_int8.safetensors');
    await writeInt8Copy(modelPath('mlp', 1), 'fc2.weight', int8);
    const specFile = join(folder, 'mlp.permspec.json');
    await writeFile(specFile, JSON.stringify({ axes: { 'fc1.weight': ['P1', null], 'fc1.bias': ['P1'], 'fc2.weight': ['P2', 'P1'], 'fc2.bias': ['P2'], 'fc3.weight': [null, 'P2'] } }));
    const a = await openCheckpoint(modelPath('mlp', 0));
    const b = await openCheckpoint(int8);
    try {
      await assert.rejects(chooseSpec(specFile, a, b), (error: unknown) => {
        assert.ok(error instanceof PermutationSpecError);
        assert.ok(error.message.startsWith(`${specFile}: tensor "fc2.weight": stored as I8 in ${int8}`), error.message);
        return true;
      });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
