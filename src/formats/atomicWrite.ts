// Output files are written to a temporary file beside the target and renamed into place, so a crash or a
// cancelled job never leaves a half-written file under the requested name, and inputs are never overwritten.
import { randomBytes } from 'node:crypto';
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Thrown when an output path names one of the job's inputs. */
export class OutputOverwritesInputError extends Error {
  constructor(readonly output: string) {
    super(`${output}: refusing to write the output over an input file; choose another output path`);
    this.name = 'OutputOverwritesInputError';
  }
}

function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Checks an output path before any work: throws OutputOverwritesInputError when `output` is the same file as any
 * of `inputs` (after resolving links), and an Error when its folder does not exist or is not a folder.
 */
export function assertOutputPath(output: string, inputs: readonly string[]): void {
  const target = canonicalPath(output);
  if (inputs.some((input) => canonicalPath(input) === target)) throw new OutputOverwritesInputError(output);

  const folder = dirname(resolve(output));
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    isFolder = false;
  }
  if (!isFolder) throw new Error(`${output}: the output folder ${folder} does not exist; create it first or choose another path`);

  // Renaming over a directory would fail only after the whole job has run, and renaming over a FIFO or device
  // would replace it without notice. So an existing path must be a regular file, or a link to one.
  let existing: Stats | undefined;
  try {
    existing = lstatSync(output);
  } catch {
    existing = undefined;
  }
  if (existing !== undefined && !existing.isFile() && !existing.isSymbolicLink()) {
    const kind = existing.isDirectory() ? 'a directory' : 'not a regular file';
    throw new Error(`${output}: the output path is ${kind}; choose a file path`);
  }
  if (existing?.isSymbolicLink() && !statSync(output, { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`${output}: the output path is a symbolic link to something other than a regular file; choose a file path`);
  }
}

/**
 * Runs `write` against a temporary file in the target's folder, then renames it to `output`.
 * On error, or when `signal` is aborted, the temporary file is removed and `output` is left as it was.
 */
export async function writeFileAtomically(
  output: string,
  inputs: readonly string[],
  write: (handle: FileHandle) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  assertOutputPath(output, inputs);
  const temporary = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString('hex')}.partial`);
  let handle: FileHandle;
  try {
    handle = await open(temporary, 'wx');
  } catch (error) {
    // The message names the temporary file, which the user never asked for, so name the output instead.
    throw new Error(`${output}: cannot write the output (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the folder's permissions`);
  }
  try {
    await write(handle);
    signal?.throwIfAborted();
    await handle.sync();
    await handle.close();
    await rename(temporary, output);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}
