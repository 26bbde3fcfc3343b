// Entry point that VS Code loads from `dist/extension.js`.
import * as vscode from 'vscode';
import { VERSION } from '../version';
import { DisposableStore } from './disposables';
import { Logger } from './log';

export const showLogCommand = 'checkpointAligner.showLog';

/** Creates the log channel and registers the commands; everything is released through `context.subscriptions`. */
export function activate(context: vscode.ExtensionContext): void {
  const disposables = new DisposableStore();
  context.subscriptions.push(disposables);

  const log = disposables.add(Logger.create());
  disposables.add(vscode.commands.registerCommand(showLogCommand, () => log.show()));

  const mode = vscode.ExtensionMode[context.extensionMode];
  log.info(`Checkpoint Aligner ${VERSION} activated (VS Code ${vscode.version}, ${vscode.env.appHost}, ${mode} mode)`);
}

export function deactivate(): void {
  // Nothing to do: `context.subscriptions` disposes the store, and with it the channel and the commands.
}
