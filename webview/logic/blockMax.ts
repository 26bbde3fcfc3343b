// Downsampling of square similarity matrices by block maximum, so a single hot cell survives any reduction.

/** A square matrix, row-major: cell (row, column) is `data[row * size + column]`. */
export interface SquareMatrix {
  readonly size: number;
  readonly data: Float32Array;
}

/**
 * Reduces a `size`×`size` matrix to `target`×`target` (or leaves it as is when `size <= target`).
 * Output cell (r, c) is the maximum over the input rows [⌊r·size/target⌋, ⌊(r+1)·size/target⌋) and the
 * same range of columns, so every input cell falls in exactly one output cell. NaN cells are skipped; a block
 * of only NaN gives NaN.
 */
export function downsampleBlockMax(matrix: SquareMatrix, target: number): SquareMatrix {
  const { size, data } = matrix;
  if (data.length !== size * size) {
    throw new RangeError(`Matrix of side ${size} needs ${size * size} values, got ${data.length}.`);
  }
  if (!Number.isInteger(target) || target < 1) throw new RangeError(`Target side must be a positive integer, got ${target}.`);
  if (size <= target) return matrix;

  const out = new Float32Array(target * target).fill(Number.NaN);
  const columnBlock = new Int32Array(size);
  for (let column = 0; column < size; column++) columnBlock[column] = Math.floor((column * target) / size);

  // One pass over the input in row order keeps memory access sequential for n up to 16 384 (1 GiB of float32).
  for (let row = 0; row < size; row++) {
    const outRow = Math.floor((row * target) / size) * target;
    const rowStart = row * size;
    for (let column = 0; column < size; column++) {
      const value = data[rowStart + column];
      const index = outRow + columnBlock[column];
      const current = out[index];
      if (value > current || (current !== current && value === value)) out[index] = value;
    }
  }

  return { size: target, data: out };
}

/** Returns the minimum and maximum of the non-NaN values, or [0, 0] when there are none. */
export function valueRange(...arrays: Float32Array[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const array of arrays) {
    for (let i = 0; i < array.length; i++) {
      const value = array[i];
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  return min <= max ? [min, max] : [0, 0];
}
