// Zip access for PyTorch archives: the central directory is listed once with yauzl (ZIP64 included), and
// stored records are then read straight from the file at their data offset, without inflating anything.
import { close, open, read } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import yauzl from 'yauzl';
import { collectBytes } from '../byteStreams';
import { CheckpointError } from '../checkpoint';
import { checkCrc32, hex32 } from '../zipChecksum';
import type { RandomAccessFile } from '../fileRange';

export interface ZipRecord {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly compressionMethod: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly entry: yauzl.Entry;
}

export interface ZipListing {
  readonly zip: yauzl.ZipFile;
  readonly records: ReadonlyMap<string, ZipRecord>;
}

/** Largest compressed record this reader inflates into memory (data.pkl, byteorder). */
export const MAX_INFLATED_BYTES = 1 << 30;

/**
 * File access for yauzl that rejects reads outside the file, because yauzl 3.4 passes 64-bit offsets from a
 * corrupt ZIP64 record straight to fs.read, which then throws outside any callback and ends the process.
 * Small reads are served from a window of the file read ahead.
 */
class BoundedFileReader extends yauzl.RandomAccessReader {
  private closed = false;
  private window: { start: number; bytes: Buffer } | undefined;

  constructor(private readonly fd: number, private readonly size: number) {
    super();
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null, bytesRead?: number) => void): void {
    const outside = this.outside(position, position + length);
    if (outside !== undefined) {
      setImmediate(() => callback(outside));
      return;
    }
    if (length > WINDOW_BYTES) {
      read(this.fd, buffer, offset, length, position, (error, bytesRead) => callback(error, bytesRead));
      return;
    }
    // yauzl reads the central directory in pieces of a few dozen bytes, so serve them from a window.
    const window = this.window;
    if (window !== undefined && position >= window.start && position + length <= window.start + window.bytes.length) {
      window.bytes.copy(buffer, offset, position - window.start, position - window.start + length);
      setImmediate(() => callback(null, length));
      return;
    }
    const bytes = Buffer.alloc(Math.min(WINDOW_BYTES, this.size - position));
    read(this.fd, bytes, 0, bytes.length, position, (error, bytesRead) => {
      if (error) return callback(error);
      this.window = { start: position, bytes: bytes.subarray(0, bytesRead) };
      const copied = Math.min(length, bytesRead);
      bytes.copy(buffer, offset, 0, copied);
      callback(null, copied);
    });
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const outside = this.outside(start, end);
    if (outside === undefined) return rangeStream(this.fd, start, end);
    const failed = new PassThrough();
    setImmediate(() => failed.destroy(outside));
    return failed;
  }

  override close(callback: (error: Error | null) => void): void {
    if (this.closed) {
      setImmediate(() => callback(null));
      return;
    }
    this.closed = true;
    close(this.fd, callback);
  }

  private outside(start: number, end: number): OutsideFileError | undefined {
    if (Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= this.size) return undefined;
    return new OutsideFileError(`the zip directory points at bytes ${start}..${end}, outside the file (${this.size} bytes)`, start);
  }
}

/** A read that the zip directory requested outside the file; `offset` is its first byte. */
class OutsideFileError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

/**
 * Streams bytes [start, end) of the open file `fd` with positional reads. fs.createReadStream on a shared
 * descriptor is no substitute: destroying it, as yauzl does when a reader stops inflating a record early, closes
 * the descriptor even with `autoClose: false` (Node 20), and every later read of the archive then fails.
 */
function rangeStream(fd: number, start: number, end: number): Readable {
  let position = start;
  return new Readable({
    highWaterMark: RANGE_PIECE_BYTES,
    read(size) {
      const length = Math.min(size, end - position);
      if (length <= 0) {
        this.push(null);
        return;
      }
      const piece = Buffer.allocUnsafe(length);
      read(fd, piece, 0, length, position, (error, bytesRead) => {
        if (error) return this.destroy(error);
        if (bytesRead === 0) return this.destroy(new Error(`the file ended at byte ${position}, inside a zip record`));
        position += bytesRead;
        this.push(piece.subarray(0, bytesRead));
      });
    },
  });
}

