// Horizontal paired bar chart: one row per layer, a bar before and a bar after alignment.
import { toCss } from '../logic/colorScale';
import { formatValue } from '../logic/format';
import { prepareCanvas } from './canvas';
import type { ChartTheme } from './theme';

export interface PairedBar {
  readonly label: string;
  readonly before: number;
  readonly after: number;
}

/** Height in CSS pixels of one layer's row. */
export const barRowHeight = 26;
const labelWidth = 220;
const valueWidth = 110;
const axisHeight = 20;

/** Draws `bars` (values in [-1, 1]) into `canvas`, `width` CSS pixels wide and as tall as the rows need. */
export function drawPairedBars(canvas: HTMLCanvasElement, bars: readonly PairedBar[], theme: ChartTheme, width: number): void {
  const height = bars.length * barRowHeight + axisHeight;
  const context = prepareCanvas(canvas, width, height);
  context.fillStyle = toCss(theme.background);
  context.fillRect(0, 0, width, height);

  let low = 0;
  for (const bar of bars) low = Math.min(low, bar.before, bar.after);
  low = low < 0 ? -1 : 0;
  const plotLeft = labelWidth;
  const plotWidth = Math.max(40, width - labelWidth - valueWidth);
  const x = (value: number) => plotLeft + ((Math.max(low, Math.min(1, value)) - low) / (1 - low)) * plotWidth;

  context.font = `12px ${theme.fontFamily}`;
  context.textBaseline = 'middle';
  bars.forEach((bar, i) => {
    const top = i * barRowHeight;
    context.fillStyle = toCss(theme.foreground);
    context.textAlign = 'right';
    context.fillText(truncate(context, bar.label, labelWidth - 10), labelWidth - 8, top + barRowHeight / 2);

    const zero = x(0);
    context.fillStyle = toCss(theme.muted);
    context.fillRect(Math.min(zero, x(bar.before)), top + 4, Math.abs(x(bar.before) - zero), 8);
    context.fillStyle = toCss(theme.blue);
    context.fillRect(Math.min(zero, x(bar.after)), top + 13, Math.abs(x(bar.after) - zero), 9);

    context.fillStyle = toCss(theme.foreground);
    context.textAlign = 'left';
    context.fillText(`${formatValue(round3(bar.before))} → ${formatValue(round3(bar.after))}`, plotLeft + plotWidth + 8, top + barRowHeight / 2);
  });

  const axisTop = bars.length * barRowHeight;
  context.strokeStyle = toCss(theme.grid);
  context.beginPath();
  context.moveTo(plotLeft, axisTop + 0.5);
  context.lineTo(plotLeft + plotWidth, axisTop + 0.5);
  context.stroke();
  context.fillStyle = toCss(theme.muted);
  context.textBaseline = 'top';
  context.textAlign = 'center';
  for (const tick of low < 0 ? [-1, -0.5, 0, 0.5, 1] : [0, 0.25, 0.5, 0.75, 1]) context.fillText(String(tick), x(tick), axisTop + 4);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function truncate(context: CanvasRenderingContext2D, text: string, maxWidth: number): string {
  if (context.measureText(text).width <= maxWidth) return text;
  let keep = text.length;
  while (keep > 1 && context.measureText(`…${text.slice(text.length - keep)}`).width > maxWidth) keep--;
  return `…${text.slice(text.length - keep)}`;
}
