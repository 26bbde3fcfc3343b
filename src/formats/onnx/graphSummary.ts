// A JSON-friendly summary of an ONNX model's graph, for `Checkpoint.metadata.graph`.
import type { onnx } from 'onnx-proto';
import { dtypeOfOnnxType } from './dataTypes';
import { int64ToSafeNumber, type Int64Value } from './tensorProto';

/** A graph input or output. Dimensions are numbers, symbolic names (`"batch"`) or null when unknown. */
export interface ValueSummary {
  readonly name: string;
  /** `tensor`, or the kind of a non-tensor value: `sequence`, `map`, `optional`, `sparse_tensor`. */
  readonly kind: string;
  /** Element type as a safetensors dtype where one exists, else the ONNX name; absent for non-tensor values. */
  readonly elementType?: string;
  /** Absent when the shape is not given. */
  readonly shape?: readonly (number | string | null)[];
}

export interface GraphSummary {
  readonly name: string;
  readonly irVersion: number | undefined;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number | undefined;
  readonly opsetImports: readonly { readonly domain: string; readonly version: number | undefined }[];
  /** Graph inputs that are not initializers (IR version 3 and older also list initializers as inputs). */
  readonly inputs: readonly ValueSummary[];
  readonly outputs: readonly ValueSummary[];
  /** Nodes of the main graph, not counting nodes inside subgraphs (If, Loop, Scan bodies). */
  readonly nodeCount: number;
  /** Nodes per operator, keyed `op_type` for the default domain and `domain::op_type` otherwise. */
  readonly operatorCounts: Readonly<Record<string, number>>;
  readonly initializerCount: number;
  /** Names of sparse initializers, which are not listed as tensors. */
  readonly sparseInitializers: readonly string[];
}

function summarizeValue(value: onnx.IValueInfoProto): ValueSummary {
  const name = value.name ?? '';
  const type = value.type;
  if (type?.tensorType == null) {
    const kind = type?.sequenceType != null ? 'sequence'
      : type?.mapType != null ? 'map'
        : type?.optionalType != null ? 'optional'
          : type?.sparseTensorType != null ? 'sparse_tensor' : 'unknown';
    return { name, kind };
  }
  const tensorType = type.tensorType;
  const shape = tensorType.shape?.dim?.map((dim) => {
    if (dim.dimParam) return dim.dimParam;
    if (dim.dimValue != null) {
      return int64ToSafeNumber(dim.dimValue as Int64Value) ?? null;
    }
    return null;
  });
  return { name, kind: 'tensor', elementType: dtypeOfOnnxType(tensorType.elemType ?? 0), ...(shape === undefined ? {} : { shape }) };
}

const optionalNumber = (value: Int64Value | null | undefined): number | undefined =>
  value == null ? undefined : int64ToSafeNumber(value);

export function summarizeGraph(model: onnx.IModelProto): GraphSummary {
  const graph = model.graph ?? {};
  const initializerNames = new Set((graph.initializer ?? []).map((tensor) => tensor.name ?? ''));
  const operatorCounts: Record<string, number> = {};
  for (const node of graph.node ?? []) {
    const key = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}::${node.opType ?? ''}` : node.opType ?? '';
    operatorCounts[key] = (operatorCounts[key] ?? 0) + 1;
  }
  return {
    name: graph.name ?? '',
    irVersion: optionalNumber(model.irVersion as Int64Value | null | undefined),
    producerName: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    domain: model.domain ?? '',
    modelVersion: optionalNumber(model.modelVersion as Int64Value | null | undefined),
    opsetImports: (model.opsetImport ?? []).map((opset) => ({
      domain: opset.domain ?? '',
      version: optionalNumber(opset.version as Int64Value | null | undefined),
    })),
    inputs: (graph.input ?? []).filter((input) => !initializerNames.has(input.name ?? '')).map(summarizeValue),
    outputs: (graph.output ?? []).map(summarizeValue),
    nodeCount: graph.node?.length ?? 0,
    operatorCounts,
    initializerCount: initializerNames.size,
    sparseInitializers: (graph.sparseInitializer ?? []).map((sparse) => sparse.values?.name ?? ''),
  };
}

/** Collects the model's `metadata_props` into a record. */
export function metadataProps(model: onnx.IModelProto): Record<string, string> {
  const props: Record<string, string> = {};
  for (const entry of model.metadataProps ?? []) props[entry.key ?? ''] = entry.value ?? '';
  return props;
}
