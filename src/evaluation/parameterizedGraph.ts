// Rewrites a model's ONNX graph so that its weights are graph inputs: one inference session then evaluates the
// network at every interpolation point, fed with new weights per run instead of being created once per point.
import { onnx } from 'onnx-proto';
import { CheckpointError, elementCount, type TensorEntry } from '../formats/checkpoint';
import { isFloatingDType } from '../formats/dtype';
import { onnxDataType, onnxTypeName } from '../formats/onnx/dataTypes';
import { loadOnnxModel } from '../formats/onnx/reader';
import { int64ToSafeNumber, tensorShape, type Int64Value } from '../formats/onnx/tensorProto';
import { commonWrapperPrefix, TensorNameIndex } from '../alignment/tensorNameMatching';

/** Element types the evaluation feeds: weights and data are float32 or float64 in the graph. */
export type GraphFloatType = 'float32' | 'float64';

/** A former initializer that is now a graph input fed from the checkpoints. */
export interface WeightInput {
  /** Initializer name in the graph, now an input name. */
  readonly input: string;
  /** The tensor's name in checkpoint A. */
  readonly nameA: string;
  readonly shape: readonly number[];
  readonly type: GraphFloatType;
}

/** One BatchNormalization node whose running statistics are weight inputs. */
export interface BatchNormNode {
  /** Node name, or its output name when the node has none; used in messages. */
  readonly label: string;
  /** The node's input activation X, added as a graph output so its statistics can be measured. */
  readonly activation: string;
  /** Weight inputs holding the running mean and the running variance. */
  readonly mean: string;
  readonly variance: string;
}

export interface ParameterizedGraph {
  readonly path: string;
  /** Encoded ModelProto with the weight initializers moved to inputs and the BatchNorm inputs added as outputs. */
  readonly bytes: Uint8Array;
  readonly weights: readonly WeightInput[];
  /** The data input: the one graph input that is not a weight. */
  readonly dataInput: { readonly name: string; readonly type: GraphFloatType; readonly dims: readonly (number | string | undefined)[] };
  /** The first graph output: logits `[batch, classes]`. */
  readonly output: string;
  /** BatchNormalization nodes in graph order, which ONNX requires to be a topological order. */
  readonly batchNorms: readonly BatchNormNode[];
}

const TYPES: ReadonlyMap<number, GraphFloatType> = new Map([
  [onnxDataType.FLOAT, 'float32'],
  [onnxDataType.DOUBLE, 'float64'],
]);

/**
 * Loads `graphPath` and turns every initializer that is a tensor of `checkpoint` (names compared after wrapper
 * prefixes) into a graph input. Throws CheckpointError listing the unmatched names when a floating checkpoint
 * tensor has no initializer, or the graph has a weight initializer the checkpoint lacks, or shapes differ.
 */
