// Reader for single-file safetensors checkpoints (https://github.com/huggingface/safetensors, format section).
import type { Checkpoint } from '../checkpoint';
import { RandomAccessFile } from '../fileRange';
import { SafetensorsCheckpoint } from './checkpoint';
import { readSafetensorsHeader } from './header';

export { openShardedSafetensors } from './sharded';

/** Opens a `.safetensors` file, reading only the 8-byte header length and the JSON header. */
export async function openSafetensors(path: string): Promise<Checkpoint> {
  const file = await RandomAccessFile.open(path);
  try {
    const header = await readSafetensorsHeader(file);
    const located = header.tensors.map((entry) => ({ entry, file }));
    return new SafetensorsCheckpoint(path, 'safetensors', located, header.metadata, [file]);
  } catch (error) {
    await file.close();
    throw error;
  }
}
