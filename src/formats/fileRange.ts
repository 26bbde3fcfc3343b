// Bounded random access to a file: every read is checked against the file's size, so a corrupt header
// can never make a reader allocate or read past the end of the file.
import { open, type FileHandle } from 'node:fs/promises';
import { CheckpointError } from './checkpoint';
import { assertRegularFile } from './regularFile';

export class RandomAccessFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** File size in bytes, read once at open. */
    readonly size: number,
  ) {}

  static async open(path: string): Promise<RandomAccessFile> {
    // Shards and ONNX external data are opened here without passing through openCheckpoint.
    await assertRegularFile(path);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new CheckpointError(path, `cannot open the file: ${(error as Error).message}`);
    }
    const { size } = await handle.stat();
    return new RandomAccessFile(path, handle, size);
  }

  /**
   * Reads exactly `length` bytes at absolute `offset`. Throws a CheckpointError naming `what` and the offset
   * when the range leaves the file, before allocating anything.
   */
  async read(offset: number, length: number, what: string): Promise<Uint8Array> {
    this.checkRange(offset, length, what);
    const bytes = new Uint8Array(length);
    await this.readInto(bytes, offset, what);
    return bytes;
  }

  /**
   * Fills all of `bytes` from absolute `offset`. Callers that stream a tensor pass the same buffers again and
   * again: a fresh multi-MiB buffer per read costs the kernel page faults and zeroing, which made reads of
   * page-cached data about 3 times slower in bench/formats.ts.
   */
  async readInto(bytes: Uint8Array, offset: number, what: string): Promise<void> {
    const length = bytes.byteLength;
    this.checkRange(offset, length, what);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(bytes, filled, length - filled, offset + filled);
      if (bytesRead === 0) {
        throw new CheckpointError(this.path, `file ended at byte ${offset + filled} while reading ${what}; the file may be truncated`, { offset: offset + filled });
      }
      filled += bytesRead;
    }
  }

  /** Throws unless [offset, offset + length) lies inside the file. */
  checkRange(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new CheckpointError(
        this.path,
        `${what} spans bytes ${offset}..${offset + length}, outside the file (${this.size} bytes); the file is truncated or its header is corrupt`,
        { offset },
      );
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
