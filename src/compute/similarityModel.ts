// Builds the in-memory ONNX model that computes the weight-matching similarity matrices.
//
// For each permutation p, output `C_<p>` is Σ over the (cost tensor, axis) terms of p of A(axis→rows) ·
// π_others(B)(axis→rows)ᵀ, an n×n matrix. A and B are initializers, so the weights cross into onnxruntime once;
// each run feeds only the current permutation indices. Every C_p sits inside an `If` on a boolean input, because
// onnxruntime runs every node of a graph whatever the fetched outputs are: the `If` keeps a run to one product.
import { onnx } from 'onnx-proto';
import type { FloatTensor } from '../formats/checkpoint';
import { axisLayout, type AxisLayout } from '../alignment/axisLayout';
import type { AxisPermutation, ResolvedSpec, SpecTensor } from '../alignment/permutationSpec';

export type Precision = 'float32' | 'float64';

/**
 * Weight bytes above which the weights go to an external data file: protobuf messages are limited to 2 GiB, so
 * onnxruntime cannot parse a larger model from memory. The margin leaves room for the graph itself.
 */
export const IN_MEMORY_LIMIT_BYTES = 2 ** 31 - 1 - 64 * 2 ** 20;

/** File name of the external weights, relative to the model file, as ONNX external data requires. */
export const EXTERNAL_DATA_FILE = 'weights.bin';

/** Offsets of external tensors are multiples of this, so onnxruntime can map them from the file directly. */
const EXTERNAL_ALIGNMENT = 4096;

export interface ExternalWeights {
  /** Size of the external data file in bytes. */
  readonly size: number;
  /** Weight arrays and their byte offsets in the file. */
  readonly chunks: readonly { readonly offset: number; readonly data: Float32Array | Float64Array }[];
}

export interface SimilarityModel {
  readonly bytes: Uint8Array;
  /** Permutation name → names of its index input (int64 [n]) and its selector input (bool [1]). */
  readonly inputs: ReadonlyMap<string, { readonly indices: string; readonly select: string }>;
  /** Permutation name → output name, only for permutations with at least one cost term. */
  readonly outputs: ReadonlyMap<string, string>;
  /** Present when the weights exceed `inMemoryLimitBytes`: `bytes` then refers to them in `EXTERNAL_DATA_FILE`. */
  readonly external?: ExternalWeights;
}

const Type = onnx.TensorProto.DataType;
const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;
const GRAPH = onnx.AttributeProto.AttributeType.GRAPH;
const TENSOR = onnx.AttributeProto.AttributeType.TENSOR;

/**
 * Builds the model for the cost tensors of `spec`. `a` and `b` are keyed by each checkpoint's own names.
 * Weights above `inMemoryLimitBytes` are placed in external data, which the caller writes beside the model file.
 */
export function buildSimilarityModel(
  spec: ResolvedSpec,
  a: ReadonlyMap<string, FloatTensor>,
  b: ReadonlyMap<string, FloatTensor>,
  precision: Precision,
  inMemoryLimitBytes = IN_MEMORY_LIMIT_BYTES,
): SimilarityModel {
  const costTensors = spec.tensors.filter((tensor) => tensor.cost && tensor.axes.some((axis) => axis !== null));
  const elementBytes = precision === 'float64' ? 8 : 4;
  const weightBytes = costTensors.reduce((total, tensor) => total + 2 * elementBytes * tensor.shape.reduce((product, size) => product * size, 1), 0);
  const builder = new GraphBuilder(precision, weightBytes > inMemoryLimitBytes);
  const inputs = new Map<string, { indices: string; select: string }>();
  [...spec.permutations.keys()].forEach((permutation, index) => {
    inputs.set(permutation, { indices: `perm_${index}`, select: `select_${index}` });
    builder.input(`perm_${index}`, Type.INT64, [spec.permutations.get(permutation) as number]);
    builder.input(`select_${index}`, Type.BOOL, [1]);
  });

  const weightNames = new Map<SpecTensor, { a: string; b: string }>();
  costTensors.forEach((tensor, index) => {
    const names = { a: `a_${index}`, b: `b_${index}` };
    builder.weight(names.a, tensor.shape, floatData(a, tensor.nameA, tensor, precision));
    builder.weight(names.b, tensor.shape, floatData(b, tensor.nameB, tensor, precision));
    weightNames.set(tensor, names);
  });

  const outputs = new Map<string, string>();
  [...spec.permutations.keys()].forEach((permutation, index) => {
    const terms: string[] = [];
    const branch = builder.branch(`C_${index}`);
    for (const tensor of costTensors) {
      tensor.axes.forEach((axis, axisIndex) => {
        if (axis?.permutation !== permutation) return;
        terms.push(similarityTerm(branch, tensor, axisIndex, weightNames.get(tensor) as { a: string; b: string }, inputs));
      });
    }
    if (terms.length === 0) return;
    const output = `C_${index}`;
    branch.finish(terms);
    builder.conditional(inputs.get(permutation)?.select as string, branch, output);
    outputs.set(permutation, output);
  });

  const bytes = builder.encode();
  return { bytes, inputs, outputs, external: builder.externalWeights() };
}

