// The fixture manifest (test/fixtures/manifest.json) and the value hash it records per tensor, shared by the
// format readers' fixture tests.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Checkpoint, TensorEntry } from '../../../src/formats/checkpoint';

export const fixturesDir = join(__dirname, '..', '..', 'fixtures');

export interface ManifestTensor {
  name: string;
  shape: number[];
  dtype: string;
  sha256: string;
  storageKey?: string;
  storageOffset?: number;
  stride?: number[];
}

export interface ManifestFile {
  path: string;
  format: string;
  tensors: ManifestTensor[];
  container?: string;
  stateDictKey?: string;
  metadata?: Record<string, unknown>;
  optimizerTensors?: ManifestTensor[];
}

export const manifest = JSON.parse(readFileSync(join(fixturesDir, 'manifest.json'), 'utf8')) as { files: ManifestFile[] };

export const integerDTypes = new Set(['I64', 'I32', 'I16', 'I8', 'U8', 'BOOL']);

/** sha256 of the values as the manifest defines it: float32 LE, or int64 LE for integer and bool tensors. */
export async function valueHash(checkpoint: Checkpoint, entry: TensorEntry): Promise<string> {
  let bytes: Uint8Array;
  if (integerDTypes.has(entry.dtype)) {
    const stored = await checkpoint.readTensor(entry.name, 'stored');
    const source = stored.data as unknown as ArrayLike<number | bigint>;
    const values = BigInt64Array.from({ length: source.length }, (_, i) => BigInt(source[i]));
    bytes = new Uint8Array(values.buffer);
  } else {
    const values = await checkpoint.readTensor(entry.name, 'float32');
    bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  return createHash('sha256').update(bytes).digest('hex');
}
