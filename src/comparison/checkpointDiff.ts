// Compares two opened checkpoints: structure first (headers only), then values tensor by tensor, streamed.
import type { Checkpoint, ChunkType } from '../formats/checkpoint';
import { dtypeSize, float32HoldsExactly } from '../formats/dtype';
import { pairChunks } from './pairedChunks';
import { diffStructure, isStructurallyIdentical, type SharedTensor, type StructureDiff } from './structureDiff';
import { storedBytesDifference, TensorDifferenceAccumulator, type TensorDifference } from './tensorDifference';

/**
 * Output bytes per chunk on each side. Each side keeps two chunks (one read ahead) plus their stored bytes, so
 * about 64 MiB per side at most. In bench/diff.ts 4 MiB chunks ran at a third of the speed of 16 MiB ones.
 */
const CHUNK_BYTES = 16 * 1024 * 1024;

export interface CheckpointDiffOptions {
  /** Compute the numbers for every shared tensor; without it, values are compared only until a difference is found. */
  readonly statistics: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number, tensor: string) => void;
}

export interface CheckpointDiff {
  readonly structure: StructureDiff;
  /** Per shared tensor with the same shape, by matched name; present for every such tensor with `statistics`. */
  readonly values: ReadonlyMap<string, TensorDifference>;
  /** True when structure, metadata and every value agree. */
  readonly identical: boolean;
  /** Matched name of the first shared tensor whose values differ, in A's order. */
  readonly firstValueDifference?: string;
}

/**
 * Values are compared after exact conversion to float32, or to float64 when either side's dtype needs it (F64,
 * 32- and 64-bit integers). Tensors without an element-wise decoding (GGUF quantized blocks) are compared by
 * their stored bytes.
 * I64 and U64 tensors that look identical in float64 are checked once more by their stored bytes, since float64
 * rounds values beyond 2^53.
 * NOTE: for such a pair that differs only beyond 2^53, the numeric measures still come from the rounded values.
 */
export async function diffCheckpoints(a: Checkpoint, b: Checkpoint, options: CheckpointDiffOptions): Promise<CheckpointDiff> {
  const structure = diffStructure(a, b);
  const values = new Map<string, TensorDifference>();
  let firstValueDifference: string | undefined;

  const comparable = structure.shared.filter((tensor) => tensor.sameShape);
  for (const [index, tensor] of comparable.entries()) {
    options.signal?.throwIfAborted();
    options.onProgress?.(index, comparable.length, tensor.name);
    if (!options.statistics && firstValueDifference !== undefined) break;

    const difference = await compareTensor(a, b, tensor, options.statistics, options.signal);
    if (!difference.identical) firstValueDifference ??= tensor.name;
    if (options.statistics) values.set(tensor.name, difference);
  }

  const identical = firstValueDifference === undefined && isStructurallyIdentical(structure);
  return { structure, values, identical, ...(firstValueDifference === undefined ? {} : { firstValueDifference }) };
}

async function compareTensor(a: Checkpoint, b: Checkpoint, tensor: SharedTensor, complete: boolean, signal?: AbortSignal): Promise<TensorDifference> {
  if (dtypeSize(tensor.a.dtype) === undefined || dtypeSize(tensor.b.dtype) === undefined) return compareStoredBytes(a, b, tensor);
  const accumulator = new TensorDifferenceAccumulator();
  const as: ChunkType = float32HoldsExactly(tensor.a.dtype) && float32HoldsExactly(tensor.b.dtype) ? 'float32' : 'float64';
  const chunksA = a.readTensorChunks(tensor.a.rawName, CHUNK_BYTES, as);
  const chunksB = b.readTensorChunks(tensor.b.rawName, CHUNK_BYTES, as);
  for await (const [chunkA, chunkB] of pairChunks(chunksA, chunksB)) {
    signal?.throwIfAborted();
    accumulator.add(chunkA, chunkB);
    if (!complete && !accumulator.result().identical) break;
  }
  const result = accumulator.result();
  const wideIntegers = tensor.a.dtype === tensor.b.dtype && (tensor.a.dtype === 'I64' || tensor.a.dtype === 'U64');
  if (result.identical && wideIntegers && !(await compareStoredBytes(a, b, tensor)).identical) return { ...result, identical: false };
  return result;
}

/**
 * Compares tensors that have no element-wise decoding, such as GGUF quantized blocks, by their stored bytes: equal
 * dtypes and bytes are identical, and anything else differs with no numeric measures. Each side is read whole.
 */
async function compareStoredBytes(a: Checkpoint, b: Checkpoint, tensor: SharedTensor): Promise<TensorDifference> {
  const storedA = await a.readTensor(tensor.a.rawName, 'stored');
  const storedB = await b.readTensor(tensor.b.rawName, 'stored');
  const bytesA = new Uint8Array(storedA.data.buffer, storedA.data.byteOffset, storedA.data.byteLength);
  const bytesB = new Uint8Array(storedB.data.buffer, storedB.data.byteOffset, storedB.data.byteLength);
  const identical = tensor.a.dtype === tensor.b.dtype && Buffer.compare(bytesA, bytesB) === 0;
  return storedBytesDifference(identical, storedA.shape.reduce((product, size) => product * size, 1));
}
