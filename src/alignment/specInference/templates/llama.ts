// Llama-style decoders (Llama, Mistral, Qwen2) as Hugging Face names them, with grouped-query attention.
import type { AxisEntry } from '../../permutationSpec';
import { SpecInferenceError } from '../inferenceError';
import type { InferredSpec } from '../index';
import { blockIndices, findBase, heads, SpecBuilder, type TransformerLevel, type TemplateInput } from './builder';
import { levelNote } from './gpt2';
import { attentionHeads, keyValueHeads } from './heads';

/** Rotary frequency tables that older transformers versions saved; they depend on positions only and stay as they are. */
const ROTARY_BUFFERS = /\.rotary_emb\.inv_freq$/;

export function inferLlama(a: TemplateInput, level: TransformerLevel, givenHeads: number | undefined): InferredSpec | undefined {
  const base = findBase(a.tensors, /^(.*?)layers\.\d+\.self_attn\.q_proj\.weight$/);
  if (base === undefined || !a.tensors.some((entry) => entry.name.startsWith(base) && entry.name.endsWith('mlp.gate_proj.weight'))) return undefined;
  const builder = new SpecBuilder('Llama-style decoder', a.tensors);
  const first = `${base}layers.0.self_attn.`;
  const queryRows = builder.shape(`${first}q_proj.weight`)[0];
  const keyRows = builder.shape(`${first}k_proj.weight`)[0];
  const queryHeads = attentionHeads('Llama-style decoder', a.metadata, givenHeads, queryRows);
  const headSize = queryRows / queryHeads;
  if (keyRows % headSize !== 0) throw new SpecInferenceError(`Llama-style decoder: k_proj has ${keyRows} rows, not a multiple of the head size ${headSize}`);
  const kvHeads = keyRows / headSize;
  const configured = keyValueHeads(a.metadata);
  if (configured !== undefined && configured !== kvHeads) {
    throw new SpecInferenceError(`Llama-style decoder: the metadata gives ${configured} key/value heads but k_proj's shape gives ${kvHeads}`);
  }
  if (queryHeads % kvHeads !== 0) throw new SpecInferenceError(`Llama-style decoder: ${queryHeads} query heads are not a multiple of ${kvHeads} key/value heads`);
  // Query heads j·g … j·g + g − 1 read key/value head j, so a permutation of key/value heads moves whole groups.
  const groupSize = queryHeads / kvHeads;
  const residual: AxisEntry = level === 'full' ? 'P_res' : null;

  for (const n of blockIndices(a.tensors, `${base}layers.`, 'self_attn.q_proj.weight')) {
    const block = `${base}layers.${n}.`;
    const group = `P_kv_groups_${n}`;
    const mlp = `P_mlp_${n}`;
    const queries = heads(group, 1, groupSize * headSize);
    const keysValues = heads(group, 1, headSize);
    builder.set(`${block}self_attn.q_proj.weight`, [queries, residual]);
    builder.setOptional(`${block}self_attn.q_proj.bias`, [queries]);
    for (const projection of ['k_proj', 'v_proj']) {
      builder.set(`${block}self_attn.${projection}.weight`, [keysValues, residual]);
      builder.setOptional(`${block}self_attn.${projection}.bias`, [keysValues]);
    }
    builder.set(`${block}self_attn.o_proj.weight`, [residual, queries]);
    builder.setOptional(`${block}self_attn.o_proj.bias`, [residual]);
    builder.set(`${block}mlp.gate_proj.weight`, [mlp, residual]);
    builder.set(`${block}mlp.up_proj.weight`, [mlp, residual]);
    builder.set(`${block}mlp.down_proj.weight`, [residual, mlp]);
    builder.set(`${block}input_layernorm.weight`, [residual]);
    builder.set(`${block}post_attention_layernorm.weight`, [residual]);
  }
  builder.set(`${base}embed_tokens.weight`, [null, residual]);
  builder.set(`${base}norm.weight`, [residual]);
  const root = base.replace(/model\.$/, '');
  builder.setOptional(`${root}lm_head.weight`, [null, residual]);

  const notes = [
    `${queryHeads} query heads and ${kvHeads} key/value heads of ${headSize} dimensions; whole key/value groups (${groupSize} query heads each) are permuted`,
    'rotary position embeddings rotate pairs of dimensions inside each head, so dimensions inside a head are never permuted',
    levelNote(level),
  ];
  return builder.finish(`auto: Llama-style decoder template (${level})`, notes, (name) => ROTARY_BUFFERS.test(name));
}
