// GGUF files (llama.cpp, ggml), versions 2 and 3, little-endian, after the GGUF specification in the ggml
// repository (docs/gguf.md): magic "GGUF", u32 version, u64 tensor count, u64 metadata count, the key-value pairs,
// the tensor infos, then the data section aligned to `general.alignment` (default 32 bytes).
import type { Checkpoint, TensorEntry } from '../checkpoint';
import { CheckpointError, elementCount } from '../checkpoint';
import { RandomAccessFile } from '../fileRange';
import { createTensorCheckpoint } from '../onnx/tensorCheckpoint';
import { ggmlType } from './ggmlTypes';
import { HeaderCursor } from './headerCursor';
import { readMetadataValue, type MetadataValue } from './metadataValues';

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const DEFAULT_ALIGNMENT = 32;
/** ggml tensors have at most 4 dimensions (GGML_MAX_DIMS). */
const MAX_DIMENSIONS = 4;
/** Smallest encodings: a key-value pair (empty key, type, one byte) and a tensor info (empty name, n_dims, type, offset). */
const MIN_KEY_VALUE_BYTES = 8 + 4 + 1;
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;
const MAX_NAME_BYTES = 64 * 1024;

export async function openGguf(path: string): Promise<Checkpoint> {
  const file = await RandomAccessFile.open(path);
  try {
    const cursor: HeaderCursor = new HeaderCursor(file);
    const { version, tensorCount, metadataCount } = await readPreamble(cursor);

    const metadata: Record<string, MetadataValue> = {};
    for (let i = 0; i < metadataCount; i++) {
      const start = cursor.position;
      const key = await cursor.readString(`the key of metadata entry ${i}`, MAX_NAME_BYTES);
      if (key === undefined) cursor.fail(`metadata entry ${i} at byte ${start} has a key longer than ${MAX_NAME_BYTES} bytes; the file is corrupt`, start);
      if (Object.prototype.hasOwnProperty.call(metadata, key)) cursor.fail(`metadata key "${key}" appears twice (byte ${start}); the file is invalid`, start);
      const type = await cursor.readU32(`the value type of metadata "${key}"`);
      metadata[key] = await readMetadataValue(cursor, type, `metadata "${key}"`);
    }
    const alignment = alignmentOf(cursor, metadata);

    const infos: { entry: Omit<TensorEntry, 'offset'>; relativeOffset: number; infoOffset: number }[] = [];
    const names = new Set<string>();
    for (let i = 0; i < tensorCount; i++) {
      const info = await readTensorInfo(cursor, i, alignment);
      if (names.has(info.entry.name)) cursor.fail(`tensor "${info.entry.name}" is listed twice (byte ${info.infoOffset}); the file is invalid`, info.infoOffset);
      names.add(info.entry.name);
      infos.push(info);
    }

    const dataStart = Math.ceil(cursor.position / alignment) * alignment;
    const tensors = infos.map(({ entry, relativeOffset }) => {
      const offset = dataStart + relativeOffset;
      if (offset + entry.length > file.size) {
        throw new CheckpointError(
          path,
          `tensor "${entry.name}" (${entry.dtype} ${JSON.stringify(entry.shape)}) spans bytes ${offset}..${offset + entry.length}, past the end of the file (${file.size} bytes); the file is truncated`,
          { tensor: entry.name, offset },
        );
      }
      return { ...entry, offset };
    });

    const checkReadable = (entry: TensorEntry, as: 'stored' | 'float32' | 'float64'): void => {
      if (as !== 'stored' && ggmlTypeByName.get(entry.dtype)?.quantized) {
        throw new CheckpointError(
          path,
          `tensor "${entry.name}": quantized GGUF type ${entry.dtype} has no float conversion; dequantization is not supported. Read it as stored to get the raw blocks`,
          { tensor: entry.name },
        );
      }
    };
    return createTensorCheckpoint(
      { path, format: 'gguf', tensors, metadata: { ggufVersion: version, alignment, dataOffset: dataStart, ...metadata }, checkReadable },
      file,
    );
  } catch (error) {
    await file.close();
    throw error;
  }
}

const ggmlTypeByName = new Map(Array.from({ length: 64 }, (_, code) => ggmlType(code)).filter((type) => type !== undefined).map((type) => [type.name, type]));

