// Opens a PyTorch checkpoint, choosing the zip or the legacy reader from the first bytes of the file.
// Pickles in either are parsed symbolically and never executed.
import { CheckpointError, type Checkpoint } from '../checkpoint';
import { RandomAccessFile } from '../fileRange';
import { openPytorchLegacy } from './legacyReader';
import { openPytorchZip } from './zipReader';

/** Opens a torch.save file (`.pt`, `.pth`, `.ckpt`, `.bin`): zip format, legacy format, or a bare pickle. */
export async function openPytorch(path: string): Promise<Checkpoint> {
  const file = await RandomAccessFile.open(path);
  try {
    if (file.size === 0) throw new CheckpointError(path, 'is empty, so it is not a PyTorch checkpoint; the file may be truncated');
    const head = await file.read(0, Math.min(file.size, 512), 'the file header');
    const ascii = String.fromCharCode(...head.subarray(0, 4));
    if (ascii === 'PK\x03\x04' || ascii === 'PK\x05\x06') return await openPytorchZip(file);
    if (head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar') {
      throw new CheckpointError(path, 'uses the tar-based format of PyTorch before 0.4, which this reader does not support; load it with that torch version and save it again with torch.save');
    }
    if (head[0] === 0x80) return await openPytorchLegacy(file);
    // Protocol 0 and 1 pickles have no header; try one only when it starts like one, and fall back to a clear error.
    if (head.length > 0 && PROTOCOL_0_STARTS.has(head[0])) {
      try {
        return await openPytorchLegacy(file);
      } catch (error) {
        if (!(error instanceof CheckpointError)) throw error;
      }
    }
    const shown = JSON.stringify(String.fromCharCode(...head.subarray(0, 8)));
    throw new CheckpointError(
      path,
      `is not a PyTorch checkpoint: it starts with ${shown} instead of a zip signature ("PK") or a pickle protocol header (byte 0x80)`,
      { offset: 0 },
    );
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** First opcodes of protocol 0 and 1 pickles: MARK, GLOBAL, EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE. */
const PROTOCOL_0_STARTS = new Set([0x28, 0x63, 0x7d, 0x5d, 0x29]);
