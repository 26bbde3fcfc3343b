// Interpolated weights θ(λ) = (1−λ)·θA + λ·θB for the graph's weight inputs.
import type { WeightInput } from './parameterizedGraph';
import type { WeightValues } from './evaluationSession';

/** Both end points of every weight input, in float64, keyed by input name. */
export interface WeightEndpoints {
  readonly a: ReadonlyMap<string, Float64Array>;
  readonly b: ReadonlyMap<string, Float64Array>;
}

/**
 * Mixes the end points in float64 and rounds once to each input's element type. λ = 0 and λ = 1 return A's and
 * B's values unchanged, so the end points of a curve reproduce the checkpoints exactly.
 */
export function interpolateWeights(inputs: readonly WeightInput[], endpoints: WeightEndpoints, lambda: number): Map<string, Float32Array | Float64Array> {
  const result = new Map<string, Float32Array | Float64Array>();
  for (const input of inputs) {
    const a = endpoints.a.get(input.input) as Float64Array;
    const b = endpoints.b.get(input.input) as Float64Array;
    const mixed = input.type === 'float32' ? new Float32Array(a.length) : new Float64Array(a.length);
    if (lambda === 0) mixed.set(a);
    else if (lambda === 1) mixed.set(b);
    else for (let i = 0; i < a.length; i++) mixed[i] = (1 - lambda) * a[i] + lambda * b[i];
    result.set(input.input, mixed);
  }
  return result;
}

/** Returns a copy of `weights` with some inputs replaced, each converted to its input's element type. */
export function replaceWeights(inputs: readonly WeightInput[], weights: WeightValues, replacements: ReadonlyMap<string, Float64Array>): Map<string, Float32Array | Float64Array> {
  const result = new Map(weights);
  for (const input of inputs) {
    const values = replacements.get(input.input);
    if (values !== undefined) result.set(input.input, input.type === 'float32' ? Float32Array.from(values) : Float64Array.from(values));
  }
  return result;
}
