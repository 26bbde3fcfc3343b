// Small readers for ONNX node attributes and constant tensors (shapes, axes), as graph inference needs them.
import type { onnx } from 'onnx-proto';
import { int64ToBigInt, type Int64Value } from '../../formats/onnx/tensorProto';

const INT64 = 7;
const INT32 = 6;

export function attribute(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((entry) => entry.name === name);
}

export function intAttribute(node: onnx.INodeProto, name: string, fallback: number): number {
  const value = attribute(node, name)?.i;
  return value == null ? fallback : Number(int64ToBigInt(value as Int64Value, false));
}

export function intsAttribute(node: onnx.INodeProto, name: string): number[] | undefined {
  const values = attribute(node, name)?.ints;
  if (values == null || values.length === 0) return undefined;
  return values.map((value) => Number(int64ToBigInt(value as Int64Value, false)));
}

export function dimensions(tensor: onnx.ITensorProto): number[] {
  return (tensor.dims ?? []).map((dim) => Number(int64ToBigInt(dim as Int64Value, false)));
}

/** Values of a small INT64 or INT32 constant tensor (a shape or an axes list), or undefined for other types. */
export function integerValues(tensor: onnx.ITensorProto): number[] | undefined {
  if (tensor.dataType === INT64) {
    if (tensor.int64Data != null && tensor.int64Data.length > 0) {
      return tensor.int64Data.map((value) => Number(int64ToBigInt(value as Int64Value, false)));
    }
    const raw = tensor.rawData;
    if (raw == null) return [];
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: raw.byteLength / 8 }, (_, index) => Number(view.getBigInt64(index * 8, true)));
  }
  if (tensor.dataType === INT32) {
    if (tensor.int32Data != null && tensor.int32Data.length > 0) return [...tensor.int32Data];
    const raw = tensor.rawData;
    if (raw == null) return [];
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: raw.byteLength / 4 }, (_, index) => view.getInt32(index * 4, true));
  }
  return undefined;
}

/** Returns the tensor a Constant node produces (its `value` attribute), or a scalar shape for `value_float`/`value_int`. */
export function constantNodeValue(node: onnx.INodeProto): { shape: number[]; tensor?: onnx.ITensorProto } {
  const value = attribute(node, 'value')?.t;
  if (value != null) return { shape: dimensions(value), tensor: value };
  const ints = intsAttribute(node, 'value_ints');
  if (ints !== undefined) return { shape: [ints.length] };
  const floats = attribute(node, 'value_floats')?.floats;
  if (floats != null && floats.length > 0) return { shape: [floats.length] };
  return { shape: [] };
}
