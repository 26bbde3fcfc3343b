// Permutation spec from an ONNX graph: every hidden channel space is a node of a union–find. Operators that mix
// channels (Gemm, MatMul with a weight, Conv, ConvTranspose) start a new space on their output, elementwise
// operators, pooling and normalization keep it, and an Add or Mul of two activations joins their spaces (residual
// connections). A space that reaches a graph input or output is not permuted. Any other operator on an activation
// stops the inference with an error naming the node, because guessing its channel behaviour could silently change
// the function.
import type { onnx } from 'onnx-proto';
import type { PermutationSpec } from '../permutationSpec';
import { ChannelSpaces } from './channelSpaces';
import { SpecInferenceError } from './inferenceError';
import { BINARY, broadcastShape, POOLING, REDUCTIONS, UNARY, unsupportedNode, type Activation, type Constant, type Value } from './graphValues';
import { flatten, reduction, reshape, squeeze, transposeActivation } from './layoutOperators';
import { constantNodeValue, dimensions, intAttribute, intsAttribute } from './onnxValues';

/** The state-dict tensor an initializer copies, and whether the initializer is its transpose. */
export interface InitializerSource {
  readonly tensor: string;
  readonly transposed: boolean;
  /** Shape of the state-dict tensor. */
  readonly shape: readonly number[];
}

/** Maps an initializer name to its state-dict tensor, or undefined when it has none (shapes, axes, untraced copies). */
export type InitializerResolver = (initializer: string) => InitializerSource | undefined;

/**
 * Infers a permutation spec from `model`'s graph. Tensor names in the spec are those `resolve` returns, with the
 * axes of transposed copies swapped back to the state-dict layout. Throws SpecInferenceError naming the node for
 * an operator the inference does not understand.
 */
export function inferFromOnnxGraph(model: onnx.IModelProto, resolve: InitializerResolver): { spec: PermutationSpec; permutations: Map<string, number> } {
  const graph = model.graph;
  if (graph == null) throw new SpecInferenceError('the ONNX model has no graph');
  const walker = new GraphWalker(resolve);
  walker.walk(graph);
  // Tensors that only fixed spaces touch, such as the output layer's bias, stay in the spec with null axes.
  const { axes, sizes } = walker.spaces.axisEntries(walker.ranks);
  return { spec: { axes }, permutations: sizes };
}

class GraphWalker {
  readonly spaces = new ChannelSpaces();
  readonly ranks = new Map<string, number>();
  private readonly values = new Map<string, Value>();
  private readonly sizes = new Map<number, number>();

  constructor(private readonly resolve: InitializerResolver) {}

  walk(graph: onnx.IGraphProto): void {
    for (const initializer of graph.initializer ?? []) {
      this.values.set(initializer.name ?? '', { kind: 'constant', shape: dimensions(initializer), tensor: initializer, initializer: initializer.name ?? '', transposed: false });
    }
    for (const input of graph.input ?? []) {
      const name = input.name ?? '';
      if (this.values.has(name)) continue;
      const space = this.spaces.create(name);
      this.spaces.fix(space, `graph input "${name}"`);
      const rank = input.type?.tensorType?.shape?.dim?.length;
      this.values.set(name, { kind: 'activation', space, rank: rank === undefined || rank === 0 ? undefined : rank });
    }
    for (const node of graph.node ?? []) this.visit(node);
    for (const output of graph.output ?? []) {
      const value = this.values.get(output.name ?? '');
      if (value?.kind === 'activation') this.spaces.fix(value.space, `graph output "${output.name ?? ''}"`);
    }
  }

