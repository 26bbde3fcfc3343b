// Element types: sizes, decoding of stored bytes, and exact conversion to float32 and float64.
import type { DType, SafetensorsDType } from './checkpoint';
import { widenHalfFloats } from './wasmKernels/kernels';

const BYTES_PER_ELEMENT: Record<SafetensorsDType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

export function isSafetensorsDType(dtype: string): dtype is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(BYTES_PER_ELEMENT, dtype);
}

/** Bytes per element, or undefined for types without a fixed element size (GGUF quantized blocks). */
export function dtypeSize(dtype: DType): number | undefined {
  return isSafetensorsDType(dtype) ? BYTES_PER_ELEMENT[dtype] : undefined;
}

/** True when float32 represents every value of `dtype` exactly: floating types up to 32 bits, 8- and 16-bit integers. */
export function float32HoldsExactly(dtype: DType): boolean {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F8_E4M3' || dtype === 'F8_E5M2'
    || dtype === 'I16' || dtype === 'I8' || dtype === 'U8' || dtype === 'U16' || dtype === 'BOOL';
}

export function isFloatingDType(dtype: DType): boolean {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F8_E4M3' || dtype === 'F8_E5M2';
}

/** Converts IEEE 754 half-precision bits to a number; exact, since every float16 value is a float32 value. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Converts a number to the nearest float16 bit pattern (round half to even), as PyTorch's `.half()` does. */
export function numberToFloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return sign | 0x7c00;

  // Subnormals and zero: units of 2^-24, rounded half to even.
  if (magnitude < 2 ** -14) {
    return sign | roundHalfToEven(magnitude / 2 ** -24);
  }
  let exponent = Math.floor(Math.log2(magnitude));
  // Math.log2 may be off by one near powers of two; correct it so that 1 <= magnitude / 2^exponent < 2.
  if (2 ** exponent > magnitude) exponent--;
  if (2 ** (exponent + 1) <= magnitude) exponent++;
  const mantissa = roundHalfToEven((magnitude / 2 ** exponent - 1) * 1024);
  // A mantissa that rounds up to 1024 carries into the exponent.
  const biased = exponent + 15 + (mantissa === 1024 ? 1 : 0);
  if (biased >= 0x1f) return sign | 0x7c00;
  return sign | (biased << 10) | (mantissa & 0x3ff);
}

function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const remainder = value - floor;
  if (remainder > 0.5) return floor + 1;
  if (remainder < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

const conversionView = new DataView(new ArrayBuffer(4));

/** bfloat16 is the top half of a float32, so conversion is a shift. */
export function bfloat16BitsToNumber(bits: number): number {
  conversionView.setUint32(0, (bits & 0xffff) << 16);
  return conversionView.getFloat32(0);
}

/** Converts a number to the nearest bfloat16 bit pattern (round half to even on the float32 bits). */
export function numberToBfloat16Bits(value: number): number {
  conversionView.setFloat32(0, value);
  const bits = conversionView.getUint32(0);
  if (Number.isNaN(value)) return (bits >>> 16) | 0x40;
  const roundingBias = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + roundingBias) >>> 16) & 0xffff;
}

/** float8 E4M3 (the "FN" variant used by PyTorch and safetensors): no infinities, 0x7f and 0xff are NaN. */
export function float8E4M3BitsToNumber(bits: number): number {
  const sign = bits & 0x80 ? -1 : 1;
  const exponent = (bits >> 3) & 0xf;
  const fraction = bits & 0x7;
  if (exponent === 0xf && fraction === 0x7) return NaN;
  if (exponent === 0) return sign * fraction * 2 ** -9;
  return sign * (1 + fraction / 8) * 2 ** (exponent - 7);
}

/** float8 E5M2: IEEE-like, with infinities and NaN. */
export function float8E5M2BitsToNumber(bits: number): number {
  const sign = bits & 0x80 ? -1 : 1;
  const exponent = (bits >> 2) & 0x1f;
  const fraction = bits & 0x3;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * fraction * 2 ** -16;
  return sign * (1 + fraction / 4) * 2 ** (exponent - 15);
}

type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

/**
 * Decodes `count` elements of little-endian stored bytes into a new Float32Array or Float64Array.
 * `bytes` may start at any alignment. Integers convert by value, and I64 and U64 values beyond 2^53 lose precision.
 * A BOOL byte converts to 1 when it is not zero, as torch and NumPy read any non-zero byte as true.
 * Throws for quantized types, which have no element-wise decoding here.
 */
export function decodeToFloat(bytes: Uint8Array, dtype: DType, count: number, target: FloatArrayConstructor): Float32Array | Float64Array {
  return decodeIntoFloat(bytes, dtype, count, new target(count));
}

