// Opens PyTorch's zip format (torch.save since 1.6): `<archive>/data.pkl` contains the pickled object, and each
// storage's bytes are the record `<archive>/data/<key>`, normally stored uncompressed and 64-byte aligned.
import { CheckpointError, type Checkpoint, type PickleGlobal } from '../checkpoint';
import type { ByteOrder } from '../contiguousChunks';
import type { RandomAccessFile } from '../fileRange';
import { pickleReport, unpickle, withRiskyGlobalsNoted } from '../pickle/unpickler';
import { storageElementSize } from './elementSize';
import { interpretPickle, isScriptObject, type ScriptObject } from './interpret';
import { layoutCheckpoint, type NamedTensorRef } from './layout';
import { parseScriptClassMembers, scriptClassSource, type ScriptClassMembers } from './scriptClassMembers';
import type { ScriptClassLookup } from './scriptModuleLayout';
import { PytorchCheckpoint } from './pytorchCheckpoint';
import { placeTensors, type StorageLocation } from './tensors';
import { inflateRecord, listZip, readRecord, recordDataOffset, recordDataOffsets, type ZipListing, type ZipRecord } from './zipArchive';

export async function openPytorchZip(file: RandomAccessFile): Promise<Checkpoint> {
  const listing = await listZip(file.path, file.size);
  try {
    return await openListed(file, listing);
  } catch (error) {
    listing.zip.close();
    throw error;
  }
}

async function openListed(file: RandomAccessFile, listing: ZipListing): Promise<Checkpoint> {
  const path = file.path;
  const pickleRecord = findDataPickle(listing);
  if (pickleRecord === undefined) {
    const names = [...listing.records.keys()].slice(0, 5).join(', ');
    throw new CheckpointError(path, `is a zip archive without a data.pkl record (it has ${names || 'no records'}), so torch.save did not write it; pass a PyTorch checkpoint`);
  }
  const prefix = pickleRecord.name.slice(0, -'data.pkl'.length);
  const byteOrder = await readByteOrder(file, listing, prefix);

  const pickleBytes = await readRecord(file, listing, pickleRecord);
  const fileOffset = pickleRecord.compressionMethod === 0 ? await recordDataOffset(file, pickleRecord) : undefined;
  const { value, globals } = unpickle(pickleBytes, { file: path, label: pickleRecord.name, ...(fileOffset === undefined ? {} : { fileOffset }) });
  const torchscriptArchive = [...listing.records.keys()].some((name) => name.startsWith(`${prefix}code/`));
  const constantsGlobals = torchscriptArchive ? await readConstantsGlobals(file, listing, prefix) : [];
  const report = pickleReport(mergeGlobals(globals, constantsGlobals), { torchscriptArchive });

  // An error while interpreting or placing the pickle's values still names its dangerous globals.
  const { placed, metadata } = await withRiskyGlobalsNoted(report, async () => {
    const root = interpretPickle(value, path).value;
    const scriptClasses = torchscriptArchive && isScriptObject(root) ? await readScriptClasses(file, listing, prefix, root) : undefined;
    const layout = layoutCheckpoint(root, scriptClasses, { torchscriptArchive });

    const records = new Map<string, ZipRecord>();
    for (const { tensor } of layout.tensors) {
      const record = listing.records.get(`${prefix}data/${tensor.storage.key}`);
      if (record !== undefined) records.set(tensor.storage.key, record);
    }
    const locations = await locateRecords(file, listing, records);
    checkRecordSizes(path, layout.tensors, locations, records);
    const expectedAt = (key: string) => `its zip record ${prefix}data/${key}`;
    return { placed: placeTensors(path, layout.tensors, (key) => locations.get(key), expectedAt), metadata: layout.metadata };
  });
  return new PytorchCheckpoint(path, 'pytorch-zip', file, placed, metadata, report, byteOrder, () => listing.zip.close());
}

/**
 * Unpickles `<prefix>constants.pkl`, which torch.jit.load also unpickles, and returns its globals. Nothing in it
 * is executed or interpreted. readRecord rejects a record over MAX_INFLATED_BYTES.
 */
async function readConstantsGlobals(file: RandomAccessFile, listing: ZipListing, prefix: string): Promise<readonly PickleGlobal[]> {
  const record = listing.records.get(`${prefix}constants.pkl`);
  if (record === undefined) return [];
  const bytes = await readRecord(file, listing, record);
  const fileOffset = record.compressionMethod === 0 ? await recordDataOffset(file, record) : undefined;
  return unpickle(bytes, { file: file.path, label: record.name, ...(fileOffset === undefined ? {} : { fileOffset }) }).globals;
}

/** Appends the globals of `extra` that `first` lacks. */
function mergeGlobals(first: readonly PickleGlobal[], extra: readonly PickleGlobal[]): PickleGlobal[] {
  const merged = [...first];
  for (const entry of extra) {
    if (!merged.some((seen) => seen.module === entry.module && seen.name === entry.name)) merged.push(entry);
  }
  return merged;
}

/**
 * Checks each storage record's declared size against the byte size its persistent id gives (numel × element
 * size), which is the size torch.save writes. A smaller record is corrupt. A larger stored record is accepted, as
 * torch.load accepts it. A deflated one must match exactly. Otherwise a record that declares more bytes than it
 * inflates to would be read as long as its tensors need no more than the real bytes, where torch.load fails.
 */