/** Bytes per positional read when yauzl streams a record: 1 MiB, so inflating a large record takes few reads. */
const RANGE_PIECE_BYTES = 1 << 20;

/** Bytes read at once for yauzl's small reads. */
const WINDOW_BYTES = 1 << 20;

/** Lists every entry of the zip's central directory. The returned zip stays open until `zip.close()`. */
export async function listZip(path: string, size: number): Promise<ZipListing> {
  const fd = await new Promise<number>((resolve, reject) => {
    open(path, 'r', (error, opened) => (error ? reject(new CheckpointError(path, `cannot open the file: ${error.message}`)) : resolve(opened)));
  });
  const reader = new BoundedFileReader(fd, size);
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.fromRandomAccessReader(reader, size, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (error, opened) => {
      if (error || !opened) {
        reader.close(() => undefined);
        reject(invalidZip(path, error));
      } else resolve(opened);
    });
  });
  const records = new Map<string, ZipRecord>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      records.set(entry.fileName, {
        name: entry.fileName,
        compressionMethod: entry.compressionMethod,
        compressedSize: entry.compressedSize,
        uncompressedSize: entry.uncompressedSize,
        entry,
      });
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', (error: Error) => {
      zip.close();
      reject(invalidZip(path, error));
    });
    zip.readEntry();
  });
  return { zip, records };
}

function invalidZip(path: string, error: Error | null): CheckpointError {
  const detail = error instanceof OutsideFileError && Number.isSafeInteger(error.offset) ? { offset: error.offset } : {};
  return new CheckpointError(path, `is not a valid zip archive (${error?.message ?? 'unknown error'}); the file is truncated or corrupt`, detail);
}

/**
 * Returns the absolute file offset of a record's data: its local header offset plus the local header's
 * 30 fixed bytes, file name and extra field (which may differ from the central directory's extra field).
 * Checks that the record's compressed bytes lie inside the file.
 */
export async function recordDataOffset(file: RandomAccessFile, record: ZipRecord): Promise<number> {
  const headerOffset = record.entry.relativeOffsetOfLocalHeader;
  const header = await file.read(headerOffset, 30, `the local header of zip record ${record.name}`);
  return dataOffsetFromHeader(file, record, header);
}

/** Checks a record's 30-byte local header and returns the absolute offset of its data. */
function dataOffsetFromHeader(file: RandomAccessFile, record: ZipRecord, header: Uint8Array): number {
  const headerOffset = record.entry.relativeOffsetOfLocalHeader;
  const view = new DataView(header.buffer, header.byteOffset, 30);
  if (view.getUint32(0, true) !== 0x04034b50) {
    throw new CheckpointError(file.path, `zip record ${record.name} has no local header at byte ${headerOffset}; the archive is corrupt`, { offset: headerOffset });
  }
  // A local header whose method disagrees with the directory would have its compressed bytes read as tensor data.
  const localMethod = view.getUint16(8, true);
  if (localMethod !== record.compressionMethod) {
    throw new CheckpointError(
      file.path,
      `zip record ${record.name} has compression method ${localMethod} in its local header at byte ${headerOffset} but ${record.compressionMethod} in the zip directory; the archive is corrupt`,
      { offset: headerOffset },
    );
  }
  const dataOffset = headerOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
  if (dataOffset + record.compressedSize > file.size) {
    throw new CheckpointError(
      file.path,
      `zip record ${record.name} declares ${record.compressedSize} bytes at byte ${dataOffset}, past the end of the file (${file.size} bytes); the file is truncated or its zip directory is corrupt`,
      { offset: dataOffset },
    );
  }
  return dataOffset;
}

/** Span of the file read at once when local headers lie close together, in bytes. */
const HEADER_WINDOW_BYTES = 1 << 16;

/**
 * Returns the data offset of each record, like `recordDataOffset`, in the order given. Headers within
 * HEADER_WINDOW_BYTES of each other are read in one piece, so thousands of small tensors take few reads.
 */
