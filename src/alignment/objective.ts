// The weight-matching objective Σ ⟨A, π(B)⟩ and the distances the report shows, summed in float64.
import type { FloatTensorData } from '../formats/checkpoint';

export function innerProduct(x: FloatTensorData, y: FloatTensorData): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * y[i];
  return sum;
}

export function squaredNorm(x: FloatTensorData): number {
  return innerProduct(x, x);
}

export function squaredDistance(x: FloatTensorData, y: FloatTensorData): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const difference = x[i] - y[i];
    sum += difference * difference;
  }
  return sum;
}

/** Cosine similarity; 0 when either tensor is all zeros. */
export function cosineSimilarity(x: FloatTensorData, y: FloatTensorData): number {
  const denominator = Math.sqrt(squaredNorm(x) * squaredNorm(y));
  return denominator === 0 ? 0 : innerProduct(x, y) / denominator;
}
