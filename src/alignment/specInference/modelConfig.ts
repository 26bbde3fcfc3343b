// Hugging Face keeps a model's hyper-parameters (head counts) in `config.json` next to its weights, not in them.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Reads `config.json` from the checkpoint's folder without ever throwing. The result has no config when the file
 * is missing, and a note in place of the config when the file cannot be read or is not a JSON object.
 */
export async function readSiblingConfig(checkpointPath: string): Promise<{ config?: Record<string, unknown>; path: string; note?: string }> {
  const path = join(dirname(checkpointPath), 'config.json');
  let text: string;
  try {
    // A FIFO would block the read until a writer appears.
    if (!(await stat(path)).isFile()) throw new Error('it is not a regular file');
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path };
    return { path, note: `${path} exists but could not be read (${(error as Error).message}), so head counts come from the checkpoint's metadata only` };
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { config: value as Record<string, unknown>, path };
  } catch {
    // Reported below like any other non-object content.
  }
  return { path, note: `${path} is not a JSON object, so head counts come from the checkpoint's metadata only` };
}
