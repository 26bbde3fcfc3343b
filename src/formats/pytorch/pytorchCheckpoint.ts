// The Checkpoint of a PyTorch file (zip or legacy): tensors are read from their placed spans, contiguous ones
// directly and strided views by gathering their elements into C order. Spans in deflated zip records are
// inflated from the record's start on every read.
import {
  CheckpointError, elementCount,
  type Checkpoint, type ChunkType, type CheckpointFormat, type PickleReport, type StoredTensor, type TensorEntry,
} from '../checkpoint';
import { collectBytes, floatChunksFromByteStream, sliceByteStream, type StreamSource } from '../byteStreams';
import { checkWholeReadSize, elementsPerChunk, readContiguousChunks, type ByteOrder } from '../contiguousChunks';
import { decodeStored, decodeToFloat, dtypeSize, swapByteOrder } from '../dtype';
import type { RandomAccessFile } from '../fileRange';
import { gatherStrided, type CompressedSpan, type PlacedTensor } from './tensors';

export class PytorchCheckpoint implements Checkpoint {
  readonly tensors: readonly TensorEntry[];
  private readonly byName: ReadonlyMap<string, PlacedTensor>;

  constructor(
    readonly path: string,
    readonly format: CheckpointFormat,
    private readonly file: RandomAccessFile,
    placed: readonly PlacedTensor[],
    readonly metadata: Readonly<Record<string, unknown>>,
    readonly pickle: PickleReport,
    private readonly byteOrder: ByteOrder,
    private readonly onClose: () => void = () => undefined,
  ) {
    this.tensors = placed.map((tensor) => tensor.entry);
    this.byName = new Map(placed.map((tensor) => [tensor.entry.name, tensor]));
  }

  readTensor(name: string, as: 'float32'): Promise<Float32Array>;
  readTensor(name: string, as: 'float64'): Promise<Float64Array>;
  readTensor(name: string, as?: 'stored'): Promise<StoredTensor>;
  async readTensor(name: string, as: 'stored' | 'float32' | 'float64' = 'stored'): Promise<StoredTensor | Float32Array | Float64Array> {
    const tensor = this.find(name);
    const { dtype, shape } = tensor.entry;
    const bytes = await this.readElements(tensor);
    const count = elementCount(shape);
    if (as === 'stored') return { dtype, shape, data: decodeStored(bytes, dtype, count) };
    return decodeToFloat(bytes, dtype, count, as === 'float32' ? Float32Array : Float64Array);
  }

  readTensorChunks(name: string, maxChunkBytes: number, as?: 'float32'): AsyncIterable<Float32Array>;
  readTensorChunks(name: string, maxChunkBytes: number, as: 'float64'): AsyncIterable<Float64Array>;
  readTensorChunks(name: string, maxChunkBytes: number, as?: ChunkType): AsyncIterable<Float32Array | Float64Array>;
  async *readTensorChunks(name: string, maxChunkBytes: number, as: ChunkType = 'float32'): AsyncIterable<Float32Array | Float64Array> {
    const tensor = this.find(name);
    this.assertReadable(tensor);
    if (tensor.contiguous && tensor.compressed !== undefined) {
      const { entry } = tensor;
      yield* floatChunksFromByteStream(this.inflateSpan(entry, tensor.compressed), entry.dtype, elementCount(entry.shape), maxChunkBytes, this.byteOrder, as);
      return;
    }
    if (tensor.contiguous) {
      yield* readContiguousChunks(this.file, tensor.entry, maxChunkBytes, this.byteOrder, as);
      return;
    }
    // NOTE: a strided view is gathered whole before chunking, so it needs memory for the whole tensor.
    const values = as === 'float64' ? await this.readTensor(name, 'float64') : await this.readTensor(name, 'float32');
    const step = elementsPerChunk(maxChunkBytes, as);
    for (let first = 0; first < values.length; first += step) yield values.slice(first, first + step);
  }

  async close(): Promise<void> {
    this.onClose();
    await this.file.close();
  }

  private find(name: string): PlacedTensor {
    const tensor = this.byName.get(name);
    if (tensor === undefined) {
      throw new CheckpointError(this.path, `no tensor named "${name}"; run inspect to list the tensor names`, { tensor: name });
    }
    return tensor;
  }

  private assertReadable(tensor: PlacedTensor): void {
    const { entry } = tensor;
    if (tensor.unreadable !== undefined) {
      throw new CheckpointError(this.path, `tensor "${entry.name}" cannot be read: ${tensor.unreadable}`, { tensor: entry.name, offset: entry.offset });
    }
    if (dtypeSize(entry.dtype) === undefined) {
      throw new CheckpointError(this.path, `tensor "${entry.name}" has dtype ${entry.dtype}, which this reader lists but cannot decode`, { tensor: entry.name });
    }
  }

  /** Reads the span of a tensor whose storage is a deflated record, inflating the record from its start. */
  private inflateSpan(entry: TensorEntry, compressed: CompressedSpan): AsyncGenerator<Uint8Array> {
    const source: StreamSource = { path: this.path, description: compressed.description, tensor: entry.name, offset: entry.offset };
    return sliceByteStream(compressed.inflate(), compressed.firstByte, entry.length, source);
  }

  /** Reads the tensor's elements as little-endian bytes in C order. */
  private async readElements(tensor: PlacedTensor): Promise<Uint8Array> {
    const { entry } = tensor;
    this.assertReadable(tensor);
    const what = `tensor "${entry.name}"`;
    checkWholeReadSize(this.path, entry);
    let bytes: Uint8Array;
    if (tensor.compressed !== undefined) {
      const span = await collectBytes(this.inflateSpan(entry, tensor.compressed), entry.length);
      bytes = tensor.contiguous ? span : gatherStrided(span, tensor.shape, tensor.stride, tensor.elementSize);
    } else if (tensor.contiguous) {
      bytes = await this.file.read(entry.offset, elementCount(entry.shape) * tensor.elementSize, what);
    } else {
      const span = await this.file.read(entry.offset, entry.length, what);
      bytes = gatherStrided(span, tensor.shape, tensor.stride, tensor.elementSize);
    }
    if (this.byteOrder === 'big') swapByteOrder(bytes, tensor.elementSize);
    return bytes;
  }
}
