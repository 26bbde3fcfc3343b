// Sequential little-endian reads of a GGUF header through a buffered window on the file. Every read is checked
// against the file size first, so corrupt lengths and counts fail with an error instead of allocating.
import { CheckpointError } from '../checkpoint';
import type { RandomAccessFile } from '../fileRange';

const WINDOW_BYTES = 1 << 20;

export class HeaderCursor {
  private window: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.window.buffer);
  private windowStart = 0;
  position = 0;

  constructor(readonly file: RandomAccessFile) {}

  get remaining(): number {
    return this.file.size - this.position;
  }

  fail(message: string, offset = this.position): never {
    throw new CheckpointError(this.file.path, message, { offset });
  }

  /** Buffers `length` bytes at the position, or fails naming `what` when the file ends first. */
  async ensure(length: number, what: string): Promise<void> {
    if (length > this.remaining) {
      this.fail(`the file ends at byte ${this.file.size} inside ${what} (byte ${this.position}, ${length} bytes); the file is truncated`);
    }
    const index = this.position - this.windowStart;
    if (index >= 0 && index + length <= this.window.length) return;
    this.window = await this.file.read(this.position, Math.min(Math.max(length, WINDOW_BYTES), this.remaining), what);
    this.view = new DataView(this.window.buffer, this.window.byteOffset, this.window.byteLength);
    this.windowStart = this.position;
  }

  private take(length: number): number {
    const index = this.position - this.windowStart;
    this.position += length;
    return index;
  }

  // The fixed-size reads below require a preceding `ensure` covering them.
  u8(): number { return this.view.getUint8(this.take(1)); }
  i8(): number { return this.view.getInt8(this.take(1)); }
  u16(): number { return this.view.getUint16(this.take(2), true); }
  i16(): number { return this.view.getInt16(this.take(2), true); }
  u32(): number { return this.view.getUint32(this.take(4), true); }
  i32(): number { return this.view.getInt32(this.take(4), true); }
  f32(): number { return this.view.getFloat32(this.take(4), true); }
  f64(): number { return this.view.getFloat64(this.take(8), true); }
  u64(): bigint { return this.view.getBigUint64(this.take(8), true); }
  i64(): bigint { return this.view.getBigInt64(this.take(8), true); }

  async readU32(what: string): Promise<number> {
    await this.ensure(4, what);
    return this.u32();
  }

  /** Reads a u64 that must fit in a number, failing with `what` otherwise. */
  async readU64(what: string): Promise<number> {
    const start = this.position;
    await this.ensure(8, what);
    const value = this.u64();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} at byte ${start} is ${value}, which is impossibly large; the file is corrupt`, start);
    return Number(value);
  }

  /** Reads a GGUF string (u64 byte length, UTF-8 bytes). Strings longer than `maxBytes` are skipped and return undefined. */
  async readString(what: string, maxBytes: number): Promise<string | undefined> {
    const start = this.position;
    const length = await this.readU64(`the length of ${what}`);
    if (length > this.remaining) {
      this.fail(`${what} at byte ${start} declares ${length} bytes but only ${this.remaining} remain; the file is truncated or corrupt`, start);
    }
    if (length > maxBytes) {
      this.position += length;
      return undefined;
    }
    await this.ensure(length, what);
    const index = this.take(length);
    return new TextDecoder().decode(this.window.subarray(index, index + length));
  }

  /** Skips `length` bytes, failing when they leave the file. */
  skip(length: number, what: string): void {
    if (length > this.remaining) {
      this.fail(`${what} at byte ${this.position} needs ${length} bytes but only ${this.remaining} remain; the file is truncated`);
    }
    this.position += length;
  }
}
