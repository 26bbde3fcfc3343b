// Reads of initializers whose typed data fields (float_data, int64_data, …) were too large to decode at open.
// Those fields are varint or fixed-width lists rather than the stored layout, so each read decodes the whole
// TensorProto from the model file and converts its values, as opening does for small typed fields.
import { onnx } from 'onnx-proto';
import type { Checkpoint, StoredTensor, TensorEntry } from '../checkpoint';
import { CheckpointError, elementCount } from '../checkpoint';
import { decodeStored, decodeToFloat } from '../dtype';
import type { RandomAccessFile } from '../fileRange';
import type { TypedFieldsOnDemand } from './modelScan';
import { typedDataBytes } from './tensorProto';

type FloatType = 'float32' | 'float64';

/** Decodes an initializer from its other fields followed by its typed data fields read from `file`. */
async function readTypedTensor(file: RandomAccessFile, name: string, fields: TypedFieldsOnDemand): Promise<onnx.TensorProto> {
  const pieces = [fields.header];
  for (const span of fields.spans) pieces.push(await file.read(span.start, span.end - span.start, `typed data of initializer "${name}"`));
  return onnx.TensorProto.decode(Buffer.concat(pieces));
}

/**
 * Wraps `checkpoint` so that reads of the tensors in `onDemand` decode their typed data fields from `file`, the
 * checkpoint's own model file. Reads of other tensors go to `checkpoint`.
 */
export function withTypedFieldsOnDemand(
  checkpoint: Checkpoint,
  file: RandomAccessFile,
  onDemand: ReadonlyMap<string, TypedFieldsOnDemand>,
  checkReadable: (entry: TensorEntry) => void,
): Checkpoint {
  const entries = new Map(checkpoint.tensors.map((entry) => [entry.name, entry]));
  let closed = false;

  const storedBytes = async (entry: TensorEntry, fields: TypedFieldsOnDemand): Promise<Uint8Array> => {
    if (closed) throw new CheckpointError(checkpoint.path, 'the checkpoint was closed; open it again to read tensors');
    checkReadable(entry);
    return typedDataBytes(await readTypedTensor(file, entry.name, fields), checkpoint.path);
  };

  const readWhole = async (entry: TensorEntry, fields: TypedFieldsOnDemand, as: 'stored' | FloatType): Promise<StoredTensor | Float32Array | Float64Array> => {
    const bytes = await storedBytes(entry, fields);
    const count = elementCount(entry.shape);
    if (as === 'stored') return { dtype: entry.dtype, shape: entry.shape, data: decodeStored(bytes, entry.dtype, count) };
    return decodeToFloat(bytes, entry.dtype, count, as === 'float32' ? Float32Array : Float64Array);
  };

  const readTensor = (name: string, as: 'stored' | FloatType = 'stored'): Promise<StoredTensor | Float32Array | Float64Array> => {
    const entry = entries.get(name);
    const fields = onDemand.get(name);
    if (entry === undefined || fields === undefined) return (checkpoint.readTensor as (name: string, as: string) => Promise<StoredTensor>)(name, as);
    return readWhole(entry, fields, as);
  };

  async function* readChunks(name: string, maxChunkBytes: number, as: FloatType): AsyncIterable<Float32Array | Float64Array> {
    const outputBytes = as === 'float64' ? 8 : 4;
    if (!(maxChunkBytes >= outputBytes)) throw new RangeError(`maxChunkBytes must be at least ${outputBytes} (one ${as}), not ${maxChunkBytes}`);
    const values = (await readTensor(name, as)) as Float32Array | Float64Array;
    const elementsPerChunk = Math.floor(maxChunkBytes / outputBytes);
    // NOTE: the tensor is decoded whole and then sliced, because typed fields cannot be read in pieces.
    for (let start = 0; start < values.length; start += elementsPerChunk) yield values.slice(start, start + elementsPerChunk);
  }

  const readTensorChunks = (name: string, maxChunkBytes: number, as: FloatType = 'float32'): AsyncIterable<Float32Array | Float64Array> => {
    if (!onDemand.has(name)) return (checkpoint.readTensorChunks as (name: string, maxChunkBytes: number, as: FloatType) => AsyncIterable<Float32Array>)(name, maxChunkBytes, as);
    return readChunks(name, maxChunkBytes, as);
  };

  return {
    path: checkpoint.path,
    format: checkpoint.format,
    tensors: checkpoint.tensors,
    metadata: checkpoint.metadata,
    readTensor: readTensor as Checkpoint['readTensor'],
    readTensorChunks: readTensorChunks as Checkpoint['readTensorChunks'],
    async close(): Promise<void> {
      closed = true;
      await checkpoint.close();
    },
  };
}
