// Rounding merged float64 values to the element type of the output tensor.
import { numberToBfloat16Bits, numberToFloat16Bits } from '../formats/dtype';

export type MergeDType = 'F64' | 'F32' | 'F16' | 'BF16';

export const MERGE_DTYPES: readonly MergeDType[] = ['F64', 'F32', 'F16', 'BF16'];

/**
 * Encodes float64 values as `dtype`, following the `StoredTensor` conventions (F16 and BF16 as Uint16Array bit
 * patterns). F16 and BF16 round through float32 first, as PyTorch 1.13's `tensor.half()` and `tensor.bfloat16()` do for float64
 * on the CPU (checked on 1 + 2⁻¹¹ + 2⁻⁴⁰, which rounds down to 1 that way and up when rounded once).
 */
export function encodeFloats(values: Float64Array, dtype: MergeDType): Float64Array | Float32Array | Uint16Array {
  if (dtype === 'F64') return values;
  if (dtype === 'F32') return Float32Array.from(values);
  const bits = new Uint16Array(values.length);
  const convert = dtype === 'F16' ? numberToFloat16Bits : numberToBfloat16Bits;
  for (let i = 0; i < values.length; i++) bits[i] = convert(Math.fround(values[i]));
  return bits;
}

export function isMergeDType(dtype: string): dtype is MergeDType {
  return (MERGE_DTYPES as readonly string[]).includes(dtype);
}
