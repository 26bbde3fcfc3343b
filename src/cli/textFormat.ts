// Plain-text tables and sizes for terminal output.

/**
 * Left-aligned columns separated by two spaces; cells pass through `printable`. Widths are found with loops, not
 * `Math.max(...rows)`, because spreading one argument per row overflows the call stack (from between 125 000 and
 * 130 000 rows on Node 20 with its default stack size).
 */
export function formatTable(header: readonly string[], rawRows: readonly (readonly string[])[]): string {
  const rows = rawRows.map((row) => row.map(printable));
  const widths = header.map((title) => title.length);
  for (const row of rows) {
    for (let column = 0; column < widths.length; column++) {
      widths[column] = Math.max(widths[column], row[column]?.length ?? 0);
    }
  }

  const formatRow = (row: readonly string[]) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  const lines = [formatRow(header)];
  for (const row of rows) lines.push(formatRow(row));
  return lines.join('\n');
}

/** Appends each item to `lines` in a loop, because `lines.push(...items)` overflows the call stack for large arrays. */
export function pushEach(lines: string[], items: Iterable<string>): void {
  for (const item of items) lines.push(item);
}

/** Byte count in binary units, e.g. `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Escapes control characters (C0, DEL, C1, and the bidirectional overrides) as `\u{…}`, so names and metadata
 * taken from a file cannot move the cursor, rewrite earlier lines or reorder text in the user's terminal.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (character) => `\\u{${character.charCodeAt(0).toString(16)}}`);
}

/** Applies `printable` to each line of a multi-line text, keeping its line breaks. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
