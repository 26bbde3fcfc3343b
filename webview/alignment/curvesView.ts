// Interpolation curves of loss and accuracy over λ, naive and aligned, with the loss barriers marked.
import type { CurvesData, CurveSet } from '../../src/protocol/webviewMessages';
import { createButton } from '../components/button';
import { element } from '../components/dom';
import { availableWidth } from '../charts/canvas';
import { drawLineChart, type Annotation, type Series } from '../charts/lineChart';
import type { ChartTheme } from '../charts/theme';
import { barrierIndex, endpointInterpolation } from '../logic/barrier';
import { formatValue } from '../logic/format';

/** Builds the two charts and their legend, drawn once the element is in the document (`draw`). */
export function createCurves(curves: CurvesData): { element: HTMLElement; draw(theme: ChartTheme): void } {
  const lossCanvas = element('canvas', { class: 'curve-chart curve-loss', role: 'img', 'aria-label': `Loss over λ; barrier naive ${formatValue(curves.barrier.naive)}, aligned ${formatValue(curves.barrier.aligned)}` });
  const accuracyCanvas = element('canvas', { class: 'curve-chart curve-accuracy', role: 'img', 'aria-label': 'Accuracy over λ' });
  const legend = element('div', { class: 'legend-row' });

  const root = element('div', { class: 'curves' },
    element('p', {}, `Loss barrier: naive ${formatValue(curves.barrier.naive)}, aligned ${formatValue(curves.barrier.aligned)}. λ = 0 is A, λ = 1 is B (aligned: π(B)).`),
    legend,
    element('div', { class: 'chart-row' },
      element('figure', { class: 'chart-figure' }, lossCanvas, element('figcaption', {}, 'Loss (cross-entropy)')),
      element('figure', { class: 'chart-figure' }, accuracyCanvas, element('figcaption', {}, 'Accuracy')),
    ),
  );

  const draw = (theme: ChartTheme) => {
    const series = (pick: (set: CurveSet) => readonly number[]): Series[] => {
      const list: Series[] = [
        { label: 'naive', values: pick(curves.naive), color: theme.orange },
        { label: 'aligned', values: pick(curves.aligned), color: theme.blue },
      ];
      if (curves.resetBn?.naive) list.push({ label: 'naive, BatchNorm reset', values: pick(curves.resetBn.naive), color: theme.orange, dashed: true });
      if (curves.resetBn?.aligned) list.push({ label: 'aligned, BatchNorm reset', values: pick(curves.resetBn.aligned), color: theme.blue, dashed: true });
      return list;
    };

    legend.replaceChildren(...series((set) => set.loss).map((item) => {
      const swatch = element('span', { class: `swatch${item.dashed ? ' swatch-dashed' : ''}` });
      swatch.style.borderColor = `rgb(${item.color.r}, ${item.color.g}, ${item.color.b})`;
      return element('span', { class: 'legend-item' }, swatch, item.label);
    }));

    const annotations: Annotation[] = [];
    const mark = (set: CurveSet, value: number, label: string, color: Annotation['color']) => {
      const index = barrierIndex(curves.lambdas, set.loss);
      if (index < 0) return;
      const lambda = curves.lambdas[index];
      annotations.push({ x: lambda, from: endpointInterpolation(lambda, set.loss), to: set.loss[index], label: `${label} barrier ${formatValue(value)}`, color });
    };
    mark(curves.naive, curves.barrier.naive, 'naive', theme.orange);
    mark(curves.aligned, curves.barrier.aligned, 'aligned', theme.blue);

    const width = Math.floor((availableWidth(root, 560, 2000) - 24) / 2);
    const chartWidth = Math.max(280, Math.min(560, width));
    drawLineChart(lossCanvas, { xs: curves.lambdas, series: series((set) => set.loss), xLabel: 'λ', yLabel: 'loss', annotations }, theme, chartWidth, 260);
    drawLineChart(accuracyCanvas, { xs: curves.lambdas, series: series((set) => set.accuracy), xLabel: 'λ', yLabel: 'accuracy', yRange: [0, 1] }, theme, chartWidth, 260);
  };

  return { element: root, draw };
}

/** Says which evaluation inputs are missing, with buttons to choose them. */
export function createMissingInputs(graph: boolean, data: boolean, onChooseGraph: () => void, onChooseData: () => void): HTMLElement {
  const missing = [graph ? 'an ONNX model of the architecture' : '', data ? 'a data file (.npz or .safetensors with inputs x and labels y)' : '']
    .filter((text) => text.length > 0)
    .join(' and ');
  return element('div', { class: 'missing-inputs' },
    element('p', {}, `Interpolation curves need ${missing || 'evaluation inputs'}. Choose ${graph && data ? 'them' : 'it'} to evaluate loss and accuracy between A and B.`),
    element('div', { class: 'button-row' },
      graph ? createButton('Choose ONNX model…', onChooseGraph, { appearance: 'primary', id: 'choose-graph' }) : null,
      data ? createButton('Choose data…', onChooseData, { appearance: graph ? 'secondary' : 'primary', id: 'choose-data' }) : null,
    ),
  );
}
