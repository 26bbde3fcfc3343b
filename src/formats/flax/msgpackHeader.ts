// Decoding of one msgpack element header (type byte and length or value), per the msgpack specification
// (github.com/msgpack/msgpack/blob/master/spec.md). Containers, strings, binaries and extensions report their
// sizes, so callers decide what to read and what to skip.

export type MsgpackScalar = number | bigint | boolean | null;

export type MsgpackHeader =
  | { readonly kind: 'map' | 'array'; readonly count: number; readonly size: number }
  | { readonly kind: 'str' | 'bin'; readonly length: number; readonly size: number }
  | { readonly kind: 'ext'; readonly extType: number; readonly length: number; readonly size: number }
  | { readonly kind: 'scalar'; readonly value: MsgpackScalar; readonly size: number };

/** Maximum header size: a type byte and an 8-byte value (ext32 takes 6: type byte, 4-byte length, ext type). */
export const MAX_HEADER_BYTES = 9;

/** Thrown when `bytes` ends inside a header; `needed` is how many bytes the header takes. */
export class HeaderTruncatedError extends Error {
  constructor(readonly needed: number) {
    super(`msgpack header needs ${needed} bytes`);
  }
}

/** Thrown for the type byte 0xc1, which the msgpack specification never uses. */
export class InvalidTypeByteError extends Error {}

/** Decodes the header starting at `bytes[position]`. */
export function decodeHeader(bytes: Uint8Array, position: number): MsgpackHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = byteAt(bytes, position, 1);
  const need = (size: number): void => {
    if (position + size > bytes.length) throw new HeaderTruncatedError(size);
  };

  if (type <= 0x7f) return { kind: 'scalar', value: type, size: 1 };
  if (type <= 0x8f) return { kind: 'map', count: type & 0x0f, size: 1 };
  if (type <= 0x9f) return { kind: 'array', count: type & 0x0f, size: 1 };
  if (type <= 0xbf) return { kind: 'str', length: type & 0x1f, size: 1 };
  if (type >= 0xe0) return { kind: 'scalar', value: type - 0x100, size: 1 };

  switch (type) {
    case 0xc0: return { kind: 'scalar', value: null, size: 1 };
    case 0xc2: return { kind: 'scalar', value: false, size: 1 };
    case 0xc3: return { kind: 'scalar', value: true, size: 1 };
    case 0xc4: need(2); return { kind: 'bin', length: view.getUint8(position + 1), size: 2 };
    case 0xc5: need(3); return { kind: 'bin', length: view.getUint16(position + 1), size: 3 };
    case 0xc6: need(5); return { kind: 'bin', length: view.getUint32(position + 1), size: 5 };
    case 0xc7: need(3); return { kind: 'ext', length: view.getUint8(position + 1), extType: view.getInt8(position + 2), size: 3 };
    case 0xc8: need(4); return { kind: 'ext', length: view.getUint16(position + 1), extType: view.getInt8(position + 3), size: 4 };
    case 0xc9: need(6); return { kind: 'ext', length: view.getUint32(position + 1), extType: view.getInt8(position + 5), size: 6 };
    case 0xca: need(5); return { kind: 'scalar', value: view.getFloat32(position + 1), size: 5 };
    case 0xcb: need(9); return { kind: 'scalar', value: view.getFloat64(position + 1), size: 9 };
    case 0xcc: need(2); return { kind: 'scalar', value: view.getUint8(position + 1), size: 2 };
    case 0xcd: need(3); return { kind: 'scalar', value: view.getUint16(position + 1), size: 3 };
    case 0xce: need(5); return { kind: 'scalar', value: view.getUint32(position + 1), size: 5 };
    case 0xcf: need(9); return { kind: 'scalar', value: narrow(view.getBigUint64(position + 1)), size: 9 };
    case 0xd0: need(2); return { kind: 'scalar', value: view.getInt8(position + 1), size: 2 };
    case 0xd1: need(3); return { kind: 'scalar', value: view.getInt16(position + 1), size: 3 };
    case 0xd2: need(5); return { kind: 'scalar', value: view.getInt32(position + 1), size: 5 };
    case 0xd3: need(9); return { kind: 'scalar', value: narrow(view.getBigInt64(position + 1)), size: 9 };
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
      need(2);
      return { kind: 'ext', length: 1 << (type - 0xd4), extType: view.getInt8(position + 1), size: 2 };
    case 0xd9: need(2); return { kind: 'str', length: view.getUint8(position + 1), size: 2 };
    case 0xda: need(3); return { kind: 'str', length: view.getUint16(position + 1), size: 3 };
    case 0xdb: need(5); return { kind: 'str', length: view.getUint32(position + 1), size: 5 };
    case 0xdc: need(3); return { kind: 'array', count: view.getUint16(position + 1), size: 3 };
    case 0xdd: need(5); return { kind: 'array', count: view.getUint32(position + 1), size: 5 };
    case 0xde: need(3); return { kind: 'map', count: view.getUint16(position + 1), size: 3 };
    case 0xdf: need(5); return { kind: 'map', count: view.getUint32(position + 1), size: 5 };
    default: throw new InvalidTypeByteError(`invalid msgpack type byte 0x${type.toString(16)}`);
  }
}

function byteAt(bytes: Uint8Array, position: number, size: number): number {
  if (position >= bytes.length) throw new HeaderTruncatedError(size);
  return bytes[position];
}

/** 64-bit integers become numbers when exact, else stay bigints. */
function narrow(value: bigint): number | bigint {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value;
}
