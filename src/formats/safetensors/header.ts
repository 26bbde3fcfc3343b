// Parsing and validation of a safetensors header: an 8-byte little-endian header length, then that many bytes of
// UTF-8 JSON mapping tensor names to { dtype, shape, data_offsets }, then the byte buffer the offsets point into.
import { CheckpointError, type SafetensorsDType, type TensorEntry } from '../checkpoint';
import { dtypeSize, isSafetensorsDType } from '../dtype';
import type { RandomAccessFile } from '../fileRange';

/** Largest header accepted, in bytes; the reference Rust implementation uses the same limit. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsHeader {
  /** Tensors in the order of their data offsets. */
  readonly tensors: TensorEntry[];
  /** The `__metadata__` map, or an empty object. */
  readonly metadata: Record<string, string>;
  /** Absolute file offset of the byte buffer. */
  readonly bufferStart: number;
}

interface RawEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/** Reads and validates the header of the safetensors file open as `file`; reads no tensor bytes. */
export async function readSafetensorsHeader(file: RandomAccessFile): Promise<SafetensorsHeader> {
  const path = file.path;
  if (file.size < 8) {
    throw new CheckpointError(path, `the file is ${file.size} bytes long, shorter than the 8-byte header length of a safetensors file; it is truncated or not a safetensors file`, { offset: 0 });
  }
  const lengthBytes = await file.read(0, 8, 'the header length');
  const declared = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  const available = BigInt(file.size - 8);
  if (declared > available) {
    throw new CheckpointError(path, `the first 8 bytes give a header length of ${declared} bytes, but only ${available} bytes follow them; the file is truncated or not a safetensors file`, { offset: 0 });
  }
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(path, `the header length is ${declared} bytes, more than the ${MAX_HEADER_BYTES}-byte limit for safetensors headers; the file is corrupt or not a safetensors file`, { offset: 0 });
  }
  const headerLength = Number(declared);
  const headerBytes = await file.read(8, headerLength, 'the safetensors header');
  const json = parseHeaderJson(path, headerBytes);

  const bufferStart = 8 + headerLength;
  const bufferLength = file.size - bufferStart;
  const metadata: Record<string, string> = {};
  const raw: RawEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') Object.assign(metadata, parseMetadata(path, value));
    else raw.push(parseEntry(path, name, value, bufferLength));
  }

  // Zero-length tensors sort before a tensor starting at the same offset, so they never look like an overlap.
  raw.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkCoverage(path, raw, bufferStart, bufferLength);

  const tensors = raw.map((entry): TensorEntry => ({
    name: entry.name,
    dtype: entry.dtype,
    shape: entry.shape,
    offset: bufferStart + entry.begin,
    length: entry.end - entry.begin,
  }));
  return { tensors, metadata, bufferStart };
}

function parseHeaderJson(path: string, bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CheckpointError(path, 'the header is not valid UTF-8; the file is corrupt or not a safetensors file', { offset: 8 });
  }
  if (!text.startsWith('{')) {
    throw new CheckpointError(path, `the header does not start with "{" (it starts with ${JSON.stringify(text.slice(0, 16))}); the file is not a safetensors file`, { offset: 8 });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(path, `the header is not valid JSON (${(error as Error).message}); the file is truncated or corrupt`, { offset: 8 });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CheckpointError(path, 'the header is not a JSON object; the file is corrupt', { offset: 8 });
  }
  return value as Record<string, unknown>;
}

function parseMetadata(path: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CheckpointError(path, '"__metadata__" is not a JSON object of strings; the file was written by a broken tool', { offset: 8 });
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new CheckpointError(path, `"__metadata__" entry "${key}" is a ${typeof item}, but safetensors metadata values must be strings; the file was written by a broken tool`, { offset: 8 });
    }
  }
  return value as Record<string, string>;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Describes what is wrong with a header "shape", or returns undefined when it is a list of sizes read exactly. */
