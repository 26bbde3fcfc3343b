// Protobuf wire-format field scanning, enough to locate fields by byte offset.
//
// protobufjs's generated decoders (onnx-proto) return message objects without byte offsets. So the ONNX reader
// cannot learn from them where an initializer's raw_data lies in the file, and the writer cannot copy the fields
// that they skip (fields newer than onnx-proto's schema). This module walks the wire format with protobufjs's
// own `Reader`: it reads each field's tag and length and skips its value, decoding nothing else.
import { Reader } from 'protobufjs/minimal';

/** One field occurrence; offsets index the scanned buffer. */
export interface WireField {
  readonly fieldNumber: number;
  readonly wireType: number;
  /** Offset of the field's tag. */
  readonly start: number;
  /** Offset of the value: after the length prefix for length-delimited fields (wire type 2). */
  readonly valueStart: number;
  /** Offset just past the value. */
  readonly end: number;
}

const LENGTH_DELIMITED = 2;

/**
 * Lists the fields of the message in `bytes[start, end)` in wire order.
 * Throws a RangeError (from protobufjs) or an Error on a malformed or truncated message.
 */
export function scanFields(bytes: Uint8Array, start = 0, end = bytes.length): WireField[] {
  const reader = Reader.create(bytes);
  reader.pos = start;
  reader.len = end;
  const fields: WireField[] = [];
  while (reader.pos < end) {
    const fieldStart = reader.pos;
    const tag = reader.uint32();
    const fieldNumber = tag >>> 3;
    const wireType = tag & 7;
    if (fieldNumber === 0) throw new Error(`invalid protobuf field number 0 at byte ${fieldStart}`);
    let valueStart = reader.pos;
    if (wireType === LENGTH_DELIMITED) {
      const length = reader.uint32();
      valueStart = reader.pos;
      reader.skip(length);
    } else {
      reader.skipType(wireType);
    }
    fields.push({ fieldNumber, wireType, start: fieldStart, valueStart, end: reader.pos });
  }
  return fields;
}

/** Encodes `value` as a protobuf varint (value < 2^53). */
export function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

/** Encodes the tag and length prefix of a length-delimited field whose value is `length` bytes long. */
export function lengthDelimitedHeader(fieldNumber: number, length: number): Uint8Array {
  const tag = encodeVarint(fieldNumber * 8 + LENGTH_DELIMITED);
  const size = encodeVarint(length);
  const header = new Uint8Array(tag.length + size.length);
  header.set(tag);
  header.set(size, tag.length);
  return header;
}
