// Places each tensor reference of a PyTorch checkpoint in the file: the storage's bytes give the base, the
// storage offset and strides give the span the tensor reads. Tied weights share one storage; views (a
// transposed weight, a slice) have an offset or non-contiguous strides and are gathered on read.
import { CheckpointError, elementCount, type TensorEntry } from '../checkpoint';
import { storageElementSize } from './elementSize';
import type { NamedTensorRef } from './layout';

/** Position and size of a storage's bytes in the file. */
export interface StorageLocation {
  /** Absolute file offset of the storage's first byte. */
  readonly offset: number;
  readonly byteLength: number;
  /** Source of the bytes for messages, e.g. a zip record name or "legacy storage 3". */
  readonly description: string;
  /**
   * Set when the storage is a deflated zip record: yields its inflated bytes from the first, and `offset` is then
   * the file offset of the compressed data.
   */
  readonly inflate?: () => AsyncIterable<Uint8Array>;
  /** Reason the bytes cannot be read at all, e.g. a compression method this reader lacks. */
  readonly unreadable?: string;
}

/** A tensor whose storage is compressed: its span starts `firstByte` bytes into the inflated storage. */
export interface CompressedSpan {
  readonly inflate: () => AsyncIterable<Uint8Array>;
  readonly firstByte: number;
  /** The storage's `StorageLocation.description`. */
  readonly description: string;
}

export interface PlacedTensor {
  readonly entry: TensorEntry;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly elementSize: number;
  /** True when the span [offset, offset + length) contains exactly the elements in C order. */
  readonly contiguous: boolean;
  /** Present when the span must be inflated; `entry.offset` then locates the compressed record, not the span. */
  readonly compressed?: CompressedSpan;
  readonly unreadable?: string;
}

/** Places every tensor; throws naming the tensor when its storage is missing or shorter than its extent. */
export function placeTensors(
  file: string,
  tensors: readonly NamedTensorRef[],
  locate: (key: string) => StorageLocation | undefined,
  /** Where a missing storage was expected, for the error message, e.g. its zip record name. */
  expectedAt: (key: string) => string = (key) => `storage ${key}`,
): PlacedTensor[] {
  return tensors.map(({ name, tensor }) => {
    const { storage, dtype, shape, stride } = tensor;
    const location = locate(storage.key);
    if (location === undefined) {
      throw new CheckpointError(
        file,
        `tensor "${name}" uses storage "${storage.key}", but ${expectedAt(storage.key)} is missing from the file; the file is incomplete or corrupt`,
        { tensor: name },
      );
    }
    const elementSize = storageElementSize(dtype);
    const count = elementCount(shape);
    let spanElements = 0;
    if (count > 0) {
      spanElements = 1;
      for (let axis = 0; axis < shape.length; axis++) spanElements += (shape[axis] - 1) * stride[axis];
    }
    // Legacy view offsets count elements of the storage's own type, which is the tensor's type there.
    const firstByte = (storage.viewOffset + tensor.storageOffset) * elementSize;
    const length = spanElements * elementSize;
    if (!Number.isSafeInteger(firstByte + length) || firstByte + length > location.byteLength) {
      throw new CheckpointError(
        file,
        `tensor "${name}" (${dtype} ${JSON.stringify(shape)}, storage offset ${tensor.storageOffset}) needs bytes ${firstByte}..${firstByte + length} of storage "${storage.key}" (${location.description}), which has only ${location.byteLength} bytes; the file is corrupt or truncated`,
        { tensor: name, offset: location.offset },
      );
    }
    const offset = location.inflate === undefined ? location.offset + firstByte : location.offset;
    const entry: TensorEntry = { name, dtype, shape: [...shape], offset, length };
    return {
      entry, shape, stride, elementSize,
      contiguous: isContiguous(shape, stride),
      ...(location.inflate === undefined ? {} : { compressed: { inflate: location.inflate, firstByte, description: location.description } }),
      ...(location.unreadable === undefined ? {} : { unreadable: location.unreadable }),
    };
  });
}

/** C-order contiguity; axes of size 1 may carry any stride, and empty tensors are trivially contiguous. */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  if (elementCount(shape) === 0) return true;
  let expected = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    if (shape[axis] !== 1 && stride[axis] !== expected) return false;
    expected *= shape[axis];
  }
  return true;
}

/** Copies the strided elements of `span` (which starts at the tensor's first element) into C order. */
export function gatherStrided(span: Uint8Array, shape: readonly number[], stride: readonly number[], elementSize: number): Uint8Array {
  const count = elementCount(shape);
  const output = new Uint8Array(count * elementSize);
  if (count === 0) return output;
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let target = 0; target < count; target++) {
    const from = source * elementSize;
    const to = target * elementSize;
    for (let byte = 0; byte < elementSize; byte++) output[to + byte] = span[from + byte];
    // Advance the multi-index like an odometer, moving `source` by the matching strides.
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      source += stride[axis];
      if (index[axis] < shape[axis]) break;
      source -= stride[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return output;
}
