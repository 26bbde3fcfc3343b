// `--spec auto` for the simplest architecture: a plain chain of Linear layers, recognized from tensor shapes.
import type { TensorEntry } from '../../formats/checkpoint';
import type { AxisEntry, PermutationSpec } from '../permutationSpec';
import { commonWrapperPrefix } from '../tensorNameMatching';
import { isLayerTensor } from './layerTensors';

export type InferenceResult =
  | { readonly spec: PermutationSpec; readonly source: string }
  | { readonly failure: string };

interface LinearLayer {
  readonly prefix: string;
  readonly weight: TensorEntry;
  readonly bias?: TensorEntry;
}

/**
 * Infers the spec of a chain of Linear layers: every layer tensor (any dtype, see isLayerTensor) is a 2-D
 * `<layer>.weight` of shape [out, in] or its 1-D `<layer>.bias` of size out, and each layer's out equals the next
 * one's in. The hidden units between consecutive layers get one permutation each, named `P_<layer>` after the layer
 * that produces them (without a wrapper prefix such as `module.`). Integer counters (`step`, `num_batches_tracked`)
 * are ignored. Layer order is the file's order, or else natural name order.
 */
export function inferLinearChain(tensors: readonly TensorEntry[]): InferenceResult {
  const layerTensors = tensors.filter(isLayerTensor);
  const layers: LinearLayer[] = [];
  const byName = new Map(layerTensors.map((entry) => [entry.name, entry]));
  const used = new Set<string>();

  for (const entry of layerTensors) {
    if (!entry.name.endsWith('.weight') && entry.name !== 'weight') continue;
    if (entry.shape.length !== 2) return { failure: `tensor "${entry.name}" has shape [${entry.shape.join(', ')}], not a 2-D Linear weight` };
    const prefix = entry.name.slice(0, entry.name.length - 'weight'.length);
    const bias = byName.get(`${prefix}bias`);
    if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== entry.shape[0])) {
      return { failure: `tensor "${bias.name}" has shape [${bias.shape.join(', ')}], not the bias of "${entry.name}" [${entry.shape.join(', ')}]` };
    }
    layers.push({ prefix: prefix.replace(/\.$/, ''), weight: entry, bias });
    used.add(entry.name);
    if (bias !== undefined) used.add(bias.name);
  }
  const stray = layerTensors.find((entry) => !used.has(entry.name));
  if (stray !== undefined) return { failure: `tensor "${stray.name}" is neither a Linear weight nor its bias` };
  if (layers.length < 2) return { failure: `found ${layers.length} Linear layer(s); a chain needs at least 2` };

  const chain = isChain(layers) ? layers : isChain(sortNaturally(layers)) ? sortNaturally(layers) : undefined;
  if (chain === undefined) {
    return { failure: 'the Linear layers do not form a chain in which each layer\'s output size equals the next layer\'s input size' };
  }

  const wrapper = commonWrapperPrefix(layerTensors.map((entry) => entry.name));
  const permutationName = (index: number) => `P_${chain[index].prefix.slice(wrapper.length) || index}`;
  const axes: Record<string, AxisEntry[]> = {};
  chain.forEach((layer, index) => {
    const output = index < chain.length - 1 ? permutationName(index) : null;
    const input = index > 0 ? permutationName(index - 1) : null;
    axes[layer.weight.name] = [output, input];
    if (layer.bias !== undefined) axes[layer.bias.name] = [output];
  });
  return { spec: { axes }, source: `auto: chain of ${chain.length} linear layers` };
}

function isChain(layers: readonly LinearLayer[]): boolean {
  return layers.every((layer, index) => index === 0 || layers[index - 1].weight.shape[0] === layer.weight.shape[1]);
}

function sortNaturally(layers: readonly LinearLayer[]): LinearLayer[] {
  return [...layers].sort((x, y) => x.prefix.localeCompare(y.prefix, 'en', { numeric: true }));
}
