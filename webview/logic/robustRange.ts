// Colour-scale range of similarity heatmaps, clipped at percentiles so a few extreme cells do not wash out the rest.

/** Default number of values the percentiles are computed on; larger inputs are sampled. */
export const defaultSampleSize = 65_536;

/** Range that a colour scale maps onto its first and last colour. */
export interface ColorScaleRange {
  readonly low: number;
  readonly high: number;
  /** Some values are below `low` and paint in the first colour. */
  readonly clippedLow: boolean;
  /** Some values are above `high` and paint in the last colour. */
  readonly clippedHigh: boolean;
}

/**
 * Returns the q-quantile (q in [0, 1]) of ascending `sorted` values, interpolating linearly between the two
 * nearest ranks, as numpy's default `percentile(..., method='linear')` does. Returns NaN for an empty input.
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Quantile must be in [0, 1], got ${q}.`);
  const count = sorted.length;
  if (count === 0) return Number.NaN;

  const position = q * (count - 1);
  const below = Math.floor(position);
  const above = Math.min(count - 1, below + 1);
  const fraction = position - below;
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

/**
 * Collects the finite values of `arrays`, all of them when there are at most `sampleSize`, otherwise
 * `sampleSize` values at positions from a fixed-seed generator, so the same matrices always give the same range.
 * Returns them sorted ascending.
 */
export function sampleFiniteValues(arrays: readonly Float32Array[], sampleSize = defaultSampleSize): Float64Array {
  const total = arrays.reduce((sum, array) => sum + array.length, 0);
  const values: number[] = [];

  if (total <= sampleSize) {
    for (const array of arrays) {
      for (let i = 0; i < array.length; i++) if (Number.isFinite(array[i])) values.push(array[i]);
    }
  } else {
    // Positions come from a linear congruential generator rather than a fixed stride, because a stride that
    // divides the row length would sample the same few columns of a row-major matrix.
    let state = 0x2545f491;
    for (let drawn = 0; drawn < sampleSize; drawn++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      let index = Math.floor((state / 2 ** 32) * total);
      let arrayIndex = 0;
      while (index >= arrays[arrayIndex].length) {
        index -= arrays[arrayIndex].length;
        arrayIndex++;
      }
      const value = arrays[arrayIndex][index];
      if (Number.isFinite(value)) values.push(value);
    }
  }

  return Float64Array.from(values).sort();
}

/**
 * Computes one colour-scale range for all of `arrays` (e.g. the before and after heatmaps of one permutation, so
 * both use the same colours), clipped at the `lowQuantile` and `highQuantile` of their finite values. Quantiles
 * come from a sample of at most `sampleSize` values, but the minimum and maximum from every value. When the two
 * quantiles coincide, e.g. a matrix of zeros with one hot cell, the range falls back to the minimum and maximum,
 * so the outliers stay visible. Returns [0, 0] without clipping when no value is finite.
 */
export function robustColorRange(
  arrays: readonly Float32Array[],
  lowQuantile = 0.01,
  highQuantile = 0.99,
  sampleSize = defaultSampleSize,
): ColorScaleRange {
  if (!(lowQuantile < highQuantile)) throw new RangeError(`Low quantile ${lowQuantile} must be below high quantile ${highQuantile}.`);
  const [minimum, maximum] = finiteRange(arrays);
  if (!(minimum <= maximum)) return { low: 0, high: 0, clippedLow: false, clippedHigh: false };

  const sorted = sampleFiniteValues(arrays, sampleSize);
  let low = quantileOfSorted(sorted, lowQuantile);
  let high = quantileOfSorted(sorted, highQuantile);
  if (!(high > low)) {
    low = minimum;
    high = maximum;
  }
  return { low, high, clippedLow: minimum < low, clippedHigh: maximum > high };
}

/** Returns the minimum and maximum finite value of `arrays`, or [Infinity, -Infinity] when there is none. */
function finiteRange(arrays: readonly Float32Array[]): [number, number] {
  let minimum = Infinity;
  let maximum = -Infinity;
  for (const array of arrays) {
    for (let i = 0; i < array.length; i++) {
      const value = array[i];
      if (!Number.isFinite(value)) continue;
      if (value < minimum) minimum = value;
      if (value > maximum) maximum = value;
    }
  }
  return [minimum, maximum];
}
