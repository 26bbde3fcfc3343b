// `--spec auto` for a Flax MLP: Dense layers stored as `<path>/kernel` [in, out] with `<path>/bias` [out], the
// transpose of nn.Linear's layout. Flax numbers modules per type (`Dense_0`, `LayerNorm_0`), so the names do not
// give the order of layers of different types. Only chains of Dense layers alone are inferred.
import type { TensorEntry } from '../../formats/checkpoint';
import type { AxisEntry, PermutationSpec } from '../permutationSpec';
import { isLayerTensor } from './layerTensors';

export type FlaxChainResult = { readonly spec: PermutationSpec; readonly source: string } | { readonly failure: string };

interface DenseLayer {
  readonly path: string;
  readonly kernel: TensorEntry;
  readonly bias?: TensorEntry;
}

/**
 * Infers the spec of a chain of Flax Dense layers, ordered by natural name order (`Dense_2` before `Dense_10`),
 * where each kernel's output size equals the next kernel's input size. Permutations are named `P_<module>`.
 */
export function inferFlaxDenseChain(tensors: readonly TensorEntry[]): FlaxChainResult {
  const layerTensors = tensors.filter(isLayerTensor);
  const byName = new Map(layerTensors.map((entry) => [entry.name, entry]));
  const layers: DenseLayer[] = [];
  const used = new Set<string>();
  for (const entry of layerTensors) {
    if (!entry.name.endsWith('/kernel')) continue;
    if (entry.shape.length !== 2) return { failure: `tensor "${entry.name}" has shape [${entry.shape.join(', ')}], not a 2-D Dense kernel` };
    const path = entry.name.slice(0, -'/kernel'.length);
    const bias = byName.get(`${path}/bias`);
    if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== entry.shape[1])) {
      return { failure: `tensor "${bias.name}" has shape [${bias.shape.join(', ')}], not the bias of "${entry.name}" [${entry.shape.join(', ')}]` };
    }
    layers.push({ path, kernel: entry, bias });
    used.add(entry.name);
    if (bias !== undefined) used.add(bias.name);
  }
  const stray = layerTensors.find((entry) => !used.has(entry.name));
  if (stray !== undefined) return { failure: `tensor "${stray.name}" is neither a Dense kernel nor its bias` };
  if (layers.length < 2) return { failure: `found ${layers.length} Dense layer(s); a chain needs at least 2` };

  layers.sort((x, y) => x.path.localeCompare(y.path, 'en', { numeric: true }));
  const broken = layers.findIndex((layer, index) => index > 0 && layers[index - 1].kernel.shape[1] !== layer.kernel.shape[0]);
  if (broken > 0) {
    return { failure: `"${layers[broken - 1].kernel.name}" has ${layers[broken - 1].kernel.shape[1]} outputs but "${layers[broken].kernel.name}" takes ${layers[broken].kernel.shape[0]} inputs` };
  }

  const name = (index: number) => `P_${layers[index].path.split('/').pop() ?? index}`;
  const axes: Record<string, AxisEntry[]> = {};
  layers.forEach((layer, index) => {
    const output = index < layers.length - 1 ? name(index) : null;
    const input = index > 0 ? name(index - 1) : null;
    axes[layer.kernel.name] = [input, output];
    if (layer.bias !== undefined) axes[layer.bias.name] = [output];
  });
  return { spec: { axes }, source: `auto: chain of ${layers.length} Flax Dense layers` };
}
