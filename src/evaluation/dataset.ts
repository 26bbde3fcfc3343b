// Loading an evaluation data set: an input array and integer class labels from a `.npz` or `.safetensors` file.
import { CheckpointError, elementCount, type Checkpoint } from '../formats/checkpoint';
import { openCheckpoint } from '../formats/open';

export interface Dataset {
  readonly path: string;
  /** Input values as float32, row-major, with `shape[0]` samples. */
  readonly inputs: Float32Array;
  readonly shape: readonly number[];
  /** Class index of each sample; float64 represents every int64 label up to 2⁵³ exactly, so range errors show the value. */
  readonly labels: Float64Array;
}

const INTEGER_DTYPES = new Set(['I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8']);

/** Reads `inputName` and `labelName` from `path`, checking that there is one integer label per sample. */
export async function loadDataset(path: string, inputName: string, labelName: string): Promise<Dataset> {
  const file = await openCheckpoint(path);
  try {
    const input = findArray(file, inputName, '--input');
    const label = findArray(file, labelName, '--labels');
    if (input.shape.length < 1 || input.shape[0] === 0) {
      throw new CheckpointError(path, `input array "${inputName}" has shape [${input.shape.join(', ')}]; it needs a leading sample axis with at least one sample`);
    }
    if (!INTEGER_DTYPES.has(label.dtype)) {
      throw new CheckpointError(path, `label array "${labelName}" has type ${label.dtype}; class labels must be integers (int64, int32, int16, int8 or uint8)`);
    }
    if (label.shape.length !== 1 || label.shape[0] !== input.shape[0]) {
      throw new CheckpointError(
        path,
        `label array "${labelName}" has shape [${label.shape.join(', ')}] but the input "${inputName}" has ${input.shape[0]} samples; expected shape [${input.shape[0]}]`,
      );
    }
    const inputs = await file.readTensor(inputName, 'float32');
    const stored = await file.readTensor(labelName, 'stored');
    const labels = new Float64Array(elementCount(label.shape));
    const values = stored.data as unknown as ArrayLike<number | bigint>;
    for (let i = 0; i < labels.length; i++) {
      const value = Number(values[i]);
      if (value < 0) throw new CheckpointError(path, `label ${i} of "${labelName}" is ${value}; class labels must be non-negative`);
      labels[i] = value;
    }
    return { path, inputs, shape: input.shape, labels };
  } finally {
    await file.close();
  }
}

function findArray(file: Checkpoint, name: string, flag: string): { dtype: string; shape: readonly number[] } {
  const entry = file.tensors.find((candidate) => candidate.name === name);
  if (entry === undefined) {
    const available = file.tensors.map((candidate) => candidate.name).join(', ') || 'none';
    throw new CheckpointError(file.path, `no array named "${name}" (arrays: ${available}); pass ${flag} NAME to choose another`);
  }
  return entry;
}

/** Throws when a label is not a class index of a model with `classes` outputs. */
export function checkLabels(dataset: Dataset, labelName: string, classes: number): void {
  for (let i = 0; i < dataset.labels.length; i++) {
    if (dataset.labels[i] >= classes) {
      throw new CheckpointError(
        dataset.path,
        `label ${i} of "${labelName}" is ${dataset.labels[i]}, but the model has ${classes} output classes (0 to ${classes - 1}); pass the labels that belong to this model`,
      );
    }
  }
}
