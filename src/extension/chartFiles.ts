// PNG files of the alignment panel's charts, which "Export report" writes beside the JSON report. The bytes come
// from the webview, so they are checked before anything is written.
import { writeFileAtomically } from '../formats/atomicWrite';
import type { ChartImage } from '../protocol/webviewMessages';
import type { Logger } from './log';

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Checks the charts of an `exportReport` message, which come from the webview, and copies their bytes.
 * Throws an Error naming the first entry that has no string name or whose bytes do not start with the PNG signature.
 */
export function parseChartImages(value: unknown): ChartImage[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error('The charts sent by the panel are invalid: expected a list of { name, png }, so nothing was exported. Reload the panel and export again.');
  return value.map((entry: unknown, index) => {
    const { name, png } = (typeof entry === 'object' && entry !== null ? entry : {}) as { name?: unknown; png?: unknown };
    const label = typeof name === 'string' ? `"${name}"` : `number ${index + 1}`;
    const bytes = asBytes(png);
    if (typeof name !== 'string' || !bytes || !startsWithPngSignature(bytes)) {
      throw new Error(`Chart ${label} sent by the panel is invalid: it needs a string name and PNG bytes, so nothing was exported. Reload the panel and export again.`);
    }
    return { name, png: bytes.slice() };
  });
}

/** Views `value` as bytes when it is an ArrayBuffer or a typed array, the forms postMessage delivers. */
function asBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

function startsWithPngSignature(bytes: Uint8Array): boolean {
  return bytes.length >= pngSignature.length && pngSignature.every((byte, i) => bytes[i] === byte);
}

/** Replaces each character outside `[A-Za-z0-9_.-]` with `_` and keeps at most 100 characters, so file names stay short. */
export function sanitizeChartName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100) || 'chart';
}

/**
 * Writes each chart to `<base>.<name>.png` beside the JSON report at `reportPath`, where `<base>` is that path
 * without `.json` and `<name>` is the sanitized chart name, and logs each file. Names that collide after
 * sanitizing, ignoring case for case-insensitive file systems, get `-2`, `-3`, … appended.
 * Never writes over `inputs`. Returns the paths written, in the order of `charts`.
 */
export async function writeChartImages(reportPath: string, charts: readonly ChartImage[], inputs: readonly string[], log: Pick<Logger, 'info'>): Promise<string[]> {
  const base = reportPath.replace(/\.json$/i, '');
  const used = new Set<string>();
  const written: string[] = [];
  for (const chart of charts) {
    const name = sanitizeChartName(chart.name);
    let unique = name;
    for (let suffix = 2; used.has(unique.toLowerCase()); suffix++) unique = `${name}-${suffix}`;
    used.add(unique.toLowerCase());

    const path = `${base}.${unique}.png`;
    await writeFileAtomically(path, inputs, (handle) => handle.writeFile(chart.png));
    log.info(`Exported chart ${chart.name} (${chart.png.length} bytes) to ${path}`);
    written.push(path);
  }
  return written;
}
