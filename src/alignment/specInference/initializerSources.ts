// Traces ONNX initializers back to state-dict tensors. Exporters keep state-dict names when they do not fold
// constants. With folding they write transposed copies under names such as `onnx::MatMul_288`, and only their
// values connect them to the state dict.
import type { onnx } from 'onnx-proto';
import type { Checkpoint, TensorEntry } from '../../formats/checkpoint';
import { elementCount } from '../../formats/checkpoint';
import { isFloatingDType } from '../../formats/dtype';
import { openOnnx } from '../../formats/onnx/reader';
import { commonWrapperPrefix, TensorNameIndex } from '../tensorNameMatching';
import type { InitializerSource } from './onnxGraph';
import { dimensions } from './onnxValues';

const FLOAT_TYPES = new Set([1, 10, 11, 16]); // FLOAT, FLOAT16, DOUBLE, BFLOAT16

/**
 * Maps every floating initializer of `model` (read from `graphPath`) to a tensor of `checkpoint`: by name, after
 * wrapper prefixes, or else by equal values, as stored or transposed (2-D only). Initializers with no match are
 * absent from the result. Reads only the initializers that no name matches and the checkpoint tensors with the same
 * number of elements.
 */
export async function traceInitializers(model: onnx.IModelProto, graphPath: string, checkpoint: Checkpoint): Promise<Map<string, InitializerSource>> {
  const initializers = (model.graph?.initializer ?? []).filter((tensor) => FLOAT_TYPES.has(tensor.dataType ?? 0));
  const index = new TensorNameIndex(checkpoint.tensors.map((entry) => entry.name));
  const entries = new Map(checkpoint.tensors.map((entry) => [entry.name, entry]));
  const graphPrefix = commonWrapperPrefix(initializers.map((tensor) => tensor.name ?? ''));
  const sources = new Map<string, InitializerSource>();
  const untraced: { name: string; shape: number[] }[] = [];

  for (const initializer of initializers) {
    const name = initializer.name ?? '';
    const shape = dimensions(initializer);
    const found = index.find(name, graphPrefix);
    const entry = found === undefined ? undefined : entries.get(found);
    if (entry !== undefined && sameShape(entry.shape, shape)) sources.set(name, { tensor: entry.name, transposed: false, shape: entry.shape });
    else untraced.push({ name, shape });
  }
  if (untraced.length === 0 || checkpoint.path === graphPath) return sources;

  const named = new Set([...sources.values()].map((source) => source.tensor));
  const candidates = checkpoint.tensors.filter((entry) => isFloatingDType(entry.dtype) && !named.has(entry.name));
  const graphTensors = await openOnnx(graphPath);
  const candidateValues = new Map<string, Float32Array>();
  try {
    for (const { name, shape } of untraced) {
      const matching = candidates.filter((entry) => elementCount(entry.shape) === elementCount(shape) && (sameShape(entry.shape, shape) || isTransposedShape(entry.shape, shape)));
      if (matching.length === 0) continue;
      const values = await graphTensors.readTensor(name, 'float32');
      for (const entry of matching) {
        let stored = candidateValues.get(entry.name);
        if (stored === undefined) {
          stored = await checkpoint.readTensor(entry.name, 'float32');
          candidateValues.set(entry.name, stored);
        }
        const source = compare(entry, stored, shape, values);
        if (source !== undefined) {
          sources.set(name, source);
          break;
        }
      }
    }
  } finally {
    await graphTensors.close();
  }
  return sources;
}

function compare(entry: TensorEntry, stored: Float32Array, shape: readonly number[], values: Float32Array): InitializerSource | undefined {
  if (sameShape(entry.shape, shape) && equalValues(stored, values)) return { tensor: entry.name, transposed: false, shape: entry.shape };
  if (isTransposedShape(entry.shape, shape) && equalTransposed(stored, entry.shape[0], entry.shape[1], values)) {
    return { tensor: entry.name, transposed: true, shape: entry.shape };
  }
  return undefined;
}

function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((size, axis) => size === y[axis]);
}

function isTransposedShape(stored: readonly number[], shape: readonly number[]): boolean {
  return stored.length === 2 && shape.length === 2 && stored[0] === shape[1] && stored[1] === shape[0];
}

function equalValues(x: Float32Array, y: Float32Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

/** Checks whether `transposed` ([columns, rows]) equals the transpose of the row-major [rows, columns] matrix `stored`. */
function equalTransposed(stored: Float32Array, rows: number, columns: number, transposed: Float32Array): boolean {
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      if (!Object.is(stored[row * columns + column], transposed[column * rows + row])) return false;
    }
  }
  return true;
}
