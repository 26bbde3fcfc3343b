// Operators that move or remove axes of an activation (reductions, Flatten, Reshape, Transpose, Squeeze and
// Unsqueeze): graph inference follows the channel axis through them.
import type { onnx } from 'onnx-proto';
import type { ChannelSpaces } from './channelSpaces';
import { unsupportedNode, type Activation, type Value } from './graphValues';
import { integerValues, intAttribute, intsAttribute } from './onnxValues';

export function reduction(node: onnx.INodeProto, input: Activation, inputs: readonly (Value | undefined)[]): Value {
  const keepDims = intAttribute(node, 'keepdims', 1) !== 0;
  let axes = intsAttribute(node, 'axes');
  if (axes === undefined && inputs[1]?.kind === 'constant' && inputs[1].tensor != null) axes = integerValues(inputs[1].tensor);
  if (axes === undefined || axes.length === 0) return { kind: 'invariant' };
  if (input.axis === undefined) return { kind: 'activation', space: input.space };
  if (input.rank === undefined && axes.some((axis) => axis < 0)) throw unsupportedNode(node, 'negative axes on a tensor of unknown rank');
  const normalized = axes.map((axis) => (axis < 0 ? axis + (input.rank as number) : axis));
  // A reduction over the channels gives the same value for every ordering of them.
  if (normalized.includes(input.axis)) return { kind: 'invariant' };
  if (keepDims) return input;
  const removedBefore = normalized.filter((axis) => axis < (input.axis as number)).length;
  const rank = input.rank === undefined ? undefined : input.rank - normalized.length;
  return { kind: 'activation', space: input.space, axis: input.axis - removedBefore, rank };
}

export function flatten(node: onnx.INodeProto, input: Activation, axis: number, spaces: ChannelSpaces): Activation {
  if (input.rank === 2 && axis === 1) return input;
  if (spaces.isFixed(input.space)) return { kind: 'activation', space: input.space, rank: 2 };
  if (axis !== 1 || input.axis !== 1) throw unsupportedNode(node, `only flattening to [N, C·H·W] with the channels on axis 1 is supported (axis = ${axis})`);
  return { kind: 'activation', space: input.space, axis: 1, rank: 2, flattened: true };
}

export function reshape(node: onnx.INodeProto, input: Activation, inputs: readonly (Value | undefined)[], spaces: ChannelSpaces): Activation {
  const target = inputs[1];
  const shape = target?.kind === 'constant' && target.tensor != null ? integerValues(target.tensor) : undefined;
  if (shape === undefined) throw unsupportedNode(node, 'only a Reshape to a constant shape is supported');
  // [N, -1] and [0, -1] flatten everything after the batch axis.
  if (shape.length === 2 && shape[1] === -1) return flatten(node, input, 1, spaces);
  throw unsupportedNode(node, `a Reshape to [${shape.join(', ')}] is not supported; only [N, -1] after the channel axis is`);
}

export function transposeActivation(node: onnx.INodeProto, input: Activation): Activation {
  const perm = intsAttribute(node, 'perm');
  if (input.axis === undefined) return { kind: 'activation', space: input.space, rank: input.rank };
  if (perm === undefined) throw unsupportedNode(node, 'a Transpose without a perm attribute is not supported');
  return { kind: 'activation', space: input.space, axis: perm.indexOf(input.axis), rank: input.rank };
}

/** Follows the channel axis through Squeeze and Unsqueeze, whose axes are an attribute before opset 13 and an input after. */
export function squeeze(node: onnx.INodeProto, input: Activation, inputs: readonly (Value | undefined)[], unsqueeze: boolean): Activation {
  let axes = intsAttribute(node, 'axes');
  if (axes === undefined && inputs[1]?.kind === 'constant' && inputs[1].tensor != null) axes = integerValues(inputs[1].tensor);
  if (input.axis === undefined) return { kind: 'activation', space: input.space };
  if (axes === undefined || input.rank === undefined) throw unsupportedNode(node, 'the axes or the input rank are unknown');
  const rank = unsqueeze ? input.rank + axes.length : input.rank - axes.length;
  // Negative axes count from the end of the output for Unsqueeze and of the input for Squeeze.
  const counted = unsqueeze ? rank : input.rank;
  const normalized = axes.map((axis) => (axis < 0 ? axis + counted : axis)).sort((x, y) => x - y);
  let axis = input.axis;
  if (unsqueeze) {
    // Inserted axes are positions in the output, so each one at or before the channel axis shifts it right.
    for (const inserted of normalized) if (inserted <= axis) axis++;
  } else {
    if (normalized.includes(axis)) throw unsupportedNode(node, 'it removes the channel axis');
    axis -= normalized.filter((removed) => removed < (input.axis as number)).length;
  }
  return { kind: 'activation', space: input.space, axis, rank };
}
