// Per-layer cosine similarity between A and B, before and after alignment, as a sortable bar chart.
import type { AlignmentReportData, AlignmentState } from '../../src/protocol/webviewMessages';
import { createButton, setButtonAppearance } from '../components/button';
import { element } from '../components/dom';
import { drawPairedBars } from '../charts/barChart';
import { availableWidth } from '../charts/canvas';
import type { ChartTheme } from '../charts/theme';
import { compareNatural } from '../logic/naturalSort';

export type LayerSort = AlignmentState['layerSort'];

const sortLabels: [LayerSort, string][] = [
  ['tensor', 'Name'],
  ['cosineBefore', 'Before'],
  ['cosineAfter', 'After'],
  ['gain', 'Gain'],
];

type Layer = AlignmentReportData['layers'][number];

/** Orders layers by name (natural order) or by a value, largest first. */
export function sortLayers(layers: readonly Layer[], sort: LayerSort): Layer[] {
  const value = (layer: Layer): number => {
    if (sort === 'cosineBefore') return layer.cosineBefore;
    if (sort === 'cosineAfter') return layer.cosineAfter;
    return layer.cosineAfter - layer.cosineBefore;
  };
  return [...layers].sort((a, b) => (sort === 'tensor' ? compareNatural(a.tensor, b.tensor) : value(b) - value(a) || compareNatural(a.tensor, b.tensor)));
}

/** Builds the chart with its sort buttons; `onSort` persists the chosen order. */
export function createLayersView(layers: readonly Layer[], initialSort: LayerSort, onSort: (sort: LayerSort) => void): { element: HTMLElement; draw(theme: ChartTheme): void } {
  let sort = initialSort;
  let theme: ChartTheme | undefined;
  const canvas = element('canvas', { class: 'layer-chart', role: 'img', 'aria-label': 'Cosine similarity per layer, before (grey) and after (blue) alignment' });
  const buttons = element('div', { class: 'button-row', role: 'group', 'aria-label': 'Sort layers by' }, element('span', { class: 'muted' }, 'Sort by'));
  const root = element('div', { class: 'layers' }, buttons, element('div', { class: 'chart-scroll' }, canvas));

  const draw = (current: ChartTheme) => {
    theme = current;
    for (const button of sortButtons) {
      const active = button.dataset.sort === sort;
      setButtonAppearance(button, active ? 'primary' : 'secondary');
      button.setAttribute('aria-pressed', String(active));
    }
    if (layers.length === 0) return;
    const bars = sortLayers(layers, sort).map((layer) => ({ label: layer.tensor, before: layer.cosineBefore, after: layer.cosineAfter }));
    drawPairedBars(canvas, bars, current, availableWidth(root, 480, 1100));
  };

  const sortButtons = sortLabels.map(([id, label]) => {
    const button = createButton(label, () => {
      sort = id;
      onSort(id);
      if (theme) draw(theme);
    });
    button.dataset.sort = id;
    buttons.appendChild(button);
    return button;
  });
  if (layers.length === 0) root.replaceChildren(element('p', { class: 'muted' }, 'The report lists no layers.'));
  return { element: root, draw };
}
