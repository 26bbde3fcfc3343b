// Permutations from the GPT-2, Llama and ViT templates must leave a forward pass unchanged. The forward passes below
// are small float64 reimplementations of the Hugging Face models' inference paths: GPT-2 with causal attention,
// Llama with RMSNorm, rotary position embeddings, grouped-query attention and a SwiGLU MLP, and ViT with a patch
// convolution, a class token and pre-norm encoder layers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Checkpoint } from '../../../../src/formats/checkpoint';
import { elementCount } from '../../../../src/formats/checkpoint';
import { openSafetensors } from '../../../../src/formats/safetensors/reader';
import { writeSafetensors } from '../../../../src/formats/safetensors/writer';
import { inferFromTemplates } from '../../../../src/alignment/specInference/templates';
import { permutedTensors, randomPermutations, resolveAgainst, withTemporaryDirectory } from './specTestHelpers';

type Weights = Map<string, Float32Array>;
type Matrix = Float64Array[];

const TOKENS = [3, 1, 4, 1, 5];

async function writeRandom(directory: string, shapes: Record<string, number[]>, metadata: Record<string, string>): Promise<Checkpoint> {
  const path = join(directory, 'model.safetensors');
  const tensors = Object.entries(shapes).map(([name, shape], index) => {
    const isNormWeight = /(ln_\d|ln_f|layernorm|norm)\.weight$/.test(name);
    const data = Float32Array.from({ length: elementCount(shape) }, (_, i) => (isNormWeight ? 1 : 0) + 0.5 * Math.sin(index * 53 + i * 1.37));
    return { name, dtype: 'F32', shape, data };
  });
  await writeSafetensors(path, tensors, { inputs: [], metadata });
  return openSafetensors(path);
}

/** x [T, in] times W, where W is [in, out] (`transposed` false) or [out, in] (`transposed` true, nn.Linear). */
function multiply(x: Matrix, w: Float32Array, out: number, transposed: boolean, bias?: Float32Array): Matrix {
  const input = x[0].length;
  return x.map((row) => Float64Array.from({ length: out }, (_, o) => {
    let sum = bias?.[o] ?? 0;
    for (let i = 0; i < input; i++) sum += row[i] * (transposed ? w[o * input + i] : w[i * out + o]);
    return sum;
  }));
}

function layerNorm(x: Matrix, weight: Float32Array, bias?: Float32Array): Matrix {
  return x.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * weight[i] + (bias?.[i] ?? 0));
  });
}

function rmsNorm(x: Matrix, weight: Float32Array): Matrix {
  return x.map((row) => {
    const meanSquare = row.reduce((s, v) => s + v * v, 0) / row.length;
    return row.map((v, i) => (v / Math.sqrt(meanSquare + 1e-6)) * weight[i]);
  });
}

function add(x: Matrix, y: Matrix): Matrix {
  return x.map((row, t) => row.map((v, i) => v + y[t][i]));
}

/** Attention, causal unless `causal` is false. Query head j reads key/value head ⌊j / group⌋. Inputs are [T, heads · headSize]. */
function attention(q: Matrix, k: Matrix, v: Matrix, queryHeads: number, headSize: number, group: number, causal = true): Matrix {
  const output = q.map(() => new Float64Array(queryHeads * headSize));
  for (let head = 0; head < queryHeads; head++) {
    const kv = Math.floor(head / group);
    for (let t = 0; t < q.length; t++) {
      const scores = Array.from({ length: causal ? t + 1 : q.length }, (_, s) => {
        let dot = 0;
        for (let d = 0; d < headSize; d++) dot += q[t][head * headSize + d] * k[s][kv * headSize + d];
        return dot / Math.sqrt(headSize);
      });
      const max = Math.max(...scores);
      const exps = scores.map((score) => Math.exp(score - max));
      const total = exps.reduce((s, e) => s + e, 0);
      for (let d = 0; d < headSize; d++) {
        output[t][head * headSize + d] = exps.reduce((sum, e, s) => sum + (e / total) * v[s][kv * headSize + d], 0);
      }
    }
  }
  return output;
}

