// Float32 chunks of a tensor whose stored bytes are one contiguous span of a file, read piece by piece so that
// statistics and diffs of multi-GB tensors run in bounded memory.
import { constants } from 'node:buffer';
import { CheckpointError, elementCount, type TensorEntry } from './checkpoint';
import { decodeToFloat, dtypeSize, swapByteOrder } from './dtype';
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

/** Number of float32 elements per chunk for a chunk budget of `maxChunkBytes` output bytes; at least one. */
export function elementsPerChunk(maxChunkBytes: number): number {
  if (!(maxChunkBytes > 0)) throw new RangeError(`maxChunkBytes must be positive, got ${maxChunkBytes}`);
  return Math.max(1, Math.floor(maxChunkBytes / Float32Array.BYTES_PER_ELEMENT));
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
 * Yields `entry` as float32 in row-major chunks of at most `maxChunkBytes` output bytes (at least one element).
 * Chunk boundaries fall on element boundaries. `entry.offset` and `entry.length` are positions in `file`;
 * `byteOrder` is the order of the stored bytes (big for some NumPy files).
 */
export async function* readContiguousFloat32Chunks(
  file: RandomAccessFile,
  entry: TensorEntry,
  maxChunkBytes: number,
  byteOrder: ByteOrder = 'little',
): AsyncGenerator<Float32Array> {
  const size = dtypeSize(entry.dtype);
  if (size === undefined) {
    throw new CheckpointError(file.path, `tensor "${entry.name}" has dtype ${entry.dtype}, which cannot be read as float32 element by element`, { tensor: entry.name, offset: entry.offset });
  }
  const count = elementCount(entry.shape);
  if (count * size !== entry.length) {
    throw new CheckpointError(file.path, `tensor "${entry.name}" stores ${entry.length} bytes but ${entry.dtype} ${JSON.stringify(entry.shape)} needs ${count * size}; the file is corrupt`, { tensor: entry.name, offset: entry.offset });
  }
  const step = elementsPerChunk(maxChunkBytes);
  for (let first = 0; first < count; first += step) {
    const chunkCount = Math.min(step, count - first);
    const bytes = await file.read(entry.offset + first * size, chunkCount * size, `tensor "${entry.name}"`);
    yield storedBytesToFloat32(bytes, entry.dtype, chunkCount, byteOrder);
  }
}
