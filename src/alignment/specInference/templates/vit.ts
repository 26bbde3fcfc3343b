// Vision Transformer as Hugging Face names it (ViTModel, ViTForImageClassification).
import type { AxisEntry } from '../../permutationSpec';
import type { InferredSpec } from '../index';
import { blockIndices, findBase, heads, SpecBuilder, type TransformerLevel, type TemplateInput } from './builder';
import { levelNote } from './gpt2';
import { attentionHeads } from './heads';

export function inferVit(a: TemplateInput, level: TransformerLevel, givenHeads: number | undefined): InferredSpec | undefined {
  const base = findBase(a.tensors, /^(.*?)encoder\.layer\.\d+\.attention\.attention\.query\.weight$/);
  if (base === undefined) return undefined;
  const builder = new SpecBuilder('ViT', a.tensors);
  const width = builder.shape(`${base}encoder.layer.0.attention.attention.query.weight`)[1];
  const headCount = attentionHeads('ViT', a.metadata, givenHeads, width);
  const headSize = width / headCount;
  const residual: AxisEntry = level === 'full' ? 'P_res' : null;
  const linear = (name: string, output: AxisEntry, input: AxisEntry) => {
    builder.set(`${name}.weight`, [output, input]);
    builder.setOptional(`${name}.bias`, [output]);
  };
  const norm = (name: string) => {
    builder.set(`${name}.weight`, [residual]);
    builder.setOptional(`${name}.bias`, [residual]);
  };

  for (const n of blockIndices(a.tensors, `${base}encoder.layer.`, 'attention.attention.query.weight')) {
    const block = `${base}encoder.layer.${n}.`;
    const attention = heads(`P_heads_${n}`, 1, headSize);
    for (const projection of ['query', 'key', 'value']) linear(`${block}attention.attention.${projection}`, attention, residual);
    linear(`${block}attention.output.dense`, residual, attention);
    linear(`${block}intermediate.dense`, `P_mlp_${n}`, residual);
    linear(`${block}output.dense`, residual, `P_mlp_${n}`);
    norm(`${block}layernorm_before`);
    norm(`${block}layernorm_after`);
  }
  const embeddings = `${base}embeddings.`;
  builder.set(`${embeddings}cls_token`, [null, null, residual]);
  builder.set(`${embeddings}position_embeddings`, [null, null, residual]);
  builder.setOptional(`${embeddings}mask_token`, [null, null, residual]);
  builder.set(`${embeddings}patch_embeddings.projection.weight`, [residual, null, null, null]);
  builder.setOptional(`${embeddings}patch_embeddings.projection.bias`, [residual]);
  norm(`${base}layernorm`);
  // The pooler's tanh output leaves the residual stream, so only its input axis is permuted.
  if (builder.has(`${base}pooler.dense.weight`)) linear(`${base}pooler.dense`, null, residual);
  const root = base.replace(/vit\.$/, '');
  if (builder.has(`${root}classifier.weight`)) linear(`${root}classifier`, null, residual);

  const notes = [`${headCount} attention heads of ${headSize} dimensions; whole heads are permuted`, levelNote(level)];
  return builder.finish(`auto: ViT template (${level})`, notes);
}
