// Reader for sharded safetensors checkpoints: a `*.safetensors.index.json` whose `weight_map` assigns each tensor
// name to a shard file in the index's folder, as Hugging Face `save_pretrained` writes them.
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { CheckpointError, type Checkpoint } from '../checkpoint';
import { RandomAccessFile } from '../fileRange';
import { assertRegularFile } from '../regularFile';
import { SafetensorsCheckpoint, type LocatedTensor } from './checkpoint';
import { readSafetensorsHeader } from './header';

/** Largest index file read, in bytes; real indexes are a few hundred kB even for models with thousands of tensors. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

interface ShardIndex {
  readonly weightMap: Map<string, string>;
  readonly metadata: Record<string, unknown>;
}

/**
 * Opens a sharded safetensors checkpoint from its index file. Reads the index and each shard's header only,
 * and checks that the weight_map and the shards list the same tensors. `TensorEntry.file` is the shard's path.
 */
export async function openShardedSafetensors(indexPath: string): Promise<Checkpoint> {
  const index = await readShardIndex(indexPath);
  const shardNames = [...new Set(index.weightMap.values())].sort();
  const files: RandomAccessFile[] = [];
  try {
    const located: LocatedTensor[] = [];
    for (const shardName of shardNames) {
      const shardPath = join(dirname(indexPath), shardName);
      await assertRegularFile(shardPath);
      const file = await RandomAccessFile.open(shardPath);
      files.push(file);
      const header = await readSafetensorsHeader(file);
      for (const entry of header.tensors) {
        const mapped = index.weightMap.get(entry.name);
        if (mapped !== shardName) {
          const where = mapped === undefined ? 'which the weight_map does not list' : `which the weight_map assigns to "${mapped}"`;
          throw new CheckpointError(indexPath, `shard "${shardName}" contains tensor "${entry.name}", ${where}; the index and the shards do not match`, { tensor: entry.name });
        }
        located.push({ entry: { ...entry, file: shardPath }, file });
      }
    }
    const found = new Set(located.map((item) => item.entry.name));
    for (const [name, shardName] of index.weightMap) {
      if (!found.has(name)) {
        throw new CheckpointError(indexPath, `the weight_map assigns tensor "${name}" to shard "${shardName}", but that shard has no such tensor; the index and the shards do not match`, { tensor: name });
      }
    }
    return new SafetensorsCheckpoint(indexPath, 'safetensors-sharded', located, index.metadata, files);
  } catch (error) {
    await Promise.all(files.map((file) => file.close()));
    throw error;
  }
}

async function readShardIndex(indexPath: string): Promise<ShardIndex> {
  let size: number;
  try {
    size = (await stat(indexPath)).size;
  } catch (error) {
    throw new CheckpointError(indexPath, `cannot open the index file: ${(error as Error).message}`);
  }
  if (size > MAX_INDEX_BYTES) {
    throw new CheckpointError(indexPath, `the index file is ${size} bytes, more than the ${MAX_INDEX_BYTES}-byte limit for a safetensors index; it is not a shard index`);
  }

  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (error) {
    throw new CheckpointError(indexPath, `the index is not valid JSON (${(error as Error).message}); the file is corrupt or not a safetensors index`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError(indexPath, 'the index is not a JSON object with a "weight_map"; the file is not a safetensors index');
  }
  const { weight_map: rawMap, metadata = {} } = json as Record<string, unknown>;
  if (typeof rawMap !== 'object' || rawMap === null || Array.isArray(rawMap)) {
    throw new CheckpointError(indexPath, 'the index has no "weight_map" object mapping tensor names to shard files; the file is not a safetensors index');
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new CheckpointError(indexPath, 'the index "metadata" is not a JSON object; the file is corrupt');
  }

  const weightMap = new Map<string, string>();
  for (const [name, shard] of Object.entries(rawMap)) {
    if (typeof shard !== 'string' || shard === '') {
      throw new CheckpointError(indexPath, `the weight_map entry for tensor "${name}" is not a shard file name`, { tensor: name });
    }
    // Shards live beside the index; an absolute path or ".." would let an index point anywhere on the disk.
    if (isAbsolute(shard) || shard.split(/[\\/]/).includes('..')) {
      throw new CheckpointError(indexPath, `the weight_map puts tensor "${name}" in "${shard}", outside the index's folder; shard paths must be relative and stay in that folder`, { tensor: name });
    }
    weightMap.set(name, shard);
  }
  return { weightMap, metadata: metadata as Record<string, unknown> };
}
