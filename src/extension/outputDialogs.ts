// Save dialogs for outputs, which never accept an input file, and the notification shown once a file is written.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { inspectorViewType } from './inspectorProvider';
import { isInputPath } from './outputPaths';

export interface OutputRequest {
  readonly title: string;
  readonly defaultPath: string;
  /** Files the output must not replace. */
  readonly inputs: readonly string[];
  readonly filters?: Record<string, string[]>;
}

/** Asks for an output path until it names no input; returns undefined when the user cancels. */
export async function askOutputPath(request: OutputRequest): Promise<string | undefined> {
  let defaultUri = vscode.Uri.file(request.defaultPath);
  for (;;) {
    const uri = await vscode.window.showSaveDialog({ title: request.title, defaultUri, saveLabel: 'Write', filters: request.filters });
    if (uri === undefined) return undefined;
    if (!isInputPath(uri.fsPath, request.inputs)) return uri.fsPath;
    await vscode.window.showWarningMessage(`${basename(uri.fsPath)} is one of the inputs, and inputs are never overwritten. Choose another file.`, { modal: true });
    defaultUri = vscode.Uri.file(request.defaultPath);
  }
}

/** Notifies that `output` was written, offering to open it in the inspector or reveal it in the Explorer. */
export async function showWrittenFile(output: string, message: string): Promise<void> {
  const choice = await vscode.window.showInformationMessage(message, 'Open', 'Reveal in Explorer');
  const uri = vscode.Uri.file(output);
  if (choice === 'Open') await vscode.commands.executeCommand('vscode.openWith', uri, inspectorViewType);
  if (choice === 'Reveal in Explorer') await vscode.commands.executeCommand('revealInExplorer', uri);
}