/** Rotary embedding in the Hugging Face convention: dimension i pairs with i + headSize/2 inside each head. */
function rotary(x: Matrix, heads: number, headSize: number): Matrix {
  const half = headSize / 2;
  return x.map((row, position) => {
    const result = new Float64Array(row.length);
    for (let head = 0; head < heads; head++) {
      for (let i = 0; i < half; i++) {
        const angle = position * 10000 ** (-(2 * i) / headSize);
        const a = row[head * headSize + i];
        const b = row[head * headSize + i + half];
        result[head * headSize + i] = a * Math.cos(angle) - b * Math.sin(angle);
        result[head * headSize + i + half] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
    return result;
  });
}

function gpt2Forward(w: Weights, d: number, ff: number, heads: number, vocabulary: number, blocks: number): Matrix {
  const get = (name: string) => w.get(name) as Float32Array;
  let h: Matrix = TOKENS.map((token, position) => Float64Array.from({ length: d }, (_, i) => get('transformer.wte.weight')[token * d + i] + get('transformer.wpe.weight')[position * d + i]));
  for (let n = 0; n < blocks; n++) {
    const p = `transformer.h.${n}.`;
    const a = layerNorm(h, get(`${p}ln_1.weight`), get(`${p}ln_1.bias`));
    const qkv = multiply(a, get(`${p}attn.c_attn.weight`), 3 * d, false, get(`${p}attn.c_attn.bias`));
    const part = (k: number) => qkv.map((row) => row.slice(k * d, (k + 1) * d));
    const attended = attention(part(0), part(1), part(2), heads, d / heads, 1);
    h = add(h, multiply(attended, get(`${p}attn.c_proj.weight`), d, false, get(`${p}attn.c_proj.bias`)));
    const m = layerNorm(h, get(`${p}ln_2.weight`), get(`${p}ln_2.bias`));
    const hidden = multiply(m, get(`${p}mlp.c_fc.weight`), ff, false, get(`${p}mlp.c_fc.bias`)).map((row) => row.map(gelu));
    h = add(h, multiply(hidden, get(`${p}mlp.c_proj.weight`), d, false, get(`${p}mlp.c_proj.bias`)));
  }
  h = layerNorm(h, get('transformer.ln_f.weight'), get('transformer.ln_f.bias'));
  return multiply(h, get('lm_head.weight'), vocabulary, true);
}

function llamaForward(w: Weights, d: number, ff: number, queryHeads: number, kvHeads: number, headSize: number, vocabulary: number, blocks: number): Matrix {
  const get = (name: string) => w.get(name) as Float32Array;
  const silu = (x: number) => x / (1 + Math.exp(-x));
  let h: Matrix = TOKENS.map((token) => Float64Array.from({ length: d }, (_, i) => get('model.embed_tokens.weight')[token * d + i]));
  for (let n = 0; n < blocks; n++) {
    const p = `model.layers.${n}.`;
    const a = rmsNorm(h, get(`${p}input_layernorm.weight`));
    const q = rotary(multiply(a, get(`${p}self_attn.q_proj.weight`), queryHeads * headSize, true), queryHeads, headSize);
    const k = rotary(multiply(a, get(`${p}self_attn.k_proj.weight`), kvHeads * headSize, true), kvHeads, headSize);
    const v = multiply(a, get(`${p}self_attn.v_proj.weight`), kvHeads * headSize, true);
    const attended = attention(q, k, v, queryHeads, headSize, queryHeads / kvHeads);
    h = add(h, multiply(attended, get(`${p}self_attn.o_proj.weight`), d, true));
    const m = rmsNorm(h, get(`${p}post_attention_layernorm.weight`));
    const gate = multiply(m, get(`${p}mlp.gate_proj.weight`), ff, true);
    const up = multiply(m, get(`${p}mlp.up_proj.weight`), ff, true);
    const hidden = gate.map((row, t) => row.map((g, i) => silu(g) * up[t][i]));
    h = add(h, multiply(hidden, get(`${p}mlp.down_proj.weight`), d, true));
  }
  h = rmsNorm(h, get('model.norm.weight'));
  return multiply(h, get('lm_head.weight'), vocabulary, true);
}

const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** ViT on one [3, 4, 4] image with 2 × 2 patches: 4 patch tokens and the class token. Returns the class logits. */
function vitForward(w: Weights, d: number, ff: number, heads: number, classes: number): Matrix {
  const get = (name: string) => w.get(name) as Float32Array;
  const image = (c: number, y: number, x: number) => Math.sin(c * 16 + y * 4 + x);
  const kernel = get('vit.embeddings.patch_embeddings.projection.weight');
  const kernelBias = get('vit.embeddings.patch_embeddings.projection.bias');
  const patches: Matrix = [];
  for (let py = 0; py < 2; py++) {
    for (let px = 0; px < 2; px++) {
      patches.push(Float64Array.from({ length: d }, (_, o) => {
        let sum = kernelBias[o];
        for (let c = 0; c < 3; c++) for (let ky = 0; ky < 2; ky++) for (let kx = 0; kx < 2; kx++) sum += kernel[((o * 3 + c) * 2 + ky) * 2 + kx] * image(c, 2 * py + ky, 2 * px + kx);
        return sum;
      }));
    }
  }
  const positions = get('vit.embeddings.position_embeddings');
  let h: Matrix = [Float64Array.from(get('vit.embeddings.cls_token')), ...patches].map((row, t) => row.map((v, i) => v + positions[t * d + i]));
  for (let n = 0; n < 2; n++) {
    const p = `vit.encoder.layer.${n}.`;
    const linear = (x: Matrix, name: string, out: number) => multiply(x, get(`${p}${name}.weight`), out, true, get(`${p}${name}.bias`));
    const a = layerNorm(h, get(`${p}layernorm_before.weight`), get(`${p}layernorm_before.bias`));
    const q = linear(a, 'attention.attention.query', d);
    const k = linear(a, 'attention.attention.key', d);
    const v = linear(a, 'attention.attention.value', d);
    h = add(h, linear(attention(q, k, v, heads, d / heads, 1, false), 'attention.output.dense', d));
    const m = layerNorm(h, get(`${p}layernorm_after.weight`), get(`${p}layernorm_after.bias`));
    h = add(h, linear(linear(m, 'intermediate.dense', ff).map((row) => row.map(gelu)), 'output.dense', d));
  }
  h = layerNorm(h, get('vit.layernorm.weight'), get('vit.layernorm.bias'));
  return multiply([h[0]], get('classifier.weight'), classes, true, get('classifier.bias'));
}

async function readAll(checkpoint: Checkpoint): Promise<Weights> {
  const weights: Weights = new Map();
  for (const entry of checkpoint.tensors) weights.set(entry.name, await checkpoint.readTensor(entry.name, 'float32'));
  return weights;
}

function maxDifference(x: Matrix, y: Matrix): number {
  let max = 0;
  x.forEach((row, t) => row.forEach((value, i) => { max = Math.max(max, Math.abs(value - y[t][i])); }));
  return max;
}

describe('transformer templates keep the forward pass', () => {
  const d = 8;
  const ff = 12;
  const vocabulary = 7;

  for (const level of ['local', 'full'] as const) {
    it(`keeps GPT-2 logits at level ${level}`, async () => {
      const shapes: Record<string, number[]> = { 'transformer.wte.weight': [vocabulary, d], 'transformer.wpe.weight': [TOKENS.length, d] };
      for (let n = 0; n < 2; n++) {
        const p = `transformer.h.${n}.`;
        Object.assign(shapes, {
          [`${p}ln_1.weight`]: [d], [`${p}ln_1.bias`]: [d], [`${p}attn.c_attn.weight`]: [d, 3 * d], [`${p}attn.c_attn.bias`]: [3 * d],
          [`${p}attn.c_proj.weight`]: [d, d], [`${p}attn.c_proj.bias`]: [d], [`${p}ln_2.weight`]: [d], [`${p}ln_2.bias`]: [d],
          [`${p}mlp.c_fc.weight`]: [d, ff], [`${p}mlp.c_fc.bias`]: [ff], [`${p}mlp.c_proj.weight`]: [ff, d], [`${p}mlp.c_proj.bias`]: [d],
        });
      }
      Object.assign(shapes, { 'transformer.ln_f.weight': [d], 'transformer.ln_f.bias': [d], 'lm_head.weight': [vocabulary, d] });
      await withTemporaryDirectory(async (directory) => {
        const a = await writeRandom(directory, shapes, { n_head: '2' });
        try {
          const resolved = resolveAgainst(inferFromTemplates(a, { level }).spec, a, a);
          const permuted: Weights = new Map((await permutedTensors(resolved, a, randomPermutations(resolved, 5))).map((tensor) => [tensor.name, tensor.data as Float32Array]));
          const original = await readAll(a);
          assert.notDeepEqual(permuted.get('transformer.h.0.attn.c_attn.weight'), original.get('transformer.h.0.attn.c_attn.weight'));
          const difference = maxDifference(gpt2Forward(original, d, ff, 2, vocabulary, 2), gpt2Forward(permuted, d, ff, 2, vocabulary, 2));
          assert.ok(difference < 1e-9, `max |Δlogit| = ${difference}`);
        } finally {
          await a.close();
        }
      });
    });

    it(`keeps Llama logits with grouped-query attention at level ${level}`, async () => {
      const [queryHeads, kvHeads, headSize] = [4, 2, 4];
      const shapes: Record<string, number[]> = { 'model.embed_tokens.weight': [vocabulary, d] };
      for (let n = 0; n < 2; n++) {
        const p = `model.layers.${n}.`;
        Object.assign(shapes, {
          [`${p}input_layernorm.weight`]: [d],
          [`${p}self_attn.q_proj.weight`]: [queryHeads * headSize, d], [`${p}self_attn.k_proj.weight`]: [kvHeads * headSize, d],
          [`${p}self_attn.v_proj.weight`]: [kvHeads * headSize, d], [`${p}self_attn.o_proj.weight`]: [d, queryHeads * headSize],
          [`${p}post_attention_layernorm.weight`]: [d],
          [`${p}mlp.gate_proj.weight`]: [ff, d], [`${p}mlp.up_proj.weight`]: [ff, d], [`${p}mlp.down_proj.weight`]: [d, ff],
        });
      }
      Object.assign(shapes, { 'model.norm.weight': [d], 'lm_head.weight': [vocabulary, d] });
      await withTemporaryDirectory(async (directory) => {
        const a = await writeRandom(directory, shapes, { num_attention_heads: String(queryHeads), num_key_value_heads: String(kvHeads) });
        try {
          const resolved = resolveAgainst(inferFromTemplates(a, { level }).spec, a, a);
          const permuted: Weights = new Map((await permutedTensors(resolved, a, randomPermutations(resolved, 5))).map((tensor) => [tensor.name, tensor.data as Float32Array]));
          const original = await readAll(a);
          assert.notDeepEqual(permuted.get('model.layers.0.self_attn.k_proj.weight'), original.get('model.layers.0.self_attn.k_proj.weight'));
          const forward = (weights: Weights) => llamaForward(weights, d, ff, queryHeads, kvHeads, headSize, vocabulary, 2);
          const difference = maxDifference(forward(original), forward(permuted));
          assert.ok(difference < 1e-9, `max |Δlogit| = ${difference}`);
        } finally {
          await a.close();
        }
      });
    });
  }

  for (const level of ['local', 'full'] as const) {
    it(`keeps ViT logits at level ${level}`, async () => {
      const shapes: Record<string, number[]> = {
        'vit.embeddings.cls_token': [1, 1, d], 'vit.embeddings.position_embeddings': [1, 5, d],
        'vit.embeddings.patch_embeddings.projection.weight': [d, 3, 2, 2], 'vit.embeddings.patch_embeddings.projection.bias': [d],
      };
      const linear = (name: string, out: number, input: number) => Object.assign(shapes, { [`${name}.weight`]: [out, input], [`${name}.bias`]: [out] });
      for (let n = 0; n < 2; n++) {
        const p = `vit.encoder.layer.${n}.`;
        for (const projection of ['query', 'key', 'value']) linear(`${p}attention.attention.${projection}`, d, d);
        linear(`${p}attention.output.dense`, d, d);
        linear(`${p}intermediate.dense`, ff, d);
        linear(`${p}output.dense`, d, ff);
        Object.assign(shapes, { [`${p}layernorm_before.weight`]: [d], [`${p}layernorm_before.bias`]: [d], [`${p}layernorm_after.weight`]: [d], [`${p}layernorm_after.bias`]: [d] });
      }
      Object.assign(shapes, { 'vit.layernorm.weight': [d], 'vit.layernorm.bias': [d] });
      linear('classifier', 3, d);
      await withTemporaryDirectory(async (directory) => {
        const a = await writeRandom(directory, shapes, { num_attention_heads: '2' });
        try {
          const resolved = resolveAgainst(inferFromTemplates(a, { level }).spec, a, a);
          const permuted: Weights = new Map((await permutedTensors(resolved, a, randomPermutations(resolved, 6))).map((tensor) => [tensor.name, tensor.data as Float32Array]));
          const original = await readAll(a);
          assert.notDeepEqual(permuted.get('vit.encoder.layer.1.attention.attention.value.weight'), original.get('vit.encoder.layer.1.attention.attention.value.weight'));
          const difference = maxDifference(vitForward(original, d, ff, 2, 3), vitForward(permuted, d, ff, 2, 3));
          assert.ok(difference < 1e-9, `max |Δlogit| = ${difference}`);
        } finally {
          await a.close();
        }
      });
    });
  }

  it('detects a head permutation that splits a group', async () => {
    // A control: permuting single query heads across key/value groups must change Llama's logits.
    const [queryHeads, kvHeads, headSize] = [4, 2, 4];
    const shapes: Record<string, number[]> = {
      'model.embed_tokens.weight': [vocabulary, d], 'model.layers.0.input_layernorm.weight': [d],
      'model.layers.0.self_attn.q_proj.weight': [queryHeads * headSize, d], 'model.layers.0.self_attn.k_proj.weight': [kvHeads * headSize, d],
      'model.layers.0.self_attn.v_proj.weight': [kvHeads * headSize, d], 'model.layers.0.self_attn.o_proj.weight': [d, queryHeads * headSize],
      'model.layers.0.post_attention_layernorm.weight': [d], 'model.layers.0.mlp.gate_proj.weight': [ff, d],
      'model.layers.0.mlp.up_proj.weight': [ff, d], 'model.layers.0.mlp.down_proj.weight': [d, ff], 'model.norm.weight': [d], 'lm_head.weight': [vocabulary, d],
    };
    await withTemporaryDirectory(async (directory) => {
      const a = await writeRandom(directory, shapes, { num_attention_heads: '4', num_key_value_heads: '2' });
      try {
        const spec = { axes: {
          'model.layers.0.self_attn.q_proj.weight': [{ perm: 'P_q', outer: 1, inner: headSize }, null],
          'model.layers.0.self_attn.o_proj.weight': [null, { perm: 'P_q', outer: 1, inner: headSize }],
        } };
        const resolved = resolveAgainst(spec, a, a);
        const swapAcrossGroups = new Map([['P_q', Int32Array.from([2, 1, 0, 3])]]);
        const permuted: Weights = new Map((await permutedTensors(resolved, a, swapAcrossGroups)).map((tensor) => [tensor.name, tensor.data as Float32Array]));
        const forward = (weights: Weights) => llamaForward(weights, d, ff, queryHeads, kvHeads, headSize, vocabulary, 1);
        assert.ok(maxDifference(forward(await readAll(a)), forward(permuted)) > 1e-6);
      } finally {
        await a.close();
      }
    });
  });
});
