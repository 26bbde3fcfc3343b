// The values graph inference tracks on every edge of an ONNX graph, and the operator groups it treats alike.
import type { onnx } from 'onnx-proto';
import { SpecInferenceError } from './inferenceError';

export interface Activation {
  readonly kind: 'activation';
  readonly space: number;
  /** Index of the channel axis; undefined for graph inputs, whose layout the first consumer decides. */
  readonly axis?: number;
  readonly rank?: number;
  /** Set after a Flatten of a rank > 2 tensor: the axis contains the channels times the flattened spatial positions. */
  readonly flattened?: boolean;
}

/** A constant or an initializer as a node reads it: `transposed` after a Transpose node on a 2-D initializer. */
export interface Constant {
  readonly kind: 'constant';
  /** Undefined when an operator on constants produced it and its shape was not worked out. */
  readonly shape: readonly number[] | undefined;
  readonly tensor?: onnx.ITensorProto;
  readonly initializer?: string;
  readonly transposed: boolean;
  /** The initializer a computed constant was derived from; such a value cannot follow a permutation. */
  readonly derivedFrom?: string;
}

/** A value that no permutation changes: a reduction over the channel axis, a shape. */
export interface Invariant {
  readonly kind: 'invariant';
}

export type Value = Activation | Constant | Invariant;

export const UNARY = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'Tanh', 'Gelu', 'Erf', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign',
  'HardSwish', 'Mish', 'Sqrt', 'Exp', 'Log', 'Abs', 'Neg', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin',
  'Cos', 'Dropout', 'Identity', 'Cast', 'Clip', 'Softmax', 'LogSoftmax',
]);
export const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'PRelu']);
export const POOLING = new Set(['MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
export const REDUCTIONS = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp']);

/** Returns the NumPy-style broadcast of shapes, or undefined when one is unknown. */
export function broadcastShape(shapes: readonly (readonly number[] | undefined)[]): number[] | undefined {
  if (shapes.some((shape) => shape === undefined)) return undefined;
  const known = shapes as readonly (readonly number[])[];
  const rank = Math.max(...known.map((shape) => shape.length));
  return Array.from({ length: rank }, (_, axis) => Math.max(...known.map((shape) => shape[axis - (rank - shape.length)] ?? 1)));
}

/** Returns the error for a node the inference cannot follow, naming the node (or its output) and its operator. */
export function unsupportedNode(node: onnx.INodeProto, reason: string): SpecInferenceError {
  const name = node.name ? `"${node.name}"` : `with output "${(node.output ?? [])[0] ?? ''}"`;
  return new SpecInferenceError(`node ${name} (${node.opType ?? '?'}): ${reason}`);
}
