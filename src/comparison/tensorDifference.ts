// Measures of how far one tensor moved from another, accumulated chunk by chunk in float64 so two
// multi-GB tensors compare in bounded memory.

export interface TensorDifference {
  /** ‖A−B‖₂ / ‖A‖₂; Infinity when A is all zeros and B is not, 0 when both are. */
  readonly relativeL2: number;
  /** ⟨A,B⟩ / (‖A‖₂‖B‖₂); null when either side is all zeros. */
  readonly cosine: number | null;
  readonly maxAbsDifference: number;
  readonly meanA: number;
  readonly stdA: number;
  readonly meanB: number;
  readonly stdB: number;
  /** True when every element is equal (NaN equals NaN at the same position). */
  readonly identical: boolean;
  readonly count: number;
  /**
   * `stored-bytes` for tensors compared by their stored bytes alone (GGUF quantized blocks), whose numeric
   * measures are NaN, or 0 when identical. Absent for element-wise comparisons.
   */
  readonly comparedBy?: 'stored-bytes';
}

/** Returns the difference of two tensors compared by stored bytes only; `count` is their element count. */
export function storedBytesDifference(identical: boolean, count: number): TensorDifference {
  const unknown = identical ? 0 : NaN;
  return {
    relativeL2: unknown, cosine: null, maxAbsDifference: unknown,
    meanA: NaN, stdA: NaN, meanB: NaN, stdB: NaN,
    identical, count, comparedBy: 'stored-bytes',
  };
}

export class TensorDifferenceAccumulator {
  private count = 0;
  private sumA = 0;
  private sumB = 0;
  private sumSquaresA = 0;
  private sumSquaresB = 0;
  private sumProducts = 0;
  private sumSquaredDifferences = 0;
  private maxAbsDifference = 0;
  private identical = true;

  /** Adds equally long chunks of A and B, in the same element order. */
  add(a: ArrayLike<number>, b: ArrayLike<number>): void {
    // Locals instead of fields in the loop: V8 keeps them in registers, about twice as fast on large tensors.
    let sumA = 0;
    let sumB = 0;
    let sumSquaresA = 0;
    let sumSquaresB = 0;
    let sumProducts = 0;
    let sumSquaredDifferences = 0;
    let maxAbsDifference = this.maxAbsDifference;
    let identical = this.identical;
    const length = a.length;
    for (let i = 0; i < length; i++) {
      const x = a[i];
      const y = b[i];
      const difference = x - y;
      sumA += x;
      sumB += y;
      sumSquaresA += x * x;
      sumSquaresB += y * y;
      sumProducts += x * y;
      sumSquaredDifferences += difference * difference;
      const absolute = Math.abs(difference);
      if (absolute > maxAbsDifference) maxAbsDifference = absolute;
      // `absolute` is NaN when either side is NaN or both are infinite with one sign: compare such elements apart.
      else if (absolute !== absolute) {
        if (!(x !== x && y !== y) && x !== y) {
          identical = false;
          maxAbsDifference = NaN;
        }
        continue;
      }
      if (absolute !== 0) identical = false;
    }
    this.sumA += sumA;
    this.sumB += sumB;
    this.sumSquaresA += sumSquaresA;
    this.sumSquaresB += sumSquaresB;
    this.sumProducts += sumProducts;
    this.sumSquaredDifferences += sumSquaredDifferences;
    this.maxAbsDifference = maxAbsDifference;
    this.identical = identical;
    this.count += length;
  }

  result(): TensorDifference {
    const { count } = this;
    const normA = Math.sqrt(this.sumSquaresA);
    const normB = Math.sqrt(this.sumSquaresB);
    const normDifference = Math.sqrt(this.sumSquaredDifferences);
    const mean = (sum: number) => (count === 0 ? 0 : sum / count);
    // Population standard deviation from the raw moments; clamped because rounding can make it slightly negative.
    const std = (sum: number, squares: number) => (count === 0 ? 0 : Math.sqrt(Math.max(0, squares / count - (sum / count) ** 2)));
    let relativeL2: number;
    if (normA > 0) relativeL2 = normDifference / normA;
    else relativeL2 = normDifference === 0 ? 0 : Infinity;

    return {
      relativeL2,
      cosine: normA > 0 && normB > 0 ? this.sumProducts / (normA * normB) : null,
      maxAbsDifference: this.maxAbsDifference,
      meanA: mean(this.sumA),
      stdA: std(this.sumA, this.sumSquaresA),
      meanB: mean(this.sumB),
      stdB: std(this.sumB, this.sumSquaresB),
      identical: this.identical,
      count,
    };
  }
}
