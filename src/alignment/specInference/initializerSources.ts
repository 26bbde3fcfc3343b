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
 * absent from the result. Reads only the initializers that no name matches, and of the checkpoint only the tensors
 * with as many elements: in chunks to sum them, and whole when the sum matches.
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
  // Element sums do not depend on the layout, so they rule out most candidates while keeping one tensor in memory.
  const candidateSums = new Map<string, ElementSum>();
  try {
    for (const { name, shape } of untraced) {
      const matching = candidates.filter((entry) => elementCount(entry.shape) === elementCount(shape) && (sameShape(entry.shape, shape) || isTransposedShape(entry.shape, shape)));
      if (matching.length === 0) continue;
      const values = await graphTensors.readTensor(name, 'float32');
      const sum = await elementSum([values]);
      for (const entry of matching) {
        let candidateSum = candidateSums.get(entry.name);
        if (candidateSum === undefined) {
          candidateSum = await elementSum(checkpoint.readTensorChunks(entry.name, SUM_CHUNK_BYTES));
          candidateSums.set(entry.name, candidateSum);
        }
        if (!closeSums(candidateSum, sum)) continue;
        const stored = await checkpoint.readTensor(entry.name, 'float32');
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

const SUM_CHUNK_BYTES = 16 * 1024 * 1024;

interface ElementSum {
  readonly sum: number;
  readonly absoluteSum: number;
  readonly count: number;
}

/** Sums the elements and their absolute values in float64. */
async function elementSum(chunks: AsyncIterable<Float32Array> | Iterable<Float32Array>): Promise<ElementSum> {
  let sum = 0;
  let absoluteSum = 0;
  let count = 0;
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      sum += chunk[i];
      absoluteSum += Math.abs(chunk[i]);
    }
    count += chunk.length;
  }
  return { sum, absoluteSum, count };
}

/**
 * Checks whether two sums can come from the same values added in different orders. Recursive summation errs by at
 * most about count · ε · Σ|x|, so equal values always pass; NaN or infinite sums pass and are left to the exact compare.
 */
function closeSums(x: ElementSum, y: ElementSum): boolean {
  if (!Number.isFinite(x.sum) || !Number.isFinite(y.sum)) return true;
  const tolerance = 4 * Math.max(x.count, y.count) * Number.EPSILON * Math.max(x.absoluteSum, y.absoluteSum);
  return Math.abs(x.sum - y.sum) <= tolerance;
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
