// `--spec auto` for a plain chain of convolutions followed by Linear layers (a VGG-style network), recognized from
// tensor names and shapes. Normalization layers attach to the layer before them by name order and size.
import type { TensorEntry } from '../../formats/checkpoint';
import type { AxisEntry, PermutationSpec } from '../permutationSpec';
import { commonWrapperPrefix } from '../tensorNameMatching';
import { isLayerTensor } from './layerTensors';

export type ConvChainResult =
  | { readonly spec: PermutationSpec; readonly source: string; readonly notes: string[] }
  | { readonly failure: string; readonly unplaced: readonly string[] };

/** A module of the chain: a convolution or Linear layer, or a normalization layer's per-channel vectors. */
interface Module {
  readonly prefix: string;
  readonly kind: 'conv' | 'linear' | 'norm';
  readonly tensors: TensorEntry[];
  readonly weight?: TensorEntry;
}

const NORM_PARAMETERS = ['weight', 'bias', 'running_mean', 'running_var'];

/**
 * Infers the spec of a chain: convolutions with kernels [out, in, kh, kw] (group 1), then Linear layers [out, in],
 * each with an optional bias and optional normalization vectors after it. The first Linear layer after a convolution
 * takes the flattened channels × positions, so its input axis is permuted in groups of in / channels positions.
 * Modules keep the file's order, or natural name order when the file's order is not a chain.
 */
export function inferConvChain(tensors: readonly TensorEntry[]): ConvChainResult {
  const layerTensors = tensors.filter(isLayerTensor);
  const modules = groupModules(layerTensors);
  if ('failure' in modules) return modules;

  const natural = [...modules].sort((x, y) => x.prefix.localeCompare(y.prefix, 'en', { numeric: true }));
  const chained = chainSpec(modules) ?? chainSpec(natural);
  if (chained === undefined) {
    return { failure: 'the layers do not form a chain in which each layer\'s output channels feed the next layer\'s input', unplaced: layerTensors.map((entry) => entry.name) };
  }
  const convolutions = modules.filter((module) => module.kind === 'conv').length;
  const linears = modules.filter((module) => module.kind === 'linear').length;
  return { spec: chained, source: `auto: chain of ${convolutions} convolution and ${linears} linear layers`, notes: [] };
}

function groupModules(layerTensors: readonly TensorEntry[]): Module[] | { failure: string; unplaced: readonly string[] } {
  const byName = new Map(layerTensors.map((entry) => [entry.name, entry]));
  const modules: Module[] = [];
  const used = new Set<string>();
  for (const entry of layerTensors) {
    if (used.has(entry.name)) continue;
    const match = /^(.*?)\.?(weight|bias|running_mean|running_var)$/.exec(entry.name);
    if (match === null) return { failure: `tensor "${entry.name}" is not a layer's weight, bias or normalization vector`, unplaced: [entry.name] };
    const prefix = match[1];
    const dot = prefix === '' ? '' : '.';
    const weight = byName.get(`${prefix}${dot}weight`);
    const members = NORM_PARAMETERS.map((parameter) => byName.get(`${prefix}${dot}${parameter}`)).filter((member) => member !== undefined);
    members.forEach((member) => used.add(member.name));
    const rank = weight?.shape.length ?? 1;
    const kind = moduleKind(rank);
    if (kind === undefined) return { failure: `tensor "${weight?.name}" has shape [${weight?.shape.join(', ')}], neither a convolution, Linear nor normalization weight`, unplaced: [weight?.name ?? entry.name] };
    const strayRank = members.find((member) => member !== weight && member.shape.length !== 1);
    if (strayRank !== undefined) return { failure: `tensor "${strayRank.name}" has shape [${strayRank.shape.join(', ')}], not a per-channel vector`, unplaced: [strayRank.name] };
    if (kind !== 'norm' && members.some((member) => member.name.endsWith('running_mean') || member.name.endsWith('running_var'))) {
      return { failure: `layer "${prefix}" has running statistics next to a ${rank}-D weight`, unplaced: members.map((member) => member.name) };
    }
    modules.push({ prefix, kind, tensors: members, weight });
  }
  return modules;
}

function moduleKind(rank: number): Module['kind'] | undefined {
  if (rank === 4) return 'conv';
  if (rank === 2) return 'linear';
  if (rank === 1) return 'norm';
  return undefined;
}

/** Returns the spec when `modules` in this order form a chain, else undefined. */
function chainSpec(modules: readonly Module[]): PermutationSpec | undefined {
  const layers = modules.filter((module) => module.kind !== 'norm');
  const wrapper = commonWrapperPrefix(modules.map((module) => module.prefix + '.'));
  const axes: Record<string, AxisEntry[]> = {};
  let previous: { name: string; size: number; kind: 'conv' | 'linear' } | undefined;
  let layerIndex = 0;
  let seenLinear = false;

  for (const module of modules) {
    if (module.kind === 'norm') {
      // Per-channel vectors follow the layer before them and must have its output size.
      if (previous === undefined || module.tensors.some((tensor) => tensor.shape[0] !== previous?.size)) return undefined;
      for (const tensor of module.tensors) axes[tensor.name] = [layerIndex === layers.length ? null : previous.name];
      continue;
    }
    if (module.kind === 'conv' && seenLinear) return undefined;
    seenLinear ||= module.kind === 'linear';
    layerIndex++;
    const weight = module.weight as TensorEntry;
    const [outputs, inputs] = weight.shape;
    const last = layerIndex === layers.length;
    const output = last ? null : `P_${module.prefix.slice(wrapper.length) || layerIndex}`;

    let input: AxisEntry = null;
    if (previous !== undefined) {
      if (previous.kind === 'conv' && module.kind === 'linear') {
        if (inputs % previous.size !== 0) return undefined;
        input = inputs === previous.size ? previous.name : { perm: previous.name, outer: 1, inner: inputs / previous.size };
      } else {
        if (inputs !== previous.size) return undefined;
        input = previous.name;
      }
    }
    axes[weight.name] = [output, input, ...weight.shape.slice(2).map(() => null)];
    for (const tensor of module.tensors) {
      if (tensor === weight) continue;
      if (tensor.shape[0] !== outputs) return undefined;
      axes[tensor.name] = [output];
    }
    previous = { name: output ?? '', size: outputs, kind: module.kind };
  }
  return layers.length >= 2 ? { axes } : undefined;
}