  private visit(node: onnx.INodeProto): void {
    const op = node.opType ?? '';
    const inputs = (node.input ?? []).map((name) => {
      if (name === '') return undefined;
      const value = this.values.get(name);
      // ONNX graphs are topologically sorted, so an unknown name is a secondary output (a mask, pooling indices).
      if (value === undefined) throw unsupportedNode(node, `input "${name}" is not a graph input, an initializer or the first output of an earlier node`);
      return value;
    });
    const output = (node.output ?? [])[0] ?? '';
    const activationIndex = inputs.findIndex((value) => value?.kind === 'activation');

    if (op === 'Constant') {
      const { shape, tensor } = constantNodeValue(node);
      this.values.set(output, { kind: 'constant', shape, tensor, transposed: false });
      return;
    }
    if (op === 'Identity' && inputs[0]?.kind === 'constant') {
      // Exporters route tied weights through Identity nodes; the output still names the same initializer.
      this.values.set(output, inputs[0]);
      return;
    }
    if (op === 'Transpose' && inputs[0]?.kind === 'constant') {
      this.values.set(output, this.transposeConstant(node, inputs[0]));
      return;
    }
    if (activationIndex < 0) {
      for (const name of node.output ?? []) this.values.set(name, this.constantOutput(op, inputs));
      return;
    }

    const set = (value: Value) => this.values.set(output, value);
    if (op === 'Gemm') set(this.gemm(node, inputs));
    else if (op === 'MatMul') set(this.matMul(node, inputs));
    else if (op === 'Conv') set(this.conv(node, inputs));
    else if (op === 'ConvTranspose') set(this.convTranspose(node, inputs));
    else if (op === 'BatchNormalization' || op === 'InstanceNormalization') set(this.channelNormalization(node, inputs));
    else if (op === 'LayerNormalization') set(this.layerNormalization(node, inputs));
    else if (UNARY.has(op)) set(this.activation(node, inputs, 0));
    else if (BINARY.has(op)) set(this.binary(node, inputs));
    else if (POOLING.has(op)) set(this.pooling(node, inputs));
    else if (REDUCTIONS.has(op)) set(reduction(node, this.activation(node, inputs, 0), inputs));
    else if (op === 'Flatten') set(flatten(node, this.activation(node, inputs, 0), intAttribute(node, 'axis', 1), this.spaces));
    else if (op === 'Reshape') set(reshape(node, this.activation(node, inputs, 0), inputs, this.spaces));
    else if (op === 'Transpose') set(transposeActivation(node, this.activation(node, inputs, 0)));
    else if (op === 'Squeeze' || op === 'Unsqueeze') set(squeeze(node, this.activation(node, inputs, 0), inputs, op === 'Unsqueeze'));
    else throw unsupportedNode(node, 'this operator is not supported by graph inference');
  }

  /**
   * Returns what an operator on constants and invariants produces: the exporter's leftover arithmetic on
   * constants, or arithmetic on reductions over the channels. A value derived from an initializer stays a
   * constant, so that meeting a permuted activation raises an error instead of leaving it unpermuted.
   */
  private constantOutput(op: string, inputs: (Value | undefined)[]): Value {
    const constants = inputs.filter((value): value is Constant => value?.kind === 'constant');
    const derivedFrom = constants.map((value) => value.initializer ?? value.derivedFrom).find((name) => name !== undefined);
    if (derivedFrom === undefined && inputs.some((value) => value?.kind === 'invariant')) return { kind: 'invariant' };
    let shape: readonly number[] | undefined;
    if (UNARY.has(op) && inputs[0]?.kind === 'constant') shape = inputs[0].shape;
    if (BINARY.has(op) && constants.length === inputs.length) shape = broadcastShape(constants.map((value) => value.shape));
    return { kind: 'constant', shape, transposed: false, derivedFrom };
  }

  private gemm(node: onnx.INodeProto, inputs: (Value | undefined)[]): Activation {
    if (intAttribute(node, 'transA', 0) !== 0) throw unsupportedNode(node, 'transA = 1 is not supported');
    const input = this.activation(node, inputs, 0);
    const weight = this.weight(node, inputs[1], 2);
    const transB = intAttribute(node, 'transB', 0) !== 0;
    // The operator multiplies by B (K × N), or by Bᵀ when transB = 1.
    const inputAxis = transB ? 1 : 0;
    const outputAxis = 1 - inputAxis;
    const space = this.newSpace(weight, weight.shape[outputAxis]);
    this.attachInput(node, input, weight, inputAxis);
    this.attachConstant(node, space, weight, outputAxis);
    const bias = inputs[2];
    if (bias?.kind === 'activation') throw unsupportedNode(node, 'a bias computed from activations is not supported');
    if (bias?.kind === 'constant') this.attachBroadcast(node, space, bias, 1, 2);
    return { kind: 'activation', space, axis: 1, rank: 2 };
  }

  private matMul(node: onnx.INodeProto, inputs: (Value | undefined)[]): Activation {
    if (inputs[0]?.kind !== 'activation' || inputs[1]?.kind !== 'constant') {
      throw unsupportedNode(node, 'only an activation times a weight initializer is supported; a product of two activations (attention) needs a known-architecture template or a spec file');
    }
    const input = inputs[0];
    const weight = this.weight(node, inputs[1], 2);
    const rank = input.rank ?? 2;
    if (input.axis !== undefined && input.axis !== rank - 1) throw unsupportedNode(node, `the channel axis ${input.axis} is not the last axis`);
    const space = this.newSpace(weight, weight.shape[1]);
    this.attachInput(node, input, weight, 0);
    this.attachConstant(node, space, weight, 1);
    return { kind: 'activation', space, axis: rank - 1, rank };
  }