async function readPreamble(cursor: HeaderCursor): Promise<{ version: number; tensorCount: number; metadataCount: number }> {
  if (cursor.remaining < 4) cursor.fail(`the file has ${cursor.remaining} bytes, too short for a GGUF header; the file is truncated or not GGUF`, 0);
  const magic = await cursor.readU32('the GGUF magic');
  if (magic !== MAGIC) {
    cursor.fail(`not a GGUF file: the first bytes are 0x${magic.toString(16).padStart(8, '0')} (little-endian), not the magic "GGUF"`, 0);
  }
  const version = await cursor.readU32('the GGUF version');
  if (version === 1) cursor.fail('GGUF version 1 (32-bit counts) is not supported; convert the file with a current llama.cpp', 4);
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
    if (swapped === 2 || swapped === 3) cursor.fail(`big-endian GGUF (version ${swapped}) is not supported; convert the file to little-endian`, 4);
    cursor.fail(`unsupported GGUF version ${version}; only versions 2 and 3 are supported`, 4);
  }

  const tensorCount = await cursor.readU64('the tensor count');
  const metadataCount = await cursor.readU64('the metadata count');
  if (metadataCount * MIN_KEY_VALUE_BYTES > cursor.remaining) {
    cursor.fail(`the header declares ${metadataCount} metadata entries, which cannot fit in the remaining ${cursor.remaining} bytes; the file is truncated or corrupt`, 16);
  }
  if (tensorCount * MIN_TENSOR_INFO_BYTES > cursor.remaining) {
    cursor.fail(`the header declares ${tensorCount} tensors, which cannot fit in the remaining ${cursor.remaining} bytes; the file is truncated or corrupt`, 8);
  }
  return { version, tensorCount, metadataCount };
}

function alignmentOf(cursor: HeaderCursor, metadata: Readonly<Record<string, MetadataValue>>): number {
  const value = metadata['general.alignment'];
  if (value === undefined) return DEFAULT_ALIGNMENT;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || (value & (value - 1)) !== 0) {
    cursor.fail(`general.alignment is ${JSON.stringify(value)}, not a positive power of two; the file is invalid`, 0);
  }
  return value;
}

async function readTensorInfo(cursor: HeaderCursor, index: number, alignment: number) {
  const infoOffset = cursor.position;
  const name = await cursor.readString(`the name of tensor ${index}`, MAX_NAME_BYTES);
  if (name === undefined) cursor.fail(`tensor ${index} at byte ${infoOffset} has a name longer than ${MAX_NAME_BYTES} bytes; the file is corrupt`, infoOffset);
  const fail = (problem: string): never => {
    throw new CheckpointError(cursor.file.path, `tensor "${name}" (info at byte ${infoOffset}): ${problem}`, { tensor: name, offset: infoOffset });
  };

  const dimensionCount = await cursor.readU32(`the dimension count of tensor "${name}"`);
  if (dimensionCount > MAX_DIMENSIONS) fail(`${dimensionCount} dimensions, more than ggml's ${MAX_DIMENSIONS}; the file is corrupt`);
  // GGUF lists dimensions innermost first; shapes here are row-major, outermost first.
  const dims: number[] = [];
  for (let d = 0; d < dimensionCount; d++) dims.push(await cursor.readU64(`dimension ${d} of tensor "${name}"`));
  const shape = [...dims].reverse();
  const code = await cursor.readU32(`the type of tensor "${name}"`);
  const relativeOffset = await cursor.readU64(`the data offset of tensor "${name}"`);

  const type = ggmlType(code);
  if (type === undefined) return fail(`unknown or removed ggml type ${code}; the file needs a newer reader or is corrupt`);
  const count = elementCount(shape);
  if (!Number.isSafeInteger(count)) fail(`shape ${JSON.stringify(shape)} has too many elements; the file is corrupt`);
  if ((dims[0] ?? 1) % type.blockSize !== 0) {
    fail(`the innermost dimension ${dims[0] ?? 1} is not a multiple of ${type.name}'s block size ${type.blockSize}; the file is corrupt`);
  }
  if (relativeOffset % alignment !== 0) fail(`data offset ${relativeOffset} is not a multiple of the alignment ${alignment}; the file is invalid`);
  const length = (count / type.blockSize) * type.blockBytes;
  return { entry: { name, dtype: type.name, shape, length }, relativeOffset, infoOffset };
}
