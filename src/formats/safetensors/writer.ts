// Writer for single-file safetensors checkpoints. Tensors are streamed to a temporary file that is renamed into place.
import type { FileHandle } from 'node:fs/promises';
import { elementCount, type NamedTensor, type WriteOptions } from '../checkpoint';
import { writeFileAtomically } from '../atomicWrite';
import { dtypeSize, isSafetensorsDType } from '../dtype';

/** Largest slice handed to one `write` call, so that an abort is noticed between slices of a large tensor. */
const WRITE_SLICE_BYTES = 64 * 1024 * 1024;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Writes `tensors` to `output` in the given order, with `options.metadata` as `__metadata__`.
 * Each tensor gets its own bytes even when several share one buffer (tied weights), because safetensors forbids
 * overlapping offsets. The header is padded with spaces so that the byte buffer starts at a multiple of 8.
 * Throws before creating any file when a tensor is invalid, and refuses to write over any of `options.inputs`.
 */
export async function writeSafetensors(output: string, tensors: readonly NamedTensor[], options: WriteOptions): Promise<void> {
  const header = buildHeader(output, tensors, options.metadata);
  await writeFileAtomically(output, options.inputs, async (handle: FileHandle) => {
    const lengthBytes = new Uint8Array(8);
    new DataView(lengthBytes.buffer).setBigUint64(0, BigInt(header.byteLength), true);
    await writeAll(handle, lengthBytes);
    await writeAll(handle, header);
    for (const tensor of tensors) {
      const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
      for (let start = 0; start < bytes.byteLength; start += WRITE_SLICE_BYTES) {
        options.signal?.throwIfAborted();
        await writeAll(handle, bytes.subarray(start, start + WRITE_SLICE_BYTES));
      }
    }
  }, options.signal);
}

/** Builds the space-padded UTF-8 JSON header, validating names, dtypes and byte counts. */
function buildHeader(output: string, tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>> | undefined): Uint8Array {
  const json: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new TypeError(`${output}: metadata "${key}" must be a string, got ${typeof value}`);
    }
    json.__metadata__ = metadata;
  }

  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === '__metadata__') throw new TypeError(`${output}: "__metadata__" is reserved in safetensors and cannot name a tensor`);
    if (Object.prototype.hasOwnProperty.call(json, tensor.name)) throw new TypeError(`${output}: tensor "${tensor.name}" is listed twice; tensor names must be unique`);
    const size = isSafetensorsDType(tensor.dtype) ? dtypeSize(tensor.dtype) : undefined;
    if (size === undefined) throw new TypeError(`${output}: tensor "${tensor.name}" has dtype ${tensor.dtype}, which safetensors cannot store`);
    const needed = elementCount(tensor.shape) * size;
    if (tensor.data.byteLength !== needed) {
      throw new TypeError(`${output}: tensor "${tensor.name}" has ${tensor.data.byteLength} bytes of data but ${tensor.dtype} ${JSON.stringify(tensor.shape)} needs ${needed}`);
    }
    const entry: HeaderEntry = { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + needed] };
    json[tensor.name] = entry;
    offset += needed;
  }

  const text = new TextEncoder().encode(JSON.stringify(json));
  const padded = new Uint8Array(Math.ceil(text.byteLength / 8) * 8).fill(0x20);
  padded.set(text);
  return padded;
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written);
    written += bytesWritten;
  }
}
