// Flax checkpoints written by flax.serialization.to_bytes: nested msgpack maps whose array leaves are msgpack
// extensions of type 1, each payload being msgpack of [shape, dtype name, raw C-order bytes]. Tensors are named by
// their tree path joined with "/" (`params/Dense_0/kernel`), and every other leaf goes into the metadata.
import type { Checkpoint, DType, TensorEntry } from '../checkpoint';
import { CheckpointError, elementCount } from '../checkpoint';
import { decodeToFloat, isSafetensorsDType } from '../dtype';
import { RandomAccessFile } from '../fileRange';
import { createTensorCheckpoint } from '../onnx/tensorCheckpoint';
import { decodeHeader, HeaderTruncatedError, type MsgpackScalar } from './msgpackHeader';
import { scanMsgpackLeaves, type MsgpackLeaf } from './msgpackScanner';

/** Flax's msgpack extension types (flax/serialization.py). */
const EXT_NDARRAY = 1;
const EXT_COMPLEX = 2;
const EXT_NUMPY_SCALAR = 3;
/** Key marking a map that contains one array split into flat chunks, as Flax writes arrays over 2^30 bytes. */
const CHUNKED_ARRAY_KEY = '__msgpack_chunked_array__';
/** Bytes read to decode an ndarray payload's shape and dtype name, which lead the payload; 64 dimensions of at most 9 bytes each and a dtype name fit well under this. */
const PAYLOAD_HEADER_BYTES = 4096;
const MAX_DIMENSIONS = 64;

/** NumPy dtype names (`dtype.name`) and their safetensors names; other dtypes keep their NumPy name. */
const DTYPE_BY_NUMPY_NAME: Readonly<Record<string, DType>> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16', float8_e4m3fn: 'F8_E4M3', float8_e5m2: 'F8_E5M2',
  int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint64: 'U64', uint32: 'U32', uint16: 'U16', uint8: 'U8', bool: 'BOOL',
};
const ITEM_SIZE_BY_NUMPY_NAME: Readonly<Record<string, number>> = {
  float64: 8, float32: 4, float16: 2, bfloat16: 2, float8_e4m3fn: 1, float8_e5m2: 1, int64: 8, int32: 4, int16: 2,
  int8: 1, uint8: 1, bool: 1, uint16: 2, uint32: 4, uint64: 8, complex64: 8, complex128: 16,
};

const LAYOUT_NOTE =
  'Tensors are listed as stored. Flax Dense kernels are [in, out], the transpose of a PyTorch Linear weight [out, in], ' +
  'and Conv kernels are [height, width, in, out].';

interface ArrayPayload {
  readonly shape: number[];
  readonly numpyName: string;
  readonly dataOffset: number;
  readonly dataLength: number;
}

