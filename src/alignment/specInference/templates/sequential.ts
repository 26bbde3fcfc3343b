// Templates for plain stacks named by module index: torchvision VGG (`features.N`, `classifier.N`) and an MLP
// built with nn.Sequential (`<prefix>N.weight`, with optional BatchNorm1d or LayerNorm modules in between).
import type { TensorEntry } from '../../../formats/checkpoint';
import { inferConvChain } from '../convChain';
import { SpecInferenceError } from '../inferenceError';
import type { InferredSpec } from '../index';
import { isLayerTensor } from '../layerTensors';
import { findBase, type TemplateInput } from './builder';

export function inferVgg(a: TemplateInput): InferredSpec | undefined {
  const base = findBase(a.tensors, /^(.*?)features\.\d+\.weight$/);
  if (base === undefined || !a.tensors.some((entry) => entry.name.startsWith(`${base}classifier.`))) return undefined;
  // The convolutional features come before the classifier whatever order the file stores them in.
  const ordered = [...inGroup(a.tensors, `${base}features.`), ...inGroup(a.tensors, `${base}classifier.`)];
  const others = a.tensors.filter((entry) => isLayerTensor(entry) && !ordered.includes(entry));
  if (others.length > 0) throw new SpecInferenceError(`VGG: the template does not know ${others.map((entry) => `"${entry.name}"`).join(', ')}`, others.map((entry) => entry.name));
  return chainOf('VGG', ordered);
}

export function inferMlpStack(a: TemplateInput): InferredSpec | undefined {
  const layerTensors = a.tensors.filter(isLayerTensor);
  const base = findBase(layerTensors, /^((?:.*\.)?)\d+\.weight$/);
  if (base === undefined) return undefined;
  const layer = /^\d+\.(weight|bias|running_mean|running_var)$/;
  const stack = layerTensors.every((entry) => entry.name.startsWith(base) && layer.test(entry.name.slice(base.length)));
  if (!stack || layerTensors.some((entry) => entry.shape.length > 2) || !layerTensors.some((entry) => entry.shape.length === 2)) return undefined;
  return chainOf('MLP stack', inGroup(layerTensors, base));
}

function inGroup(tensors: readonly TensorEntry[], prefix: string): TensorEntry[] {
  return tensors
    .filter((entry) => isLayerTensor(entry) && entry.name.startsWith(prefix))
    .sort((x, y) => x.name.localeCompare(y.name, 'en', { numeric: true }));
}

function chainOf(architecture: string, tensors: readonly TensorEntry[]): InferredSpec {
  const result = inferConvChain(tensors);
  if ('failure' in result) throw new SpecInferenceError(`${architecture}: ${result.failure}`, result.unplaced);
  return { spec: result.spec, source: `auto: ${architecture} template (${result.source.replace(/^auto: /, '')})`, notes: result.notes };
}
