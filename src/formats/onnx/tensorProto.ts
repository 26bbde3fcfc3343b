// Values of a decoded ONNX TensorProto: shapes, typed data fields, and standalone serialized tensors (*.pb).
import { readFile, stat } from 'node:fs/promises';
import { onnx } from 'onnx-proto';
import type { DType } from '../checkpoint';
import { CheckpointError, elementCount } from '../checkpoint';
import { decodeStored, isSafetensorsDType } from '../dtype';
import { dtypeOfOnnxType, onnxElementSize, onnxTypeName } from './dataTypes';

/** An int64 field as protobufjs decodes it: a number, or a Long when the `long` package is installed. */
export type Int64Value = number | { readonly low: number; readonly high: number };

export function int64ToBigInt(value: Int64Value, unsigned: boolean): bigint {
  if (typeof value === 'number') return BigInt(value);
  const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
  return unsigned ? BigInt.asUintN(64, bits) : BigInt.asIntN(64, bits);
}

/** Converts an int64 header value (a dimension, an offset) to a number, or undefined beyond 2^53. */
export function int64ToSafeNumber(value: Int64Value): number | undefined {
  const number = Number(int64ToBigInt(value, false));
  return Number.isSafeInteger(number) ? number : undefined;
}

/** Returns the tensor's shape, and throws for a negative or oversized dimension. */
export function tensorShape(tensor: onnx.ITensorProto, file: string): number[] {
  return (tensor.dims ?? []).map((dim) => {
    const size = int64ToSafeNumber(dim);
    if (size === undefined || size < 0) {
      throw new CheckpointError(file, `tensor "${tensor.name ?? ''}" has an invalid dimension ${String(dim)}; the file is corrupt`, {
        tensor: tensor.name ?? undefined,
      });
    }
    return size;
  });
}

/** True when the tensor carries its values in one of the typed repeated fields rather than raw_data. */
export function hasTypedData(tensor: onnx.ITensorProto): boolean {
  return [tensor.floatData, tensor.int32Data, tensor.int64Data, tensor.doubleData, tensor.uint64Data, tensor.stringData]
    .some((field) => field != null && field.length > 0);
}

/**
 * Converts the typed field that contains the tensor's values to little-endian raw_data layout.
 * int32_data carries every type narrower than 32 bits (float16 and bfloat16 as their bit patterns, booleans as 0/1).
 */
export function typedDataBytes(tensor: onnx.ITensorProto, file: string): Uint8Array {
  const code = tensor.dataType ?? 0;
  const typeName = onnxTypeName(code);
  const name = tensor.name ?? '';
  const count = elementCount(tensorShape(tensor, file));
  const complex = typeName === 'COMPLEX64' || typeName === 'COMPLEX128';
  const expected = complex ? 2 * count : count;

  const checked = <T extends { length: number }>(values: T | null | undefined, field: string): T => {
    const length = values?.length ?? 0;
    if (values == null || length !== expected) {
      throw new CheckpointError(file, `tensor "${name}" (${typeName}, ${count} elements) has ${length} values in ${field}; the file is corrupt`, { tensor: name });
    }
    return values;
  };
  const bytesOf = (view: ArrayBufferView): Uint8Array => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

  switch (typeName) {
    case 'FLOAT': case 'COMPLEX64': return bytesOf(Float32Array.from(checked(tensor.floatData, 'float_data')));
    case 'DOUBLE': case 'COMPLEX128': return bytesOf(Float64Array.from(checked(tensor.doubleData, 'double_data')));
    case 'INT32': return bytesOf(Int32Array.from(checked(tensor.int32Data, 'int32_data')));
    case 'INT16': return bytesOf(Int16Array.from(checked(tensor.int32Data, 'int32_data')));
    case 'UINT16': case 'FLOAT16': case 'BFLOAT16': return bytesOf(Uint16Array.from(checked(tensor.int32Data, 'int32_data')));
    case 'INT8': return bytesOf(Int8Array.from(checked(tensor.int32Data, 'int32_data')));
    case 'UINT8': case 'BOOL': case 'FLOAT8E4M3FN': case 'FLOAT8E4M3FNUZ': case 'FLOAT8E5M2': case 'FLOAT8E5M2FNUZ':
      return Uint8Array.from(checked(tensor.int32Data, 'int32_data'));
    case 'INT64':
      return bytesOf(BigInt64Array.from(checked(tensor.int64Data, 'int64_data'), (value) => int64ToBigInt(value, false)));
    case 'UINT32': return bytesOf(Uint32Array.from(checked(tensor.uint64Data, 'uint64_data'), (value) => Number(int64ToBigInt(value, true))));
    case 'UINT64':
      return bytesOf(BigUint64Array.from(checked(tensor.uint64Data, 'uint64_data'), (value) => int64ToBigInt(value, true)));
    default:
      throw new CheckpointError(file, `tensor "${name}" has ONNX type ${typeName}, whose values cannot be read as numbers`, { tensor: name });
  }
}

