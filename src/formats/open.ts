// Opens any supported checkpoint file, choosing the reader by file name and, where the name is ambiguous
// or unknown, by the file's first bytes.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { CheckpointError, type Checkpoint } from './checkpoint';
import { openFlaxMsgpack } from './flax/reader';
import { openGguf } from './gguf/reader';
import { openNumpy } from './numpy/reader';
import { openOnnx } from './onnx/reader';
import { openPytorch } from './pytorch/reader';
import { assertRegularFile } from './regularFile';
import { openSafetensors } from './safetensors/reader';
import { openShardedSafetensors } from './safetensors/sharded';

type Opener = (path: string) => Promise<Checkpoint>;

/** File name endings and their readers, longest ending first so `.safetensors.index.json` wins over `.json`. */
const OPENERS_BY_EXTENSION: readonly (readonly [string, Opener])[] = [
  ['.safetensors.index.json', openShardedSafetensors],
  ['.safetensors', openSafetensors],
  ['.pt', openPytorch],
  ['.pth', openPytorch],
  ['.ckpt', openPytorch],
  ['.onnx', openOnnx],
  ['.npy', openNumpy],
  ['.npz', openNumpy],
  ['.msgpack', openFlaxMsgpack],
  ['.gguf', openGguf],
];

/** Extensions users may open that the checks below understand; listed in errors. */
export const CHECKPOINT_EXTENSIONS = [...OPENERS_BY_EXTENSION.map(([extension]) => extension), '.bin'];

/**
 * Opens a checkpoint lazily: only headers are read. Throws CheckpointError when the file is missing,
 * unreadable, not a regular file (a directory, FIFO, device or socket), or in no supported format.
 */
export async function openCheckpoint(path: string): Promise<Checkpoint> {
  await assertRegularFile(path);
  const name = basename(path).toLowerCase();
  const byExtension = OPENERS_BY_EXTENSION.find(([extension]) => name.endsWith(extension));
  if (byExtension) return byExtension[1](path);

  // `.bin` is used by PyTorch (Hugging Face `pytorch_model.bin`) and by other tools, so the content decides,
  // as it does for files without a known extension.
  const opener = await openerFromMagic(path);
  if (opener) return opener(path);
  throw new CheckpointError(
    path,
    `not a recognized checkpoint format; supported: ${CHECKPOINT_EXTENSIONS.join(', ')} (safetensors, PyTorch zip or legacy, ONNX, NumPy, Flax msgpack, GGUF)`,
  );
}

async function openerFromMagic(path: string): Promise<Opener | undefined> {
  const head = await readHead(path, 16);
  const ascii = String.fromCharCode(...head.subarray(0, 6));

  if (ascii.startsWith('GGUF')) return openGguf;
  if (ascii.startsWith('\x93NUMPY')) return openNumpy;
  // A zip: PyTorch's zip format. (NumPy's .npz is also a zip, but always carries its extension.)
  if (ascii.startsWith('PK\x03\x04')) return openPytorch;
  // A pickle with protocol 2 or higher: PyTorch's legacy format starts with the pickled magic number.
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return openPytorch;
  // safetensors: an 8-byte little-endian header length, then a JSON object.
  if (head.length >= 9 && head[8] === 0x7b) return openSafetensors;
  return undefined;
}

async function readHead(path: string, length: number): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new CheckpointError(path, `cannot open the file: ${(error as Error).message}`);
  }
  try {
    const bytes = new Uint8Array(length);
    const { bytesRead } = await handle.read(bytes, 0, length, 0);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
