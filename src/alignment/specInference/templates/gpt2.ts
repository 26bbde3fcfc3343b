// GPT-2 as Hugging Face names it. Conv1D stores weights as [in, out], the transpose of nn.Linear.
import type { AxisEntry } from '../../permutationSpec';
import type { InferredSpec } from '../index';
import { blockIndices, findBase, heads, SpecBuilder, type TransformerLevel, type TemplateInput } from './builder';
import { attentionHeads } from './heads';

/** Causal-mask buffers that older transformers versions saved; they are not weights and stay as they are. */
const MASK_BUFFERS = /\.attn\.(masked_)?bias$/;

export function inferGpt2(a: TemplateInput, level: TransformerLevel, givenHeads: number | undefined): InferredSpec | undefined {
  const base = findBase(a.tensors, /^(.*?)h\.\d+\.attn\.c_attn\.weight$/);
  if (base === undefined) return undefined;
  const builder = new SpecBuilder('GPT-2', a.tensors);
  const width = builder.shape(`${base}wte.weight`)[1];
  const headCount = attentionHeads('GPT-2', a.metadata, givenHeads, width);
  const headSize = width / headCount;
  const residual: AxisEntry = level === 'full' ? 'P_res' : null;

  for (const n of blockIndices(a.tensors, `${base}h.`, 'attn.c_attn.weight')) {
    const block = `${base}h.${n}.`;
    const attention = `P_heads_${n}`;
    const mlp = `P_mlp_${n}`;
    builder.set(`${block}attn.c_attn.weight`, [residual, heads(attention, 3, headSize)]);
    builder.setOptional(`${block}attn.c_attn.bias`, [heads(attention, 3, headSize)]);
    builder.set(`${block}attn.c_proj.weight`, [heads(attention, 1, headSize), residual]);
    builder.setOptional(`${block}attn.c_proj.bias`, [residual]);
    builder.set(`${block}mlp.c_fc.weight`, [residual, mlp]);
    builder.setOptional(`${block}mlp.c_fc.bias`, [mlp]);
    builder.set(`${block}mlp.c_proj.weight`, [mlp, residual]);
    builder.setOptional(`${block}mlp.c_proj.bias`, [residual]);
    for (const norm of ['ln_1', 'ln_2']) {
      builder.set(`${block}${norm}.weight`, [residual]);
      builder.setOptional(`${block}${norm}.bias`, [residual]);
    }
  }
  builder.set(`${base}wte.weight`, [null, residual]);
  builder.set(`${base}wpe.weight`, [null, residual]);
  builder.set(`${base}ln_f.weight`, [residual]);
  builder.setOptional(`${base}ln_f.bias`, [residual]);
  // The output head is tied to wte; when stored it takes the same residual permutation on its input axis.
  const root = base.replace(/transformer\.$/, '');
  builder.setOptional(`${root}lm_head.weight`, [null, residual]);

  const notes = [`${headCount} attention heads of ${headSize} dimensions; whole heads are permuted`, levelNote(level)];
  return builder.finish(`auto: GPT-2 template (${level})`, notes, (name) => MASK_BUFFERS.test(name));
}

export function levelNote(level: TransformerLevel): string {
  return level === 'full'
    ? 'level full: MLP units and heads per block, and one residual-stream permutation shared by the embeddings, every norm and projection, and the output head'
    : 'level local: MLP units and whole heads per block; the residual stream is not permuted';
}
