// A minimal zip writer for PyTorch archives. Records are stored uncompressed, and each record's data starts on a
// 64-byte boundary, padded through an extra field with header id "FB" as PyTorch's own writer does. ZIP64
// structures are written whenever a size, an offset or the record count exceeds the classic zip limits.
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

export interface ZipRecordSource {
  readonly name: string;
  readonly data: Uint8Array;
}

/** Alignment of every record's data, in bytes (PyTorch's kFieldAlignment). */
export const RECORD_ALIGNMENT = 64;
const MAX_32 = 0xffffffff;
const MAX_16 = 0xffff;
/** Largest single write; Node rejects writes of 2 GiB or more. */
const WRITE_PIECE = 1 << 28;
/** Pieces below this size are gathered before writing, in bytes. */
const GATHER_LIMIT = 1 << 20;

interface WrittenRecord {
  readonly name: Uint8Array;
  readonly crc: number;
  readonly size: number;
  readonly headerOffset: number;
}

/** Writes the records, then the central directory, at the handle's current position (expected 0). */
export async function writeStoredZip(handle: FileHandle, records: readonly ZipRecordSource[], signal?: AbortSignal): Promise<void> {
  // Small pieces (headers, small tensors) are gathered into one buffer, so a state dict of thousands of small
  // tensors takes a few large writes instead of one write per header.
  let position = 0;
  let flushed = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const joined = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await handle.write(joined, 0, joined.length, flushed);
    flushed += joined.length;
  };
  const write = async (bytes: Uint8Array): Promise<void> => {
    position += bytes.length;
    if (bytes.length < GATHER_LIMIT) {
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes >= GATHER_LIMIT) await flush();
      return;
    }
    await flush();
    for (let start = 0; start < bytes.length; start += WRITE_PIECE) {
      const piece = bytes.subarray(start, Math.min(bytes.length, start + WRITE_PIECE));
      await handle.write(piece, 0, piece.length, flushed);
      flushed += piece.length;
    }
  };

  const written: WrittenRecord[] = [];
  for (const record of records) {
    signal?.throwIfAborted();
    const name = new TextEncoder().encode(record.name);
    const size = record.data.length;
    const crc = crc32(record.data);
    const headerOffset = position;
    await write(localHeader(name, size, crc, headerOffset));
    await write(record.data);
    written.push({ name, crc, size, headerOffset });
  }

  const directoryOffset = position;
  for (const record of written) await write(centralHeader(record));
  const directorySize = position - directoryOffset;
  const needsZip64 = written.length >= MAX_16 || directoryOffset >= MAX_32 || directorySize >= MAX_32;
  if (needsZip64) await write(zip64End(written.length, directorySize, directoryOffset, position));
  await write(endOfDirectory(written.length, directorySize, directoryOffset, needsZip64));
  await flush();
}

function localHeader(name: Uint8Array, size: number, crc: number, offset: number): Uint8Array {
  const zip64 = size >= MAX_32;
  const zip64Length = zip64 ? 20 : 0;
  const unpadded = offset + 30 + name.length + zip64Length + 4;
  const padding = (RECORD_ALIGNMENT - (unpadded % RECORD_ALIGNMENT)) % RECORD_ALIGNMENT;
  const extraLength = zip64Length + 4 + padding;
  const header = new Uint8Array(30 + name.length + extraLength);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x04034b50, true);
  view.setUint16(4, zip64 ? 45 : 20, true);
  view.setUint16(6, 0x0800, true); // bit 11: the name is UTF-8
  view.setUint16(8, 0, true); // stored
  view.setUint32(14, crc, true);
  view.setUint32(18, zip64 ? MAX_32 : size, true);
  view.setUint32(22, zip64 ? MAX_32 : size, true);
  view.setUint16(26, name.length, true);
  view.setUint16(28, extraLength, true);
  header.set(name, 30);
  let cursor = 30 + name.length;
  if (zip64) {
    view.setUint16(cursor, 0x0001, true);
    view.setUint16(cursor + 2, 16, true);
    view.setBigUint64(cursor + 4, BigInt(size), true);
    view.setBigUint64(cursor + 12, BigInt(size), true);
    cursor += 20;
  }
  view.setUint16(cursor, 0x4246, true); // "FB"
  view.setUint16(cursor + 2, padding, true);
  header.fill(0x5a, cursor + 4); // "Z"
  return header;
}

function centralHeader(record: WrittenRecord): Uint8Array {
  const zip64Fields: number[] = [];
  if (record.size >= MAX_32) zip64Fields.push(record.size, record.size);
  if (record.headerOffset >= MAX_32) zip64Fields.push(record.headerOffset);
  const extraLength = zip64Fields.length > 0 ? 4 + 8 * zip64Fields.length : 0;
  const header = new Uint8Array(46 + record.name.length + extraLength);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x02014b50, true);
  view.setUint16(4, 45, true);
  view.setUint16(6, zip64Fields.length > 0 ? 45 : 20, true);
  view.setUint16(8, 0x0800, true);
  view.setUint32(16, record.crc, true);
  view.setUint32(20, record.size >= MAX_32 ? MAX_32 : record.size, true);
  view.setUint32(24, record.size >= MAX_32 ? MAX_32 : record.size, true);
  view.setUint16(28, record.name.length, true);
  view.setUint16(30, extraLength, true);
  view.setUint32(42, record.headerOffset >= MAX_32 ? MAX_32 : record.headerOffset, true);
  header.set(record.name, 46);
  if (zip64Fields.length > 0) {
    const cursor = 46 + record.name.length;
    view.setUint16(cursor, 0x0001, true);
    view.setUint16(cursor + 2, 8 * zip64Fields.length, true);
    zip64Fields.forEach((value, index) => view.setBigUint64(cursor + 4 + 8 * index, BigInt(value), true));
  }
  return header;
}

/** Builds the ZIP64 end of central directory record followed by its locator. */
function zip64End(count: number, directorySize: number, directoryOffset: number, recordOffset: number): Uint8Array {
  const bytes = new Uint8Array(56 + 20);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x06064b50, true);
  view.setBigUint64(4, 44n, true);
  view.setUint16(12, 45, true);
  view.setUint16(14, 45, true);
  view.setBigUint64(24, BigInt(count), true);
  view.setBigUint64(32, BigInt(count), true);
  view.setBigUint64(40, BigInt(directorySize), true);
  view.setBigUint64(48, BigInt(directoryOffset), true);
  view.setUint32(56, 0x07064b50, true);
  view.setBigUint64(64, BigInt(recordOffset), true);
  view.setUint32(72, 1, true);
  return bytes;
}

function endOfDirectory(count: number, directorySize: number, directoryOffset: number, zip64: boolean): Uint8Array {
  const bytes = new Uint8Array(22);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x06054b50, true);
  view.setUint16(8, zip64 ? MAX_16 : count, true);
  view.setUint16(10, zip64 ? MAX_16 : count, true);
  view.setUint32(12, zip64 ? MAX_32 : directorySize, true);
  view.setUint32(16, zip64 ? MAX_32 : directoryOffset, true);
  return bytes;
}
