import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Checkpoint } from '../../../../src/formats/checkpoint';
import { elementCount } from '../../../../src/formats/checkpoint';
import { openCheckpoint } from '../../../../src/formats/open';
import { openSafetensors } from '../../../../src/formats/safetensors/reader';
import { writeSafetensors } from '../../../../src/formats/safetensors/writer';
import { loadPermutationSpec, parsePermutationSpec, PermutationSpecError } from '../../../../src/alignment/permutationSpecFile';
import { inferPermutationSpec, serializePermutationSpec, SpecInferenceError } from '../../../../src/alignment/specInference/index';
import { FIXTURES, MODELS, partition, resolveAgainst, withTemporaryDirectory } from './specTestHelpers';

async function withCheckpoints<T>(pathA: string, pathB: string, work: (a: Checkpoint, b: Checkpoint) => Promise<T>): Promise<T> {
  const a = await openCheckpoint(pathA);
  const b = await openCheckpoint(pathB);
  try {
    return await work(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

async function writeShapes(path: string, shapes: Record<string, number[]>): Promise<void> {
  const tensors = Object.entries(shapes).map(([name, shape]) => ({ name, dtype: 'F32', shape, data: new Float32Array(elementCount(shape)).fill(0.5) }));
  await writeSafetensors(path, tensors, { inputs: [] });
}

describe('inferPermutationSpec', () => {
  it('uses the graph when given', async () => {
    await withCheckpoints(join(MODELS, 'mlp_s0.safetensors'), join(MODELS, 'mlp_s1.safetensors'), async (a, b) => {
      const inferred = await inferPermutationSpec(a, b, { graph: join(MODELS, 'mlp_s0.onnx') });
      assert.match(inferred.source, /^auto: ONNX graph .*mlp_s0\.onnx$/);
    });
  });

  it('falls back to templates, then chains', async () => {
    await withCheckpoints(join(MODELS, 'resnet_s0.safetensors'), join(MODELS, 'resnet_s1.safetensors'), async (a, b) => {
      const inferred = await inferPermutationSpec(a, b, {});
      assert.equal(inferred.source, 'auto: ResNet template (2 basic blocks)');
    });
    await withCheckpoints(join(MODELS, 'mlp_s0.pt'), join(MODELS, 'mlp_s1.pt'), async (a, b) => {
      const inferred = await inferPermutationSpec(a, b, {});
      assert.equal(inferred.source, 'auto: chain of 3 linear layers');
      assert.ok(inferred.notes.some((note) => note.startsWith('skipped known architectures: no known architecture')), inferred.notes.join('\n'));
    });
    await withCheckpoints(join(MODELS, 'cnn_s0.npz'), join(MODELS, 'cnn_s1.npz'), async (a, b) => {
      const inferred = await inferPermutationSpec(a, b, {});
      assert.equal(inferred.source, 'auto: chain of 2 convolution and 1 linear layers');
      assert.deepEqual(partition(inferred.spec), partition(await loadPermutationSpec(join(FIXTURES, 'specs', 'cnn.permspec.json'))));
    });
  });

  it('names unplaced tensors and what to pass', async () => {
    await withTemporaryDirectory(async (directory) => {
      const path = join(directory, 'odd.safetensors');
      await writeShapes(path, { 'encoder.weight': [8, 4], 'encoder.gate': [8, 8], 'decoder.weight': [4, 8] });
      await withCheckpoints(path, path, async (a, b) => {
        await assert.rejects(inferPermutationSpec(a, b, {}), (error: Error) => {
          assert.ok(error instanceof SpecInferenceError);
          assert.match(error.message, /cannot infer a permutation spec/);
          assert.match(error.message, /tensors that could not be placed: "encoder\.gate"/);
          assert.match(error.message, /pass --graph MODEL\.onnx .* or --spec FILE/);
          assert.match(error.message, /"Permutation convention and spec files" in the README/);
          assert.deepEqual(error.unplaced, ['encoder.gate']);
          return true;
        });
      });
    });
  });

  it('asks for heads when the transformer has no config', async () => {
    await withCheckpoints(join(MODELS, 'transformer_s0.safetensors'), join(MODELS, 'transformer_s1.safetensors'), async (a, b) => {
      await assert.rejects(inferPermutationSpec(a, b, {}), /known architectures: nn\.TransformerEncoderLayer: the number of attention heads is not in the checkpoint's metadata/);
    });
  });

  it('reads heads from a sibling config.json', async () => {
    await withTemporaryDirectory(async (directory) => {
      const path = join(directory, 'model.safetensors');
      await copyFile(join(MODELS, 'transformer_s0.safetensors'), path);
      await writeFile(join(directory, 'config.json'), JSON.stringify({ nhead: 4, d_model: 32 }));
      await withCheckpoints(path, path, async (a, b) => {
        const inferred = await inferPermutationSpec(a, b, {});
        assert.equal(inferred.source, 'auto: nn.TransformerEncoderLayer template (local)');
        assert.deepEqual(inferred.spec.axes['encoder.layers.1.self_attn.in_proj_bias'], [{ perm: 'P_heads_1', outer: 3, inner: 8 }]);
      });

      await writeFile(join(directory, 'config.json'), '[4]');
      await withCheckpoints(path, path, async (a, b) => {
        const inferred = await inferPermutationSpec(a, b, { heads: 4 });
        assert.ok(inferred.notes.some((note) => /config\.json is not a JSON object/.test(note)), inferred.notes.join('\n'));
      });
    });
  });

  it('validates the spec against B', async () => {
    await withTemporaryDirectory(async (directory) => {
      const pathA = join(directory, 'a.safetensors');
      const pathB = join(directory, 'b.safetensors');
      await writeShapes(pathA, { 'fc1.weight': [8, 4], 'fc2.weight': [3, 8] });
      await writeShapes(pathB, { 'fc1.weight': [6, 4], 'fc2.weight': [3, 6] });
      await withCheckpoints(pathA, pathB, async (a, b) => {
        await assert.rejects(inferPermutationSpec(a, b, {}), (error: Error) => {
          assert.ok(error instanceof PermutationSpecError);
          assert.match(error.message, /tensor "fc1.weight" axis 0: shape \[8, 4\] in .*a\.safetensors differs from \[6, 4\]/);
          return true;
        });
      });
    });
  });
});

describe('serializePermutationSpec', () => {
  it('writes a spec file that reads back equal', async () => {
    await withCheckpoints(join(MODELS, 'transformer_s0.safetensors'), join(MODELS, 'transformer_s1.safetensors'), async (a, b) => {
      const inferred = await inferPermutationSpec(a, b, { heads: 4, transformerLevel: 'full' });
      const text = serializePermutationSpec(inferred.spec);
      assert.deepEqual(JSON.parse(text), { axes: inferred.spec.axes });
      assert.match(text, /^ {4}"encoder\.layers\.0\.self_attn\.in_proj_bias": \[\{ "perm": "P_heads_0", "outer": 3, "inner": 8 \}\],?$/m);
      await withTemporaryDirectory(async (directory) => {
        const path = join(directory, 'saved.permspec.json');
        await writeFile(path, text);
        assert.deepEqual(await loadPermutationSpec(path), inferred.spec);
      });
    });
  });

  it('keeps the cost list', () => {
    const spec = { axes: { 'fc1.weight': ['P', null], 'fc2.weight': [null, 'P'] }, cost: ['fc1.weight'] };
    assert.deepEqual(parsePermutationSpec(JSON.parse(serializePermutationSpec(spec)), 'saved'), spec);
  });
});

describe('spec validation rejects', () => {
  it('an axis claimed twice through a wrapper prefix', async () => {
    const a = await openSafetensors(join(MODELS, 'mlp_s0.safetensors'));
    try {
      const spec = parsePermutationSpec({ axes: { 'fc1.weight': ['P', null], 'module.fc1.weight': ['Q', null] } }, 'twice');
      const wrapped = { path: 'wrapped', tensors: a.tensors.map((entry) => ({ ...entry, name: `module.${entry.name}` })) };
      assert.throws(() => resolveAgainst(spec, wrapped, wrapped), /tensor "fc1.weight" axis 0: resolves to the same tensor "module.fc1.weight" as "module.fc1.weight"|tensor "module.fc1.weight" axis 0: resolves to the same tensor "module.fc1.weight" as "fc1.weight"/);
    } finally {
      await a.close();
    }
  });

  it('a tensor listed twice in the file', async () => {
    await withTemporaryDirectory(async (directory) => {
      const path = join(directory, 'twice.permspec.json');
      await writeFile(path, '{"axes": {"fc1.weight": ["P", null], "fc1.weight": [null, "P"]}}');
      await assert.rejects(loadPermutationSpec(path), /duplicate key "fc1.weight"/);
    });
  });

  it('shapes that differ between A and B', async () => {
    const a = await openSafetensors(join(MODELS, 'mlp_s0.safetensors'));
    try {
      const spec = await loadPermutationSpec(join(FIXTURES, 'specs', 'mlp.permspec.json'));
      const b = { path: 'b', tensors: a.tensors.map((entry) => (entry.name === 'fc2.bias' ? { ...entry, shape: [64] } : entry)) };
      assert.throws(() => resolveAgainst(spec, a, b), /tensor "fc2.bias" axis 0: shape \[128\] in .* differs from \[64\] in b/);
    } finally {
      await a.close();
    }
  });
});
