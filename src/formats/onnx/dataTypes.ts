// ONNX TensorProto.DataType codes and their safetensors dtype names.
import type { DType, SafetensorsDType } from '../checkpoint';

/** ONNX data type names by code, as in onnx.proto (codes 17 and up were added in ONNX 1.14 and later). */
const ONNX_TYPE_NAMES: readonly string[] = [
  'UNDEFINED', 'FLOAT', 'UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'STRING', 'BOOL', 'FLOAT16',
  'DOUBLE', 'UINT32', 'UINT64', 'COMPLEX64', 'COMPLEX128', 'BFLOAT16', 'FLOAT8E4M3FN', 'FLOAT8E4M3FNUZ',
  'FLOAT8E5M2', 'FLOAT8E5M2FNUZ', 'UINT4', 'INT4', 'FLOAT4E2M1',
];

const SAFETENSORS_BY_ONNX: Readonly<Record<string, SafetensorsDType>> = {
  FLOAT: 'F32', FLOAT16: 'F16', BFLOAT16: 'BF16', DOUBLE: 'F64',
  INT64: 'I64', INT32: 'I32', INT16: 'I16', INT8: 'I8', UINT8: 'U8', BOOL: 'BOOL',
  FLOAT8E4M3FN: 'F8_E4M3', FLOAT8E5M2: 'F8_E5M2',
};

export const onnxDataType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10,
  DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

/** Returns the ONNX name of a data type code, or `DATATYPE_<code>` for a code this table does not know. */
export function onnxTypeName(code: number): string {
  return ONNX_TYPE_NAMES[code] ?? `DATATYPE_${code}`;
}

/** Returns the safetensors dtype for an ONNX data type code; types without one keep their ONNX name. */
export function dtypeOfOnnxType(code: number): DType {
  const name = onnxTypeName(code);
  return SAFETENSORS_BY_ONNX[name] ?? name;
}

/** Bytes per element of the ONNX types that have a fixed-size little-endian raw_data layout. */
export function onnxElementSize(code: number): number | undefined {
  switch (onnxTypeName(code)) {
    case 'DOUBLE': case 'INT64': case 'UINT64': case 'COMPLEX64': return 8;
    case 'COMPLEX128': return 16;
    case 'FLOAT': case 'INT32': case 'UINT32': return 4;
    case 'FLOAT16': case 'BFLOAT16': case 'INT16': case 'UINT16': return 2;
    case 'INT8': case 'UINT8': case 'BOOL':
    case 'FLOAT8E4M3FN': case 'FLOAT8E4M3FNUZ': case 'FLOAT8E5M2': case 'FLOAT8E5M2FNUZ': return 1;
    default: return undefined;
  }
}

/** Returns the ONNX data type code for a safetensors dtype, for writers. */
export function onnxTypeOfDtype(dtype: DType): number | undefined {
  for (const [name, mapped] of Object.entries(SAFETENSORS_BY_ONNX)) {
    if (mapped === dtype) return ONNX_TYPE_NAMES.indexOf(name);
  }
  return undefined;
}
