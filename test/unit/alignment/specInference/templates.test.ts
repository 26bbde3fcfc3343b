import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Checkpoint } from '../../../../src/formats/checkpoint';
import { elementCount } from '../../../../src/formats/checkpoint';
import { openOnnx } from '../../../../src/formats/onnx/reader';
import { writeOnnxWithInitializers } from '../../../../src/formats/onnx/writer';
import { openSafetensors } from '../../../../src/formats/safetensors/reader';
import { writeSafetensors } from '../../../../src/formats/safetensors/writer';
import { loadPermutationSpec } from '../../../../src/alignment/permutationSpecFile';
import { inferPermutationSpec } from '../../../../src/alignment/specInference/index';
import { inferFromTemplates } from '../../../../src/alignment/specInference/templates';
import {
  FIXTURES, MODELS, maxRelativeDifference, partition, permutedTensors, randomPermutations, resolveAgainst, runOnnx, testInputs, withTemporaryDirectory,
} from './specTestHelpers';

type Shapes = Record<string, number[]>;

/** Writes a safetensors file with deterministic values of the given shapes and opens it. */
async function syntheticCheckpoint(directory: string, name: string, shapes: Shapes, metadata: Record<string, string> = {}, seed = 1): Promise<Checkpoint> {
  const path = join(directory, `${name}.safetensors`);
  const tensors = Object.entries(shapes).map(([tensor, shape], index) => {
    const data = Float32Array.from({ length: elementCount(shape) }, (_, i) => Math.sin(seed * 1000 + index * 37 + i * 0.91));
    return { name: tensor, dtype: 'F32', shape, data };
  });
  await writeSafetensors(path, tensors, { inputs: [], metadata });
  return openSafetensors(path);
}

function gpt2Shapes(d: number, ff: number, blocks: number): Shapes {
  const shapes: Shapes = { 'transformer.wte.weight': [11, d], 'transformer.wpe.weight': [5, d] };
  for (let n = 0; n < blocks; n++) {
    const b = `transformer.h.${n}.`;
    Object.assign(shapes, {
      [`${b}ln_1.weight`]: [d], [`${b}ln_1.bias`]: [d],
      [`${b}attn.bias`]: [1, 1, 5, 5],
      [`${b}attn.c_attn.weight`]: [d, 3 * d], [`${b}attn.c_attn.bias`]: [3 * d],
      [`${b}attn.c_proj.weight`]: [d, d], [`${b}attn.c_proj.bias`]: [d],
      [`${b}ln_2.weight`]: [d], [`${b}ln_2.bias`]: [d],
      [`${b}mlp.c_fc.weight`]: [d, ff], [`${b}mlp.c_fc.bias`]: [ff],
      [`${b}mlp.c_proj.weight`]: [ff, d], [`${b}mlp.c_proj.bias`]: [d],
    });
  }
  return { ...shapes, 'transformer.ln_f.weight': [d], 'transformer.ln_f.bias': [d], 'lm_head.weight': [11, d] };
}

function llamaShapes(d: number, queryHeads: number, kvHeads: number, headSize: number, ff: number): Shapes {
  const shapes: Shapes = { 'model.embed_tokens.weight': [13, d] };
  for (let n = 0; n < 2; n++) {
    const b = `model.layers.${n}.`;
    Object.assign(shapes, {
      [`${b}self_attn.q_proj.weight`]: [queryHeads * headSize, d],
      [`${b}self_attn.k_proj.weight`]: [kvHeads * headSize, d],
      [`${b}self_attn.v_proj.weight`]: [kvHeads * headSize, d],
      [`${b}self_attn.o_proj.weight`]: [d, queryHeads * headSize],
      [`${b}mlp.gate_proj.weight`]: [ff, d], [`${b}mlp.up_proj.weight`]: [ff, d], [`${b}mlp.down_proj.weight`]: [d, ff],
      [`${b}input_layernorm.weight`]: [d], [`${b}post_attention_layernorm.weight`]: [d],
    });
  }
  return { ...shapes, 'model.norm.weight': [d], 'lm_head.weight': [13, d] };
}

