// Float32 or float64 chunks of a tensor whose stored bytes are one contiguous span of a file, read piece by piece
// so that statistics and diffs of multi-GB tensors run in bounded memory.
import { constants } from 'node:buffer';
import { CheckpointError, elementCount, type ChunkType, type TensorEntry } from './checkpoint';
import { decodeIntoFloat, decodeToFloat, dtypeSize, swapByteOrder } from './dtype';
import type { RandomAccessFile } from './fileRange';

export type ByteOrder = 'little' | 'big';

/**
 * Throws a CheckpointError when the stored bytes of `entry` are too many to read in one piece: a typed array
 * has at most `buffer.constants.MAX_LENGTH` bytes (4 GiB in Node 20).
 */
export function checkWholeReadSize(path: string, entry: TensorEntry): void {
  if (entry.length > constants.MAX_LENGTH) {
    throw new CheckpointError(path, `tensor "${entry.name}" is ${entry.length} bytes, more than the ${constants.MAX_LENGTH} bytes one read can hold; read it with readTensorChunks instead`, { tensor: entry.name, offset: entry.offset });
  }
}

/** Number of elements per chunk for a budget of `maxChunkBytes` output bytes of type `as`; at least one. */
export function elementsPerChunk(maxChunkBytes: number, as: ChunkType = 'float32'): number {
  if (!(maxChunkBytes > 0)) throw new RangeError(`maxChunkBytes must be positive, got ${maxChunkBytes}`);
  return Math.max(1, Math.floor(maxChunkBytes / (as === 'float64' ? 8 : 4)));
}

/** Converts stored bytes of `count` elements to `as`, like `storedBytesToFloat32` for float32. */
export function storedBytesToFloat(bytes: Uint8Array, dtype: string, count: number, byteOrder: ByteOrder, as: ChunkType): Float32Array | Float64Array {
  if (as === 'float32') return storedBytesToFloat32(bytes, dtype, count, byteOrder);
  const size = dtypeSize(dtype);
  if (size !== undefined && byteOrder === 'big') swapByteOrder(bytes, size);
  return decodeToFloat(bytes, dtype, count, Float64Array);
}

/**
 * Converts stored bytes of `count` elements to float32. Little-endian F32 read into a fresh buffer is
 * reinterpreted without copying, because it already is the output.
 */
export function storedBytesToFloat32(bytes: Uint8Array, dtype: string, count: number, byteOrder: ByteOrder): Float32Array {
  const size = dtypeSize(dtype);
  if (size !== undefined && byteOrder === 'big') swapByteOrder(bytes, size);
  if (dtype === 'F32' && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  return decodeToFloat(bytes, dtype, count, Float32Array) as Float32Array;
}

/**
 * Yields `entry` as float32 or float64 (`as`) in row-major chunks of at most `maxChunkBytes` output bytes (at
 * least one element).
 * Chunk boundaries fall on element boundaries. `entry.offset` and `entry.length` are positions in `file`;
 * `byteOrder` is the order of the stored bytes (big for some NumPy files).
 *
 * Two sets of buffers take turns: while the consumer works on one chunk, the next is read into the other set on
 * libuv's thread pool. A yielded chunk is therefore overwritten as soon as the consumer requests the next chunk,
 * which `Checkpoint.readTensorChunks` allows.
 */
export async function* readContiguousChunks(
  file: RandomAccessFile,
  entry: TensorEntry,
  maxChunkBytes: number,
  byteOrder: ByteOrder = 'little',
  as: ChunkType = 'float32',
): AsyncGenerator<Float32Array | Float64Array> {
  const size = dtypeSize(entry.dtype);
  if (size === undefined) {
    throw new CheckpointError(file.path, `tensor "${entry.name}" has dtype ${entry.dtype}, which cannot be read as float32 element by element`, { tensor: entry.name, offset: entry.offset });
  }
  const count = elementCount(entry.shape);
  if (count * size !== entry.length) {
    throw new CheckpointError(file.path, `tensor "${entry.name}" stores ${entry.length} bytes but ${entry.dtype} ${JSON.stringify(entry.shape)} needs ${count * size}; the file is corrupt`, { tensor: entry.name, offset: entry.offset });
  }
  if (count === 0) return;
  const step = Math.min(elementsPerChunk(maxChunkBytes, as), count);
  // Little-endian F32 bytes are the float32 output itself; every other case decodes into a buffer of its own.
  const decodes = as === 'float64' || entry.dtype !== 'F32' || byteOrder === 'big';
  const newFloats = (): Float32Array | Float64Array | undefined => {
    if (!decodes) return undefined;
    return as === 'float64' ? new Float64Array(step) : new Float32Array(step);
  };
  const slots = [0, 1].map(() => ({ bytes: new Uint8Array(step * size), floats: newFloats() }));
  const what = `tensor "${entry.name}"`;
  const readChunk = (index: number): Promise<Uint8Array> => {
    const first = index * step;
    const bytes = slots[index % 2].bytes.subarray(0, Math.min(step, count - first) * size);
    return file.readInto(bytes, entry.offset + first * size, what).then(() => bytes);
  };

  const chunks = Math.ceil(count / step);
  let pending: Promise<Uint8Array> | undefined = readChunk(0);
  try {
    for (let index = 0; index < chunks; index++) {
      const bytes: Uint8Array = await pending!;
      pending = index + 1 < chunks ? readChunk(index + 1) : undefined;
      // A read-ahead that fails is reported when the consumer reaches its chunk, or never if it stops earlier.
      pending?.catch(() => undefined);
      const chunkCount = bytes.byteLength / size;
      const floats = slots[index % 2].floats;
      yield floats === undefined ? new Float32Array(bytes.buffer, bytes.byteOffset, chunkCount) : decodeChunk(bytes, entry.dtype, chunkCount, byteOrder, floats);
    }
  } finally {
    // A consumer that stops early may close the file next; let the read still in flight finish first.
    await pending?.catch(() => undefined);
  }
}

function decodeChunk<T extends Float32Array | Float64Array>(bytes: Uint8Array, dtype: string, count: number, byteOrder: ByteOrder, floats: T): T {
  if (byteOrder === 'big') swapByteOrder(bytes, dtypeSize(dtype)!);
  return decodeIntoFloat(bytes, dtype, count, floats.subarray(0, count) as T);
}