export async function parameterizeGraph(graphPath: string, checkpoint: { path: string; tensors: readonly TensorEntry[] }): Promise<ParameterizedGraph> {
  const model = await loadOnnxModel(graphPath);
  const graph = model.graph as onnx.GraphProto;
  const initializers = graph.initializer as onnx.TensorProto[];
  const index = new TensorNameIndex(checkpoint.tensors.map((entry) => entry.name));
  const graphPrefix = commonWrapperPrefix(initializers.map((tensor) => tensor.name));
  const entries = new Map(checkpoint.tensors.map((entry) => [entry.name, entry]));

  const weights: WeightInput[] = [];
  const kept: onnx.TensorProto[] = [];
  const graphOnly: string[] = [];
  const wrongShape: string[] = [];
  const matched = new Set<string>();
  for (const tensor of initializers) {
    const name = index.find(tensor.name, graphPrefix);
    const shape = tensorShape(tensor, graphPath);
    const type = TYPES.get(tensor.dataType);
    if (name === undefined) {
      // Scalars and integer tensors are the exporter's constants (shapes, axes, epsilons), not weights.
      if (type !== undefined && elementCount(shape) > 1) graphOnly.push(tensor.name);
      kept.push(tensor);
      continue;
    }
    const entry = entries.get(name) as TensorEntry;
    matched.add(name);
    if (shape.length !== entry.shape.length || shape.some((size, axis) => size !== entry.shape[axis])) {
      wrongShape.push(`${tensor.name}: [${shape.join(', ')}] in the graph, [${entry.shape.join(', ')}] in the checkpoint`);
      continue;
    }
    if (type === undefined) {
      if (isFloatingDType(entry.dtype)) {
        throw new CheckpointError(graphPath, `initializer "${tensor.name}" has type ${onnxTypeName(tensor.dataType)}; evaluation supports float32 and float64 graphs`, { tensor: tensor.name });
      }
      kept.push(tensor);
      continue;
    }
    weights.push({ input: tensor.name, nameA: name, shape, type });
  }
  // Exporters drop integer buffers such as `num_batches_tracked`, so only floating tensors must be in the graph.
  const checkpointOnly = checkpoint.tensors.filter((entry) => isFloatingDType(entry.dtype) && !matched.has(entry.name)).map((entry) => entry.name);
  if (graphOnly.length > 0 || checkpointOnly.length > 0 || wrongShape.length > 0) {
    throw new CheckpointError(graphPath, mismatchMessage(checkpoint.path, graphOnly, checkpointOnly, wrongShape));
  }

  const dataInputs = (graph.input ?? []).filter((input) => !initializers.some((tensor) => tensor.name === input.name));
  if (dataInputs.length !== 1) {
    throw new CheckpointError(graphPath, `the graph has ${dataInputs.length} data inputs (${dataInputs.map((input) => input.name).join(', ') || 'none'}); evaluation supports models with exactly one input`);
  }
  const dataInput = describeDataInput(graphPath, dataInputs[0]);
  const output = graph.output?.[0]?.name;
  if (!output) throw new CheckpointError(graphPath, 'the graph has no output; export the model with its logits as the first output');

  const weightNames = new Set(weights.map((weight) => weight.input));
  const batchNorms = findBatchNorms(graph, weightNames);

  graph.initializer = kept;
  graph.input = [
    ...dataInputs,
    ...weights.map((weight) => valueInfo(weight.input, weight.type, weight.shape)),
  ];
  const outputs = new Set(graph.output.map((value) => value.name));
  for (const node of batchNorms) {
    if (!outputs.has(node.activation)) graph.output.push(valueInfo(node.activation, dataInput.type, undefined));
    outputs.add(node.activation);
  }
  return { path: graphPath, bytes: onnx.ModelProto.encode(model).finish(), weights, dataInput, output, batchNorms };
}

function mismatchMessage(checkpointPath: string, graphOnly: readonly string[], checkpointOnly: readonly string[], wrongShape: readonly string[]): string {
  const parts: string[] = [];
  if (graphOnly.length > 0) parts.push(`initializers not in ${checkpointPath}: ${graphOnly.join(', ')}`);
  if (checkpointOnly.length > 0) parts.push(`tensors of ${checkpointPath} with no initializer: ${checkpointOnly.join(', ')}`);
  if (wrongShape.length > 0) parts.push(`shapes differ for ${wrongShape.join('; ')}`);
  return (
    `the graph's initializers do not match the checkpoint's tensors (${parts.join('; ')}); ` +
    'export the model with torch.onnx.export(..., do_constant_folding=False) so initializers keep their state-dict names, or pass the right --graph'
  );
}

function describeDataInput(graphPath: string, input: onnx.IValueInfoProto): ParameterizedGraph['dataInput'] {
  const tensorType = input.type?.tensorType;
  const type = TYPES.get(tensorType?.elemType ?? 0);
  if (type === undefined) {
    throw new CheckpointError(graphPath, `graph input "${input.name}" has type ${onnxTypeName(tensorType?.elemType ?? 0)}; evaluation supports float32 and float64 inputs`);
  }
  const dims = (tensorType?.shape?.dim ?? []).map((dim) => {
    if (dim.dimParam) return dim.dimParam;
    return dim.dimValue == null ? undefined : int64ToSafeNumber(dim.dimValue as Int64Value);
  });
  return { name: input.name as string, type, dims };
}

function findBatchNorms(graph: onnx.IGraphProto, weightNames: ReadonlySet<string>): BatchNormNode[] {
  const nodes: BatchNormNode[] = [];
  for (const node of graph.node ?? []) {
    if (node.opType !== 'BatchNormalization' || (node.domain ?? '') !== '') continue;
    const [activation, , , mean, variance] = node.input ?? [];
    if (!weightNames.has(mean) || !weightNames.has(variance)) continue;
    nodes.push({ label: node.name || (node.output?.[0] ?? activation), activation, mean, variance });
  }
  return nodes;
}

function valueInfo(name: string, type: GraphFloatType, shape: readonly number[] | undefined): onnx.ValueInfoProto {
  const elemType = type === 'float32' ? onnxDataType.FLOAT : onnxDataType.DOUBLE;
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: shape === undefined ? undefined : { dim: shape.map((dimValue) => ({ dimValue })) } } },
  });
}