function vitShapes(d: number, ff: number): Shapes {
  const shapes: Shapes = {
    'vit.embeddings.cls_token': [1, 1, d], 'vit.embeddings.position_embeddings': [1, 5, d],
    'vit.embeddings.patch_embeddings.projection.weight': [d, 3, 2, 2], 'vit.embeddings.patch_embeddings.projection.bias': [d],
  };
  const linear = (name: string, out: number, input: number) => Object.assign(shapes, { [`${name}.weight`]: [out, input], [`${name}.bias`]: [out] });
  for (let n = 0; n < 2; n++) {
    const b = `vit.encoder.layer.${n}.`;
    for (const projection of ['query', 'key', 'value']) linear(`${b}attention.attention.${projection}`, d, d);
    linear(`${b}attention.output.dense`, d, d);
    linear(`${b}intermediate.dense`, ff, d);
    linear(`${b}output.dense`, d, ff);
    for (const norm of ['layernorm_before', 'layernorm_after']) Object.assign(shapes, { [`${b}${norm}.weight`]: [d], [`${b}${norm}.bias`]: [d] });
  }
  Object.assign(shapes, { 'vit.layernorm.weight': [d], 'vit.layernorm.bias': [d] });
  linear('classifier', 4, d);
  return shapes;
}

function resnetShapes(): Shapes {
  const shapes: Shapes = { 'conv1.weight': [8, 3, 7, 7] };
  const batchNorm = (name: string, channels: number) => {
    for (const parameter of ['weight', 'bias', 'running_mean', 'running_var']) shapes[`${name}.${parameter}`] = [channels];
  };
  batchNorm('bn1', 8);
  // Bottleneck blocks with expansion 4: layer1.0 and layer2.0 change the width, so they have downsample branches.
  const blocks: [string, number, number, number, boolean][] = [
    ['layer1.0', 8, 4, 16, true], ['layer1.1', 16, 4, 16, false], ['layer2.0', 16, 8, 32, true], ['layer2.1', 32, 8, 32, false],
  ];
  for (const [block, input, width, output, downsample] of blocks) {
    shapes[`${block}.conv1.weight`] = [width, input, 1, 1];
    batchNorm(`${block}.bn1`, width);
    shapes[`${block}.conv2.weight`] = [width, width, 3, 3];
    batchNorm(`${block}.bn2`, width);
    shapes[`${block}.conv3.weight`] = [output, width, 1, 1];
    batchNorm(`${block}.bn3`, output);
    if (downsample) {
      shapes[`${block}.downsample.0.weight`] = [output, input, 1, 1];
      batchNorm(`${block}.downsample.1`, output);
    }
  }
  return { ...shapes, 'fc.weight': [10, 32], 'fc.bias': [10] };
}

