// One permutation's similarity heatmaps, before and after alignment, with a hover read-out.
import type { PermutationHeatmap } from '../../src/protocol/webviewMessages';
import { element } from '../components/dom';
import { drawHeatmap, type DrawnHeatmap } from '../charts/heatmap';
import type { ChartTheme } from '../charts/theme';
import { valueRange } from '../logic/blockMax';
import { buildColorRamp, toCss } from '../logic/colorScale';
import { formatCount, formatShort, formatValue } from '../logic/format';
import { unitsOfCell } from '../logic/unitRange';

const heatmapSize = 240;

/** Builds the before/after pair for `heatmap`; `perm` maps aligned unit j to B's unit `perm[j]`. */
export function createHeatmapPair(heatmap: PermutationHeatmap, perm: readonly number[] | undefined, theme: ChartTheme): HTMLElement {
  const expected = heatmap.size * heatmap.size;
  if (heatmap.before.length !== expected || heatmap.after.length !== expected) {
    return element('p', { class: 'error-text' },
      `Heatmap of ${heatmap.permutation} is invalid: side ${heatmap.size} needs ${expected} values, got ${heatmap.before.length} before and ${heatmap.after.length} after.`);
  }

  const range = valueRange(heatmap.before, heatmap.after);
  const ramp = buildColorRamp(theme.background, theme.blue);
  const readout = element('p', { class: 'heatmap-readout muted', 'aria-live': 'off' }, 'Hover over a cell to see the units and their similarity.');

  const panel = (label: string, data: Float32Array, after: boolean) => {
    const canvas = element('canvas', {
      class: `heatmap heatmap-${after ? 'after' : 'before'}`,
      role: 'img',
      'data-permutation': heatmap.permutation,
      'aria-label': `${heatmap.permutation} similarity ${label.toLowerCase()}: rows are units of A, columns units of B`,
    });
    const drawn = drawHeatmap(canvas, { size: heatmap.size, data }, range, ramp, heatmapSize);
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
      panel('Before (B in original order)', heatmap.before, false),
      panel('After (B permuted)', heatmap.after, true),
      createLegend(range, theme),
    ),
    readout,
    downsampled ? element('p', { class: 'muted small' }, 'Each pixel shows the maximum of the block of units it covers.') : null,
  );
}

function createLegend(range: readonly [number, number], theme: ChartTheme): HTMLElement {
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
  return element('div', { class: 'legend' },
    element('span', { class: 'small' }, formatShort(range[1])),
    bar,
    element('span', { class: 'small' }, formatShort(range[0])),
  );
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
