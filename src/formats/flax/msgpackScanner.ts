// A streaming msgpack scanner that lists the leaves of a nested msgpack value with the byte ranges of binaries
// and extension payloads, without reading those payloads.
//
// @msgpack/msgpack's Decoder materializes every bin and ext payload (its extension codecs receive the payload
// bytes), so decoding a Flax checkpoint with it would read every tensor into memory. This scanner reads only
// headers, keys and short strings, through a small buffered window on the file, and uses an explicit stack
// bounded by MAX_DEPTH, so deeply nested input cannot overflow the call stack.
import { CheckpointError } from '../checkpoint';
import type { RandomAccessFile } from '../fileRange';
import { decodeHeader, HeaderTruncatedError, InvalidTypeByteError, MAX_HEADER_BYTES, type MsgpackHeader, type MsgpackScalar } from './msgpackHeader';

/** Maximum nesting of maps and arrays; Flax parameter trees are a few levels deep. */
export const MAX_DEPTH = 256;
/** Strings up to this many bytes are decoded; longer ones are reported by length only. */
const MAX_DECODED_STRING_BYTES = 64 * 1024;
const WINDOW_BYTES = 64 * 1024;

export type MsgpackLeaf =
  | { readonly path: readonly string[]; readonly kind: 'scalar'; readonly value: MsgpackScalar | string }
  | { readonly path: readonly string[]; readonly kind: 'ext'; readonly extType: number; readonly offset: number; readonly length: number }
  | { readonly path: readonly string[]; readonly kind: 'bin'; readonly offset: number; readonly length: number };

/** Buffered sequential reads of a RandomAccessFile. */
class FileCursor {
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;
  position = 0;

  constructor(private readonly file: RandomAccessFile) {}

  get remaining(): number {
    return this.file.size - this.position;
  }

  /** Buffers at least min(`length`, remaining) bytes at the position; returns the window and the position's index in it. */
  async view(length: number): Promise<{ bytes: Uint8Array; index: number }> {
    const wanted = Math.min(length, this.remaining);
    const index = this.position - this.windowStart;
    if (index < 0 || index + wanted > this.window.length) {
      this.window = await this.file.read(this.position, Math.min(Math.max(wanted, WINDOW_BYTES), this.remaining), 'msgpack data');
      this.windowStart = this.position;
      return { bytes: this.window, index: 0 };
    }
    return { bytes: this.window, index };
  }
}

interface Frame {
  readonly kind: 'map' | 'array';
  readonly path: readonly string[];
  remaining: number;
  index: number;
  /** For maps: the key just read, whose value comes next. */
  key?: string;
}

/** Scans the single msgpack value that makes up the file and returns its leaves in file order. */
export async function scanMsgpackLeaves(file: RandomAccessFile): Promise<MsgpackLeaf[]> {
  const cursor = new FileCursor(file);
  const leaves: MsgpackLeaf[] = [];
  const stack: Frame[] = [];
  const fail = (message: string, offset = cursor.position): never => {
    throw new CheckpointError(file.path, message, { offset });
  };

  const readHeader = async (): Promise<MsgpackHeader> => {
    const start = cursor.position;
    if (cursor.remaining <= 0) fail(`the file ends at byte ${start} inside the msgpack data; the file is truncated`);
    const { bytes, index } = await cursor.view(MAX_HEADER_BYTES);
    try {
      const header = decodeHeader(bytes.subarray(index, index + Math.min(MAX_HEADER_BYTES, cursor.remaining)), 0);
      cursor.position += header.size;
      return header;
    } catch (error) {
      if (error instanceof HeaderTruncatedError) return fail(`the file ends inside the msgpack header at byte ${start}; the file is truncated`, start);
      if (error instanceof InvalidTypeByteError) return fail(`${error.message} at byte ${start}; the file is not msgpack or is corrupt`, start);
      throw error;
    }
  };

  const skipPayload = (length: number, what: string): number => {
    const start = cursor.position;
    if (length > cursor.remaining) {
      fail(`the msgpack ${what} at byte ${start} declares ${length} bytes but only ${cursor.remaining} remain; the file is truncated`, start);
    }
    cursor.position += length;
    return start;
  };

  const readString = async (length: number): Promise<string | undefined> => {
    const start = skipPayload(length, 'string');
    if (length > MAX_DECODED_STRING_BYTES) return undefined;
    cursor.position = start;
    const { bytes, index } = await cursor.view(length);
    cursor.position = start + length;
    return new TextDecoder().decode(bytes.subarray(index, index + length));
  };

  /** Reads one value at `path`: records a leaf, or pushes a frame for a non-empty container. */
  const readValue = async (path: readonly string[]): Promise<void> => {
    const start = cursor.position;
    const header = await readHeader();
    switch (header.kind) {
      case 'map':
      case 'array': {
        if (header.count === 0) return;
        // Every element takes at least one byte, so a count beyond the remaining bytes is corrupt.
        const minimumBytes = header.kind === 'map' ? 2 * header.count : header.count;
        if (minimumBytes > cursor.remaining) {
          fail(`the msgpack ${header.kind} at byte ${start} declares ${header.count} entries but only ${cursor.remaining} bytes remain; the file is truncated`, start);
        }
        if (stack.length >= MAX_DEPTH) {
          fail(`msgpack data at byte ${start} is nested deeper than ${MAX_DEPTH} levels; this is not a Flax checkpoint`, start);
        }
        stack.push({ kind: header.kind, path, remaining: header.count, index: 0 });
        return;
      }
      case 'str': {
        const text = await readString(header.length);
        leaves.push({ path, kind: 'scalar', value: text ?? `<string of ${header.length} bytes>` });
        return;
      }
      case 'bin':
        leaves.push({ path, kind: 'bin', offset: skipPayload(header.length, 'binary'), length: header.length });
        return;
      case 'ext':
        leaves.push({ path, kind: 'ext', extType: header.extType, offset: skipPayload(header.length, 'extension'), length: header.length });
        return;
      case 'scalar':
        leaves.push({ path, kind: 'scalar', value: header.value });
        return;
    }
  };

  const readKey = async (): Promise<string> => {
    const start = cursor.position;
    const header = await readHeader();
    if (header.kind === 'scalar' && header.value !== null && typeof header.value !== 'boolean') return String(header.value);
    if (header.kind === 'str') {
      const key = await readString(header.length);
      if (key !== undefined) return key;
    }
    return fail(`the msgpack map key at byte ${start} is a ${header.kind}, not a string or integer; this is not a Flax checkpoint`, start);
  };

  await readValue([]);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.remaining === 0) {
      stack.pop();
      continue;
    }
    if (frame.kind === 'map' && frame.key === undefined) {
      frame.key = await readKey();
      continue;
    }
    const name = frame.kind === 'map' ? (frame.key as string) : String(frame.index);
    frame.key = undefined;
    frame.remaining--;
    frame.index++;
    await readValue([...frame.path, name]);
  }

  if (cursor.remaining > 0) {
    fail(`unexpected data after the msgpack value: ${cursor.remaining} bytes from byte ${cursor.position}; the file is not a single msgpack value`);
  }
  return leaves;
}
