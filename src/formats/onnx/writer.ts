// Writes a copy of an ONNX model with new initializer values.
//
// The copy is spliced at the protobuf wire level rather than decoded and re-encoded. Every field of the template
// is copied byte for byte except the graph's replaced initializers and the overridden metadata_props entries, so
// fields newer than onnx-proto's schema (ONNX 1.10) survive. Replaced initializers keep every field but their data
// fields, and get their new values as raw_data.
import { onnx } from 'onnx-proto';
import type { NamedTensor, WriteOptions } from '../checkpoint';
import { CheckpointError, elementCount } from '../checkpoint';
import { writeFileAtomically } from '../atomicWrite';
import { dtypeOfOnnxType, onnxElementSize, onnxTypeName } from './dataTypes';
import { decodeModel, locateInitializers, readModelBytes } from './modelFile';
import { openOnnx } from './reader';
import { tensorShape } from './tensorProto';
import { lengthDelimitedHeader, scanFields, type WireField } from './wire';

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
/** float_data, int32_data, string_data, int64_data, raw_data, double_data, uint64_data, external_data, data_location. */
const TENSOR_DATA_FIELDS = new Set([4, 5, 6, 7, 9, 10, 11, 13, 14]);

/** Protobuf messages, and so ONNX models without external data, are limited to 2 GiB. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

/**
 * Writes `templatePath` with the initializers named in `tensors` replaced, to `output` through a temporary file.
 * Each replacement must have the initializer's dtype and shape. Initializers the template keeps in external data
 * and that are not replaced are copied into the output as raw_data, so the output is self-contained.
 * `options.metadata` entries are added to the model's metadata_props, replacing entries with the same key.
 */