/** Adds the nodes of one term A_k · π_others(B)_kᵀ to `graph` and returns the name of its n×n result. */
function similarityTerm(
  graph: Subgraph,
  tensor: SpecTensor,
  axisIndex: number,
  weights: { a: string; b: string },
  inputs: ReadonlyMap<string, { indices: string }>,
): string {
  // Permute every other axis of B by its current permutation.
  let permutedB = weights.b;
  tensor.axes.forEach((other, otherIndex) => {
    if (other === null || otherIndex === axisIndex) return;
    const indices = inputs.get(other.permutation)?.indices as string;
    permutedB = gatherUnits(graph, permutedB, tensor.shape, otherIndex, other, indices);
  });

  const layout = axisLayout(tensor.shape, axisIndex, tensor.axes[axisIndex] as AxisPermutation);
  const rest = layout.before * layout.outer * layout.inner * layout.after;
  if (layout.before * layout.outer === 1) {
    // The units are already the leading index: (n, rest) is a reshape, and C = A · Bᵀ.
    const shape = graph.shape([layout.size, rest]);
    return graph.node('Gemm', [graph.node('Reshape', [weights.a, shape]), graph.node('Reshape', [permutedB, shape])], { transB: 1 });
  }
  if (layout.inner * layout.after === 1) {
    // The units are the trailing index (a Linear layer's input axis): (rest, n) is a reshape, and C = Aᵀ · B.
    const shape = graph.shape([rest, layout.size]);
    return graph.node('Gemm', [graph.node('Reshape', [weights.a, shape]), graph.node('Reshape', [permutedB, shape])], { transA: 1 });
  }
  const unitsFirst = (name: string): string => {
    const split = graph.node('Reshape', [name, graph.shape(fiveAxes(layout))]);
    const transposed = graph.node('Transpose', [split], { perm: [2, 0, 1, 3, 4] });
    return graph.node('Reshape', [transposed, graph.shape([layout.size, rest])]);
  };
  return graph.node('Gemm', [unitsFirst(weights.a), unitsFirst(permutedB)], { transB: 1 });
}

/** Gathers units along one axis: a plain axis directly, a grouped axis through its `(before, outer, n, inner, after)` view. */
function gatherUnits(graph: Subgraph, name: string, shape: readonly number[], axisIndex: number, axis: AxisPermutation, indices: string): string {
  if (axis.outer === 1 && axis.inner === 1) return graph.node('Gather', [name, indices], { axis: axisIndex });
  const layout = axisLayout(shape, axisIndex, axis);
  const split = graph.node('Reshape', [name, graph.shape(fiveAxes(layout))]);
  const gathered = graph.node('Gather', [split, indices], { axis: 2 });
  return graph.node('Reshape', [gathered, graph.shape([...shape])]);
}

function fiveAxes(layout: AxisLayout): number[] {
  return [layout.before, layout.outer, layout.size, layout.inner, layout.after];
}

function floatData(tensors: ReadonlyMap<string, FloatTensor>, name: string, tensor: SpecTensor, precision: Precision): Float32Array | Float64Array {
  const found = tensors.get(name);
  if (found === undefined) throw new Error(`tensor "${name}" of the spec was not loaded`);
  if (found.data.length !== tensor.shape.reduce((product, size) => product * size, 1)) {
    throw new Error(`tensor "${name}" has ${found.data.length} elements but the spec shape [${tensor.shape.join(', ')}] needs another count`);
  }
  if (precision === 'float64') return found.data instanceof Float64Array ? found.data : Float64Array.from(found.data);
  return found.data instanceof Float32Array ? found.data : Float32Array.from(found.data);
}

