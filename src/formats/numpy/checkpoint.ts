// A Checkpoint over NumPy arrays: a .npy file, or the stored and deflated members of an .npz archive.
import type { Entry, ZipFile } from 'yauzl';
import {
  CheckpointError, elementCount,
  type Checkpoint, type ChunkType, type CheckpointFormat, type StoredTensor, type TensorEntry,
} from '../checkpoint';
import { collectBytes, floatChunksFromByteStream } from '../byteStreams';
import { checkWholeReadSize, elementsPerChunk, readContiguousChunks, storedBytesToFloat32 } from '../contiguousChunks';
import { decodeStored, decodeToFloat, dtypeSize, swapByteOrder } from '../dtype';
import type { RandomAccessFile } from '../fileRange';
import { fortranToC } from './fortranOrder';
import type { NpyHeader } from './header';
import { inflateMember } from './npz';

/** One array: its listing, its header and where its data bytes come from. */
export interface NumpyArray {
  readonly entry: TensorEntry;
  readonly header: NpyHeader;
  /** `file`: `entry.offset` and `entry.length` locate the data in the file. `deflated`: the member must be inflated. */
  readonly source: { readonly kind: 'file' } | { readonly kind: 'deflated'; readonly member: Entry };
}

export class NumpyCheckpoint implements Checkpoint {
  readonly tensors: readonly TensorEntry[];
  private readonly byName = new Map<string, NumpyArray>();

  constructor(
    readonly path: string,
    readonly format: CheckpointFormat,
    arrays: readonly NumpyArray[],
    readonly metadata: Readonly<Record<string, unknown>>,
    private readonly file: RandomAccessFile,
    private readonly zip?: ZipFile,
  ) {
    this.tensors = arrays.map((array) => array.entry);
    for (const array of arrays) this.byName.set(array.entry.name, array);
  }

  readTensor(name: string, as: 'float32'): Promise<Float32Array>;
  readTensor(name: string, as: 'float64'): Promise<Float64Array>;
  readTensor(name: string, as?: 'stored'): Promise<StoredTensor>;
  async readTensor(name: string, as: 'stored' | 'float32' | 'float64' = 'stored'): Promise<StoredTensor | Float32Array | Float64Array> {
    const array = this.locate(name);
    const { header } = array;
    checkWholeReadSize(this.path, { ...array.entry, length: header.dataLength });
    const bytes = await this.readDataBytes(array);
    const size = dtypeSize(header.dtype) as number;
    if (header.byteOrder === 'big') swapByteOrder(bytes, size);
    const ordered = header.fortranOrder ? fortranToC(bytes, header.shape, size) : bytes;
    const count = elementCount(header.shape);
    if (as === 'float32') return storedBytesToFloat32(ordered, header.dtype, count, 'little');
    if (as === 'float64') return decodeToFloat(ordered, header.dtype, count, Float64Array) as Float64Array;
    return { dtype: header.dtype, shape: header.shape, data: decodeStored(ordered, header.dtype, count) };
  }

  readTensorChunks(name: string, maxChunkBytes: number, as?: 'float32'): AsyncIterable<Float32Array>;
  readTensorChunks(name: string, maxChunkBytes: number, as: 'float64'): AsyncIterable<Float64Array>;
  readTensorChunks(name: string, maxChunkBytes: number, as?: ChunkType): AsyncIterable<Float32Array | Float64Array>;
  async *readTensorChunks(name: string, maxChunkBytes: number, as: ChunkType = 'float32'): AsyncIterable<Float32Array | Float64Array> {
    const array = this.locate(name);
    const { header } = array;
    if (header.fortranOrder) {
      // Row-major chunks of a column-major array are scattered over the whole data, so the array is read whole.
      // NOTE: memory use is the whole tensor here, not maxChunkBytes.
      const values = as === 'float64' ? await this.readTensor(name, 'float64') : await this.readTensor(name, 'float32');
      const step = elementsPerChunk(maxChunkBytes, as);
      for (let first = 0; first < values.length; first += step) yield values.subarray(first, first + step);
      return;
    }
    if (array.source.kind === 'file') {
      yield* readContiguousChunks(this.file, array.entry, maxChunkBytes, header.byteOrder, as);
      return;
    }
    // The member inflates piece by piece, and at most one chunk of its bytes is held.
    yield* floatChunksFromByteStream(this.memberData(array, array.source.member), header.dtype, elementCount(header.shape), maxChunkBytes, header.byteOrder, as);
  }

  async close(): Promise<void> {
    this.zip?.close();
    await this.file.close();
  }

  private locate(name: string): NumpyArray {
    const array = this.byName.get(name);
    if (array === undefined) throw new CheckpointError(this.path, `no array named "${name}" in this file`, { tensor: name });
    return array;
  }

  /** Reads the array's data bytes as stored: file byte order, and Fortran order when the header says so. */
  private async readDataBytes(array: NumpyArray): Promise<Uint8Array> {
    const { entry, header, source } = array;
    if (source.kind === 'file') return this.file.read(entry.offset, entry.length, `array "${entry.name}"`);

    return collectBytes(this.memberData(array, source.member), header.dataLength);
  }

  /** Yields the inflated data bytes of a deflated member after its .npy header, checking the total count. */
  private async *memberData(array: NumpyArray, member: Entry): AsyncGenerator<Uint8Array> {
    const { header, entry } = array;
    const total = header.dataStart + header.dataLength;
    let position = 0;
    for await (const piece of inflateMember(this.path, this.zip as ZipFile, member, total)) {
      const skip = Math.max(0, Math.min(piece.byteLength, header.dataStart - position));
      position += piece.byteLength;
      if (skip < piece.byteLength) yield piece.subarray(skip);
    }
    if (position < total) {
      throw new CheckpointError(this.path, `member "${member.fileName}" inflates to ${position} bytes but its .npy header calls for ${total}; the archive is truncated or corrupt`, { tensor: entry.name, offset: entry.offset });
    }
  }
}
