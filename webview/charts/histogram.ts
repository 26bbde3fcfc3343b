// Histogram of one tensor's values as a bar chart on a canvas.
import type { HistogramData } from '../../src/protocol/webviewMessages';
import { toCss } from '../logic/colorScale';
import { formatValue } from '../logic/format';
import { prepareCanvas } from './canvas';
import type { ChartTheme } from './theme';

const margin = { top: 8, right: 8, bottom: 22, left: 8 };

/** Draws `histogram` into `canvas` at `width`×`height` CSS pixels, bar heights linear in the counts. */
export function drawHistogram(canvas: HTMLCanvasElement, histogram: HistogramData, theme: ChartTheme, width: number, height: number): void {
  const context = prepareCanvas(canvas, width, height);
  context.fillStyle = toCss(theme.background);
  context.fillRect(0, 0, width, height);

  const { edges, counts } = histogram;
  const bins = counts.length;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  let maxCount = 0;
  for (let i = 0; i < bins; i++) maxCount = Math.max(maxCount, counts[i]);

  context.strokeStyle = toCss(theme.grid);
  context.beginPath();
  context.moveTo(margin.left, margin.top + plotHeight + 0.5);
  context.lineTo(margin.left + plotWidth, margin.top + plotHeight + 0.5);
  context.stroke();

  context.fillStyle = toCss(theme.blue);
  const barWidth = plotWidth / Math.max(1, bins);
  for (let i = 0; i < bins; i++) {
    if (counts[i] <= 0 || maxCount <= 0) continue;
    // A non-empty bin gets at least one pixel, so rare values (outliers) stay visible.
    const barHeight = Math.max(1, (counts[i] / maxCount) * plotHeight);
    context.fillRect(margin.left + i * barWidth, margin.top + plotHeight - barHeight, Math.max(1, barWidth - 1), barHeight);
  }

  context.fillStyle = toCss(theme.muted);
  context.font = `11px ${theme.fontFamily}`;
  context.textBaseline = 'bottom';
  if (edges.length > 0) {
    context.textAlign = 'left';
    context.fillText(formatValue(edges[0]), margin.left, height - 4);
    context.textAlign = 'right';
    context.fillText(formatValue(edges[edges.length - 1]), margin.left + plotWidth, height - 4);
  }
  context.textAlign = 'right';
  context.textBaseline = 'top';
  context.fillText(`max ${formatValue(maxCount)}`, margin.left + plotWidth, margin.top);
}