export async function writeOnnxWithInitializers(
  output: string,
  templatePath: string,
  tensors: readonly NamedTensor[],
  options: WriteOptions,
): Promise<void> {
  const bytes = await readModelBytes(templatePath);
  const model = decodeModel(templatePath, bytes);
  const initializers = (model.graph?.initializer ?? []) as onnx.TensorProto[];
  const located = locateInitializers(templatePath, bytes);
  const replacements = await checkedReplacements(templatePath, initializers, tensors);
  const external = await externalValues(templatePath, initializers, replacements);

  // Initializer fields in wire order, matched to `initializers` by position.
  const newTensorBytes = new Map<number, Uint8Array[]>();
  initializers.forEach((tensor, index) => {
    const values = replacements.get(tensor.name) ?? external.get(tensor.name);
    if (values !== undefined) newTensorBytes.set(located[index].tensor.start, rewriteTensor(bytes, located[index].tensor, values));
  });

  const metadata = options.metadata ?? {};
  const pieces: Uint8Array[] = [];
  for (const field of scanFields(bytes)) {
    if (field.fieldNumber === MODEL_GRAPH) {
      // A loop, not push(...pieces): a graph of over about 130 000 nodes would overflow the call stack.
      for (const piece of rewriteGraph(bytes, field, newTensorBytes)) pieces.push(piece);
    } else if (field.fieldNumber === MODEL_METADATA_PROPS && overriddenKey(bytes, field, metadata)) {
      continue;
    } else {
      pieces.push(bytes.subarray(field.start, field.end));
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    const entry = onnx.StringStringEntryProto.encode({ key, value }).finish();
    pieces.push(lengthDelimitedHeader(MODEL_METADATA_PROPS, entry.length), entry);
  }

  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  if (total > MAX_MODEL_BYTES) {
    throw new CheckpointError(output, `the model would be ${total} bytes, over protobuf's 2 GiB limit; writing external data is not supported`);
  }
  await writeFileAtomically(
    output,
    [...options.inputs, templatePath],
    async (handle) => {
      for (const piece of pieces) {
        options.signal?.throwIfAborted();
        await handle.write(piece);
      }
    },
    options.signal,
  );
}

/** Checks every replacement against its initializer and returns its little-endian bytes by name. */
async function checkedReplacements(
  templatePath: string,
  initializers: readonly onnx.TensorProto[],
  tensors: readonly NamedTensor[],
): Promise<Map<string, Uint8Array>> {
  const byName = new Map(initializers.map((tensor) => [tensor.name, tensor]));
  const replacements = new Map<string, Uint8Array>();
  for (const tensor of tensors) {
    const initializer = byName.get(tensor.name);
    if (initializer === undefined) {
      throw new CheckpointError(templatePath, `the template has no initializer named "${tensor.name}"; check the tensor names against inspect's listing`, { tensor: tensor.name });
    }
    if (replacements.has(tensor.name)) {
      throw new CheckpointError(templatePath, `initializer "${tensor.name}" is given twice`, { tensor: tensor.name });
    }
    const dtype = dtypeOfOnnxType(initializer.dataType);
    const shape = tensorShape(initializer, templatePath);
    if (tensor.dtype !== dtype) {
      throw new CheckpointError(templatePath, `initializer "${tensor.name}" is ${dtype} but the new values are ${tensor.dtype}; convert them first`, { tensor: tensor.name });
    }
    if (JSON.stringify(tensor.shape) !== JSON.stringify(shape)) {
      throw new CheckpointError(
        templatePath,
        `initializer "${tensor.name}" has shape ${JSON.stringify(shape)} but the new values have shape ${JSON.stringify(tensor.shape)}`,
        { tensor: tensor.name },
      );
    }
    const expected = elementCount(shape) * (onnxElementSize(initializer.dataType) ?? NaN);
    const data = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    if (data.length !== expected) {
      throw new CheckpointError(templatePath, `initializer "${tensor.name}": the new values hold ${data.length} bytes but ${onnxTypeName(initializer.dataType)} ${JSON.stringify(shape)} needs ${expected}`, { tensor: tensor.name });
    }
    replacements.set(tensor.name, data);
  }
  return replacements;
}

/** Reads the stored bytes of the externally stored initializers that are not replaced. */
async function externalValues(
  templatePath: string,
  initializers: readonly onnx.TensorProto[],
  replacements: ReadonlyMap<string, Uint8Array>,
): Promise<Map<string, Uint8Array>> {
  const names = initializers
    .filter((tensor) => tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL && !replacements.has(tensor.name))
    .map((tensor) => tensor.name);
  const values = new Map<string, Uint8Array>();
  if (names.length === 0) return values;
  // The reader resolves and checks the external locations and lengths, and reads only each tensor's bytes.
  const template = await openOnnx(templatePath);
  try {
    for (const name of names) {
      const stored = await template.readTensor(name);
      values.set(name, new Uint8Array(stored.data.buffer, stored.data.byteOffset, stored.data.byteLength));
    }
  } finally {
    await template.close();
  }
  return values;
}

/** Encodes the initializer field: the TensorProto without its data fields, then `values` as raw_data. */
function rewriteTensor(bytes: Uint8Array, tensor: WireField, values: Uint8Array): Uint8Array[] {
  const keptFields = scanFields(bytes, tensor.valueStart, tensor.end)
    .filter((field) => !TENSOR_DATA_FIELDS.has(field.fieldNumber))
    .map((field) => bytes.subarray(field.start, field.end));
  const rawHeader = lengthDelimitedHeader(TENSOR_RAW_DATA, values.length);
  const length = keptFields.reduce((sum, piece) => sum + piece.length, 0) + rawHeader.length + values.length;
  return [lengthDelimitedHeader(GRAPH_INITIALIZER, length), ...keptFields, rawHeader, values];
}

/** Encodes the graph field with the rewritten initializers, which are keyed by the start offset of their original field. */
function rewriteGraph(bytes: Uint8Array, graph: WireField, newTensorBytes: ReadonlyMap<number, Uint8Array[]>): Uint8Array[] {
  const body: Uint8Array[] = [];
  for (const field of scanFields(bytes, graph.valueStart, graph.end)) {
    const rewritten = field.fieldNumber === GRAPH_INITIALIZER ? newTensorBytes.get(field.start) : undefined;
    if (rewritten !== undefined) body.push(...rewritten);
    else body.push(bytes.subarray(field.start, field.end));
  }
  const length = body.reduce((sum, piece) => sum + piece.length, 0);
  return [lengthDelimitedHeader(MODEL_GRAPH, length), ...body];
}

function overriddenKey(bytes: Uint8Array, field: WireField, metadata: Readonly<Record<string, string>>): boolean {
  const entry = onnx.StringStringEntryProto.decode(bytes.subarray(field.valueStart, field.end));
  return Object.prototype.hasOwnProperty.call(metadata, entry.key);
}
