// Reader for NumPy `.npy` arrays and `.npz` archives of them (`np.save`, `np.savez`, `np.savez_compressed`).
import { CheckpointError, type Checkpoint, type TensorEntry } from '../checkpoint';
import { RandomAccessFile } from '../fileRange';
import { NPY_PREAMBLE_BYTES, parseNpyHeader, parseNpyPreamble, type NpyHeader, type NpyLocation } from './header';
import { NumpyCheckpoint, type NumpyArray } from './checkpoint';
import { inflateMemberPrefix, listNpzArchive, memberDataStart, type NpzArchive } from './npz';
import type { Entry } from 'yauzl';

const NPY_MAGIC = '\x93NUMPY';

/** Tensor name of the single array of a .npy file, which stores no name. */
export const NPY_ARRAY_NAME = 'array';

/**
 * Opens a `.npy` file (one tensor named `array`) or a `.npz` archive (one tensor per
 * `.npy` member, named without `.npy`), choosing by the file's first bytes. Reads headers only.
 */
export async function openNumpy(path: string): Promise<Checkpoint> {
  const file = await RandomAccessFile.open(path);
  try {
    const start = await file.read(0, Math.min(file.size, NPY_PREAMBLE_BYTES), 'the file signature');
    const signature = String.fromCharCode(...start.subarray(0, 6));
    if (signature === NPY_MAGIC) return await openNpy(file, start);
    if (signature.startsWith('PK')) return await openNpz(file);
    throw new CheckpointError(path, 'missing the NumPy magic bytes "\\x93NUMPY" and the zip signature "PK"; this is neither a .npy nor a .npz file', { offset: 0 });
  } catch (error) {
    await file.close();
    throw error;
  }
}

async function openNpy(file: RandomAccessFile, start: Uint8Array): Promise<Checkpoint> {
  const location: NpyLocation = { file: file.path, offset: 0 };
  const preamble = parseNpyPreamble(start, location);
  const headerBytes = await file.read(preamble.headerStart, preamble.headerLength, 'the .npy header');
  const header = parseNpyHeader(preamble, headerBytes, location);
  const name = NPY_ARRAY_NAME;
  const available = file.size - header.dataStart;
  if (available < header.dataLength) {
    throw new CheckpointError(file.path, `the array data is ${available} bytes but ${header.dtype} ${JSON.stringify(header.shape)} needs ${header.dataLength}; the file is truncated`, { tensor: name, offset: header.dataStart });
  }
  const array: NumpyArray = {
    entry: { name, dtype: header.dtype, shape: header.shape, offset: header.dataStart, length: header.dataLength },
    header,
    source: { kind: 'file' },
  };
  // Repeated np.save calls on one open file append arrays; like np.load, read the first and report the rest.
  const metadata: Record<string, unknown> = { fortranOrder: header.fortranOrder, byteOrder: header.byteOrder };
  if (available > header.dataLength) metadata.trailingBytes = available - header.dataLength;
  return new NumpyCheckpoint(file.path, 'npy', [array], metadata, file);
}

async function openNpz(file: RandomAccessFile): Promise<Checkpoint> {
  const path = file.path;
  const archive = await listNpzArchive(path);
  try {
    const arrays: NumpyArray[] = [];
    const otherMembers: string[] = [];
    const names = new Set<string>();
    for (const member of archive.entries) {
      if (member.fileName.endsWith('/')) continue;
      if (!member.fileName.endsWith('.npy')) {
        otherMembers.push(member.fileName);
        continue;
      }
      const name = member.fileName.slice(0, -'.npy'.length);
      if (names.has(name)) throw new CheckpointError(path, `member "${member.fileName}" appears twice in the archive; the .npz file is corrupt`, { tensor: name });
      names.add(name);
      arrays.push(await readMember(file, archive, member, name));
    }
    const metadata: Record<string, unknown> = otherMembers.length > 0 ? { otherMembers } : {};
    return new NumpyCheckpoint(path, 'npz', arrays, metadata, file, archive.zip);
  } catch (error) {
    archive.zip.close();
    throw error;
  }
}

/** Reads one member's .npy header and checks its declared sizes before any array data is read or inflated. */
async function readMember(file: RandomAccessFile, archive: NpzArchive, member: Entry, name: string): Promise<NumpyArray> {
  const path = file.path;
  const fail = (message: string, offset: number): never => {
    throw new CheckpointError(path, `member "${member.fileName}": ${message}`, { tensor: name, offset });
  };
  if (member.isEncrypted()) fail('the member is encrypted, which .npz files never are; decrypt the archive first', member.relativeOffsetOfLocalHeader);
  if (member.compressionMethod !== 0 && member.compressionMethod !== 8) {
    fail(`compression method ${member.compressionMethod} is not supported; .npz members are stored or deflated`, member.relativeOffsetOfLocalHeader);
  }
  const dataStart = await memberDataStart(path, archive.zip, member);
  const stored = member.compressionMethod === 0;
  const location: NpyLocation = { file: path, member: member.fileName, offset: dataStart };

  const readPrefix = async (length: number): Promise<Uint8Array> => {
    const available = Math.min(length, member.uncompressedSize);
    return stored
      ? file.read(dataStart, Math.min(available, member.compressedSize), `member "${member.fileName}"`)
      : inflateMemberPrefix(path, archive.zip, member, available);
  };
  const preamble = parseNpyPreamble(await readPrefix(NPY_PREAMBLE_BYTES), location);
  const prefix = await readPrefix(preamble.headerStart + preamble.headerLength);
  if (prefix.byteLength < preamble.headerStart + preamble.headerLength) {
    fail(`the .npy header is truncated after ${prefix.byteLength} bytes`, dataStart);
  }
  const header: NpyHeader = parseNpyHeader(preamble, prefix.subarray(preamble.headerStart), location);

  const expected = header.dataStart + header.dataLength;
  if (member.uncompressedSize < expected) {
    fail(`the member holds ${member.uncompressedSize} bytes but its .npy header calls for ${expected} (${header.dtype} ${JSON.stringify(header.shape)}); the archive is truncated or corrupt`, dataStart);
  }
  if (member.uncompressedSize > expected) {
    fail(`the member declares ${member.uncompressedSize} bytes but its .npy header calls for only ${expected}; the archive is corrupt, so it is not inflated`, dataStart);
  }
  if (stored && member.compressedSize !== member.uncompressedSize) {
    fail(`the stored member declares ${member.compressedSize} stored bytes but ${member.uncompressedSize} uncompressed bytes; the archive is corrupt`, dataStart);
  }

  const entry: TensorEntry = stored
    ? { name, dtype: header.dtype, shape: header.shape, offset: dataStart + header.dataStart, length: header.dataLength }
    // A deflated member has no offset of its own data: record where the member starts and its compressed size,
    // and let reads inflate the member.
    : { name, dtype: header.dtype, shape: header.shape, offset: member.relativeOffsetOfLocalHeader, length: member.compressedSize };
  return { entry, header, source: stored ? { kind: 'file' } : { kind: 'deflated', member } };
}