/** A tensor read from a serialized TensorProto, with its ONNX type name kept for types safetensors lacks. */
export interface OnnxTensorValue {
  readonly name: string;
  /** ONNX data type name, such as FLOAT or UINT16. */
  readonly onnxType: string;
  /** Safetensors dtype where one exists, else the ONNX name. */
  readonly dtype: DType;
  readonly shape: number[];
  /**
   * Values in `StoredTensor.data`'s layout for safetensors dtypes; UINT16 → Uint16Array, UINT32 → Uint32Array,
   * UINT64 → BigUint64Array, COMPLEX64 → Float32Array and COMPLEX128 → Float64Array of interleaved real and
   * imaginary parts, FLOAT8 *FNUZ types → Uint8Array of bit patterns.
   */
  readonly data: ArrayBufferView;
}

/** Decodes little-endian stored bytes of any numeric ONNX type (see `OnnxTensorValue.data`). */
export function decodeOnnxValues(bytes: Uint8Array, code: number, count: number): ArrayBufferView {
  const dtype = dtypeOfOnnxType(code);
  if (isSafetensorsDType(dtype)) return decodeStored(bytes, dtype, count);
  const copy = new Uint8Array(bytes); // a copy: Buffer.slice would return a view into a shared pool
  switch (onnxTypeName(code)) {
    case 'UINT16': return new Uint16Array(copy.buffer);
    case 'UINT32': return new Uint32Array(copy.buffer);
    case 'UINT64': return new BigUint64Array(copy.buffer);
    case 'COMPLEX64': return new Float32Array(copy.buffer);
    case 'COMPLEX128': return new Float64Array(copy.buffer);
    default: return copy;
  }
}

/**
 * Reads a serialized TensorProto file, such as the `input_0.pb` and `output_0.pb` files of ONNX's conformance tests.
 * External data is not followed.
 */
export async function readTensorProtoFile(path: string): Promise<OnnxTensorValue> {
  const bytes = await readFile(path).catch((error: Error) => {
    throw new CheckpointError(path, `cannot read the file: ${error.message}`);
  });
  let tensor: onnx.TensorProto;
  try {
    tensor = onnx.TensorProto.decode(bytes);
  } catch (error) {
    throw new CheckpointError(path, `not a serialized ONNX TensorProto (${(error as Error).message}); the file is truncated or of another kind`);
  }
  const code = tensor.dataType;
  const name = tensor.name;
  const shape = tensorShape(tensor, path);
  const count = elementCount(shape);
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new CheckpointError(path, `tensor "${name}" keeps its values in external data, which standalone TensorProto files do not support`, { tensor: name });
  }

  let stored: Uint8Array;
  if (hasTypedData(tensor)) {
    stored = typedDataBytes(tensor, path);
  } else {
    const size = onnxElementSize(code);
    if (size === undefined) {
      throw new CheckpointError(path, `tensor "${name}" has ONNX type ${onnxTypeName(code)}, whose values cannot be read as numbers`, { tensor: name });
    }
    stored = tensor.rawData;
    if (stored.length !== count * size) {
      throw new CheckpointError(path, `tensor "${name}": raw_data holds ${stored.length} bytes but ${onnxTypeName(code)} ${JSON.stringify(shape)} needs ${count * size}; the file is corrupt`, { tensor: name });
    }
  }
  return { name, onnxType: onnxTypeName(code), dtype: dtypeOfOnnxType(code), shape, data: decodeOnnxValues(stored, code, count) };
}

/** Throws a CheckpointError unless `path` exists and is at least `end` bytes long. */
export async function checkFileHolds(path: string, end: number, what: string, model: string, tensor: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new CheckpointError(model, `${what} for initializer "${tensor}" is missing: ${path} was not found; place it beside the model`, { tensor });
  }
  if (size < end) {
    throw new CheckpointError(model, `${what} for initializer "${tensor}" is too short: ${path} has ${size} bytes but the tensor ends at byte ${end}; the file is truncated`, { tensor });
  }
}
