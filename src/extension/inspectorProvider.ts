// The checkpoint inspector: a read-only custom editor that lists a checkpoint's tensors from its headers and
// computes one tensor's statistics on request, both in the worker thread.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { FromWebviewMessage, InspectorData, TensorStatisticsData, ToWebviewMessage } from '../protocol/webviewMessages';
import type { TensorStatistics } from '../formats/statistics';
import { DisposableStore } from './disposables';
import { errorMessage } from './errors';
import type { JobRunner } from './jobRunner';
import type { Logger } from './log';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const inspectorViewType = 'checkpointAligner.inspector';
/** The same editor for `*.bin`, offered only through "Reopen Editor With…" because many tools use `.bin` for other data. */
export const optionalInspectorViewType = 'checkpointAligner.inspectorOptional';

/** Commands the inspector's buttons run with the open file as checkpoint A. */
export interface InspectorCommands {
  readonly alignWith: string;
  readonly mergeWith: string;
  readonly compareWith: string;
}

/** Converts values JSON cannot carry (BigInt from 64-bit header fields) so any metadata reaches the webview. */
export function toPlainJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item))) as T;
}

export function toStatisticsData(stats: TensorStatistics): TensorStatisticsData {
  return {
    min: stats.min,
    max: stats.max,
    mean: stats.mean,
    std: stats.std,
    nan: stats.nan,
    inf: stats.inf,
    zeros: stats.zeros,
    count: stats.count,
    histogram: { edges: Float64Array.from(stats.histogram.edges), counts: Float64Array.from(stats.histogram.counts) },
  };
}

export class InspectorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly runner: JobRunner,
    private readonly log: Logger,
    private readonly commands: InspectorCommands,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const disposables = new DisposableStore();
    const file = document.uri.fsPath;
    // A job may finish after the user closed the editor; its reply is then dropped.
    let disposed = false;
    const post = (message: ToWebviewMessage) => {
      if (!disposed) panel.webview.postMessage(message).then(undefined, () => undefined);
    };

    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, 'inspector', basename(file));
    disposables.add(panel.onDidDispose(() => {
      disposed = true;
      disposables.dispose();
    }));
    disposables.add(panel.webview.onDidReceiveMessage((message: FromWebviewMessage) => {
      this.handle(message, file, document.uri, post).catch((error: unknown) => this.log.error(`Inspector of ${file}: handling "${message.type}" failed`, error));
    }));
  }

  private async handle(message: FromWebviewMessage, file: string, uri: vscode.Uri, post: (message: ToWebviewMessage) => void): Promise<void> {
    switch (message.type) {
      case 'ready':
        await this.load(file, post);
        break;
      case 'requestStatistics':
        try {
          const stats = await this.runner.run({ type: 'statistics', file, tensor: message.name });
          post({ type: 'tensorStatistics', name: message.name, stats: toStatisticsData(stats) });
        } catch (error) {
          this.log.error(`Statistics of tensor "${message.name}" in ${file} failed`, error);
          post({ type: 'error', message: errorMessage(error), tensor: message.name });
        }
        break;
      case 'copyTensorName':
        await vscode.env.clipboard.writeText(message.name);
        vscode.window.setStatusBarMessage(`Copied "${message.name}"`, 3000);
        break;
      case 'alignWith':
        await vscode.commands.executeCommand(this.commands.alignWith, uri);
        break;
      case 'mergeWith':
        await vscode.commands.executeCommand(this.commands.mergeWith, uri);
        break;
      case 'compareWith':
        await vscode.commands.executeCommand(this.commands.compareWith, uri);
        break;
      default:
        break;
    }
  }

  /** Posts the checkpoint's listing, or its error: a broken file is shown in the editor, never thrown. */
  private async load(file: string, post: (message: ToWebviewMessage) => void): Promise<void> {
    try {
      const [listing, info] = await Promise.all([this.runner.run({ type: 'inspect', file }), stat(file)]);
      const data: InspectorData = toPlainJson({
        fileName: basename(file),
        format: listing.format,
        fileSize: info.size,
        tensors: listing.tensors,
        metadata: listing.metadata,
        ...(listing.pickle === undefined ? {} : { pickle: listing.pickle }),
        executionProvider: listing.executionProvider,
      });
      post({ type: 'inspectorData', data });
    } catch (error) {
      this.log.error(`Opening ${file} in the inspector failed`, error);
      post({ type: 'error', message: errorMessage(error) });
    }
  }
}
