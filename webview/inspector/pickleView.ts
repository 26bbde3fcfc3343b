// Pickle safety report: the verdict and every global the pickle stream references.
import type { PickleReport } from '../../src/formats/checkpoint';
import { createBadge, type BadgeTone } from '../components/badge';
import { createDataGrid } from '../components/dataGrid';
import { element } from '../components/dom';

const verdictTones: Record<string, BadgeTone> = {
  safe: 'success', allowed: 'success', unknown: 'warning', dangerous: 'danger', 'torchscript-class': 'neutral',
};

const verdictText: Record<PickleReport['verdict'], string> = {
  safe: 'Every global the pickle references is on the allow list of tensor-rebuilding functions.',
  unknown: 'The pickle references globals that are not on the allow list; they would be imported by torch.load.',
  dangerous: 'The pickle references globals that can run code (for example os.system or builtins.eval) when the file is loaded with torch.load or pickle.load.',
};

const torchscriptText = 'This is a TorchScript archive: its pickle builds objects of __torch__ classes, which torch.jit.load would compile from the code/ records in the archive and then run.';

/** Builds the pickle safety section, or a note that the format has no pickle. */
export function createPickleView(report: PickleReport | undefined): HTMLElement {
  if (!report) return element('p', { class: 'muted' }, 'This format contains no pickle, so there is nothing to check.');

  const rows = [...report.globals]
    .sort((a, b) => severity(b.verdict) - severity(a.verdict))
    .map((global) => ({
      cells: [
        element('code', {}, global.module),
        element('code', {}, global.name),
        createBadge(global.verdict, verdictTones[global.verdict] ?? 'neutral'),
      ],
      className: global.verdict === 'dangerous' ? 'global-dangerous' : undefined,
    }));

  return element('div', { class: `pickle-view verdict-${report.verdict}` },
    element('p', { class: 'pickle-verdict' },
      'Verdict: ', createBadge(report.verdict, verdictTones[report.verdict]),
      ...(report.torchscript ? [' ', createBadge('TorchScript archive', 'neutral')] : [])),
    ...explanations(report).map((text) => element('p', {}, text)),
    element('p', { class: 'not-executed' }, 'Nothing in this file was executed: the pickle stream was only read as data to list the globals it references.'),
    rows.length > 0
      ? createDataGrid([{ title: 'Module', width: '2fr' }, { title: 'Name', width: '2fr' }, { title: 'Verdict', width: '150px' }], rows, 'Globals referenced by the pickle')
      : element('p', { class: 'muted' }, 'The pickle references no globals.'),
  );
}

/** Paragraphs that explain the verdict; a TorchScript archive whose only unlisted globals are its classes gets its own. */
function explanations(report: PickleReport): string[] {
  if (!report.torchscript) return [verdictText[report.verdict]];
  const onlyClasses = report.verdict === 'unknown' && !report.globals.some((global) => global.verdict === 'unknown');
  return onlyClasses ? [torchscriptText] : [verdictText[report.verdict], torchscriptText];
}

function severity(verdict: string): number {
  if (verdict === 'dangerous') return 3;
  if (verdict === 'unknown') return 2;
  if (verdict === 'torchscript-class') return 1;
  return 0;
}