export async function openFlaxMsgpack(path: string): Promise<Checkpoint> {
  const file = await RandomAccessFile.open(path);
  try {
    const leaves = await scanMsgpackLeaves(file);
    const tensors: TensorEntry[] = [];
    const segments = new Map<string, { offset: number; length: number }[]>();
    const scalars: Record<string, unknown> = {};
    const chunked = chunkedArrayPrefixes(leaves);

    for (const leaf of leaves) {
      const name = leaf.path.join('/');
      const owner = chunked.find((prefix) => prefix === '' || name.startsWith(`${prefix}/`));
      if (owner !== undefined) continue;
      if (leaf.kind === 'ext' && leaf.extType === EXT_NDARRAY) {
        const payload = await readArrayPayload(file, leaf, name);
        tensors.push(arrayEntry(path, name, payload, [{ offset: payload.dataOffset, length: payload.dataLength }]));
      } else {
        scalars[name] = await leafValue(file, leaf, name);
      }
    }
    for (const prefix of chunked) {
      const { entry, pieces } = await chunkedArrayEntry(file, leaves, prefix);
      tensors.push(entry);
      segments.set(entry.name, pieces);
    }

    const metadata = { layout: LAYOUT_NOTE, scalars };
    const checkReadable = (entry: TensorEntry): void => {
      if (!isSafetensorsDType(entry.dtype)) {
        throw new CheckpointError(path, `array "${entry.name}" has NumPy dtype ${entry.dtype}, which this reader cannot convert`, { tensor: entry.name });
      }
    };
    const multiPiece = new Map([...segments].filter(([, pieces]) => pieces.length > 1));
    return createTensorCheckpoint({ path, format: 'flax-msgpack', tensors, metadata, segments: multiPiece, checkReadable }, file);
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** Paths (joined with "/") of maps marked as chunked arrays. */
function chunkedArrayPrefixes(leaves: readonly MsgpackLeaf[]): string[] {
  return leaves
    .filter((leaf) => leaf.kind === 'scalar' && leaf.value === true && leaf.path.at(-1) === CHUNKED_ARRAY_KEY)
    .map((leaf) => leaf.path.slice(0, -1).join('/'));
}

function arrayEntry(path: string, name: string, payload: ArrayPayload, pieces: readonly { offset: number; length: number }[]): TensorEntry {
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const itemSize = ITEM_SIZE_BY_NUMPY_NAME[payload.numpyName];
  const expected = itemSize === undefined ? undefined : elementCount(payload.shape) * itemSize;
  if (expected !== undefined && expected !== total) {
    throw new CheckpointError(
      path,
      `array "${name}": ${total} data bytes but ${payload.numpyName} ${JSON.stringify(payload.shape)} needs ${expected}; the file is corrupt`,
      { tensor: name, offset: payload.dataOffset },
    );
  }
  const dtype = DTYPE_BY_NUMPY_NAME[payload.numpyName] ?? payload.numpyName;
  return { name, dtype, shape: payload.shape, offset: payload.dataOffset, length: total };
}

/** Decodes an ndarray extension's [shape, dtype name, bin] header and locates its raw bytes, reading at most 4 KiB. */
async function readArrayPayload(file: RandomAccessFile, leaf: Extract<MsgpackLeaf, { kind: 'ext' }>, name: string): Promise<ArrayPayload> {
  const bytes = await file.read(leaf.offset, Math.min(leaf.length, PAYLOAD_HEADER_BYTES), `the header of array "${name}"`);
  const fail = (problem: string): never => {
    throw new CheckpointError(file.path, `array "${name}" at byte ${leaf.offset}: ${problem}; the file is corrupt or not a Flax checkpoint`, {
      tensor: name,
      offset: leaf.offset,
    });
  };
  let position = 0;
  const next = () => {
    try {
      const header = decodeHeader(bytes, position);
      position += header.size;
      return header;
    } catch (error) {
      if (error instanceof HeaderTruncatedError) return fail('the array header is truncated');
      return fail((error as Error).message);
    }
  };

  const tuple = next();
  if (tuple.kind !== 'array' || tuple.count !== 3) fail('the payload is not a [shape, dtype, data] array');
  const shapeHeader = next();
  if (shapeHeader.kind !== 'array' || shapeHeader.count > MAX_DIMENSIONS) fail('the shape is not an array of at most 64 sizes');
  const shape: number[] = [];
  for (let i = 0; i < (shapeHeader as { count: number }).count; i++) {
    const size = next();
    if (size.kind !== 'scalar' || typeof size.value !== 'number' || !Number.isSafeInteger(size.value) || size.value < 0) {
      fail('a shape entry is not a non-negative integer');
    }
    shape.push((size as { value: number }).value);
  }
  const dtypeHeader = next();
  if ((dtypeHeader.kind !== 'str' && dtypeHeader.kind !== 'bin') || position + dtypeHeader.length > bytes.length) fail('the dtype name is missing');
  const numpyName = new TextDecoder().decode(bytes.subarray(position, position + (dtypeHeader as { length: number }).length));
  position += (dtypeHeader as { length: number }).length;
  const dataHeader = next();
  if (dataHeader.kind !== 'bin') fail('the array data is not a msgpack binary');
  const dataLength = (dataHeader as { length: number }).length;
  if (position + dataLength !== leaf.length) {
    fail(`the data takes ${dataLength} bytes but the extension leaves ${leaf.length - position}`);
  }
  return { shape, numpyName, dataOffset: leaf.offset + position, dataLength };
}

async function chunkedArrayEntry(
  file: RandomAccessFile,
  leaves: readonly MsgpackLeaf[],
  prefix: string,
): Promise<{ entry: TensorEntry; pieces: { offset: number; length: number }[] }> {
  const inside = (part: string) => (leaf: MsgpackLeaf) => leaf.path.join('/').startsWith(prefix === '' ? `${part}/` : `${prefix}/${part}/`);
  const indexOf = (leaf: MsgpackLeaf) => Number(leaf.path.at(-1));
  const byIndex = (a: MsgpackLeaf, b: MsgpackLeaf) => indexOf(a) - indexOf(b);
  const shapeLeaves = leaves.filter(inside('shape')).sort(byIndex);
  const chunkLeaves = leaves.filter(inside('chunks')).sort(byIndex);
  const fail = (problem: string): never => {
    throw new CheckpointError(file.path, `chunked array "${prefix}": ${problem}; the file is corrupt`, { tensor: prefix });
  };

  const shape = shapeLeaves.map((leaf) => {
    if (leaf.kind !== 'scalar' || typeof leaf.value !== 'number' || !Number.isSafeInteger(leaf.value) || leaf.value < 0) {
      return fail('a shape entry is not a non-negative integer');
    }
    return leaf.value;
  });
  if (chunkLeaves.length === 0) fail('it has no chunks');
  const pieces: { offset: number; length: number }[] = [];
  let numpyName: string | undefined;
  for (const leaf of chunkLeaves) {
    if (leaf.kind !== 'ext' || leaf.extType !== EXT_NDARRAY) return fail('a chunk is not an array');
    const payload = await readArrayPayload(file, leaf, `${prefix}/chunks/${leaf.path.at(-1)}`);
    if (numpyName !== undefined && payload.numpyName !== numpyName) fail('its chunks have different dtypes');
    numpyName = payload.numpyName;
    pieces.push({ offset: payload.dataOffset, length: payload.dataLength });
  }
  const entry = arrayEntry(file.path, prefix, { shape, numpyName: numpyName as string, dataOffset: pieces[0].offset, dataLength: 0 }, pieces);
  return { entry, pieces };
}

/** Converts a non-array leaf to a metadata value, decoding NumPy scalars and complex numbers from their small payloads. */
async function leafValue(file: RandomAccessFile, leaf: MsgpackLeaf, name: string): Promise<unknown> {
  if (leaf.kind === 'scalar') return jsonValue(leaf.value);
  if (leaf.kind === 'bin') return `<${leaf.length} bytes of binary data>`;
  if (leaf.extType === EXT_NUMPY_SCALAR && leaf.length <= PAYLOAD_HEADER_BYTES) {
    const payload = await readArrayPayload(file, leaf, name);
    const dtype = DTYPE_BY_NUMPY_NAME[payload.numpyName];
    if (dtype !== undefined && elementCount(payload.shape) === 1 && isSafetensorsDType(dtype)) {
      const bytes = await file.read(payload.dataOffset, payload.dataLength, `scalar "${name}"`);
      return decodeToFloat(bytes, dtype, 1, Float64Array)[0];
    }
    return `<NumPy scalar of dtype ${payload.numpyName}>`;
  }
  if (leaf.extType === EXT_COMPLEX && leaf.length <= 32) {
    const bytes = await file.read(leaf.offset, leaf.length, `complex number "${name}"`);
    const parts: MsgpackScalar[] = [];
    let position = 0;
    try {
      const tuple = decodeHeader(bytes, position);
      position += tuple.size;
      for (let i = 0; i < 2; i++) {
        const part = decodeHeader(bytes, position);
        position += part.size;
        if (part.kind === 'scalar') parts.push(part.value);
      }
    } catch {
      // Fall through to the generic description below.
    }
    if (parts.length === 2) return { real: jsonValue(parts[0]), imag: jsonValue(parts[1]) };
  }
  return `<msgpack extension type ${leaf.extType}, ${leaf.length} bytes>`;
}

function jsonValue(value: MsgpackScalar | string): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
