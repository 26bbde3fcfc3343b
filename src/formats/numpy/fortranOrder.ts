// Conversion of Fortran-order (column-major) array bytes to C order (row-major).

/**
 * Returns the bytes of an array of logical shape `shape` stored in Fortran order, rearranged into C order.
 * Walks the source sequentially (first axis fastest) and scatters each element to its C-order position.
 */
export function fortranToC(source: Uint8Array, shape: readonly number[], elementSize: number): Uint8Array {
  const rank = shape.length;
  const result = new Uint8Array(source.byteLength);
  if (rank < 2 || source.byteLength === 0) {
    result.set(source);
    return result;
  }
  const cStrides = new Array<number>(rank);
  let stride = elementSize;
  for (let axis = rank - 1; axis >= 0; axis--) {
    cStrides[axis] = stride;
    stride *= shape[axis];
  }
  const index = new Array<number>(rank).fill(0);
  let target = 0;
  for (let from = 0; from < source.byteLength; from += elementSize) {
    for (let byte = 0; byte < elementSize; byte++) result[target + byte] = source[from + byte];
    // Advance the multi-index with axis 0 fastest, keeping the C-order byte offset `target` in step.
    for (let axis = 0; axis < rank; axis++) {
      index[axis]++;
      target += cStrides[axis];
      if (index[axis] < shape[axis]) break;
      target -= cStrides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return result;
}