  private conv(node: onnx.INodeProto, inputs: (Value | undefined)[]): Activation {
    const input = this.channelsFirst(node, this.activation(node, inputs, 0));
    const weight = this.weight(node, inputs[1], undefined);
    if (weight.transposed) throw unsupportedNode(node, 'a transposed convolution kernel is not supported');
    const group = intAttribute(node, 'group', 1);
    const [outChannels, inPerGroup] = weight.shape;
    const bias = inputs[2];
    if (bias?.kind === 'activation') throw unsupportedNode(node, 'a bias computed from activations is not supported');

    if (group === 1) {
      const space = this.newSpace(weight, outChannels);
      this.attachInput(node, input, weight, 1);
      this.attachConstant(node, space, weight, 0);
      if (bias?.kind === 'constant') this.attachConstant(node, space, bias, 0);
      return { kind: 'activation', space, axis: 1, rank: input.rank };
    }
    if (inPerGroup === 1 && outChannels === group) {
      // Depthwise: output channel c reads only input channel c, so the output keeps the input's space.
      this.attachConstant(node, input.space, weight, 0);
      if (bias?.kind === 'constant') this.attachConstant(node, input.space, bias, 0);
      return { kind: 'activation', space: input.space, axis: 1, rank: input.rank };
    }
    throw unsupportedNode(node, `grouped convolution (group = ${group}) other than depthwise is not supported`);
  }

  private convTranspose(node: onnx.INodeProto, inputs: (Value | undefined)[]): Activation {
    const input = this.channelsFirst(node, this.activation(node, inputs, 0));
    const weight = this.weight(node, inputs[1], undefined);
    if (intAttribute(node, 'group', 1) !== 1 || weight.transposed) throw unsupportedNode(node, 'only group = 1 is supported');
    const space = this.newSpace(weight, weight.shape[1]);
    this.attachInput(node, input, weight, 0);
    this.attachConstant(node, space, weight, 1);
    const bias = inputs[2];
    if (bias?.kind === 'constant') this.attachConstant(node, space, bias, 0);
    return { kind: 'activation', space, axis: 1, rank: input.rank };
  }

  private channelNormalization(node: onnx.INodeProto, inputs: (Value | undefined)[]): Activation {
    const input = this.channelsFirst(node, this.activation(node, inputs, 0));
    // Scale, bias, running mean and running variance are per channel.
    for (const parameter of inputs.slice(1)) {
      if (parameter?.kind === 'constant') this.attachConstant(node, input.space, parameter, 0);
      else if (parameter !== undefined) throw unsupportedNode(node, 'normalization parameters computed from activations are not supported');
    }
    return input;
  }

  private layerNormalization(node: onnx.INodeProto, inputs: (Value | undefined)[]): Activation {
    const input = this.activation(node, inputs, 0);
    const axis = intAttribute(node, 'axis', -1);
    const rank = input.rank;
    const lastAxis = axis === -1 || (rank !== undefined && axis === rank - 1);
    if (!lastAxis || (input.axis !== undefined && rank !== undefined && input.axis !== rank - 1)) {
      throw unsupportedNode(node, 'only normalization over the channel axis, which must be the last axis, is supported');
    }
    for (const parameter of inputs.slice(1)) {
      if (parameter?.kind === 'constant') this.attachConstant(node, input.space, parameter, (parameter.shape?.length ?? 1) - 1);
    }
    return input;
  }

  private binary(node: onnx.INodeProto, inputs: (Value | undefined)[]): Activation {
    const [left, right] = inputs;
    if (left?.kind === 'activation' && right?.kind === 'activation') {
      if (left.axis !== undefined && right.axis !== undefined && left.axis !== right.axis) {
        throw unsupportedNode(node, `its inputs have their channels on different axes (${left.axis} and ${right.axis})`);
      }
      // A residual connection: both operands must be permuted alike.
      const space = this.spaces.union(left.space, right.space);
      const size = this.sizes.get(left.space) ?? this.sizes.get(right.space);
      if (size !== undefined) this.sizes.set(space, size);
      return { kind: 'activation', space, axis: left.axis ?? right.axis, rank: left.rank ?? right.rank, flattened: left.flattened ?? right.flattened };
    }
    const activation = (left?.kind === 'activation' ? left : right) as Activation;
    const other = left?.kind === 'activation' ? right : left;
    if (other?.kind === 'constant') this.attachBroadcast(node, activation.space, other, activation.axis, activation.rank);
    return activation;
  }

  private pooling(node: onnx.INodeProto, inputs: (Value | undefined)[]): Activation {
    return this.channelsFirst(node, this.activation(node, inputs, 0));
  }

  private transposeConstant(node: onnx.INodeProto, input: Constant): Constant {
    const perm = intsAttribute(node, 'perm');
    if (input.shape === undefined || input.shape.length !== 2 || (perm !== undefined && !(perm[0] === 1 && perm[1] === 0))) {
      throw unsupportedNode(node, `only transposing a 2-D constant is supported (shape [${input.shape?.join(', ') ?? 'unknown'}])`);
    }
    return { ...input, shape: [input.shape[1], input.shape[0]], transposed: !input.transposed };
  }

