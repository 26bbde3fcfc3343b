// Barriers of an interpolation curve: how far the curve rises above (loss) or falls below (accuracy) the straight
// line between its end points.

/** max over λ of loss(λ) − ((1−λ)·loss(0) + λ·loss(1)); `lambdas` run from 0 to 1. */
export function lossBarrier(lambdas: readonly number[], loss: readonly number[]): number {
  const first = loss[0];
  const last = loss[loss.length - 1];
  let barrier = -Infinity;
  lambdas.forEach((lambda, index) => {
    barrier = Math.max(barrier, loss[index] - ((1 - lambda) * first + lambda * last));
  });
  return barrier;
}

/** max over λ of ((1−λ)·acc(0) + λ·acc(1)) − acc(λ). */
export function accuracyBarrier(lambdas: readonly number[], accuracy: readonly number[]): number {
  const first = accuracy[0];
  const last = accuracy[accuracy.length - 1];
  let barrier = -Infinity;
  lambdas.forEach((lambda, index) => {
    barrier = Math.max(barrier, (1 - lambda) * first + lambda * last - accuracy[index]);
  });
  return barrier;
}

/** `steps` evenly spaced points from 0 to 1, both included, with the end points exact. */
export function evenlySpacedLambdas(steps: number): number[] {
  return Array.from({ length: steps }, (_, index) => (index === steps - 1 ? 1 : index / (steps - 1)));
}
