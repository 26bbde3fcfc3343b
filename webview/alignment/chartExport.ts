// Encodes the alignment panel's charts as PNG for "Export report". The charts paint the theme's editor background
// themselves, so each image is the canvas as shown, in the current theme's colours.
import type { ChartImage } from '../../src/protocol/webviewMessages';

/** Chart canvases in the panel and the name each exports under; heatmaps repeat once per permutation. */
const exportedCharts: readonly { readonly selector: string; name(canvas: HTMLCanvasElement): string }[] = [
  { selector: 'canvas.sparkline', name: () => 'objective-per-sweep' },
  { selector: 'canvas.curve-loss', name: () => 'loss' },
  { selector: 'canvas.curve-accuracy', name: () => 'accuracy' },
  { selector: 'canvas.layer-chart', name: () => 'layer-similarity' },
  {
    selector: 'canvas.heatmap-before, canvas.heatmap-after',
    name: (canvas) => `heatmap.${canvas.dataset.permutation ?? 'unnamed'}.${canvas.classList.contains('heatmap-after') ? 'after' : 'before'}`,
  },
];

/**
 * Encodes every chart canvas under `root` as PNG at its backing-store size (device pixels). Charts not in the
 * document, such as curves that were never evaluated, are left out. Throws an Error naming the chart when the
 * browser cannot encode it.
 */
export async function collectChartImages(root: ParentNode): Promise<ChartImage[]> {
  const images: ChartImage[] = [];
  for (const chart of exportedCharts) {
    for (const canvas of root.querySelectorAll<HTMLCanvasElement>(chart.selector)) {
      const name = chart.name(canvas);
      images.push({ name, png: await encodePng(canvas, name) });
    }
  }
  return images;
}

async function encodePng(canvas: HTMLCanvasElement, name: string): Promise<Uint8Array> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  // toBlob yields null for an empty canvas or one beyond the browser's size limit.
  if (!blob) throw new Error(`Exporting chart ${name} failed: the browser could not encode its ${canvas.width}×${canvas.height} canvas as PNG.`);
  return new Uint8Array(await blob.arrayBuffer());
}
