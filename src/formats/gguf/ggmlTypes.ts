// ggml tensor types as GGUF stores them: names and block layouts.
// Values from ggml.h's `enum ggml_type` and gguf-py's GGML_QUANT_SIZES (llama.cpp repository).

export interface GgmlType {
  /** GGUF name, which is also the safetensors dtype name for F32, F16, BF16, F64 and I8 to I64. */
  readonly name: string;
  /** Elements per block; 1 for unquantized types. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
  readonly quantized: boolean;
}

const plain = (name: string, bytes: number): GgmlType => ({ name, blockSize: 1, blockBytes: bytes, quantized: false });
const quantized = (name: string, blockSize: number, blockBytes: number): GgmlType => ({ name, blockSize, blockBytes, quantized: true });

const QK_K = 256;

/** Codes 4 and 5 (Q4_2, Q4_3), 31 to 33 and 36 to 38 (repacked Q4_0 and IQ4_NL) were removed from GGUF files. */
const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map([
  [0, plain('F32', 4)],
  [1, plain('F16', 2)],
  [2, quantized('Q4_0', 32, 2 + 16)],
  [3, quantized('Q4_1', 32, 2 + 2 + 16)],
  [6, quantized('Q5_0', 32, 2 + 4 + 16)],
  [7, quantized('Q5_1', 32, 2 + 2 + 4 + 16)],
  [8, quantized('Q8_0', 32, 2 + 32)],
  [9, quantized('Q8_1', 32, 4 + 32)],
  [10, quantized('Q2_K', QK_K, QK_K / 16 + QK_K / 4 + 2 + 2)],
  [11, quantized('Q3_K', QK_K, QK_K / 8 + QK_K / 4 + 12 + 2)],
  [12, quantized('Q4_K', QK_K, 2 + 2 + QK_K / 2 + 12)],
  [13, quantized('Q5_K', QK_K, 2 + 2 + QK_K / 2 + QK_K / 8 + 12)],
  [14, quantized('Q6_K', QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16)],
  [15, quantized('Q8_K', QK_K, 4 + QK_K + QK_K / 8)],
  [16, quantized('IQ2_XXS', QK_K, 2 + QK_K / 4)],
  [17, quantized('IQ2_XS', QK_K, 2 + QK_K / 4 + QK_K / 32)],
  [18, quantized('IQ3_XXS', QK_K, 2 + QK_K / 4 + QK_K / 8)],
  [19, quantized('IQ1_S', QK_K, 2 + QK_K / 8 + QK_K / 16)],
  [20, quantized('IQ4_NL', 32, 2 + 16)],
  [21, quantized('IQ3_S', QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4)],
  [22, quantized('IQ2_S', QK_K, 2 + QK_K / 4 + QK_K / 16)],
  [23, quantized('IQ4_XS', QK_K, 2 + 2 + QK_K / 2 + QK_K / 64)],
  [24, plain('I8', 1)],
  [25, plain('I16', 2)],
  [26, plain('I32', 4)],
  [27, plain('I64', 8)],
  [28, plain('F64', 8)],
  [29, quantized('IQ1_M', QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32)],
  [30, plain('BF16', 2)],
  [34, quantized('TQ1_0', QK_K, 2 + 4 * 13)],
  [35, quantized('TQ2_0', QK_K, 2 + 64)],
  [39, quantized('MXFP4', 32, 1 + 16)],
  [40, quantized('NVFP4', 64, 4 + 32)],
  [41, quantized('Q1_0', 128, 2 + 16)],
]);

export function ggmlType(code: number): GgmlType | undefined {
  return GGML_TYPES.get(code);
}
