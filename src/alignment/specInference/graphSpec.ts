// The first `--spec auto` tier: a permutation spec from an ONNX export of the model.
import type { Checkpoint } from '../../formats/checkpoint';
import { isFloatingDType } from '../../formats/dtype';
import { loadOnnxModel } from '../../formats/onnx/reader';
import type { AxisEntry } from '../permutationSpec';
import { SpecInferenceError } from './inferenceError';
import { traceInitializers } from './initializerSources';
import { inferFromOnnxGraph } from './onnxGraph';
import type { InferredSpec } from './index';

/**
 * Infers the spec of checkpoint `a` from the graph in `graphPath` (which may be `a` itself). Spec names are `a`'s
 * tensor names. Throws SpecInferenceError for an operator the inference does not understand and for a permuted
 * initializer that matches no tensor of `a`. A file that cannot be read throws CheckpointError.
 */
export async function inferSpecFromGraph(graphPath: string, a: Checkpoint): Promise<InferredSpec> {
  const model = await loadOnnxModel(graphPath);
  const sources = await traceInitializers(model, graphPath, a);
  const { spec, permutations } = inferFromOnnxGraph(model, (initializer) => sources.get(initializer));

  const namesA = new Set(a.tensors.map((entry) => entry.name));
  const axes: Record<string, readonly AxisEntry[]> = {};
  const untraced: string[] = [];
  for (const [tensor, entries] of Object.entries(spec.axes)) {
    if (namesA.has(tensor)) axes[tensor] = entries;
    else if (entries.some((entry) => entry !== null)) untraced.push(tensor);
  }
  if (untraced.length > 0) {
    throw new SpecInferenceError(
      `ONNX graph ${graphPath}: initializer(s) ${untraced.map((name) => `"${name}"`).join(', ')} match no tensor of ${a.path} by name or by value (as stored or transposed)`,
      untraced,
    );
  }

  const notes = [`${permutations.size} permutation(s) from the ONNX graph: ${[...permutations].map(([name, size]) => `${name} (${size})`).join(', ')}`];
  const renamed = [...sources].filter(([initializer, source]) => initializer !== source.tensor && source.tensor in axes);
  const prefixed = renamed.filter(([initializer, source]) => !source.transposed && source.tensor.endsWith(`.${initializer}`));
  if (prefixed.length > 0) notes.push(`${prefixed.length} initializer(s) matched checkpoint tensors by name after a wrapper prefix, such as "${prefixed[0][0]}" → "${prefixed[0][1].tensor}"`);
  for (const [initializer, source] of renamed) {
    if (prefixed.some(([name]) => name === initializer)) continue;
    notes.push(`initializer "${initializer}" is ${source.transposed ? 'the transpose of' : 'a copy of'} "${source.tensor}"`);
  }
  const unused = a.tensors.filter((entry) => isFloatingDType(entry.dtype) && !(entry.name in axes)).map((entry) => entry.name);
  if (unused.length > 0) notes.push(`not used by the graph, so not permuted: ${unused.join(', ')}`);
  return { spec: { axes }, source: `auto: ONNX graph ${graphPath}`, notes };
}
