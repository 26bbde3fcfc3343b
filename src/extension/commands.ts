// The extension's commands and their handlers. Every handler catches its own errors, so a failure shows one
// notification with "Show Log" and never an unhandled rejection.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { alignPair, alignWith } from './alignFlow';
import type { PanelServices } from './alignmentPanel';
import { activeCheckpoint, referenceCheckpoint, selectedPaths } from './commandTargets';
import { showComparePanel } from './compare/comparePanel';
import { reportFailure } from './errors';
import { mergeFlow } from './mergeFlow';
import { pickSecondCheckpoint } from './pickCheckpoint';

export const commandIds = {
  showLog: 'checkpointAligner.showLog',
  alignWith: 'checkpointAligner.alignWith',
  alignSelected: 'checkpointAligner.alignSelected',
  merge: 'checkpointAligner.merge',
  compareSelected: 'checkpointAligner.compareSelected',
  compareWith: 'checkpointAligner.compareWith',
} as const;

async function compare(services: PanelServices, a: string, b: string): Promise<void> {
  try {
    const diff = await services.runner.runWithProgress(`Comparing ${basename(a)} and ${basename(b)}`, { type: 'diff', a, b });
    showComparePanel(services.extensionUri, services.log, a, b, diff);
  } catch (error) {
    await reportFailure(services.log, `Comparing ${basename(a)} and ${basename(b)}`, error);
  }
}

/** Returns the two selected files, or warns and returns undefined when the selection is not two files. */
function selectedPair(command: string, uri?: vscode.Uri, uris?: readonly vscode.Uri[]): [string, string] | undefined {
  const paths = selectedPaths(uri, uris);
  if (paths.length === 2) return [paths[0], paths[1]];
  void vscode.window.showWarningMessage(`${command} needs exactly two checkpoint files selected in the Explorer; ${paths.length} selected.`);
  return undefined;
}

function guarded(services: PanelServices, what: string, handler: (...args: never[]) => Promise<void>): (...args: never[]) => Promise<void> {
  return async (...args) => {
    try {
      await handler(...args);
    } catch (error) {
      await reportFailure(services.log, `${what}`, error);
    }
  };
}

export function registerCommands(services: PanelServices): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(commandIds.showLog, () => services.log.show()),

    vscode.commands.registerCommand(commandIds.alignWith, guarded(services, 'Align with…', async (uri?: vscode.Uri) => {
      const a = await referenceCheckpoint(uri, 'Align with…');
      if (a !== undefined) await alignWith(services, a);
    })),

    vscode.commands.registerCommand(commandIds.alignSelected, guarded(services, 'Align Selected Checkpoints', async (uri?: vscode.Uri, uris?: vscode.Uri[]) => {
      const pair = selectedPair('Align Selected Checkpoints', uri, uris);
      if (pair) await alignPair(services, pair[0], pair[1]);
    })),

    vscode.commands.registerCommand(commandIds.merge, guarded(services, 'Merge Checkpoints', async (uri?: vscode.Uri, uris?: vscode.Uri[]) => {
      const selected = selectedPaths(uri, uris);
      const active = activeCheckpoint();
      let inputs = selected;
      if (inputs.length === 0 && active !== undefined) inputs = [active];
      await mergeFlow(services, { inputs });
    })),

    vscode.commands.registerCommand(commandIds.compareSelected, guarded(services, 'Compare Selected Checkpoints', async (uri?: vscode.Uri, uris?: vscode.Uri[]) => {
      const pair = selectedPair('Compare Selected Checkpoints', uri, uris);
      if (pair) await compare(services, pair[0], pair[1]);
    })),

    vscode.commands.registerCommand(commandIds.compareWith, guarded(services, 'Compare with…', async (uri?: vscode.Uri) => {
      const a = await referenceCheckpoint(uri, 'Compare with…');
      if (a === undefined) return;
      const b = await pickSecondCheckpoint(services.runner, a, `Compare with ${basename(a)}`);
      if (b !== undefined) await compare(services, a, b);
    })),
  ];
}
