// Opens PyTorch's legacy format (torch.save before 1.6, or `_use_new_zipfile_serialization=False`): five
// pickles in a row (magic number, protocol version, sys_info, the object, the list of storage keys), then
// for each listed storage an 8-byte element count and the raw elements.
import { CheckpointError, type Checkpoint, type PickleGlobal } from '../checkpoint';
import type { ByteOrder } from '../contiguousChunks';
import type { RandomAccessFile } from '../fileRange';
import { PickleTruncatedError, pickleReport, unpickle, withRiskyGlobalsNoted, type UnpickleResult } from '../pickle/unpickler';
import { isPickleObject, type PickleValue } from '../pickle/values';
import { storageElementSize } from './elementSize';
import { interpretPickle } from './interpret';
import { layoutCheckpoint } from './layout';
import { PytorchCheckpoint } from './pytorchCheckpoint';
import { placeTensors, type PlacedTensor, type StorageLocation } from './tensors';

/** torch.serialization.MAGIC_NUMBER. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL_VERSION = 1001;
/** First read of the file's pickles; grown 4× while a pickle runs past it, up to MAX_PICKLE_PREFIX. */
const INITIAL_PREFIX = 1 << 20;
const MAX_PICKLE_PREFIX = 1 << 30;

export async function openPytorchLegacy(file: RandomAccessFile): Promise<Checkpoint> {
  let prefixLength = Math.min(file.size, INITIAL_PREFIX);
  for (;;) {
    const prefix = await file.read(0, prefixLength, 'the pickles at the start of the file');
    try {
      return await parseLegacy(file, prefix);
    } catch (error) {
      const canGrow = prefixLength < Math.min(file.size, MAX_PICKLE_PREFIX);
      if (!(error instanceof PickleTruncatedError) || !canGrow) throw error;
      prefixLength = Math.min(file.size, MAX_PICKLE_PREFIX, prefixLength * 4);
    }
  }
}

async function parseLegacy(file: RandomAccessFile, prefix: Uint8Array): Promise<Checkpoint> {
  const path = file.path;
  const globals: PickleGlobal[] = [];
  const next = (start: number, label: string): UnpickleResult => {
    const result = unpickle(prefix, { file: path, label, start });
    for (const entry of result.globals) {
      if (!globals.some((seen) => seen.module === entry.module && seen.name === entry.name)) globals.push(entry);
    }
    return result;
  };

  const magic = next(0, 'the pickle at byte 0');
  if (magic.value !== LEGACY_MAGIC) return openPlainPickle(file, magic, globals);
  const version = next(magic.end, `the protocol-version pickle at byte ${magic.end}`);
  if (version.value !== LEGACY_PROTOCOL_VERSION) {
    throw new CheckpointError(path, `has legacy protocol version ${String(version.value)}; only ${LEGACY_PROTOCOL_VERSION} is supported`, { offset: magic.end });
  }
  const sysInfo = next(version.end, `the sys_info pickle at byte ${version.end}`);
  const byteOrder: ByteOrder = dictValue(sysInfo.value, 'little_endian') === false ? 'big' : 'little';
  const main = next(sysInfo.end, `the main pickle at byte ${sysInfo.end}`);
  const keyList = next(main.end, `the storage-key pickle at byte ${main.end}`);

  // A legacy file is never a TorchScript archive. An error while interpreting or placing its values still names
  // the dangerous globals of all five pickles.
  const report = pickleReport(globals, { torchscriptArchive: false });
  const { placed, metadata } = await withRiskyGlobalsNoted(report, () => placeLegacy(file, main, keyList, byteOrder));
  return new PytorchCheckpoint(path, 'pytorch-legacy', file, placed, metadata, report, byteOrder);
}

/** Interprets the main pickle and places each storage listed after the storage-key pickle. */
async function placeLegacy(file: RandomAccessFile, main: UnpickleResult, keyList: UnpickleResult, byteOrder: ByteOrder): Promise<{ placed: PlacedTensor[]; metadata: Record<string, unknown> }> {
  const path = file.path;
  const interpreted = interpretPickle(main.value, path);
  const layout = layoutCheckpoint(interpreted.value, undefined, { torchscriptArchive: false });
  const keys = isPickleObject(keyList.value) && keyList.value.kind === 'list' ? keyList.value.items : undefined;
  if (keys === undefined || !keys.every((key): key is string => typeof key === 'string')) {
    throw new CheckpointError(path, `the pickle at byte ${main.end} is not the list of storage keys a legacy torch.save file has there; the file is corrupt`, { offset: main.end });
  }

  const locations = new Map<string, StorageLocation>();
  let offset = keyList.end;
  for (const key of keys) {
    const storage = interpreted.storages.get(key);
    if (storage === undefined) {
      throw new CheckpointError(path, `storage "${key}" is listed at the end of the file but no persistent id names its type, so its size is unknown; the file is corrupt`, { offset });
    }
    const header = await file.read(offset, 8, `the element count of storage "${key}"`);
    const count = new DataView(header.buffer, header.byteOffset, 8).getBigInt64(0, byteOrder === 'little');
    const byteLength = Number(count) * storageElementSize(storage.dtype);
    if (count < 0n || !Number.isSafeInteger(byteLength) || offset + 8 + byteLength > file.size) {
      throw new CheckpointError(
        path,
        `storage "${key}" at byte ${offset} declares ${count} elements of ${storage.dtype}, past the end of the file (${file.size} bytes); the file is truncated or corrupt`,
        { offset },
      );
    }
    locations.set(key, { offset: offset + 8, byteLength, description: `legacy storage "${key}" at byte ${offset}` });
    offset += 8 + byteLength;
  }
  const placed = placeTensors(path, layout.tensors, (key) => locations.get(key), () => `its data after the storage-key list at byte ${main.end}`);
  return { placed, metadata: layout.metadata };
}

/**
 * Opens a pickle without torch.save's magic number (for example a file written by pickle.dump). It carries no
 * storages, so no tensor can be read, but its globals are still reported.
 */
async function openPlainPickle(file: RandomAccessFile, result: UnpickleResult, globals: PickleGlobal[]): Promise<Checkpoint> {
  const report = pickleReport(globals, { torchscriptArchive: false });
  const layout = await withRiskyGlobalsNoted(report, () => layoutCheckpoint(interpretPickle(result.value, file.path).value, undefined, { torchscriptArchive: false }));
  const metadata: Record<string, unknown> = {
    ...layout.metadata,
    note: 'a plain pickle without the torch.save magic number; it contains no tensor data',
  };
  if (layout.tensors.length > 0) metadata.unreadableTensors = layout.tensors.map(({ name }) => name);
  return new PytorchCheckpoint(file.path, 'pytorch-legacy', file, [], metadata, report, 'little');
}

function dictValue(value: PickleValue, key: string): PickleValue | undefined {
  if (!isPickleObject(value) || value.kind !== 'dict') return undefined;
  return value.entries.find(([entryKey]) => entryKey === key)?.[1];
}
