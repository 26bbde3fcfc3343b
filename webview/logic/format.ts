// Text formatting of sizes, counts and statistics for display.

const byteUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Formats a byte count with binary units, e.g. `1.5 MiB`; exact below 1 KiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return String(bytes);
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ${byteUnits[unit]}`;
}

// One formatter for all counts: `toLocaleString` builds a new one on every call, which shows in a 50 000-row table.
const countFormat = new Intl.NumberFormat('en-US');

/** Formats an integer count with thousands separators, e.g. `1,234,567`. */
export function formatCount(count: number): string {
  return countFormat.format(count);
}

/** Formats a parameter count compactly, e.g. `6.74 B`, `124 M`, `3.2 K`. */
export function formatParameterCount(count: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [size, suffix] of units) {
    if (count >= size) return `${(count / size).toPrecision(3)} ${suffix}`;
  }
  return String(count);
}

/** Formats a real number with up to 6 significant digits; NaN and infinities as words. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '−Inf';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-4) return Number(value.toPrecision(4)).toExponential();
  return String(Number(value.toPrecision(6)));
}

/** Formats a value with 3 significant digits, for axis and legend labels. */
export function formatShort(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(3))) : formatValue(value);
}

/** Formats `count` and a noun, adding an `s` unless the count is 1, e.g. `1 tensor`, `5 tensors`. */
export function formatPlural(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? '' : 's'}`;
}

/** Formats a shape as `[384, 64]`; a scalar as `[]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
