// "Align with…" and "Align Selected Checkpoints": choose B and the spec, run weight matching with a cancellable
// progress notification, and open the alignment panel.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { AlignmentState } from '../protocol/webviewMessages';
import { AlignmentPanel, type PanelServices } from './alignmentPanel';
import { reportFailure } from './errors';
import { pickSecondCheckpoint } from './pickCheckpoint';
import { readMatchingSettings } from './settings';

interface SpecItem extends vscode.QuickPickItem {
  readonly spec?: string;
  readonly browse?: boolean;
}

const autoLabel = 'Infer the spec (auto)';

/**
 * Asks for the permutation spec, offering the remembered choice first, then `auto`, the workspace's
 * `*.permspec.json` files and "Choose a spec file…". Returns undefined when cancelled.
 */
export async function pickSpec(services: PanelServices): Promise<string | undefined> {
  const remembered = services.options.get().spec;
  const files = (await vscode.workspace.findFiles('**/*.permspec.json', '**/node_modules/**', 100)).map((uri) => uri.fsPath);
  const choices = [...new Set([remembered, 'auto', ...files])];
  const items: SpecItem[] = choices.map((spec) => spec === 'auto'
    ? { label: autoLabel, description: 'from tensor names, shapes and the ONNX graph when A is ONNX', spec }
    : { label: vscode.workspace.asRelativePath(spec), description: 'permutation spec file', spec });
  items[0] = { ...items[0], detail: 'used last time in this workspace' };
  items.push({ label: '$(folder-opened) Choose a spec file…', browse: true });

  const picked = await vscode.window.showQuickPick(items, { title: 'Permutation Spec', placeHolder: 'Which permutations act on which tensor axes' });
  if (picked === undefined) return undefined;
  if (!picked.browse) return picked.spec;
  const uris = await vscode.window.showOpenDialog({ title: 'Permutation spec', canSelectMany: false, filters: { 'Permutation specs': ['json'] } });
  return uris?.[0]?.fsPath;
}

/** Aligns `b` onto `a` and opens the panel; `panel` reuses a restored webview panel instead of creating one. */
export async function alignAndShow(services: PanelServices, a: string, b: string, spec: string, panel?: vscode.WebviewPanel): Promise<void> {
  try {
    const result = await services.runner.runWithProgress(`Aligning ${basename(b)} onto ${basename(a)}`, {
      type: 'alignView',
      a,
      b,
      options: { ...readMatchingSettings(), spec },
    });
    const run = { a, b, spec, result };
    if (panel) new AlignmentPanel(panel, services, run);
    else AlignmentPanel.create(services, run);
  } catch (error) {
    panel?.dispose();
    await reportFailure(services.log, `Aligning ${basename(b)} onto ${basename(a)}`, error);
  }
}

/** Runs the "Align with…" flow for reference `a`: picks B and the spec, remembers the spec, and aligns. */
export async function alignWith(services: PanelServices, a: string): Promise<void> {
  const b = await pickSecondCheckpoint(services.runner, a, `Align with ${basename(a)}`);
  if (b === undefined) return;
  await alignPair(services, a, b);
}

export async function alignPair(services: PanelServices, a: string, b: string): Promise<void> {
  const spec = await pickSpec(services);
  if (spec === undefined) return;
  await services.options.update({ spec });
  await alignAndShow(services, a, b, spec);
}

/** Restores a panel after a reload by aligning the two checkpoints its saved state names again. */
export function alignmentPanelSerializer(services: PanelServices): vscode.WebviewPanelSerializer<AlignmentState> {
  return {
    async deserializeWebviewPanel(panel, state) {
      if (state?.a === undefined || state.b === undefined) {
        panel.dispose();
        return;
      }
      await alignAndShow(services, state.a, state.b, services.options.get().spec, panel);
    },
  };
}
