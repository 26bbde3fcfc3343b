// Large safetensors files for benchmarks, written without holding them in memory.
import { open, truncate } from 'node:fs/promises';
import { numberToBfloat16Bits, numberToFloat16Bits } from '../src/formats/dtype';

export type SyntheticDType = 'F32' | 'F16' | 'BF16';

export interface SyntheticTensor {
  name: string;
  shape: number[];
  /** F32 when absent. */
  dtype?: SyntheticDType;
}

const DTYPE_BYTES: Record<SyntheticDType, number> = { F32: 4, F16: 2, BF16: 2 };

/** Header bytes for tensors stored back to back, padded with spaces to a multiple of 8. */
export function headerBytes(tensors: readonly SyntheticTensor[]): { header: Buffer; dataBytes: number } {
  const json: Record<string, unknown> = { __metadata__: { format: 'pt', source: 'checkpoint-aligner benchmark' } };
  let offset = 0;
  for (const tensor of tensors) {
    const dtype = tensor.dtype ?? 'F32';
    const length = tensor.shape.reduce((product, size) => product * size, DTYPE_BYTES[dtype]);
    json[tensor.name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + length] };
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

/**
 * Writes one tensor of standard normal values (Box-Muller over a xorshift generator) in pieces of 4 Mi values,
 * rounded to the tensor's dtype.
 */
export async function writeRandomSafetensors(path: string, tensor: SyntheticTensor, seed = 0x9e3779b9): Promise<number> {
  const { header, dataBytes } = headerBytes([tensor]);
  const dtype = tensor.dtype ?? 'F32';
  const elementBytes = DTYPE_BYTES[dtype];
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
  const halves = new Uint16Array(piece.length);
  for (let written = 0; written < dataBytes; written += piece.length * elementBytes) {
    const count = Math.min(piece.length, (dataBytes - written) / elementBytes);
    for (let i = 0; i < count; i += 2) {
      const radius = Math.sqrt(-2 * Math.log(uniform()));
      const angle = 2 * Math.PI * uniform();
      piece[i] = radius * Math.cos(angle);
      piece[i + 1] = radius * Math.sin(angle);
    }
    if (dtype === 'F32') {
      await handle.write(new Uint8Array(piece.buffer, 0, count * 4));
      continue;
    }
    const encode = dtype === 'F16' ? numberToFloat16Bits : numberToBfloat16Bits;
    for (let i = 0; i < count; i++) halves[i] = encode(piece[i]);
    await handle.write(new Uint8Array(halves.buffer, 0, count * 2));
  }
  await handle.close();
  return header.length + dataBytes;
}
