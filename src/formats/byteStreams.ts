// Tensor bytes that arrive as a stream of pieces of any size, such as the output of an inflating zip record, cut
// to one tensor's span and regrouped into float32 or float64 chunks in bounded memory.
import { CheckpointError, type ChunkType, type DType } from './checkpoint';
import { elementsPerChunk, storedBytesToFloat, type ByteOrder } from './contiguousChunks';
import { dtypeSize } from './dtype';

/** Origin of a byte stream, named in error messages. */
export interface StreamSource {
  readonly path: string;
  /** The stream's origin, e.g. `zip record archive/data/0`. */
  readonly description: string;
  readonly tensor: string;
  /** File offset reported with errors, e.g. the start of the compressed record. */
  readonly offset: number;
}

/**
 * Yields bytes `start` to `start + length` of `pieces` and stops consuming them there, so the producer (an
 * inflating stream) is closed without producing the rest. Throws when the stream ends before `start + length`.
 */
export async function* sliceByteStream(pieces: AsyncIterable<Uint8Array>, start: number, length: number, source: StreamSource): AsyncGenerator<Uint8Array> {
  const end = start + length;
  let position = 0;
  if (length === 0) return;
  for await (const piece of pieces) {
    const pieceEnd = position + piece.byteLength;
    if (pieceEnd > start) yield piece.subarray(Math.max(0, start - position), Math.min(piece.byteLength, end - position));
    position = pieceEnd;
    if (position >= end) return;
  }
  throw new CheckpointError(
    source.path,
    `tensor "${source.tensor}" needs bytes ${start}..${end} of ${source.description}, but its data ends after ${position} bytes; the file is truncated or corrupt`,
    { tensor: source.tensor, offset: source.offset },
  );
}

/** Collects `pieces`, which must deliver exactly `length` bytes as `sliceByteStream` does, into one array. */
export async function collectBytes(pieces: AsyncIterable<Uint8Array>, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  for await (const piece of pieces) {
    if (filled + piece.byteLength > length) throw new RangeError(`the stream delivered more than the ${length} bytes expected`);
    bytes.set(piece, filled);
    filled += piece.byteLength;
  }
  if (filled < length) throw new RangeError(`the stream delivered ${filled} of the ${length} bytes expected`);
  return bytes;
}

/**
 * Regroups the stored bytes of `count` elements of `dtype` into float32 or float64 (`as`) chunks of at most
 * `maxChunkBytes` output bytes. Holds one chunk of stored bytes at a time. `pieces` must deliver at least `count` elements; any more
 * are left unread.
 */
export async function* floatChunksFromByteStream(
  pieces: AsyncIterable<Uint8Array>,
  dtype: DType,
  count: number,
  maxChunkBytes: number,
  byteOrder: ByteOrder,
  as: ChunkType = 'float32',
): AsyncGenerator<Float32Array | Float64Array> {
  const size = dtypeSize(dtype);
  if (size === undefined) throw new Error(`dtype ${dtype} has no element size, so it cannot be read as ${as}`);
  const step = elementsPerChunk(maxChunkBytes, as);
  let remaining = count;
  let pending = new Uint8Array(Math.min(step, remaining) * size);
  let filled = 0;
  for await (let piece of pieces) {
    while (piece.byteLength > 0 && pending.byteLength > 0) {
      const take = Math.min(piece.byteLength, pending.byteLength - filled);
      pending.set(piece.subarray(0, take), filled);
      filled += take;
      piece = piece.subarray(take);
      if (filled === pending.byteLength) {
        const chunkCount = filled / size;
        yield storedBytesToFloat(pending, dtype, chunkCount, byteOrder, as);
        remaining -= chunkCount;
        pending = new Uint8Array(Math.min(step, remaining) * size);
        filled = 0;
      }
    }
    if (remaining === 0) return;
  }
}
