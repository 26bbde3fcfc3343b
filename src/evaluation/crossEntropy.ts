// Cross-entropy loss and accuracy from logits, summed in float64.

export interface BatchScore {
  /** `lossSum` passed in plus the sum over this batch of −log softmax(logits)[label], natural log. */
  readonly lossSum: number;
  readonly correct: number;
}

/**
 * Scores `count` samples of row-major logits `[count, classes]`. The log-sum-exp subtracts each row's maximum
 * first, so large logits do not overflow. A prediction is the first index of the row's maximum. Each sample's loss is
 * added to the running `lossSum` in sample order, so the total does not depend on how the data was batched.
 */
export function scoreLogits(logits: ArrayLike<number>, classes: number, labels: ArrayLike<number>, count: number, lossSum = 0): BatchScore {
  let correct = 0;
  for (let sample = 0; sample < count; sample++) {
    const base = sample * classes;
    let best = 0;
    let max = logits[base];
    for (let k = 1; k < classes; k++) {
      if (logits[base + k] > max) {
        max = logits[base + k];
        best = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[base + k] - max);
    lossSum += max + Math.log(sum) - logits[base + labels[sample]];
    if (best === labels[sample]) correct++;
  }
  return { lossSum, correct };
}
