// Range of rows of a fixed-height row list to render for a scroll position.

export interface VirtualWindow {
  /** First row to render. */
  readonly start: number;
  /** One past the last row to render. */
  readonly end: number;
  /** Pixel offset of row `start` from the top of the list. */
  readonly offset: number;
  /** Pixel height of the whole list. */
  readonly totalHeight: number;
}

/**
 * Computes the rows visible in a viewport of `viewportHeight` pixels scrolled to `scrollTop`,
 * plus `overscan` rows on each side so fast scrolling shows no blank band. All sizes in CSS pixels.
 */
export function computeVirtualWindow(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  rowCount: number,
  overscan: number,
): VirtualWindow {
  if (rowHeight <= 0) throw new RangeError(`Row height must be positive, got ${rowHeight}.`);

  const totalHeight = rowCount * rowHeight;
  const maxScroll = Math.max(0, totalHeight - viewportHeight);
  const top = Math.min(Math.max(0, scrollTop), maxScroll);

  const firstVisible = Math.floor(top / rowHeight);
  const lastVisible = Math.ceil((top + Math.max(0, viewportHeight)) / rowHeight);
  const start = Math.max(0, firstVisible - overscan);
  const end = Math.min(rowCount, lastVisible + overscan);

  return { start, end: Math.max(start, end), offset: start * rowHeight, totalHeight };
}

/** Returns the scrollTop that brings row `index` fully into view, or `scrollTop` unchanged when it already is. */
export function scrollTopToReveal(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const rowTop = index * rowHeight;
  const rowBottom = rowTop + rowHeight;
  if (rowTop < scrollTop) return rowTop;
  if (rowBottom > scrollTop + viewportHeight) return rowBottom - viewportHeight;
  return scrollTop;
}
