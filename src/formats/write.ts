// Writes a state dict in the format its output file name names.
import { basename } from 'node:path';
import type { NamedTensor, WriteOptions } from './checkpoint';
import { writeOnnxWithInitializers } from './onnx/writer';
import { writePytorchZip } from './pytorch/writer';
import { writeSafetensors } from './safetensors/writer';

export interface CheckpointWriteOptions extends WriteOptions {
  /** ONNX output only: the model whose graph is copied with its initializers replaced. */
  readonly onnxTemplate?: string;
}

export const WRITABLE_EXTENSIONS = ['.safetensors', '.pt', '.pth', '.bin', '.ckpt', '.onnx'];

/**
 * Throws before any work when `writeCheckpoint` would reject `output` later: an unknown extension, or an ONNX
 * output without a model to copy the graph from.
 */
export function assertWritableOutput(output: string, onnxTemplate: string | undefined): void {
  const name = basename(output).toLowerCase();
  if (!WRITABLE_EXTENSIONS.some((extension) => name.endsWith(extension))) {
    throw new Error(`${output}: cannot write this file type; use one of ${WRITABLE_EXTENSIONS.join(', ')}`);
  }
  if (name.endsWith('.onnx') && !onnxTemplate) {
    throw new Error(`${output}: writing ONNX needs an ONNX model whose graph to copy; pass an ONNX input or --graph MODEL.onnx`);
  }
}

/**
 * Writes `tensors` to `output` as safetensors, PyTorch zip or ONNX, chosen by the file extension, through a
 * temporary file renamed into place. Throws for other extensions and when `output` is one of the inputs.
 */
export async function writeCheckpoint(output: string, tensors: readonly NamedTensor[], options: CheckpointWriteOptions): Promise<void> {
  assertWritableOutput(output, options.onnxTemplate);
  const name = basename(output).toLowerCase();
  if (name.endsWith('.safetensors')) return writeSafetensors(output, [...tensors], options);
  if (['.pt', '.pth', '.bin', '.ckpt'].some((extension) => name.endsWith(extension))) return writePytorchZip(output, [...tensors], options);
  return writeOnnxWithInitializers(output, options.onnxTemplate as string, [...tensors], options);
}
