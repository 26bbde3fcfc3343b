// Listing and inflating the members of an .npz archive (a zip of .npy files) through yauzl, which reads the
// central directory lazily and handles ZIP64.
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { CheckpointError } from '../checkpoint';
import { checkCrc32, hex32 } from '../zipChecksum';

export interface NpzArchive {
  readonly zip: ZipFile;
  readonly entries: Entry[];
}

function zipError(path: string, error: unknown): CheckpointError {
  if (error instanceof CheckpointError) return error;
  return new CheckpointError(path, `invalid zip archive (${(error as Error).message}); the .npz file is truncated or corrupt`);
}

/** Opens the archive and lists its central directory; reads no member data. */
export async function listNpzArchive(path: string): Promise<NpzArchive> {
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, strictFileNames: false });
  } catch (error) {
    throw zipError(path, error);
  }
  try {
    const entries = await new Promise<Entry[]>((resolve, reject) => {
      const found: Entry[] = [];
      zip.on('entry', (entry: Entry) => {
        found.push(entry);
        zip.readEntry();
      });
      zip.on('end', () => resolve(found));
      zip.on('error', reject);
      zip.readEntry();
    });
    return { zip, entries };
  } catch (error) {
    zip.close();
    throw zipError(path, error);
  }
}

/** Absolute file offset of a member's stored data, after its local file header. */
export async function memberDataStart(path: string, zip: ZipFile, entry: Entry): Promise<number> {
  try {
    const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
    return fileDataStart;
  } catch (error) {
    throw zipError(path, error);
  }
}

/**
 * Yields the inflated bytes of a deflated member, and throws once more than `maxBytes` come out, so a member
 * whose data inflates past what its .npy header calls for is never fully inflated. Stops early when the caller
 * stops iterating.
 */
export async function* inflateMember(path: string, zip: ZipFile, entry: Entry, maxBytes: number): AsyncGenerator<Uint8Array> {
  let stream;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (error) {
    throw zipError(path, error);
  }
  const tensor = entry.fileName.replace(/\.npy$/, '');
  // np.load rejects a member whose CRC-32 differs, and so does this reader.
  const mismatch = (actual: number) => new CheckpointError(
    path,
    `member "${entry.fileName}" inflates to bytes whose CRC-32 is ${hex32(actual)}, but its zip directory entry declares ${hex32(entry.crc32)}; the compressed data is corrupt, so re-download or re-save the archive`,
    { tensor },
  );
  let total = 0;
  try {
    for await (const piece of checkCrc32(stream as AsyncIterable<Buffer>, entry.uncompressedSize, entry.crc32, mismatch)) {
      total += piece.byteLength;
      if (total > maxBytes) {
        throw new CheckpointError(path, `member "${entry.fileName}" inflates to more than the ${maxBytes} bytes its .npy header calls for; the archive is corrupt`, { tensor });
      }
      yield piece;
    }
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    // yauzl reports corrupt deflate data and a stream longer or shorter than the declared size here.
    throw new CheckpointError(path, `member "${entry.fileName}": ${(error as Error).message}; the archive is corrupt`, { tensor });
  } finally {
    stream.destroy();
  }
}

/** Inflates the first `length` bytes of a deflated member, or fewer when the member is shorter. */
export async function inflateMemberPrefix(path: string, zip: ZipFile, entry: Entry, length: number): Promise<Uint8Array> {
  const result = new Uint8Array(length);
  let filled = 0;
  for await (const piece of inflateMember(path, zip, entry, Infinity)) {
    const take = Math.min(piece.byteLength, length - filled);
    result.set(piece.subarray(0, take), filled);
    filled += take;
    if (filled === length) break;
  }
  return result.subarray(0, filled);
}
