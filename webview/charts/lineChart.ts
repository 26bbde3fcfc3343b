// Line chart over λ ∈ [0, 1] for the interpolation curves.
import { toCss, type Rgba } from '../logic/colorScale';
import { formatShort } from '../logic/format';
import { niceTicks } from '../logic/ticks';
import { prepareCanvas } from './canvas';
import type { ChartTheme } from './theme';

export interface Series {
  readonly label: string;
  readonly values: readonly number[];
  readonly color: Rgba;
  readonly dashed?: boolean;
}

/** A vertical marker from `from` to `to` at x, labelled, e.g. a loss barrier. */
export interface Annotation {
  readonly x: number;
  readonly from: number;
  readonly to: number;
  readonly label: string;
  readonly color: Rgba;
}

export interface LineChartOptions {
  readonly xs: readonly number[];
  readonly series: readonly Series[];
  readonly yLabel: string;
  readonly xLabel: string;
  readonly annotations?: readonly Annotation[];
  /** Fixed y range, e.g. [0, 1] for accuracy; otherwise the data's range with a margin. */
  readonly yRange?: readonly [number, number];
}

const margin = { top: 12, right: 16, bottom: 34, left: 56 };

/** Draws the chart into `canvas` at `width`×`height` CSS pixels. Non-finite values break the line. */
export function drawLineChart(canvas: HTMLCanvasElement, options: LineChartOptions, theme: ChartTheme, width: number, height: number): void {
  const context = prepareCanvas(canvas, width, height);
  context.fillStyle = toCss(theme.background);
  context.fillRect(0, 0, width, height);

  const [xMin, xMax] = extent([options.xs]);
  let [yMin, yMax] = options.yRange ?? extent(options.series.map((series) => series.values));
  if (!options.yRange) {
    const pad = (yMax - yMin) * 0.08 || Math.abs(yMax) * 0.1 || 1;
    yMin -= pad;
    yMax += pad;
  }
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const x = (value: number) => margin.left + ((value - xMin) / (xMax - xMin || 1)) * plotWidth;
  const y = (value: number) => margin.top + (1 - (value - yMin) / (yMax - yMin || 1)) * plotHeight;

  context.font = `11px ${theme.fontFamily}`;
  context.lineWidth = 1;
  context.strokeStyle = toCss(theme.grid);
  context.fillStyle = toCss(theme.muted);
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (const tick of niceTicks(yMin, yMax, 5)) {
    context.beginPath();
    context.moveTo(margin.left, Math.round(y(tick)) + 0.5);
    context.lineTo(margin.left + plotWidth, Math.round(y(tick)) + 0.5);
    context.stroke();
    context.fillText(formatShort(tick), margin.left - 6, y(tick));
  }
  context.textAlign = 'center';
  context.textBaseline = 'top';
  for (const tick of niceTicks(xMin, xMax, 5)) context.fillText(formatShort(tick), x(tick), margin.top + plotHeight + 4);
  context.fillText(options.xLabel, margin.left + plotWidth / 2, margin.top + plotHeight + 18);
  context.save();
  context.translate(12, margin.top + plotHeight / 2);
  context.rotate(-Math.PI / 2);
  context.fillText(options.yLabel, 0, -6);
  context.restore();

  for (const series of options.series) {
    context.strokeStyle = toCss(series.color);
    context.lineWidth = 2;
    context.setLineDash(series.dashed ? [6, 4] : []);
    context.beginPath();
    let penDown = false;
    options.xs.forEach((lambda, i) => {
      const value = series.values[i];
      if (!Number.isFinite(value)) {
        penDown = false;
        return;
      }
      if (penDown) context.lineTo(x(lambda), y(value));
      else context.moveTo(x(lambda), y(value));
      penDown = true;
    });
    context.stroke();
  }
  context.setLineDash([]);

  for (const annotation of options.annotations ?? []) {
    context.strokeStyle = toCss(annotation.color);
    context.fillStyle = toCss(annotation.color);
    context.lineWidth = 1;
    context.setLineDash([2, 3]);
    context.beginPath();
    context.moveTo(x(annotation.x), y(annotation.from));
    context.lineTo(x(annotation.x), y(annotation.to));
    context.stroke();
    context.setLineDash([]);
    context.textAlign = x(annotation.x) > margin.left + plotWidth * 0.7 ? 'right' : 'left';
    context.textBaseline = 'bottom';
    context.fillText(annotation.label, x(annotation.x) + (context.textAlign === 'left' ? 4 : -4), Math.min(y(annotation.from), y(annotation.to)) - 2);
  }
}

function extent(arrays: readonly (readonly number[])[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const values of arrays) {
    for (const value of values) {
      if (!Number.isFinite(value)) continue;
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
  }
  return min <= max ? [min, max] : [0, 1];
}
