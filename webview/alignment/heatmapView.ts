// One permutation's similarity heatmaps, before and after alignment, with a hover read-out.
import type { PermutationHeatmap } from '../../src/protocol/webviewMessages';
import { element } from '../components/dom';
import { drawHeatmap, type DrawnHeatmap } from '../charts/heatmap';
import type { ChartTheme } from '../charts/theme';
import { downsampleBlockMax, type SquareMatrix } from '../logic/blockMax';
import { buildColorRamp, toCss } from '../logic/colorScale';
import { formatCount, formatShort, formatValue } from '../logic/format';
import { robustColorRange, type ColorScaleRange } from '../logic/robustRange';
import { unitsOfCell } from '../logic/unitRange';

const heatmapSize = 240;

/** Builds the before/after pair for `heatmap`; `perm` maps aligned unit j to B's unit `perm[j]`. */
export function createHeatmapPair(heatmap: PermutationHeatmap, perm: readonly number[] | undefined, theme: ChartTheme): HTMLElement {
  const expected = heatmap.size * heatmap.size;
  if (heatmap.before.length !== expected || heatmap.after.length !== expected) {
    return element('p', { class: 'error-text' },
      `Heatmap of ${heatmap.permutation} is invalid: side ${heatmap.size} needs ${expected} values, got ${heatmap.before.length} before and ${heatmap.after.length} after.`);
  }

  // Both matrices are reduced to the canvas's device pixels first, so the percentiles describe the colours drawn.
  // Both share one range, so before and after are comparable.
  const pixels = Math.max(1, Math.round(heatmapSize * (window.devicePixelRatio || 1)));
  const before = downsampleBlockMax({ size: heatmap.size, data: heatmap.before }, pixels);
  const after = downsampleBlockMax({ size: heatmap.size, data: heatmap.after }, pixels);
  const range = robustColorRange([before.data, after.data]);
  const ramp = buildColorRamp(theme.background, theme.blue);
  const readout = element('p', { class: 'heatmap-readout muted', 'aria-live': 'off' }, 'Hover over a cell to see the units and their similarity.');

  const panel = (label: string, matrix: SquareMatrix, after: boolean) => {
    const canvas = element('canvas', {
      class: `heatmap heatmap-${after ? 'after' : 'before'}`,
      role: 'img',
      'data-permutation': heatmap.permutation,
      'aria-label': `${heatmap.permutation} similarity ${label.toLowerCase()}: rows are units of A, columns units of B`,
    });
    const drawn = drawHeatmap(canvas, matrix, [range.low, range.high], ramp, heatmapSize);
    canvas.addEventListener('mousemove', (event) => {
      readout.textContent = describeCell(event, drawn, heatmap, after ? perm : undefined);
    });
    canvas.addEventListener('mouseleave', () => {
      readout.textContent = 'Hover over a cell to see the units and their similarity.';
    });
    return element('figure', { class: 'heatmap-figure' }, canvas, element('figcaption', {}, label));
  };

  const downsampled = heatmap.n > heatmapSize * (window.devicePixelRatio || 1) || heatmap.size < heatmap.n;
  return element('section', { class: 'heatmap-pair' },
    element('h3', {}, `${heatmap.permutation} `, element('span', { class: 'muted' }, `n = ${formatCount(heatmap.n)}`)),
    element('div', { class: 'heatmap-row' },
      panel('Before (B in original order)', before, false),
      panel('After (B permuted)', after, true),
      createLegend(range, theme),
    ),
    readout,
    range.clippedLow || range.clippedHigh ? element('p', { class: 'muted small heatmap-clipping' }, describeClipping(range)) : null,
    downsampled ? element('p', { class: 'muted small' }, 'Each pixel shows the maximum of the block of units it covers.') : null,
  );
}

function createLegend(range: ColorScaleRange, theme: ChartTheme): HTMLElement {
  const bar = element('canvas', { class: 'heatmap-legend', 'aria-hidden': 'true' });
  bar.width = 12;
  bar.height = 160;
  const context = bar.getContext('2d');
  if (context) {
    const gradient = context.createLinearGradient(0, 160, 0, 0);
    gradient.addColorStop(0, toCss(theme.background));
    gradient.addColorStop(1, toCss(theme.blue));
    context.fillStyle = gradient;
    context.fillRect(0, 0, 12, 160);
  }
  // The end labels carry ≥ and ≤ when values beyond them exist, because those cells take the end colours.
  return element('div', { class: 'legend' },
    element('span', { class: 'small legend-high' }, `${range.clippedHigh ? '≥ ' : ''}${formatShort(range.high)}`),
    bar,
    element('span', { class: 'small legend-low' }, `${range.clippedLow ? '≤ ' : ''}${formatShort(range.low)}`),
  );
}

function describeClipping(range: ColorScaleRange): string {
  return `Colours clipped at the 1st and 99th percentiles of the shown values: cells ≤ ${formatShort(range.low)} take the lowest colour, cells ≥ ${formatShort(range.high)} the highest.`;
}

function describeCell(event: MouseEvent, drawn: DrawnHeatmap, heatmap: PermutationHeatmap, perm: readonly number[] | undefined): string {
  const side = drawn.shown.size;
  const row = Math.min(side - 1, Math.max(0, Math.floor((event.offsetY / drawn.cssSize) * side)));
  const column = Math.min(side - 1, Math.max(0, Math.floor((event.offsetX / drawn.cssSize) * side)));
  const value = drawn.shown.data[row * side + column];
  const [rowFirst, rowLast] = unitsOfCell(row, side, heatmap.n);
  const [columnFirst, columnLast] = unitsOfCell(column, side, heatmap.n);

  if (rowFirst === rowLast && columnFirst === columnLast) {
    const bUnit = perm ? `B unit ${perm[columnFirst] ?? '?'} (aligned unit ${columnFirst})` : `B unit ${columnFirst}`;
    return `A unit ${rowFirst}, ${bUnit}: similarity ${formatValue(value)}`;
  }
  const columns = perm ? `aligned units ${columnFirst}–${columnLast}` : `B units ${columnFirst}–${columnLast}`;
  return `A units ${rowFirst}–${rowLast}, ${columns}: maximum similarity ${formatValue(value)}`;
}
