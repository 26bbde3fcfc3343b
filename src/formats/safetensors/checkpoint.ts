// A Checkpoint over safetensors files: every tensor is one contiguous little-endian span of an open file.
import {
  CheckpointError, elementCount,
  type Checkpoint, type ChunkType, type CheckpointFormat, type StoredTensor, type TensorEntry,
} from '../checkpoint';
import { checkWholeReadSize, readContiguousChunks, storedBytesToFloat32 } from '../contiguousChunks';
import { decodeStored, decodeToFloat } from '../dtype';
import type { RandomAccessFile } from '../fileRange';

/** A listed tensor and the open file holding its bytes. */
export interface LocatedTensor {
  readonly entry: TensorEntry;
  readonly file: RandomAccessFile;
}

export class SafetensorsCheckpoint implements Checkpoint {
  readonly tensors: readonly TensorEntry[];
  private readonly byName = new Map<string, LocatedTensor>();

  constructor(
    readonly path: string,
    readonly format: CheckpointFormat,
    located: readonly LocatedTensor[],
    readonly metadata: Readonly<Record<string, unknown>>,
    private readonly files: readonly RandomAccessFile[],
  ) {
    this.tensors = located.map((item) => item.entry);
    for (const item of located) this.byName.set(item.entry.name, item);
  }

  readTensor(name: string, as: 'float32'): Promise<Float32Array>;
  readTensor(name: string, as: 'float64'): Promise<Float64Array>;
  readTensor(name: string, as?: 'stored'): Promise<StoredTensor>;
  async readTensor(name: string, as: 'stored' | 'float32' | 'float64' = 'stored'): Promise<StoredTensor | Float32Array | Float64Array> {
    const { entry, file } = this.locate(name);
    checkWholeReadSize(this.path, entry);
    const bytes = await file.read(entry.offset, entry.length, `tensor "${name}"`);
    const count = elementCount(entry.shape);
    if (as === 'float32') return storedBytesToFloat32(bytes, entry.dtype, count, 'little');
    if (as === 'float64') return decodeToFloat(bytes, entry.dtype, count, Float64Array) as Float64Array;
    return { dtype: entry.dtype, shape: entry.shape, data: decodeStored(bytes, entry.dtype, count) };
  }

  readTensorChunks(name: string, maxChunkBytes: number, as?: 'float32'): AsyncIterable<Float32Array>;
  readTensorChunks(name: string, maxChunkBytes: number, as: 'float64'): AsyncIterable<Float64Array>;
  readTensorChunks(name: string, maxChunkBytes: number, as?: ChunkType): AsyncIterable<Float32Array | Float64Array>;
  readTensorChunks(name: string, maxChunkBytes: number, as: ChunkType = 'float32'): AsyncIterable<Float32Array | Float64Array> {
    const { entry, file } = this.locate(name);
    return readContiguousChunks(file, entry, maxChunkBytes, 'little', as);
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((file) => file.close()));
  }

  private locate(name: string): LocatedTensor {
    const item = this.byName.get(name);
    if (item === undefined) throw new CheckpointError(this.path, `no tensor named "${name}" in this checkpoint`, { tensor: name });
    return item;
  }
}
