// The Compare panel: a sortable, filterable table of how two checkpoints differ, drawn by media/compare.js.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { DiffResult } from '../../protocol/workerMessages';
import { DisposableStore } from '../disposables';
import { inspectorViewType } from '../inspectorProvider';
import type { Logger } from '../log';
import { pageHtml, webviewOptions } from '../webviewHtml';
import { compareRows, type CompareRow } from './compareRows';

export const comparePanelViewType = 'checkpointAligner.comparePanel';

/** Messages of the Compare page: `ready` once it listens, `open` to show one side in the inspector. */
type FromComparePage = { readonly type: 'ready' } | { readonly type: 'open'; readonly side: 'a' | 'b'; readonly tensor?: string };

interface CompareData {
  readonly a: string;
  readonly b: string;
  readonly identical: boolean;
  readonly rows: readonly CompareRow[];
}

function compareHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  return pageHtml(webview, {
    script: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'compare.js')),
    style: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'compare.css')),
    title,
    bodyAttributes: '',
    body: '<main id="root" aria-busy="true"><p class="muted">Comparing…</p></main>',
  });
}

/** Opens a Compare panel for the `diff` result of A and B. */
export function showComparePanel(extensionUri: vscode.Uri, log: Logger, a: string, b: string, diff: DiffResult): void {
  const title = `Compare: ${basename(a)} ↔ ${basename(b)}`;
  const options = { ...webviewOptions(extensionUri), localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
  const panel = vscode.window.createWebviewPanel(comparePanelViewType, title, vscode.ViewColumn.Active, options);
  panel.webview.html = compareHtml(panel.webview, extensionUri, title);

  const data: CompareData = { a: vscode.workspace.asRelativePath(a), b: vscode.workspace.asRelativePath(b), identical: diff.identical, rows: compareRows(diff) };
  const disposables = new DisposableStore();
  disposables.add(panel.onDidDispose(() => disposables.dispose()));
  disposables.add(panel.webview.onDidReceiveMessage((message: FromComparePage) => {
    if (message.type === 'ready') void panel.webview.postMessage({ type: 'compareData', data });
    if (message.type === 'open') {
      const file = message.side === 'a' ? a : b;
      Promise.resolve(vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), inspectorViewType, vscode.ViewColumn.Beside))
        .catch((error: unknown) => log.error(`Opening ${file} in the inspector failed`, error));
    }
  }));
}