  private activation(node: onnx.INodeProto, inputs: (Value | undefined)[], index: number): Activation {
    const value = inputs[index];
    if (value?.kind !== 'activation') throw unsupportedNode(node, `input ${index} is expected to be an activation`);
    for (const [other, extra] of inputs.entries()) {
      if (other !== index && extra?.kind === 'activation') throw unsupportedNode(node, `input ${other} is an activation where a constant is expected`);
    }
    return value;
  }

  private channelsFirst(node: onnx.INodeProto, input: Activation): Activation {
    if (input.axis !== undefined && input.axis !== 1) throw unsupportedNode(node, `the channel axis is ${input.axis}, not 1 as the operator expects`);
    return { ...input, axis: 1 };
  }

  private weight(node: onnx.INodeProto, value: Value | undefined, rank: number | undefined): Constant & { shape: readonly number[] } {
    if (value?.kind !== 'constant' || value.initializer === undefined || value.shape === undefined) throw unsupportedNode(node, 'its weight is not an initializer');
    if (rank !== undefined && value.shape.length !== rank) throw unsupportedNode(node, `its weight has shape [${value.shape.join(', ')}], not ${rank}-D`);
    return value as Constant & { shape: readonly number[] };
  }

  private newSpace(weight: Constant, size: number): number {
    // The graph's own name has no wrapper prefix (`module.`); names the exporter made up come from the state dict.
    const initializer = weight.initializer as string;
    const named = initializer.startsWith('onnx::') ? (this.resolve(initializer)?.tensor ?? initializer) : initializer;
    const layer = named.replace(/\.weight$/, '');
    const space = this.spaces.create(layer);
    this.sizes.set(space, size);
    return space;
  }

  /** Attaches the input axis of a weight to the input's space; after a Flatten the axis contains channels × positions. */
  private attachInput(node: onnx.INodeProto, input: Activation, weight: Constant & { shape: readonly number[] }, axis: number): void {
    if (!input.flattened) {
      this.attachConstant(node, input.space, weight, axis);
      return;
    }
    const channels = this.sizes.get(this.spaces.find(input.space)) ?? this.sizes.get(input.space);
    if (channels === undefined) throw unsupportedNode(node, 'the number of channels before the Flatten is unknown');
    const features = weight.shape[axis];
    if (features % channels !== 0) throw unsupportedNode(node, `its ${features} input features are not a multiple of the ${channels} channels before the Flatten`);
    this.attachConstant(node, input.space, weight, axis, features / channels);
  }

  /** Attaches a constant broadcast against an activation with channels on `channelAxis` (of `rank` axes). */
  private attachBroadcast(node: onnx.INodeProto, space: number, constant: Constant, channelAxis: number | undefined, rank: number | undefined): void {
    const shape = constant.shape;
    if (shape !== undefined && shape.reduce((product, size) => product * size, 1) === 1) return;
    if (this.spaces.isFixed(space)) return;
    if (shape === undefined) throw unsupportedNode(node, 'a constant of unknown shape meets a permuted activation');
    if (channelAxis === undefined || rank === undefined) throw unsupportedNode(node, 'a non-scalar constant meets an activation whose channel axis is unknown');
    // Broadcasting aligns trailing axes.
    const axis = channelAxis - (rank - shape.length);
    if (axis < 0 || shape[axis] === 1) return;
    this.attachConstant(node, space, constant, axis);
  }

  private attachConstant(node: onnx.INodeProto, space: number, constant: Constant, axis: number, inner = 1): void {
    if (constant.initializer === undefined) {
      if (this.spaces.isFixed(space)) return;
      const origin = constant.derivedFrom === undefined ? 'a Constant node' : `a value computed from initializer "${constant.derivedFrom}"`;
      throw unsupportedNode(node, `${origin} varies along a permuted channel axis, and only initializers can be permuted`);
    }
    const source = this.resolve(constant.initializer);
    const tensor = source?.tensor ?? constant.initializer;
    // Initializers, and Transpose nodes on them, always have a known shape.
    const shape = constant.shape as readonly number[];
    const storedShape = source?.shape ?? (constant.transposed ? [...shape].reverse() : shape);
    // A transposed copy's axis k is axis (1 − k) of the stored 2-D tensor; a traced transposed initializer flips it again.
    const flips = (constant.transposed ? 1 : 0) + (source?.transposed ? 1 : 0);
    const storedAxis = flips % 2 === 1 ? storedShape.length - 1 - axis : axis;
    this.ranks.set(tensor, storedShape.length);
    this.spaces.attach(space, { tensor, axis: storedAxis, outer: 1, inner, axisSize: storedShape[storedAxis] });
  }
}
