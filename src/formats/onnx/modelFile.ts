// Reading and decoding an ONNX model file with onnx-proto, and locating initializer data fields in its bytes.
import { readFile } from 'node:fs/promises';
import { onnx } from 'onnx-proto';
import { CheckpointError } from '../checkpoint';
import { assertRegularFile } from '../regularFile';
import { int64ToSafeNumber, type Int64Value } from './tensorProto';
import { scanFields, type WireField } from './wire';

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
/** float_data, int32_data, string_data, int64_data, double_data, uint64_data. */
const TENSOR_TYPED_FIELDS = new Set([4, 5, 6, 7, 10, 11]);

/** Locations of one initializer's fields in the model file, as absolute offsets. */
export interface InitializerFields {
  /** The raw_data field, when present (the last occurrence wins, as in protobuf decoding). */
  readonly rawData?: WireField;
  /** The first typed data field, when present. */
  readonly typedData?: WireField;
  /** The whole TensorProto (its value, without the initializer field's tag and length). */
  readonly tensor: WireField;
}

/** Reads the whole model file. An ONNX model is at most 2 GiB, protobuf's message size limit. */
export async function readModelBytes(path: string): Promise<Buffer> {
  await assertRegularFile(path);
  try {
    return await readFile(path);
  } catch (error) {
    throw new CheckpointError(path, `cannot read the ONNX model: ${(error as Error).message}`);
  }
}

/** Decodes a ModelProto and checks that it is one: a protobuf message that has an IR version and a graph. */
export function decodeModel(path: string, bytes: Uint8Array): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new CheckpointError(
      path,
      `not a valid ONNX model: protobuf decoding failed (${(error as Error).message}); the file is truncated or is not an ONNX model`,
    );
  }
  const irVersion = int64ToSafeNumber(model.irVersion as Int64Value);
  if (model.graph == null || irVersion === undefined || irVersion <= 0) {
    throw new CheckpointError(
      path,
      `not an ONNX model: the protobuf message has no ${model.graph == null ? 'graph' : 'IR version'}; the file is truncated or is not an ONNX model`,
    );
  }
  return model;
}

/**
 * Locates every top-level initializer's data fields, in the order `model.graph.initializer` lists them.
 * A ModelProto may carry its graph field more than once; protobuf merges them, appending the initializers.
 */
export function locateInitializers(path: string, bytes: Uint8Array): InitializerFields[] {
  try {
    const located: InitializerFields[] = [];
    for (const graph of scanFields(bytes).filter((field) => field.fieldNumber === MODEL_GRAPH)) {
      for (const tensor of scanFields(bytes, graph.valueStart, graph.end).filter((field) => field.fieldNumber === GRAPH_INITIALIZER)) {
        const fields = scanFields(bytes, tensor.valueStart, tensor.end);
        located.push({
          tensor,
          rawData: fields.filter((field) => field.fieldNumber === TENSOR_RAW_DATA).at(-1),
          typedData: fields.find((field) => TENSOR_TYPED_FIELDS.has(field.fieldNumber)),
        });
      }
    }
    return located;
  } catch (error) {
    throw new CheckpointError(path, `not a valid ONNX model: ${(error as Error).message}; the file is truncated or is not an ONNX model`);
  }
}

/**
 * Loads the whole ModelProto, with every tensor's raw_data, for work on the graph (permutation spec inference,
 * evaluation). The returned model's raw_data arrays are views into the file's bytes, so the whole file stays in
 * memory while the model is referenced. External data is not loaded: such tensors keep their `externalData` entries.
 */
export async function loadOnnxModel(path: string): Promise<onnx.ModelProto> {
  return decodeModel(path, await readModelBytes(path));
}
