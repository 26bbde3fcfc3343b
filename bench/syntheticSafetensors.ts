// Large safetensors files for benchmarks, written without holding them in memory.
import { open, truncate } from 'node:fs/promises';

export interface SyntheticTensor {
  name: string;
  shape: number[];
}

/** Header bytes for F32 tensors stored back to back, padded with spaces to a multiple of 8. */
export function headerBytes(tensors: readonly SyntheticTensor[]): { header: Buffer; dataBytes: number } {
  const json: Record<string, unknown> = { __metadata__: { format: 'pt', source: 'checkpoint-aligner benchmark' } };
  let offset = 0;
  for (const tensor of tensors) {
    const length = tensor.shape.reduce((product, size) => product * size, 4);
    json[tensor.name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  const header = Buffer.alloc(Math.ceil(text.length / 8) * 8, 0x20);
  text.copy(header);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.length));
  return { header: Buffer.concat([prefix, header]), dataBytes: offset };
}

/** Writes the header and extends the file to its full size without writing data, so the data is a hole. */
export async function writeSparseSafetensors(path: string, tensors: readonly SyntheticTensor[]): Promise<number> {
  const { header, dataBytes } = headerBytes(tensors);
  const handle = await open(path, 'w');
  await handle.write(header);
  await handle.close();
  await truncate(path, header.length + dataBytes);
  return header.length + dataBytes;
}

/** Writes one F32 tensor of standard normal values (Box-Muller over a xorshift generator) in 16 MiB pieces. */
export async function writeRandomSafetensors(path: string, tensor: SyntheticTensor, seed = 0x9e3779b9): Promise<number> {
  const { header, dataBytes } = headerBytes([tensor]);
  const handle = await open(path, 'w');
  await handle.write(header);
  let state = seed >>> 0 || 1;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  const piece = new Float32Array(4 * 1024 * 1024);
  for (let written = 0; written < dataBytes; written += piece.byteLength) {
    const count = Math.min(piece.length, (dataBytes - written) / 4);
    for (let i = 0; i < count; i += 2) {
      const radius = Math.sqrt(-2 * Math.log(uniform()));
      const angle = 2 * Math.PI * uniform();
      piece[i] = radius * Math.cos(angle);
      piece[i + 1] = radius * Math.sin(angle);
    }
    await handle.write(new Uint8Array(piece.buffer, 0, count * 4));
  }
  await handle.close();
  return header.length + dataBytes;
}