/** Nodes of one `If` branch. Shape constants live in the outer graph, which subgraphs may reference. */
class Subgraph {
  readonly nodes: onnx.INodeProto[] = [];
  private output = '';

  constructor(
    private readonly owner: GraphBuilder,
    private readonly prefix: string,
  ) {}

  node(opType: string, input: string[], attributes: Record<string, number | number[]> = {}): string {
    const output = `${this.prefix}_${this.nodes.length}`;
    const attribute = Object.entries(attributes).map(([name, value]) =>
      Array.isArray(value) ? { name, type: INTS, ints: value } : { name, type: INT, i: value },
    );
    this.nodes.push({ opType, input, output: [output], attribute });
    return output;
  }

  shape(dimensions: number[]): string {
    return this.owner.shape(dimensions);
  }

  /** Sums the terms into the branch output. */
  finish(terms: string[]): void {
    this.output = terms.length === 1 ? terms[0] : this.node('Sum', terms);
  }

  graph(): onnx.IGraphProto {
    return { name: this.prefix, node: this.nodes, output: [this.owner.valueInfo(this.output, this.owner.elementType)] };
  }
}

class GraphBuilder {
  readonly elementType: number;
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly shapes = new Map<string, string>();
  private readonly externalChunks: { offset: number; data: Float32Array | Float64Array }[] = [];
  private externalSize = 0;

  constructor(
    private readonly precision: Precision,
    private readonly external: boolean,
  ) {
    this.elementType = precision === 'float64' ? Type.DOUBLE : Type.FLOAT;
  }

  input(name: string, elementType: number, dimensions: number[]): void {
    this.inputs.push(this.valueInfo(name, elementType, dimensions));
  }

  /** Adds a weight initializer, in the model bytes or in the external data file. */
  weight(name: string, shape: readonly number[], data: Float32Array | Float64Array): void {
    if (!this.external) {
      this.initializers.push({ name, dims: [...shape], dataType: this.elementType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
      return;
    }
    const offset = Math.ceil(this.externalSize / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;
    this.externalChunks.push({ offset, data });
    this.externalSize = offset + data.byteLength;
    this.initializers.push({
      name,
      dims: [...shape],
      dataType: this.elementType,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: EXTERNAL_DATA_FILE },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(data.byteLength) },
      ],
    });
  }

  externalWeights(): ExternalWeights | undefined {
    return this.external ? { size: this.externalSize, chunks: this.externalChunks } : undefined;
  }

  /** Name of an int64 initializer holding `dimensions`, shared by every node that reshapes to it. */
  shape(dimensions: number[]): string {
    const key = dimensions.join(',');
    let name = this.shapes.get(key);
    if (name === undefined) {
      name = `shape_${this.shapes.size}`;
      const data = BigInt64Array.from(dimensions.map(BigInt));
      this.initializers.push({ name, dims: [dimensions.length], dataType: Type.INT64, rawData: new Uint8Array(data.buffer) });
      this.shapes.set(key, name);
    }
    return name;
  }

  branch(prefix: string): Subgraph {
    return new Subgraph(this, `${prefix}_then`);
  }

  /** Adds `output = If(select) then branch else an empty 0×0 matrix`. */
  conditional(select: string, branch: Subgraph, output: string): void {
    const empty = { name: `${output}_empty`, dims: [0, 0], dataType: this.elementType, rawData: new Uint8Array(0) };
    const elseBranch: onnx.IGraphProto = {
      name: `${output}_else`,
      node: [{ opType: 'Constant', output: [`${output}_else_value`], attribute: [{ name: 'value', type: TENSOR, t: empty }] }],
      output: [this.valueInfo(`${output}_else_value`, this.elementType)],
    };
    this.nodes.push({
      opType: 'If',
      input: [select],
      output: [output],
      attribute: [
        { name: 'then_branch', type: GRAPH, g: branch.graph() },
        { name: 'else_branch', type: GRAPH, g: elseBranch },
      ],
    });
    this.outputs.push(this.valueInfo(output, this.elementType));
  }

  valueInfo(name: string, elementType: number, dimensions?: number[]): onnx.IValueInfoProto {
    const shape = dimensions === undefined ? undefined : { dim: dimensions.map((dimValue) => ({ dimValue })) };
    return { name, type: { tensorType: { elemType: elementType, shape } } };
  }

  encode(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'checkpoint-aligner',
      opsetImport: [{ domain: '', version: 13 }],
      graph: { name: `weight_matching_${this.precision}`, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