export async function recordDataOffsets(file: RandomAccessFile, records: readonly ZipRecord[]): Promise<number[]> {
  const order = records.map((_, index) => index);
  order.sort((a, b) => records[a].entry.relativeOffsetOfLocalHeader - records[b].entry.relativeOffsetOfLocalHeader);
  const offsets = new Array<number>(records.length);
  let window: { start: number; bytes: Uint8Array } | undefined;
  for (let position = 0; position < order.length; position++) {
    const record = records[order[position]];
    const headerOffset = record.entry.relativeOffsetOfLocalHeader;
    if (window === undefined || headerOffset < window.start || headerOffset + 30 > window.start + window.bytes.length) {
      // Extend the window over the following headers that fit, and no further.
      let end = headerOffset + 30;
      for (let next = position + 1; next < order.length; next++) {
        const nextEnd = records[order[next]].entry.relativeOffsetOfLocalHeader + 30;
        if (nextEnd - headerOffset > HEADER_WINDOW_BYTES) break;
        end = nextEnd;
      }
      window = { start: headerOffset, bytes: await file.read(headerOffset, end - headerOffset, `the local headers from zip record ${record.name}`) };
    }
    const header = window.bytes.subarray(headerOffset - window.start, headerOffset - window.start + 30);
    offsets[order[position]] = dataOffsetFromHeader(file, record, header);
  }
  return offsets;
}

/** Reads a whole record into memory, inflating it when compressed; records above `limit` bytes are rejected. */
export async function readRecord(file: RandomAccessFile, listing: ZipListing, record: ZipRecord, limit = MAX_INFLATED_BYTES): Promise<Uint8Array> {
  const dataOffset = await recordDataOffset(file, record);
  if (record.uncompressedSize > limit) {
    throw new CheckpointError(
      file.path,
      `zip record ${record.name} declares ${record.uncompressedSize} uncompressed bytes, more than the ${limit} this reader loads; the file is corrupt or not a PyTorch checkpoint`,
      { offset: dataOffset },
    );
  }
  if (record.compressionMethod === 0) return file.read(dataOffset, record.compressedSize, `zip record ${record.name}`);
  if (record.compressionMethod !== 8) {
    throw new CheckpointError(file.path, `zip record ${record.name} uses compression method ${record.compressionMethod}; only stored and deflated records can be read`, { offset: dataOffset });
  }
  // yauzl checks that the record inflates to exactly its declared size, the length collected here.
  return collectBytes(inflateRecord(file, listing, record, dataOffset), record.uncompressedSize);
}

/**
 * Yields the inflated bytes of a deflated record from its first byte. yauzl checks that the record inflates to
 * exactly its declared size, and `checkCrc32` the CRC-32 that the zip directory declares. Stops inflating when
 * the caller stops iterating.
 */
export async function* inflateRecord(file: RandomAccessFile, listing: ZipListing, record: ZipRecord, dataOffset: number): AsyncGenerator<Uint8Array> {
  const stream = await new Promise<NodeJS.ReadableStream & { destroy(): void }>((resolve, reject) => {
    listing.zip.openReadStream(record.entry, (error, opened) => (error || !opened ? reject(error) : resolve(opened)));
  }).catch((error: Error) => {
    throw new CheckpointError(file.path, `cannot inflate zip record ${record.name}: ${error.message}`, { offset: dataOffset });
  });
  const mismatch = (actual: number) => new CheckpointError(
    file.path,
    `zip record ${record.name} inflates to bytes whose CRC-32 is ${hex32(actual)}, but its zip directory entry declares ${hex32(record.entry.crc32)}; the compressed data is corrupt, so re-download or re-save the file`,
    { offset: dataOffset },
  );
  try {
    yield* checkCrc32(stream as AsyncIterable<Buffer>, record.uncompressedSize, record.entry.crc32, mismatch);
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(file.path, `cannot inflate zip record ${record.name}: ${(error as Error).message}; the file is corrupt`, { offset: dataOffset });
  } finally {
    stream.destroy();
  }
}