function describeShapeProblem(shape: unknown): string | undefined {
  const isSize = (size: unknown): size is number => typeof size === 'number' && (Number.isInteger(size) || size === Infinity) && size >= 0;
  if (!Array.isArray(shape) || !shape.every(isSize)) {
    return `"shape" must be a list of non-negative integers, got ${JSON.stringify(shape)}`;
  }
  // JSON.parse rounds integers above 2^53 - 1 (and turns 1e400 into Infinity), so such a size cannot be trusted.
  const tooLarge = shape.findIndex((size) => !Number.isSafeInteger(size));
  if (tooLarge >= 0) {
    const size = shape[tooLarge] === Infinity ? 'infinite' : `about ${BigInt(shape[tooLarge])}`;
    return `"shape" dimension ${tooLarge} is ${size}, beyond 2^53 - 1, the largest size read exactly`;
  }
  const elements = shape.reduce((product, size) => product * size, 1);
  if (elements > Number.MAX_SAFE_INTEGER) {
    return `"shape" ${JSON.stringify(shape)} has about ${elements.toExponential(3)} elements, beyond 2^53 - 1, the largest element count read exactly`;
  }
  return undefined;
}

function parseEntry(path: string, name: string, value: unknown, bufferLength: number): RawEntry {
  const fail = (message: string): never => {
    throw new CheckpointError(path, `tensor "${name}": ${message}`, { tensor: name });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('the header entry is not a JSON object with dtype, shape and data_offsets; the file is corrupt');
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') return fail('the header entry has no "dtype" string; the file is corrupt');
  if (!isSafetensorsDType(dtype)) {
    return fail(`unknown dtype "${dtype}"; supported dtypes are F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U8 and BOOL`);
  }
  const shapeProblem = describeShapeProblem(shape);
  if (shapeProblem !== undefined) return fail(`${shapeProblem}; the file is corrupt`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    return fail(`"data_offsets" must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}; the file is corrupt`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > bufferLength) {
    return fail(`data_offsets [${begin}, ${end}] end past the ${bufferLength}-byte data buffer; the file is truncated or corrupt`);
  }
  // Byte counts beyond 2^53 are inexact, but then they exceed any byte count a file can hold, so the check still fails.
  const elements = (shape as number[]).reduce((product, size) => product * size, 1);
  const needed = elements * (dtypeSize(dtype) as number);
  if (end - begin !== needed) {
    return fail(`data_offsets [${begin}, ${end}] give ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${needed}; the file is corrupt or was written by a broken tool`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Checks that the sorted entries tile the byte buffer exactly: no overlap, no hole, no trailing bytes. */
function checkCoverage(path: string, entries: readonly RawEntry[], bufferStart: number, bufferLength: number): void {
  let covered = 0;
  let previous: RawEntry | undefined;
  for (const entry of entries) {
    if (entry.begin < covered && previous !== undefined) {
      throw new CheckpointError(
        path,
        `tensors "${previous.name}" [${previous.begin}, ${previous.end}] and "${entry.name}" [${entry.begin}, ${entry.end}] overlap in the data buffer; safetensors forbids shared bytes, so the file was written by a broken tool`,
        { tensor: entry.name, offset: bufferStart + entry.begin },
      );
    }
    if (entry.begin > covered) {
      throw new CheckpointError(
        path,
        `bytes ${bufferStart + covered}..${bufferStart + entry.begin} of the file (buffer offsets [${covered}, ${entry.begin}]) belong to no tensor, before tensor "${entry.name}"; the file is corrupt`,
        { tensor: entry.name, offset: bufferStart + covered },
      );
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered !== bufferLength) {
    throw new CheckpointError(
      path,
      `bytes ${bufferStart + covered}..${bufferStart + bufferLength} at the end of the file (buffer offsets [${covered}, ${bufferLength}]) belong to no tensor; the file is corrupt or has data appended`,
      { offset: bufferStart + covered },
    );
  }
}
