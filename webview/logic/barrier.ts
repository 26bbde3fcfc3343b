// Location of the loss barrier on an interpolation curve.

/**
 * Returns the index i maximizing loss[i] − ((1 − λ_i)·loss[0] + λ_i·loss[last]), the loss barrier's position,
 * with λ_i = lambdas[i] and λ running from 0 (model A) to 1 (model B); -1 for fewer than two points.
 */
export function barrierIndex(lambdas: readonly number[], loss: readonly number[]): number {
  const count = Math.min(lambdas.length, loss.length);
  if (count < 2) return -1;
  const first = loss[0];
  const last = loss[count - 1];
  let best = 0;
  let bestHeight = -Infinity;
  for (let i = 0; i < count; i++) {
    const height = loss[i] - ((1 - lambdas[i]) * first + lambdas[i] * last);
    if (height > bestHeight) {
      bestHeight = height;
      best = i;
    }
  }
  return best;
}

/** Loss of the straight line between the endpoints at λ, the reference the barrier is measured from. */
export function endpointInterpolation(lambda: number, loss: readonly number[]): number {
  return (1 - lambda) * loss[0] + lambda * loss[loss.length - 1];
}
