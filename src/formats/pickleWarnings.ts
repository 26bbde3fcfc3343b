// Warnings for inputs whose pickle references globals outside the allow-list. The readers never execute a pickle,
// so reading tensors from such a file is safe, but `torch.load` without `weights_only=True` would run the payload,
// and `torch.jit.load` would compile the code of a TorchScript archive.
import type { Checkpoint, PickleGlobal, PickleReport } from './checkpoint';

/** Globals named per warning before the rest are counted. */
const SHOWN_GLOBALS = 5;


/**
 * Returns one warning per checkpoint whose pickle verdict is `dangerous` or `unknown`, naming the file and the
 * globals behind the verdict, in the order of `checkpoints`. Safe and pickle-free files give no warning.
 * Global names come from the file as they are: escape control characters before printing them to a terminal.
 */
export function pickleWarnings(checkpoints: readonly Pick<Checkpoint, 'path' | 'pickle'>[]): string[] {
  const warnings: string[] = [];
  for (const checkpoint of checkpoints) {
    const report = checkpoint.pickle;
    if (report === undefined || report.verdict === 'safe') continue;

    const { flaggedVerdict, kind } = flaggedGlobals(report);
    const flagged = report.globals.filter((global) => global.verdict === flaggedVerdict).map((global) => `${global.module}.${global.name}`);
    const shown = flagged.slice(0, SHOWN_GLOBALS).join(', ');
    const more = flagged.length > SHOWN_GLOBALS ? ` and ${flagged.length - SHOWN_GLOBALS} more` : '';
    warnings.push(`${checkpoint.path}: its pickle references ${kind} (${shown}${more}); nothing was executed, and only tensors were read`);
  }
  return warnings;
}

/**
 * Returns the per-global verdict behind a report's verdict and how the warning names such globals. An `unknown`
 * TorchScript archive whose only unlisted globals are its `__torch__` classes is named as such.
 */
function flaggedGlobals(report: PickleReport): { flaggedVerdict: PickleGlobal['verdict']; kind: string } {
  if (report.verdict === 'dangerous') return { flaggedVerdict: 'dangerous', kind: 'dangerous globals' };
  if (report.globals.some((global) => global.verdict === 'unknown')) return { flaggedVerdict: 'unknown', kind: 'globals that are not known to be safe' };
  return { flaggedVerdict: 'torchscript-class', kind: 'TorchScript classes' };
}
