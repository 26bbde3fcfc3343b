// Canvas set-up shared by the charts: sizes in CSS pixels, backing store in device pixels.

/**
 * Sizes `canvas` to `width`×`height` CSS pixels with a backing store scaled by `devicePixelRatio`, so lines
 * stay sharp on high-density screens, and returns a context whose units are CSS pixels.
 */
export function prepareCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(width * ratio));
  canvas.height = Math.max(1, Math.round(height * ratio));
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;

  const context = canvas.getContext('2d');
  if (!context) throw new Error('Canvas 2D context is not available in this webview.');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return context;
}

/** Returns the content width of `container` in CSS pixels, clamped to [minimum, maximum]. */
export function availableWidth(container: HTMLElement, minimum: number, maximum: number): number {
  return Math.max(minimum, Math.min(maximum, Math.floor(container.clientWidth)));
}
