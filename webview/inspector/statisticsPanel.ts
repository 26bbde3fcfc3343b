// Statistics and histogram of the selected tensor, as the host computes them on request.
import type { TensorEntry } from '../../src/formats/checkpoint';
import type { TensorStatisticsData } from '../../src/protocol/webviewMessages';
import { element, replaceChildren } from '../components/dom';
import { createProgressRing } from '../components/progressRing';
import { drawHistogram } from '../charts/histogram';
import { readChartTheme } from '../charts/theme';
import { formatBytes, formatCount, formatShape, formatValue } from '../logic/format';

export class StatisticsPanel {
  readonly element = element('div', { class: 'statistics-panel', 'aria-live': 'polite' });
  private tensor: TensorEntry | undefined;
  private stats: TensorStatisticsData | undefined;

  constructor() {
    this.showEmpty();
  }

  /** Shows `tensor` as waiting for statistics, or the cached `stats` when already known. */
  show(tensor: TensorEntry, stats: TensorStatisticsData | undefined): void {
    this.tensor = tensor;
    this.stats = stats;
    if (stats) this.render();
    else replaceChildren(this.element, this.describe(tensor), element('div', { class: 'pending' }, createProgressRing('Computing statistics'), 'Computing statistics…'));
  }

  /** Shows statistics that arrived from the host, if they belong to the tensor on display. */
  receive(name: string, stats: TensorStatisticsData): void {
    if (this.tensor?.name !== name) return;
    this.stats = stats;
    this.render();
  }

  fail(name: string, message: string): void {
    if (this.tensor?.name !== name) return;
    replaceChildren(this.element, this.describe(this.tensor), element('p', { class: 'error-text', role: 'alert' }, message));
  }

  /** Redraws the histogram, e.g. after a theme change. */
  redraw(): void {
    if (this.stats) this.render();
  }

  showEmpty(): void {
    this.tensor = undefined;
    this.stats = undefined;
    replaceChildren(this.element, element('p', { class: 'muted' }, 'Select a tensor to see its statistics and histogram.'));
  }

  private describe(tensor: TensorEntry): HTMLElement {
    return element('div', { class: 'tensor-title' },
      element('code', { class: 'tensor-name' }, tensor.name),
      element('span', { class: 'muted' }, ` ${tensor.dtype} ${formatShape(tensor.shape)}, ${formatBytes(tensor.length)} at byte ${formatCount(tensor.offset)}`),
    );
  }

  private render(): void {
    const tensor = this.tensor;
    const stats = this.stats;
    if (!tensor || !stats) return;

    const entries: [string, string, boolean][] = [
      ['min', formatValue(stats.min), false],
      ['max', formatValue(stats.max), false],
      ['mean', formatValue(stats.mean), false],
      ['std', formatValue(stats.std), false],
      ['NaN', formatCount(stats.nan), stats.nan > 0],
      ['Inf', formatCount(stats.inf), stats.inf > 0],
      ['zeros', formatCount(stats.zeros), false],
      ['count', formatCount(stats.count), false],
    ];
    const list = element('dl', { class: 'stat-list' });
    for (const [label, value, alarming] of entries) {
      list.append(element('dt', {}, label), element('dd', { class: alarming ? 'warning-text' : undefined }, value));
    }

    const canvas = element('canvas', {
      class: 'histogram',
      role: 'img',
      'aria-label': `Histogram of ${tensor.name}: ${stats.histogram.counts.length} bins from ${formatValue(stats.min)} to ${formatValue(stats.max)}`,
    });
    replaceChildren(this.element, this.describe(tensor), list, element('div', { class: 'histogram-box' }, canvas));
    const width = Math.max(200, Math.min(560, this.element.clientWidth - 4 || 320));
    drawHistogram(canvas, stats.histogram, readChartTheme(), width, 140);
  }
}
