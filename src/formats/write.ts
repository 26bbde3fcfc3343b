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
 * Writes `tensors` to `output` as safetensors, PyTorch zip or ONNX, chosen by the file extension, through a
 * temporary file renamed into place. Throws for other extensions and when `output` is one of the inputs.
 */
export async function writeCheckpoint(output: string, tensors: readonly NamedTensor[], options: CheckpointWriteOptions): Promise<void> {
  const name = basename(output).toLowerCase();
  if (name.endsWith('.safetensors')) return writeSafetensors(output, [...tensors], options);
  if (['.pt', '.pth', '.bin', '.ckpt'].some((extension) => name.endsWith(extension))) return writePytorchZip(output, [...tensors], options);
  if (name.endsWith('.onnx')) {
    if (!options.onnxTemplate) {
      throw new Error(`${output}: writing ONNX needs an ONNX model whose graph to copy; pass an ONNX input or --graph MODEL.onnx`);
    }
    return writeOnnxWithInitializers(output, options.onnxTemplate, [...tensors], options);
  }
  throw new Error(`${output}: cannot write this file type; use one of ${WRITABLE_EXTENSIONS.join(', ')}`);
}
