// CRC-32 checking of inflated zip entries, shared by the PyTorch zip and .npz readers. yauzl 3 checks an entry's
// inflated size but not its CRC-32.
import { crc32 } from 'node:zlib';

/**
 * Yields `pieces` unchanged while computing their CRC-32, and throws `mismatch(actual)` when it differs from
 * `declared`. The check runs before the piece that reaches `size` bytes is yielded, because readers stop iterating
 * as soon as they hold the bytes they need, and the stream's end is then never reached.
 * NOTE: a reader that stops before the entry's last byte skips the check: a tensor in the first part of a shared
 * storage, or an .npy header read alone. Corrupt bytes it reads go undetected unless they break the deflate stream.
 */
export async function* checkCrc32(
  pieces: AsyncIterable<Uint8Array>,
  size: number,
  declared: number,
  mismatch: (actual: number) => Error,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  let checksum = 0;
  let checked = false;
  for await (const piece of pieces) {
    total += piece.byteLength;
    checksum = crc32(piece, checksum);
    if (!checked && total >= size) {
      checked = true;
      if (checksum >>> 0 !== declared >>> 0) throw mismatch(checksum >>> 0);
    }
    yield piece;
  }
  if (!checked && checksum >>> 0 !== declared >>> 0) throw mismatch(checksum >>> 0);
}

/** Formats a CRC-32 as `0x` and eight hexadecimal digits. */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
