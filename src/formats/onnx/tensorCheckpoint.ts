// A Checkpoint over tensors whose stored bytes lie contiguously at known offsets in one or more files, as in
// ONNX raw_data and external data, Flax msgpack array payloads and GGUF tensor data. Formats supply the
// entries and, where a tensor is not stored contiguously, its bytes from memory.
import type { Checkpoint, CheckpointFormat, ChunkType, StoredTensor, TensorEntry } from '../checkpoint';
import { CheckpointError, elementCount } from '../checkpoint';
import { decodeStored, decodeToFloat, dtypeSize } from '../dtype';
import { RandomAccessFile } from '../fileRange';

export interface TensorCheckpointSource {
  readonly path: string;
  readonly format: CheckpointFormat;
  readonly tensors: readonly TensorEntry[];
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Stored bytes of tensors that are not contiguous in a file (ONNX typed fields), decoded at open. */
  readonly inMemory?: ReadonlyMap<string, Uint8Array>;
  /**
   * Byte ranges, in order, of tensors stored in several pieces of the main file (Flax arrays over 1 GiB, which
   * Flax writes in chunks). Their entries' offset is the first piece's and length the total.
   */
  readonly segments?: ReadonlyMap<string, readonly { readonly offset: number; readonly length: number }[]>;
  /**
   * Throws a CheckpointError when `entry` cannot be read `as` requested (an unsupported or quantized type).
   * By default every type with a `dtypeSize` is readable.
   */
  readonly checkReadable?: (entry: TensorEntry, as: 'stored' | 'float32' | 'float64') => void;
}

/** Builds a Checkpoint whose reads go straight to each tensor's bytes; `main` is the already opened `source.path`. */
export function createTensorCheckpoint(source: TensorCheckpointSource, main: RandomAccessFile): Checkpoint {
  const entries = new Map(source.tensors.map((entry) => [entry.name, entry]));
  const files = new Map<string, Promise<RandomAccessFile>>([[source.path, Promise.resolve(main)]]);
  let closed = false;

  const fileOf = (entry: TensorEntry): Promise<RandomAccessFile> => {
    const path = entry.file ?? source.path;
    let file = files.get(path);
    if (file === undefined) {
      file = RandomAccessFile.open(path);
      files.set(path, file);
    }
    return file;
  };

  const entryOf = (name: string, as: 'stored' | 'float32' | 'float64'): TensorEntry => {
    if (closed) throw new CheckpointError(source.path, 'the checkpoint was closed; open it again to read tensors');
    const entry = entries.get(name);
    if (entry === undefined) {
      throw new CheckpointError(source.path, `no tensor named "${name}"; run inspect to list the tensor names`, { tensor: name });
    }
    if (source.checkReadable !== undefined) {
      source.checkReadable(entry, as);
    } else if (dtypeSize(entry.dtype) === undefined) {
      throw new CheckpointError(source.path, `tensor "${name}" has type ${entry.dtype}, which cannot be read`, { tensor: name });
    }
    return entry;
  };

  const storedBytes = async (entry: TensorEntry): Promise<Uint8Array> => {
    const bytes = source.inMemory?.get(entry.name);
    if (bytes !== undefined) return bytes;
    const file = await fileOf(entry);
    const pieces = source.segments?.get(entry.name);
    if (pieces === undefined) return file.read(entry.offset, entry.length, `tensor "${entry.name}"`);
    const joined = new Uint8Array(entry.length);
    let filled = 0;
    for (const piece of pieces) {
      joined.set(await file.read(piece.offset, piece.length, `tensor "${entry.name}"`), filled);
      filled += piece.length;
    }
    return joined;
  };

  async function readTensor(name: string, as: 'float32'): Promise<Float32Array>;
  async function readTensor(name: string, as: 'float64'): Promise<Float64Array>;
  async function readTensor(name: string, as?: 'stored'): Promise<StoredTensor>;
  async function readTensor(name: string, as: 'stored' | 'float32' | 'float64' = 'stored'): Promise<StoredTensor | Float32Array | Float64Array> {
    const entry = entryOf(name, as);
    const bytes = await storedBytes(entry);
    const count = elementCount(entry.shape);
    if (as === 'stored') return { dtype: entry.dtype, shape: entry.shape, data: decodeStored(bytes, entry.dtype, count) };
    return decodeToFloat(bytes, entry.dtype, count, as === 'float32' ? Float32Array : Float64Array);
  }

  async function* readTensorChunks(name: string, maxChunkBytes: number, as: ChunkType = 'float32'): AsyncIterable<Float32Array | Float64Array> {
    const outputBytes = as === 'float64' ? 8 : 4;
    if (!(maxChunkBytes >= outputBytes)) throw new RangeError(`maxChunkBytes must be at least ${outputBytes} (one ${as}), not ${maxChunkBytes}`);
    const entry = entryOf(name, as);
    const count = elementCount(entry.shape);
    const elementsPerChunk = Math.floor(maxChunkBytes / outputBytes);
    const inMemory = source.inMemory?.get(entry.name);
    const size = dtypeSize(entry.dtype);
    // NOTE: tensors held in memory or stored in pieces are decoded whole and then sliced.
    if (inMemory !== undefined || size === undefined || source.segments?.has(entry.name)) {
      const values = as === 'float64' ? await readTensor(name, 'float64') : await readTensor(name, 'float32');
      for (let start = 0; start < count; start += elementsPerChunk) yield values.slice(start, start + elementsPerChunk);
      return;
    }
    const file = await fileOf(entry);
    const target = as === 'float64' ? Float64Array : Float32Array;
    for (let start = 0; start < count; start += elementsPerChunk) {
      const chunkCount = Math.min(elementsPerChunk, count - start);
      const bytes = await file.read(entry.offset + start * size, chunkCount * size, `tensor "${entry.name}"`);
      yield decodeToFloat(bytes, entry.dtype, chunkCount, target);
    }
  }

  return {
    path: source.path,
    format: source.format,
    tensors: source.tensors,
    metadata: source.metadata,
    readTensor,
    readTensorChunks: readTensorChunks as Checkpoint['readTensorChunks'],
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const opened = await Promise.allSettled(files.values());
      for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
    },
  };
}