describe('known-architecture templates', () => {
  it('builds GPT-2 local and full specs', async () => {
    await withTemporaryDirectory(async (directory) => {
      const a = await syntheticCheckpoint(directory, 'gpt2', gpt2Shapes(8, 16, 2), { n_head: '2' });
      try {
        const local = inferFromTemplates(a, { level: 'local' });
        assert.equal(local.source, 'auto: GPT-2 template (local)');
        assert.deepEqual(local.spec.axes['transformer.h.1.attn.c_attn.weight'], [null, { perm: 'P_heads_1', outer: 3, inner: 4 }]);
        assert.deepEqual(local.spec.axes['transformer.h.1.attn.c_proj.weight'], [{ perm: 'P_heads_1', outer: 1, inner: 4 }, null]);
        assert.deepEqual(local.spec.axes['transformer.h.0.mlp.c_proj.weight'], ['P_mlp_0', null]);
        assert.equal(local.spec.axes['transformer.h.0.attn.bias'], undefined);
        assert.deepEqual([...resolveAgainst(local.spec, a, a).permutations], [['P_heads_0', 2], ['P_heads_1', 2], ['P_mlp_0', 16], ['P_mlp_1', 16]]);

        const full = inferFromTemplates(a, { level: 'full' });
        assert.deepEqual(full.spec.axes['transformer.wte.weight'], [null, 'P_res']);
        assert.deepEqual(full.spec.axes['lm_head.weight'], [null, 'P_res']);
        assert.deepEqual(full.spec.axes['transformer.h.0.attn.c_attn.weight'], ['P_res', { perm: 'P_heads_0', outer: 3, inner: 4 }]);
        assert.equal(resolveAgainst(full.spec, a, a).permutations.get('P_res'), 8);
      } finally {
        await a.close();
      }
    });
  });

  it('permutes Llama key/value groups', async () => {
    await withTemporaryDirectory(async (directory) => {
      const shapes = { ...llamaShapes(8, 4, 2, 2, 12), 'model.layers.0.self_attn.rotary_emb.inv_freq': [1] };
      const a = await syntheticCheckpoint(directory, 'llama', shapes, { num_attention_heads: '4', num_key_value_heads: '2' });
      try {
        const full = inferFromTemplates(a, { level: 'full' });
        assert.equal(full.spec.axes['model.layers.0.self_attn.rotary_emb.inv_freq'], undefined);
        assert.equal(full.source, 'auto: Llama-style decoder template (full)');
        assert.deepEqual(full.spec.axes['model.layers.0.self_attn.q_proj.weight'], [{ perm: 'P_kv_groups_0', outer: 1, inner: 4 }, 'P_res']);
        assert.deepEqual(full.spec.axes['model.layers.0.self_attn.k_proj.weight'], [{ perm: 'P_kv_groups_0', outer: 1, inner: 2 }, 'P_res']);
        assert.deepEqual(full.spec.axes['model.layers.0.self_attn.o_proj.weight'], ['P_res', { perm: 'P_kv_groups_0', outer: 1, inner: 4 }]);
        assert.deepEqual(full.spec.axes['model.layers.1.mlp.down_proj.weight'], ['P_res', 'P_mlp_1']);
        assert.deepEqual(full.spec.axes['lm_head.weight'], [null, 'P_res']);
        assert.ok(full.notes.some((note) => note.includes('rotary position embeddings')));
        const resolved = resolveAgainst(full.spec, a, a);
        assert.equal(resolved.permutations.get('P_kv_groups_0'), 2);
        assert.equal(resolved.permutations.get('P_res'), 8);
      } finally {
        await a.close();
      }
    });
  });

  it('rejects Llama without a head count', async () => {
    await withTemporaryDirectory(async (directory) => {
      const a = await syntheticCheckpoint(directory, 'llama', llamaShapes(8, 4, 2, 2, 12));
      const mismatched = await syntheticCheckpoint(directory, 'llama_mismatch', llamaShapes(8, 4, 2, 2, 12), { num_attention_heads: '4', num_key_value_heads: '4' });
      try {
        assert.throws(() => inferFromTemplates(a, { level: 'local' }), /number of attention heads is not in the checkpoint's metadata \(num_attention_heads, n_head, num_heads, nhead, head_dim\); pass --heads N, put num_attention_heads in a config.json beside the checkpoint, or pass a spec file/);
        assert.throws(() => inferFromTemplates(mismatched, { level: 'local' }), /metadata gives 4 key\/value heads but k_proj's shape gives 2/);
        assert.equal(resolveAgainst(inferFromTemplates(a, { level: 'local', heads: 4 }).spec, a, a).permutations.get('P_kv_groups_0'), 2);
        const fromHeadSize = await syntheticCheckpoint(directory, 'llama_head_dim', llamaShapes(8, 4, 2, 2, 12), { head_dim: '2' });
        try {
          assert.equal(resolveAgainst(inferFromTemplates(fromHeadSize, { level: 'local' }).spec, fromHeadSize, fromHeadSize).permutations.get('P_kv_groups_0'), 2);
        } finally {
          await fromHeadSize.close();
        }
      } finally {
        await a.close();
        await mismatched.close();
      }
    });
  });

  it('builds ViT specs', async () => {
    await withTemporaryDirectory(async (directory) => {
      const a = await syntheticCheckpoint(directory, 'vit', vitShapes(8, 16), { num_attention_heads: '4' });
      try {
        const full = inferFromTemplates(a, { level: 'full' });
        assert.deepEqual(full.spec.axes['vit.encoder.layer.0.attention.attention.key.weight'], [{ perm: 'P_heads_0', outer: 1, inner: 2 }, 'P_res']);
        assert.deepEqual(full.spec.axes['vit.encoder.layer.0.attention.output.dense.weight'], ['P_res', { perm: 'P_heads_0', outer: 1, inner: 2 }]);
        assert.deepEqual(full.spec.axes['vit.embeddings.patch_embeddings.projection.weight'], ['P_res', null, null, null]);
        assert.deepEqual(full.spec.axes['classifier.weight'], [null, 'P_res']);
        assert.deepEqual(full.spec.axes['classifier.bias'], [null]);
        assert.equal(resolveAgainst(full.spec, a, a).permutations.size, 5);
        const local = inferFromTemplates(a, { level: 'local' });
        assert.equal(resolveAgainst(local.spec, a, a).permutations.size, 4);
      } finally {
        await a.close();
      }
    });
  });

  it('builds torchvision bottleneck ResNet specs', async () => {
    await withTemporaryDirectory(async (directory) => {
      const a = await syntheticCheckpoint(directory, 'resnet', resnetShapes());
      try {
        const inferred = inferFromTemplates(a, { level: 'local' });
        assert.equal(inferred.source, 'auto: ResNet template (4 bottleneck blocks)');
        assert.deepEqual(inferred.spec.axes['layer1.0.downsample.0.weight'], ['P_res_layer1_0', 'P_res_stem', null, null]);
        assert.deepEqual(inferred.spec.axes['layer1.0.conv1.weight'], ['P_layer1_0_1', 'P_res_stem', null, null]);
        assert.deepEqual(inferred.spec.axes['layer1.1.conv3.weight'], ['P_res_layer1_0', 'P_layer1_1_2', null, null]);
        assert.deepEqual(inferred.spec.axes['layer2.1.bn3.running_var'], ['P_res_layer2_0']);
        assert.deepEqual(inferred.spec.axes['fc.weight'], [null, 'P_res_layer2_0']);
        assert.equal(resolveAgainst(inferred.spec, a, a).permutations.size, 11);
      } finally {
        await a.close();
      }
    });
  });

  it('matches the hand-written ResNet fixture spec', async () => {
    const a = await openSafetensors(join(MODELS, 'resnet_s0.safetensors'));
    try {
      const inferred = inferFromTemplates(a, { level: 'local' });
      assert.deepEqual(partition(inferred.spec), partition(await loadPermutationSpec(join(FIXTURES, 'specs', 'resnet.permspec.json'))));
    } finally {
      await a.close();
    }
  });

  it('orders VGG features before the classifier', async () => {
    await withTemporaryDirectory(async (directory) => {
      const shapes: Shapes = {
        'classifier.0.weight': [16, 32], 'classifier.0.bias': [16], 'classifier.3.weight': [5, 16], 'classifier.3.bias': [5],
        'features.0.weight': [4, 3, 3, 3], 'features.0.bias': [4],
        'features.1.weight': [4], 'features.1.bias': [4], 'features.1.running_mean': [4], 'features.1.running_var': [4],
        'features.3.weight': [8, 4, 3, 3], 'features.3.bias': [8],
      };
      const a = await syntheticCheckpoint(directory, 'vgg', shapes);
      try {
        const inferred = inferFromTemplates(a, { level: 'local' });
        assert.match(inferred.source, /^auto: VGG template/);
        assert.deepEqual(inferred.spec.axes['features.1.running_mean'], ['P_features.0']);
        assert.deepEqual(inferred.spec.axes['features.3.weight'], ['P_features.3', 'P_features.0', null, null]);
        assert.deepEqual(inferred.spec.axes['classifier.0.weight'], ['P_classifier.0', { perm: 'P_features.3', outer: 1, inner: 4 }]);
        assert.deepEqual(inferred.spec.axes['classifier.3.weight'], [null, 'P_classifier.0']);
        assert.equal(resolveAgainst(inferred.spec, a, a).permutations.size, 3);
      } finally {
        await a.close();
      }
    });
  });
});

describe('MLP stack template', () => {
  // nn.Sequential(Linear(4, 8), LayerNorm(8), ReLU, Linear(8, 8), BatchNorm1d(8), ReLU, Linear(8, 3)).
  const shapes: Shapes = {
    'net.0.weight': [8, 4], 'net.0.bias': [8], 'net.1.weight': [8], 'net.1.bias': [8],
    'net.3.weight': [8, 8], 'net.3.bias': [8],
    'net.4.weight': [8], 'net.4.bias': [8], 'net.4.running_mean': [8], 'net.4.running_var': [8],
    'net.6.weight': [3, 8], 'net.6.bias': [3],
  };

  type Weights = Map<string, { shape: readonly number[]; data: Float32Array }>;

  function linear(x: Float64Array, weights: Weights, name: string): Float64Array {
    const [out, input] = weights.get(`${name}.weight`)?.shape as number[];
    const w = weights.get(`${name}.weight`)?.data as Float32Array;
    const b = weights.get(`${name}.bias`)?.data as Float32Array;
    return Float64Array.from({ length: out }, (_, o) => {
      let sum = b[o];
      for (let i = 0; i < input; i++) sum += w[o * input + i] * x[i];
      return sum;
    });
  }

  function forward(input: Float64Array, weights: Weights): Float64Array {
    const relu = (x: Float64Array) => x.map((value) => Math.max(0, value));
    const parameter = (name: string) => weights.get(name)?.data as Float32Array;
    let x = linear(input, weights, 'net.0');
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    x = x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * parameter('net.1.weight')[i] + parameter('net.1.bias')[i]);
    x = linear(relu(x), weights, 'net.3');
    x = x.map((v, i) => ((v - parameter('net.4.running_mean')[i]) / Math.sqrt(Math.abs(parameter('net.4.running_var')[i]) + 1e-5)) * parameter('net.4.weight')[i] + parameter('net.4.bias')[i]);
    return linear(relu(x), weights, 'net.6');
  }

  it('keeps the forward pass when permuted', async () => {
    await withTemporaryDirectory(async (directory) => {
      const a = await syntheticCheckpoint(directory, 'mlp_stack', { ...shapes }, {}, 2);
      try {
        const inferred = inferFromTemplates(a, { level: 'local' });
        assert.match(inferred.source, /^auto: MLP stack template/);
        assert.deepEqual(inferred.spec.axes['net.4.running_var'], ['P_net.3']);
        const resolved = resolveAgainst(inferred.spec, a, a);
        assert.deepEqual([...resolved.permutations], [['P_net.0', 8], ['P_net.3', 8]]);

        const original: Weights = new Map();
        for (const entry of a.tensors) original.set(entry.name, { shape: entry.shape, data: await a.readTensor(entry.name, 'float32') });
        const permuted: Weights = new Map((await permutedTensors(resolved, a, randomPermutations(resolved, 3))).map((tensor) => [tensor.name, { shape: tensor.shape, data: tensor.data as Float32Array }]));
        assert.notDeepEqual(permuted.get('net.3.weight')?.data, original.get('net.3.weight')?.data);
        for (let sample = 0; sample < 5; sample++) {
          const x = Float64Array.from({ length: 4 }, (_, i) => Math.cos(sample * 3 + i));
          const expected = forward(x, original);
          const actual = forward(x, permuted);
          for (let k = 0; k < expected.length; k++) assert.ok(Math.abs(expected[k] - actual[k]) < 1e-9, `sample ${sample} output ${k}: ${expected[k]} vs ${actual[k]}`);
        }
      } finally {
        await a.close();
      }
    });
  });
});

describe('nn.TransformerEncoderLayer template on the fixture', () => {
  for (const level of ['local', 'full'] as const) {
    it(`keeps ONNX outputs with the ${level} spec`, async () => {
      const pathB = join(MODELS, 'transformer_s1.onnx');
      const a = await openOnnx(join(MODELS, 'transformer_s0.onnx'));
      const b = await openOnnx(pathB);
      try {
        const inferred = await inferPermutationSpec(a, b, { transformerLevel: level, heads: 4 });
        assert.equal(inferred.source, `auto: nn.TransformerEncoderLayer template (${level})`);
        assert.ok(inferred.notes.some((note) => note.startsWith('skipped ONNX graph: node ')), inferred.notes.join('\n'));
        if (level === 'local') {
          assert.deepEqual(partition(inferred.spec), partition(await loadPermutationSpec(join(FIXTURES, 'specs', 'transformer.permspec.json'))));
        } else {
          assert.deepEqual(inferred.spec.axes['embed.weight'], ['P_res', null]);
          assert.deepEqual(inferred.spec.axes['pos'], [null, 'P_res']);
          assert.deepEqual(inferred.spec.axes['head.weight'], [null, 'P_res']);
        }
        const resolved = resolveAgainst(inferred.spec, a, b);
        assert.equal(resolved.permutations.size, level === 'full' ? 5 : 4);
        const tensors = await permutedTensors(resolved, b, randomPermutations(resolved, 1));
        await withTemporaryDirectory(async (directory) => {
          const output = join(directory, 'permuted.onnx');
          await writeOnnxWithInitializers(output, pathB, tensors, { inputs: [pathB] });
          const x = await testInputs('transformer');
          const original = await runOnnx(pathB, x);
          const permuted = await runOnnx(output, x);
          const difference = maxRelativeDifference(original, permuted);
          assert.ok(difference <= 1e-5, `max relative |Δlogit| = ${difference}`);
        });
      } finally {
        await a.close();
        await b.close();
      }
    });
  }

  it('reads the head count from metadata', async () => {
    const b = await openSafetensors(join(MODELS, 'transformer_s1.safetensors'));
    try {
      await withTemporaryDirectory(async (directory) => {
        const shapes: Shapes = Object.fromEntries(b.tensors.map((entry) => [entry.name, [...entry.shape]]));
        const a = await syntheticCheckpoint(directory, 'encoder', shapes, { num_attention_heads: '2' });
        try {
          const inferred = inferFromTemplates(a, { level: 'local' });
          assert.deepEqual(inferred.spec.axes['encoder.layers.0.self_attn.in_proj_weight'], [{ perm: 'P_heads_0', outer: 3, inner: 16 }, null]);
        } finally {
          await a.close();
        }
      });
    } finally {
      await b.close();
    }
  });
});
