// The alignment panel: what weight matching did to B, and what to do with the result.
import type {
  AlignmentReportMessage, AlignmentState, CurvesData, JobProgressMessage, ToWebviewMessage,
} from '../../src/protocol/webviewMessages';
import { createButton, setButtonLabel } from '../components/button';
import { element, replaceChildren } from '../components/dom';
import { createProgressRing } from '../components/progressRing';
import { createSlider } from '../components/slider';
import { readChartTheme, watchThemeChanges, type ChartTheme } from '../charts/theme';
import type { Host } from '../host';
import { collectChartImages } from './chartExport';
import { createCurves, createMissingInputs } from './curvesView';
import { createHeatmapPair } from './heatmapView';
import { createLayersView } from './layersView';
import { createEquivalence, createSummary } from './summary';

const defaultState: AlignmentState = { view: 'alignment', lambda: 0.5, layerSort: 'tensor' };

function section(title: string, className: string, ...children: (Node | null)[]): HTMLElement {
  return element('section', { class: `card ${className}` }, element('h2', {}, title), ...children);
}

export class AlignmentView {
  private state: AlignmentState;
  private report: AlignmentReportMessage | undefined;
  private curves: CurvesData | undefined;
  private missing: { graph: boolean; data: boolean } | undefined;
  private readonly progressSlot = element('div', { class: 'progress-slot', 'aria-live': 'polite' });
  private readonly content = element('div', { class: 'alignment-content' });
  private readonly redrawers: ((theme: ChartTheme) => void)[] = [];

  constructor(private readonly root: HTMLElement, private readonly host: Host) {
    const saved = host.getState();
    this.state = saved?.view === 'alignment' ? { ...defaultState, ...saved } : defaultState;
    replaceChildren(root, element('div', { class: 'alignment' },
      element('h1', {}, 'Weight matching'),
      this.progressSlot,
      this.content,
    ));
    this.content.appendChild(element('p', { class: 'muted' }, 'Waiting for the alignment report…'));
    watchThemeChanges(() => this.render());
  }

  handle(message: ToWebviewMessage): void {
    switch (message.type) {
      case 'alignmentReport':
        this.report = message;
        this.saveState({ a: message.report.a, b: message.report.b });
        this.render();
        break;
      case 'curves':
        this.curves = message.curves;
        this.missing = undefined;
        this.render();
        break;
      case 'needsEvaluationInputs':
        this.missing = { graph: message.graph, data: message.data };
        this.render();
        break;
      case 'jobProgress':
        this.showProgress(message);
        break;
      case 'error':
        this.progressSlot.replaceChildren(element('div', { class: 'banner banner-error', role: 'alert' }, message.message));
        break;
      default:
        break;
    }
  }

  private render(): void {
    if (!this.report) return;
    const { report, heatmaps } = this.report;
    const theme = readChartTheme();
    this.redrawers.length = 0;

    const layers = createLayersView(report.layers, this.state.layerSort, (sort) => this.saveState({ layerSort: sort }));
    const curvesBody = this.createCurvesBody();
    const heatmapBody = heatmaps.length > 0
      ? element('div', { class: 'heatmaps' }, ...heatmaps.map((heatmap) => createHeatmapPair(heatmap, report.permutations[heatmap.permutation], theme)))
      : element('p', { class: 'muted' }, 'The host sent no similarity matrices for this alignment.');

    replaceChildren(this.content,
      element('div', { class: 'card-row' },
        section('Summary', 'summary-card', createSummary(report, theme, () => this.host.post({ type: 'saveSpec' })), createEquivalence(this.curves?.equivalence)),
        section('Actions', 'actions-card', this.createActions()),
      ),
      section('Interpolation curves', 'curves-card', curvesBody.element),
      section('Cosine similarity per layer', 'layers-card', layers.element),
      section('Permutation heatmaps', 'heatmaps-card',
        element('p', { class: 'muted' }, 'Similarity of A\'s units (rows) with B\'s units (columns). After alignment, matched units lie on the diagonal.'),
        heatmapBody),
    );

    // Charts measure their containers, so they draw after the sections are in the document.
    this.redrawers.push(layers.draw, curvesBody.draw);
    for (const draw of this.redrawers) draw(theme);
  }

  private createCurvesBody(): { element: HTMLElement; draw(theme: ChartTheme): void } {
    if (this.curves) return createCurves(this.curves);
    const body = this.missing
      ? createMissingInputs(this.missing.graph, this.missing.data, () => this.host.post({ type: 'chooseGraph' }), () => this.host.post({ type: 'chooseData' }))
      : element('p', { class: 'muted' }, 'No interpolation curves yet.');
    return { element: body, draw: () => undefined };
  }

  private createActions(): HTMLElement {
    const mergeButton = createButton(mergeLabel(this.state.lambda), () => this.host.post({ type: 'mergeAt', lambda: this.state.lambda }), {
      appearance: 'primary', id: 'merge-at', title: 'Write (1 − λ)·A + λ·π(B) to a new file',
    });
    const slider = createSlider({ min: 0, max: 1, step: 0.05, value: this.state.lambda, ariaLabel: 'Interpolation weight λ', id: 'lambda-slider' }, (value) => {
      this.saveState({ lambda: value });
      setButtonLabel(mergeButton, mergeLabel(value));
    });

    return element('div', { class: 'actions' },
      element('label', { class: 'slider-label', for: 'lambda-slider' }, 'λ: 0 keeps A, 1 takes π(B)'),
      element('div', { class: 'slider-row' }, element('span', { class: 'small' }, 'A'), slider.element, element('span', { class: 'small' }, 'B')),
      mergeButton,
      createButton('Write aligned B…', () => this.host.post({ type: 'writeAligned' }), { id: 'write-aligned', title: 'Write π(B) in the format of B' }),
      createButton('Export report', () => void this.exportReport(), { id: 'export-report', title: 'Save the report and curves as JSON, and each chart as PNG' }),
    );
  }

  /** Encodes the charts as drawn now and sends them to the host, which saves them beside the JSON report. */
  private async exportReport(): Promise<void> {
    try {
      const charts = await collectChartImages(this.content);
      this.host.post({ type: 'exportReport', charts });
    } catch (error) {
      this.progressSlot.replaceChildren(element('div', { class: 'banner banner-error', role: 'alert' }, error instanceof Error ? error.message : String(error)));
    }
  }

  private showProgress(message: JobProgressMessage): void {
    const progress = message.progress;
    if (!progress) {
      this.progressSlot.replaceChildren();
      return;
    }
    const fraction = progress.total ? ` ${progress.done ?? 0} of ${progress.total}` : '';
    this.progressSlot.replaceChildren(element('div', { class: 'progress' },
      createProgressRing(`${message.job} in progress`),
      element('span', {}, `${jobTitles[message.job] ?? message.job}: ${progress.stage}${fraction}${progress.message ? `, ${progress.message}` : ''}`),
    ));
  }

  private saveState(change: Partial<AlignmentState>): void {
    this.state = { ...this.state, ...change };
    this.host.setState(this.state);
  }
}

const jobTitles: Record<JobProgressMessage['job'], string> = {
  align: 'Weight matching', evaluate: 'Evaluating curves', merge: 'Merging', write: 'Writing aligned B',
};

function mergeLabel(lambda: number): string {
  return `Merge at λ = ${lambda.toFixed(2)}…`;
}