function checkRecordSizes(
  path: string,
  tensors: readonly NamedTensorRef[],
  locations: ReadonlyMap<string, StorageLocation>,
  records: ReadonlyMap<string, ZipRecord>,
): void {
  for (const { name, tensor } of tensors) {
    const { storage } = tensor;
    const record = records.get(storage.key);
    const location = locations.get(storage.key);
    if (record === undefined || location === undefined) continue;
    const expected = storage.numel * storageElementSize(storage.dtype);
    const tooSmall = record.uncompressedSize < expected;
    const deflatedMismatch = record.compressionMethod !== 0 && record.uncompressedSize !== expected;
    if (!tooSmall && !deflatedMismatch) continue;
    throw new CheckpointError(
      path,
      `zip record ${record.name} declares ${record.uncompressedSize} uncompressed bytes, but tensor "${name}" uses it as storage "${storage.key}" of ${storage.numel} ${storage.dtype} elements (${expected} bytes); the file is corrupt`,
      { tensor: name, offset: location.offset },
    );
  }
}

/** Finds each storage record's data offset. */
async function locateRecords(file: RandomAccessFile, listing: ZipListing, records: ReadonlyMap<string, ZipRecord>): Promise<Map<string, StorageLocation>> {
  const keys = [...records.keys()];
  const offsets = await recordDataOffsets(file, keys.map((key) => records.get(key) as ZipRecord));
  const locations = new Map<string, StorageLocation>();
  keys.forEach((key, index) => {
    const record = records.get(key) as ZipRecord;
    const offset = offsets[index];
    locations.set(key, {
      offset,
      byteLength: record.uncompressedSize,
      description: `zip record ${record.name}`,
      ...compressedAccess(file, listing, record, offset),
    });
  });
  return locations;
}

/**
 * Returns how a storage record's bytes are read when the record is compressed. torch.save stores records
 * uncompressed, but an archive repacked by a zip tool may deflate them, and torch.load reads those too. Other
 * methods (bzip2, LZMA, zstd) are not read.
 */
function compressedAccess(file: RandomAccessFile, listing: ZipListing, record: ZipRecord, offset: number): Pick<StorageLocation, 'inflate' | 'unreadable'> {
  if (record.compressionMethod === 0) return {};
  if (record.compressionMethod === 8) return { inflate: () => inflateRecord(file, listing, record, offset) };
  return {
    unreadable: `its zip record ${record.name} uses compression method ${record.compressionMethod}, and only stored and deflated records can be read; repack the archive with stored or deflated records, or re-save it with torch.save`,
  };
}

/** Finds the data.pkl record nearest the archive root (TorchScript archives may contain others deeper down). */
function findDataPickle(listing: ZipListing): ZipRecord | undefined {
  let best: ZipRecord | undefined;
  for (const record of listing.records.values()) {
    if (record.name !== 'data.pkl' && !record.name.endsWith('/data.pkl')) continue;
    if (best === undefined || record.name.split('/').length < best.name.split('/').length) best = record;
  }
  return best;
}

/** Reads the `byteorder` record that newer torch.save versions write (torch 1.13 does not); without it, little-endian. */
async function readByteOrder(file: RandomAccessFile, listing: ZipListing, prefix: string): Promise<ByteOrder> {
  const record = listing.records.get(`${prefix}byteorder`);
  if (record === undefined) return 'little';
  const text = new TextDecoder().decode(await readRecord(file, listing, record, 64)).trim();
  if (text === 'little' || text === 'big') return text;
  throw new CheckpointError(file.path, `zip record ${record.name} names the byte order "${text.slice(0, 20)}"; expected "little" or "big"`);
}

/** Largest code/ record read for class declarations, in bytes; a larger one keeps all of its classes' tensors. */
const MAX_CODE_RECORD_BYTES = 16 << 20;

/**
 * Reads the `code/` records that define the TorchScript classes of the module tree under `root` and returns
 * their declared parameters and buffers. Records that are missing, too large or not UTF-8 are skipped, and the
 * layout then lists every tensor attribute of their classes.
 */
async function readScriptClasses(file: RandomAccessFile, listing: ZipListing, prefix: string, root: ScriptObject): Promise<ScriptClassLookup> {
  const members = new Map<string, ScriptClassMembers>();
  const parsedRecords = new Map<string, Map<string, ScriptClassMembers>>();
  for (const className of scriptClassNames(root)) {
    const source = scriptClassSource(className);
    if (source === undefined) continue;
    let classes = parsedRecords.get(source.record);
    if (classes === undefined) {
      classes = new Map();
      const record = listing.records.get(`${prefix}${source.record}`);
      if (record !== undefined && record.uncompressedSize <= MAX_CODE_RECORD_BYTES) {
        const text = new TextDecoder('utf-8', { fatal: true });
        try {
          classes = parseScriptClassMembers(text.decode(await readRecord(file, listing, record, MAX_CODE_RECORD_BYTES)));
        } catch (error) {
          // A record that is not UTF-8 keeps the fallback; a read error of the archive itself still surfaces.
          if (!(error instanceof TypeError)) throw error;
        }
      }
      parsedRecords.set(source.record, classes);
    }
    const declared = classes.get(source.name);
    if (declared !== undefined) members.set(className, declared);
  }
  return (className) => members.get(className);
}

/** Class names of every TorchScript object in the tree under `root`, each once. */
function scriptClassNames(root: ScriptObject): Set<string> {
  const names = new Set<string>();
  const seen = new Set<ScriptObject>();
  const pending = [root];
  while (pending.length > 0) {
    const object = pending.pop() as ScriptObject;
    if (seen.has(object)) continue;
    seen.add(object);
    names.add(object.className);
    for (const [, value] of object.attributes) if (isScriptObject(value)) pending.push(value);
  }
  return names;
}
