// Compares two opened checkpoints: structure first (headers only), then values tensor by tensor, streamed.
import type { Checkpoint } from '../formats/checkpoint';
import { pairChunks } from './pairedChunks';
import { diffStructure, isStructurallyIdentical, type SharedTensor, type StructureDiff } from './structureDiff';
import { TensorDifferenceAccumulator, type TensorDifference } from './tensorDifference';

/** Output bytes per chunk on each side: two chunks of this size are alive at a time. */
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
 * Values are compared after exact conversion to float32.
 * NOTE: F64 tensors and integers above 2^24 are compared at float32 precision, so differences below it are not seen.
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
  const accumulator = new TensorDifferenceAccumulator();
  const chunksA = a.readTensorChunks(tensor.a.rawName, CHUNK_BYTES);
  const chunksB = b.readTensorChunks(tensor.b.rawName, CHUNK_BYTES);
  for await (const [chunkA, chunkB] of pairChunks(chunksA, chunksB)) {
    signal?.throwIfAborted();
    accumulator.add(chunkA, chunkB);
    if (!complete && !accumulator.result().identical) break;
  }
  return accumulator.result();
}
