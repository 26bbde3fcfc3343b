// PyTorch nn.TransformerEncoderLayer stacks (`<prefix>layers.N.self_attn.in_proj_weight`, `linear1`, `linear2`,
// `norm1`, `norm2`). The layers around the stack (embedding, positional table, head) have names the model chose,
// so the full level places them by shape.
import type { TensorEntry } from '../../../formats/checkpoint';
import type { AxisEntry } from '../../permutationSpec';
import { SpecInferenceError } from '../inferenceError';
import type { InferredSpec } from '../index';
import { isLayerTensor } from '../layerTensors';
import { blockIndices, findBase, heads, SpecBuilder, type TransformerLevel, type TemplateInput } from './builder';
import { levelNote } from './gpt2';
import { attentionHeads } from './heads';

export function inferTransformerEncoder(a: TemplateInput, level: TransformerLevel, givenHeads: number | undefined): InferredSpec | undefined {
  const base = findBase(a.tensors, /^(.*?)layers\.\d+\.self_attn\.in_proj_weight$/);
  if (base === undefined) return undefined;
  const builder = new SpecBuilder('nn.TransformerEncoderLayer', a.tensors);
  const width = builder.shape(`${base}layers.0.self_attn.in_proj_weight`)[1];
  const headCount = attentionHeads('nn.TransformerEncoderLayer', a.metadata, givenHeads, width);
  const headSize = width / headCount;
  const residual: AxisEntry = level === 'full' ? 'P_res' : null;

  for (const n of blockIndices(a.tensors, `${base}layers.`, 'self_attn.in_proj_weight')) {
    const block = `${base}layers.${n}.`;
    const attention = `P_heads_${n}`;
    const mlp = `P_mlp_${n}`;
    builder.set(`${block}self_attn.in_proj_weight`, [heads(attention, 3, headSize), residual]);
    builder.setOptional(`${block}self_attn.in_proj_bias`, [heads(attention, 3, headSize)]);
    builder.set(`${block}self_attn.out_proj.weight`, [residual, heads(attention, 1, headSize)]);
    builder.setOptional(`${block}self_attn.out_proj.bias`, [residual]);
    builder.set(`${block}linear1.weight`, [mlp, residual]);
    builder.setOptional(`${block}linear1.bias`, [mlp]);
    builder.set(`${block}linear2.weight`, [residual, mlp]);
    builder.setOptional(`${block}linear2.bias`, [residual]);
    for (const norm of ['norm1', 'norm2']) {
      builder.set(`${block}${norm}.weight`, [residual]);
      builder.setOptional(`${block}${norm}.bias`, [residual]);
    }
  }

  const notes = [`${headCount} attention heads of ${headSize} dimensions; whole heads are permuted`, levelNote(level)];
  if (level === 'full') notes.push(...placeOuterTensors(builder, width));
  // At the local level, tensors outside the stack keep their layout: the stack's inputs and outputs are unchanged.
  const ignored = level === 'local' ? outsideStack(a.tensors, base) : undefined;
  return builder.finish(`auto: nn.TransformerEncoderLayer template (${level})`, notes, ignored);
}

/**
 * Gives the residual permutation to every tensor outside the stack that has exactly one axis of the model width,
 * on that axis: embeddings and their biases, positional tables, a final norm, the head's input axis.
 * NOTE: this is a shape rule, not a trace of the model's code. A tensor of the model width that does not touch the
 * residual stream would be permuted wrongly, so an ONNX export (`--graph`) or a spec file is safer.
 */
function placeOuterTensors(builder: SpecBuilder, width: number): string[] {
  const placed: string[] = [];
  const ambiguous: string[] = [];
  for (const entry of builder.tensors) {
    if (!isLayerTensor(entry) || entry.name in builder.axes) continue;
    const matching = entry.shape.flatMap((size, axis) => (size === width ? [axis] : []));
    if (matching.length > 1) {
      ambiguous.push(entry.name);
      continue;
    }
    builder.set(entry.name, entry.shape.map((_, axis) => (axis === matching[0] ? 'P_res' : null)));
    if (matching.length === 1) placed.push(`${entry.name} axis ${matching[0]}`);
  }
  if (ambiguous.length > 0) {
    throw new SpecInferenceError(`nn.TransformerEncoderLayer (full): tensors outside the encoder stack with more than one axis of the model width ${width} cannot be placed by shape: ${ambiguous.join(', ')}; use the local level or a spec file`, ambiguous);
  }
  return placed.length === 0 ? [] : [`placed by shape on the residual stream (check with eval's equivalence): ${placed.join(', ')}`];
}

function outsideStack(tensors: readonly TensorEntry[], base: string): (name: string) => boolean {
  const inStack = (name: string) => name.startsWith(`${base}layers.`) && /^\d+\./.test(name.slice(base.length + 'layers.'.length));
  const outside = new Set(tensors.filter((entry) => !inStack(entry.name)).map((entry) => entry.name));
  return (name) => outside.has(name);
}
