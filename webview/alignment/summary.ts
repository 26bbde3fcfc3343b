// Summary of a weight-matching run: spec, objective, distance, provider, timings and the equivalence check.
import type { AlignmentReportData, EquivalenceCheck } from '../../src/protocol/webviewMessages';
import { createButton } from '../components/button';
import { element } from '../components/dom';
import { drawLineChart } from '../charts/lineChart';
import type { ChartTheme } from '../charts/theme';
import { formatValue } from '../logic/format';

function row(label: string, ...value: (Node | string | null)[]): HTMLElement {
  return element('div', { class: 'fact' }, element('dt', {}, label), element('dd', {}, ...value));
}

function wideRow(label: string, ...value: (Node | string | null)[]): HTMLElement {
  const fact = row(label, ...value);
  fact.classList.add('fact-wide');
  return fact;
}

function change(before: number, after: number): string {
  if (before === 0) return '';
  const percent = ((after - before) / Math.abs(before)) * 100;
  return ` (${percent >= 0 ? '+' : '−'}${Math.abs(percent).toFixed(1)} %)`;
}

/** Builds the summary; `onSaveSpec` runs when the user asks to save the permutation spec. */
export function createSummary(report: AlignmentReportData, theme: ChartTheme, onSaveSpec: () => void): HTMLElement {
  const permutations = Object.entries(report.spec.permutations);
  const listed = permutations.slice(0, 8).map(([name, n]) => `${name} (${n})`).join(', ');
  const more = permutations.length > 8 ? `, and ${permutations.length - 8} more` : '';

  const sparkline = element('canvas', { class: 'sparkline', role: 'img', 'aria-label': `Objective per sweep: ${report.objective.perSweep.map(formatValue).join(', ')}` });
  const timings = Object.entries(report.seconds).map(([stage, seconds]) => `${stage} ${seconds.toFixed(2)} s`).join(', ');

  const summary = element('dl', { class: 'facts summary' },
    row('Checkpoints', element('span', {}, 'A ', element('code', {}, report.a)), element('br'), element('span', {}, 'B ', element('code', {}, report.b))),
    row('Permutation spec', element('span', {}, report.spec.source), ' ', createButton('Save spec…', onSaveSpec, { id: 'save-spec', title: 'Save the permutation spec as a .permspec.json file' })),
    row('Permutations', `${permutations.length}: ${listed}${more}`),
    row('Execution provider', report.executionProvider),
    row('Distance ‖A − π(B)‖', `${formatValue(report.distance.before)} → ${formatValue(report.distance.after)}${change(report.distance.before, report.distance.after)}`),
    row('Timings', timings || 'not reported'),
    wideRow('Objective Σ⟨A, π(B)⟩', element('div', { class: 'objective' },
      element('span', {}, `${formatValue(report.objective.before)} → ${formatValue(report.objective.after)} in ${report.sweeps} sweep${report.sweeps === 1 ? '' : 's'}`),
      report.objective.perSweep.length > 1 ? sparkline : null)),
  );

  if (report.objective.perSweep.length > 1) {
    const sweeps = report.objective.perSweep.map((_, i) => i + 1);
    drawLineChart(sparkline, {
      xs: sweeps, xLabel: 'sweep', yLabel: 'objective',
      series: [{ label: 'objective', values: report.objective.perSweep, color: theme.blue }],
    }, theme, 300, 96);
  }
  return summary;
}

/** Builds the equivalence check line: passed, failed (warning box) or not run yet. */
export function createEquivalence(check: EquivalenceCheck | undefined): HTMLElement {
  if (!check) {
    return element('p', { class: 'muted equivalence equivalence-missing' },
      'Equivalence check not run yet: it compares B with π(B) on the evaluation data once a graph and data are chosen.');
  }
  const passed = check.maxAbsLogitDiff <= check.tolerance;
  if (passed) {
    return element('p', { class: 'equivalence equivalence-passed' },
      `Equivalence check passed: π(B) computes the same function as B (max |Δ logit| ${formatValue(check.maxAbsLogitDiff)} ≤ ${formatValue(check.tolerance)}).`);
  }
  return element('div', { class: 'banner banner-warning equivalence equivalence-failed', role: 'alert' },
    element('strong', {}, 'Equivalence check failed. '),
    `Permuting B changed its outputs by up to ${formatValue(check.maxAbsLogitDiff)} (tolerance ${formatValue(check.tolerance)}). `,
    'The permutation spec probably does not match the architecture, so the aligned curves and any merge are not trustworthy. Check the spec or pass the model graph.');
}
