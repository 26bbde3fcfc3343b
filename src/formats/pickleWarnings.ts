// Warnings for inputs whose pickle references globals outside the allow-list. The readers never execute a pickle,
// so reading tensors from such a file is safe, but `torch.load` without `weights_only=True` would run the payload,
// and `torch.jit.load` would compile the code of a TorchScript archive.
import type { Checkpoint, PickleReport } from './checkpoint';

/** Globals named per warning before the rest are counted. */
const SHOWN_GLOBALS = 5;

/** Description of the globals behind each verdict, as the warning names them. */
const KINDS: Record<Exclude<PickleReport['verdict'], 'safe'>, string> = {
  dangerous: 'dangerous globals',
  unknown: 'globals that are not known to be safe',
  torchscript: 'TorchScript classes',
};

/**
 * Returns one warning per checkpoint whose pickle verdict is `dangerous`, `unknown` or `torchscript`, naming the
 * file and the globals behind the verdict, in the order of `checkpoints`. Safe and pickle-free files give no warning.
 * Global names come from the file as they are: escape control characters before printing them to a terminal.
 */
export function pickleWarnings(checkpoints: readonly Pick<Checkpoint, 'path' | 'pickle'>[]): string[] {
  const warnings: string[] = [];
  for (const checkpoint of checkpoints) {
    const report = checkpoint.pickle;
    if (report === undefined || report.verdict === 'safe') continue;

    const flaggedVerdict = report.verdict === 'torchscript' ? 'torchscript-class' : report.verdict;
    const flagged = report.globals.filter((global) => global.verdict === flaggedVerdict).map((global) => `${global.module}.${global.name}`);
    const shown = flagged.slice(0, SHOWN_GLOBALS).join(', ');
    const more = flagged.length > SHOWN_GLOBALS ? ` and ${flagged.length - SHOWN_GLOBALS} more` : '';
    const kind = KINDS[report.verdict];
    warnings.push(`${checkpoint.path}: its pickle references ${kind} (${shown}${more}); nothing was executed, and only tensors were read`);
  }
  return warnings;
}
