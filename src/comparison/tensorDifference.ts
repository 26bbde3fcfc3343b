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
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) this.identical = false;
      const difference = x - y;
      this.sumA += x;
      this.sumB += y;
      this.sumSquaresA += x * x;
      this.sumSquaresB += y * y;
      this.sumProducts += x * y;
      this.sumSquaredDifferences += difference * difference;
      const absolute = Math.abs(difference);
      // NaN differences propagate to the maximum so a NaN on one side is visible in the result.
      if (absolute > this.maxAbsDifference || Number.isNaN(absolute)) this.maxAbsDifference = absolute;
    }
    this.count += a.length;
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
