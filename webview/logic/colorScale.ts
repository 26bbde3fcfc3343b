// Parsing of CSS colours as browsers report them and linear interpolation between two of them.

/** A colour with red, green and blue in 0–255 and alpha in 0–1. */
export interface Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
}

/**
 * Parses `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb(…)` and `rgba(…)` (comma or space separated, as
 * `getComputedStyle` returns them). Returns undefined for anything else, e.g. a named colour or an empty variable.
 */
export function parseCssColor(text: string): Rgba | undefined {
  const value = text.trim().toLowerCase();

  const hex = /^#([0-9a-f]{3,8})$/.exec(value);
  if (hex) {
    let digits = hex[1];
    if (digits.length === 3 || digits.length === 4) digits = [...digits].map((d) => d + d).join('');
    if (digits.length !== 6 && digits.length !== 8) return undefined;
    const byte = (i: number) => parseInt(digits.slice(i, i + 2), 16);
    return { r: byte(0), g: byte(2), b: byte(4), a: digits.length === 8 ? byte(6) / 255 : 1 };
  }

  const functional = /^rgba?\(([^)]*)\)$/.exec(value);
  if (functional) {
    const parts = functional[1].split(/[\s,/]+/).filter((part) => part.length > 0);
    if (parts.length < 3 || parts.length > 4) return undefined;
    // Percentages scale to 255 for the colour channels and to 1 for alpha.
    const numbers = parts.map((part, index) => {
      const scale = index < 3 ? 255 : 1;
      return part.endsWith('%') ? (parseFloat(part) / 100) * scale : parseFloat(part);
    });
    if (numbers.some((n) => !Number.isFinite(n))) return undefined;
    return { r: numbers[0], g: numbers[1], b: numbers[2], a: numbers[3] ?? 1 };
  }

  return undefined;
}

/** Composites `color` over an opaque `background`, so translucent theme colours paint as the theme shows them. */
export function flattenOnto(color: Rgba, background: Rgba): Rgba {
  const mix = (top: number, bottom: number) => top * color.a + bottom * (1 - color.a);
  return { r: mix(color.r, background.r), g: mix(color.g, background.g), b: mix(color.b, background.b), a: 1 };
}

/** Interpolates linearly in sRGB: t = 0 gives `from`, t = 1 gives `to`; t is clamped to [0, 1] and NaN gives `from`. */
export function interpolateColor(from: Rgba, to: Rgba, t: number): Rgba {
  const s = Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t));
  return {
    r: from.r + (to.r - from.r) * s,
    g: from.g + (to.g - from.g) * s,
    b: from.b + (to.b - from.b) * s,
    a: from.a + (to.a - from.a) * s,
  };
}

/**
 * Builds a 256-entry lookup table of packed RGBA bytes (little-endian `0xAABBGGRR`, the layout of a
 * `Uint32Array` view on `ImageData` on little-endian machines) from `from` to `to`.
 */
export function buildColorRamp(from: Rgba, to: Rgba): Uint32Array {
  const ramp = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const c = interpolateColor(from, to, i / 255);
    ramp[i] = ((Math.round(c.a * 255) << 24) | (Math.round(c.b) << 16) | (Math.round(c.g) << 8) | Math.round(c.r)) >>> 0;
  }
  return ramp;
}

/** Formats a colour as `rgba(…)` for canvas fill and stroke styles. */
export function toCss(color: Rgba): string {
  return `rgba(${Math.round(color.r)}, ${Math.round(color.g)}, ${Math.round(color.b)}, ${color.a})`;
}
