// The .npy header (NumPy format versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a version, a little-endian
// header length (2 bytes in 1.0, 4 bytes after), then a Python dict literal with `descr`, `fortran_order` and `shape`.
import { CheckpointError, elementCount, type SafetensorsDType } from '../checkpoint';
import type { ByteOrder } from '../contiguousChunks';
import { dtypeSize } from '../dtype';
import { LiteralSyntaxError, parsePythonLiteral } from './literal';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** Bytes to read before the header length is known: magic, version and a 4-byte length. */
export const NPY_PREAMBLE_BYTES = 12;

/** Largest header accepted, in bytes. NumPy writes about 128; only structured dtypes, which are unsupported, need more. */
export const MAX_NPY_HEADER_BYTES = 1024 * 1024;

/** Position of an array's header text. */
export interface NpyPreamble {
  readonly major: number;
  /** Offset of the dict literal from the start of the .npy data. */
  readonly headerStart: number;
  readonly headerLength: number;
}

export interface NpyHeader {
  readonly dtype: SafetensorsDType;
  readonly byteOrder: ByteOrder;
  readonly shape: number[];
  readonly fortranOrder: boolean;
  /** Offset of the array data from the start of the .npy data. */
  readonly dataStart: number;
  /** Bytes of array data the header calls for. */
  readonly dataLength: number;
}

/** Error location: the file, an npz member, and the absolute offset of the .npy data. */
export interface NpyLocation {
  readonly file: string;
  readonly member?: string;
  readonly offset: number;
}

function fail(location: NpyLocation, message: string, extraOffset = 0): never {
  const prefix = location.member === undefined ? '' : `member "${location.member}": `;
  throw new CheckpointError(location.file, prefix + message, { tensor: location.member, offset: location.offset + extraOffset });
}

/** Parses the magic, version and header length from the first bytes (up to NPY_PREAMBLE_BYTES) of .npy data. */
export function parseNpyPreamble(bytes: Uint8Array, location: NpyLocation): NpyPreamble {
  if (MAGIC.some((byte, i) => bytes[i] !== byte)) {
    fail(location, 'missing the NumPy magic bytes "\\x93NUMPY"; this is not a .npy file or it is corrupt');
  }
  if (bytes.length < 10) fail(location, `the .npy data ends after ${bytes.length} bytes, inside its header; the file is truncated`, bytes.length);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(location, 'the .npy header is truncated', bytes.length);
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    return fail(location, `unsupported .npy format version ${major}.${bytes[7]}; versions 1.0, 2.0 and 3.0 are supported`, 6);
  }
  if (headerLength > MAX_NPY_HEADER_BYTES) {
    fail(location, `the .npy header length is ${headerLength} bytes, more than the ${MAX_NPY_HEADER_BYTES}-byte limit; the file is corrupt`, 8);
  }
  return { major, headerStart, headerLength };
}

const DTYPES: Record<string, SafetensorsDType> = {
  f8: 'F64', f4: 'F32', f2: 'F16', i8: 'I64', i4: 'I32', i2: 'I16', i1: 'I8', u1: 'U8', b1: 'BOOL',
};

/** Parses the dict literal of a .npy header (latin-1 text in versions 1.0 and 2.0, UTF-8 in 3.0). */
export function parseNpyHeader(preamble: NpyPreamble, headerBytes: Uint8Array, location: NpyLocation): NpyHeader {
  const text = new TextDecoder(preamble.major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  let literal;
  try {
    literal = parsePythonLiteral(text);
  } catch (error) {
    if (!(error instanceof LiteralSyntaxError)) throw error;
    return fail(location, `the .npy header is not a valid dict literal (${error.message}); the file is corrupt`, preamble.headerStart);
  }
  if (typeof literal !== 'object' || literal === null || Array.isArray(literal)) {
    return fail(location, 'the .npy header is not a dict; the file is corrupt', preamble.headerStart);
  }
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!Object.hasOwn(literal, key)) {
      return fail(location, `the .npy header has no "${key}" key; NumPy always writes descr, fortran_order and shape, so the file is corrupt`, preamble.headerStart);
    }
  }
  const { descr, fortran_order: fortranOrder, shape } = literal;
  if (typeof descr !== 'string') {
    return fail(location, `the array has a structured dtype ${JSON.stringify(descr)}, which is not supported; save plain numeric arrays`, preamble.headerStart);
  }
  if (typeof fortranOrder !== 'boolean') return fail(location, 'the .npy header has no boolean "fortran_order"; the file is corrupt', preamble.headerStart);
  if (!Array.isArray(shape) || !shape.every((size) => typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
    return fail(location, `the .npy header "shape" ${JSON.stringify(shape)} is not a tuple of non-negative integers; the file is corrupt`, preamble.headerStart);
  }

  const { dtype, byteOrder } = parseDescr(descr, location, preamble.headerStart);
  const dims = shape as number[];
  return {
    dtype,
    byteOrder,
    shape: dims,
    fortranOrder,
    dataStart: preamble.headerStart + preamble.headerLength,
    dataLength: elementCount(dims) * (dtypeSize(dtype) as number),
  };
}

function parseDescr(descr: string, location: NpyLocation, headerStart: number): { dtype: SafetensorsDType; byteOrder: ByteOrder } {
  const match = /^([<>|=]?)([a-zA-Z]\d*)$/.exec(descr);
  const dtype = match === null ? undefined : DTYPES[match[2]];
  if (match === null || dtype === undefined) {
    const hint = descr.includes('O')
      ? 'object arrays hold pickled Python objects, which are never loaded'
      : 'supported dtypes are float64, float32, float16, int64, int32, int16, int8, uint8 and bool; convert with a.astype(...) and save again';
    return fail(location, `unsupported dtype "${descr}": ${hint}`, headerStart);
  }
  // "=" means the writer's native order. NumPy writes "<" or ">" explicitly, so "=" comes only from other tools.
  // NOTE: "=" is read as little-endian, which is wrong for a file written by such a tool on a big-endian machine.
  return { dtype, byteOrder: match[1] === '>' ? 'big' : 'little' };
}