/** Decodes like `decodeToFloat` into the first `count` elements of `out`, which must hold at least that many. */
export function decodeIntoFloat<T extends Float32Array | Float64Array>(bytes: Uint8Array, dtype: DType, count: number, out: T): T {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F64': for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true); break;
    case 'F32': for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true); break;
    case 'F16':
    case 'BF16':
      if (out instanceof Float32Array) widenHalfFloats(bytes, dtype as 'F16' | 'BF16', count, out);
      else decodeByTable(bytes, count, out, dtype === 'F16' ? (float16Values ??= tabulate(float16BitsToNumber)) : (bfloat16Values ??= tabulate(bfloat16BitsToNumber)));
      break;
    case 'F8_E4M3': for (let i = 0; i < count; i++) out[i] = float8E4M3BitsToNumber(bytes[i]); break;
    case 'F8_E5M2': for (let i = 0; i < count; i++) out[i] = float8E5M2BitsToNumber(bytes[i]); break;
    case 'I64': for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true)); break;
    case 'I32': for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true); break;
    case 'I16': for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true); break;
    case 'I8': for (let i = 0; i < count; i++) out[i] = view.getInt8(i); break;
    case 'U64': for (let i = 0; i < count; i++) out[i] = Number(view.getBigUint64(i * 8, true)); break;
    case 'U32': for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true); break;
    case 'U16': for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true); break;
    case 'U8': for (let i = 0; i < count; i++) out[i] = bytes[i]; break;
    case 'BOOL': for (let i = 0; i < count; i++) out[i] = bytes[i] === 0 ? 0 : 1; break;
    default: throw new Error(`cannot convert dtype ${dtype} to floating point`);
  }
  return out;
}

// Every 16-bit float value indexed by its bit pattern, 256 KiB each, built on first use, for float64 output. A
// lookup made F16 decoding about 25 times faster than float16BitsToNumber per value, and the WebAssembly
// widening kernels that float32 output uses are 3 to 5 times faster again (Node 20, 2-core AMD EPYC VM).
let float16Values: Float32Array | undefined;
let bfloat16Values: Float32Array | undefined;

function tabulate(convert: (bits: number) => number): Float32Array {
  const table = new Float32Array(1 << 16);
  for (let bits = 0; bits < table.length; bits++) table[bits] = convert(bits);
  return table;
}

/** True when typed arrays use little-endian order, as on x86 and ARM hosts, so they can view stored bytes. */
const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes `count` little-endian 16-bit patterns of `bytes` into `out` through `table`. */
function decodeByTable(bytes: Uint8Array, count: number, out: Float32Array | Float64Array, table: Float32Array): void {
  if (hostIsLittleEndian) {
    // A Uint16Array view needs an even byte offset, so odd-aligned bytes are copied first.
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice(0, count * 2);
    const patterns = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
    for (let i = 0; i < count; i++) out[i] = table[patterns[i]];
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[i] = table[view.getUint16(i * 2, true)];
}

/**
 * Copies little-endian stored bytes into the typed array `StoredTensor.data` uses for `dtype`
 * (F16/BF16 as Uint16Array bit patterns, F8 and quantized types as Uint8Array).
 */
export function decodeStored(bytes: Uint8Array, dtype: DType, count: number): ArrayBufferView {
  const size = dtypeSize(dtype);
  // Copy into a fresh, aligned buffer: typed arrays need element alignment and the caller may reuse `bytes`.
  const copy = new Uint8Array(size === undefined ? bytes.byteLength : count * size);
  copy.set(bytes.subarray(0, copy.byteLength));
  const buffer = copy.buffer;
  switch (dtype) {
    case 'F64': return new Float64Array(buffer);
    case 'F32': return new Float32Array(buffer);
    case 'F16':
    case 'BF16': return new Uint16Array(buffer);
    case 'I64': return new BigInt64Array(buffer);
    case 'I32': return new Int32Array(buffer);
    case 'I16': return new Int16Array(buffer);
    case 'I8': return new Int8Array(buffer);
    case 'U64': return new BigUint64Array(buffer);
    case 'U32': return new Uint32Array(buffer);
    case 'U16': return new Uint16Array(buffer);
    default: return copy;
  }
}

/** Reverses the byte order of each `elementSize`-byte element in place (for big-endian NumPy arrays). */
export function swapByteOrder(bytes: Uint8Array, elementSize: number): void {
  if (elementSize === 1) return;
  for (let start = 0; start + elementSize <= bytes.length; start += elementSize) {
    for (let low = start, high = start + elementSize - 1; low < high; low++, high--) {
      const byte = bytes[low];
      bytes[low] = bytes[high];
      bytes[high] = byte;
    }
  }
}
