// Natural ordering of tensor names: digit runs compare by value, so `layer.10` sorts after `layer.9`.

/** A name split into alternating text and digit runs, digit runs as numbers; see `naturalKey`. */
export type NaturalKey = readonly (string | number)[];

const zero = 48;
const nine = 57;

/**
 * Splits a name into its natural-order key; compute it once per name when sorting many names. A character scan
 * rather than a regular expression, because this runs for every tensor and group of a 50 000-tensor file.
 */
export function naturalKey(name: string): NaturalKey {
  const parts: (string | number)[] = [];
  let start = 0;
  while (start < name.length) {
    const digits = isDigit(name.charCodeAt(start));
    let end = start + 1;
    while (end < name.length && isDigit(name.charCodeAt(end)) === digits) end++;
    const run = name.slice(start, end);
    parts.push(digits ? Number(run) : run);
    start = end;
  }
  return parts;
}

function isDigit(code: number): boolean {
  return code >= zero && code <= nine;
}

/** Compares two keys from `naturalKey`: digit runs by value, text by code unit, a number before text. */
export function compareNaturalKeys(left: NaturalKey, right: NaturalKey): number {
  const common = Math.min(left.length, right.length);
  for (let i = 0; i < common; i++) {
    const x = left[i];
    const y = right[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

/**
 * Compares two names in natural order. Names whose keys tie (e.g. `01` and `1`) fall back to plain
 * comparison, so the order is total and sorting is deterministic.
 */
export function compareNatural(a: string, b: string): number {
  const byKey = compareNaturalKeys(naturalKey(a), naturalKey(b));
  if (byKey !== 0) return byKey;
  return a < b ? -1 : a > b ? 1 : 0;
}
