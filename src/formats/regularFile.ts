// Rejects checkpoint paths that are not regular files before anything opens them. Opening a FIFO for reading
// waits for a writer, a directory fails with a bare EISDIR, and a character device such as /dev/urandom has size 0.
import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { CheckpointError } from './checkpoint';

/**
 * Throws a CheckpointError naming `path` when it does not exist or is not a regular file (after following symbolic
 * links).
 * NOTE: the path is checked, then opened, so a file swapped in between those two steps is not caught.
 */
export async function assertRegularFile(path: string): Promise<void> {
  let target: Stats;
  try {
    target = await stat(path);
  } catch (error) {
    throw new CheckpointError(path, `cannot open the file: ${(error as Error).message}`);
  }
  if (target.isFile()) return;

  const kind = fileKind(target);
  const linkTarget = await symbolicLinkTarget(path);
  const description = linkTarget === undefined ? kind : `a symbolic link to ${kind} (${linkTarget})`;
  throw new CheckpointError(path, `not a regular file but ${description}; ${remedy(target)}`);
}

function fileKind(target: Stats): string {
  if (target.isDirectory()) return 'a directory';
  if (target.isFIFO()) return 'a FIFO (named pipe)';
  if (target.isCharacterDevice()) return 'a character device';
  if (target.isBlockDevice()) return 'a block device';
  if (target.isSocket()) return 'a socket';
  return 'an unknown kind of file';
}

function remedy(target: Stats): string {
  if (target.isDirectory()) {
    return 'pass a checkpoint file inside it (for a sharded safetensors model, its .safetensors.index.json)';
  }
  return 'checkpoints are read at random offsets, so save the data to a regular file and pass that';
}

/** Resolves `path` when it is a symbolic link, so the message shows where it leads; undefined otherwise. */
async function symbolicLinkTarget(path: string): Promise<string | undefined> {
  try {
    return (await lstat(path)).isSymbolicLink() ? await realpath(path) : undefined;
  } catch {
    return undefined;
  }
}
