// The files a command acts on: the Explorer selection, the file the command was invoked on, the active
// inspector, or the user's choice.
import * as vscode from 'vscode';
import { isCheckpointPath } from './checkpointFiles';
import { inspectorViewType } from './inspectorProvider';
import { findWorkspaceCheckpoints } from './pickCheckpoint';

/** File paths from an Explorer invocation `(uri, uris)`; `uris` contains the whole selection when several are selected. */
export function selectedPaths(uri?: vscode.Uri, uris?: readonly vscode.Uri[]): string[] {
  let all: readonly vscode.Uri[] = [];
  if (uris && uris.length > 0) all = uris;
  else if (uri) all = [uri];
  return [...new Set(all.filter((item) => item instanceof vscode.Uri && item.scheme === 'file').map((item) => item.fsPath))];
}

/** Returns the file of the active inspector tab, or of the active text editor when it is a checkpoint. */
export function activeCheckpoint(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && input.viewType === inspectorViewType) return input.uri.fsPath;
  const document = vscode.window.activeTextEditor?.document;
  if (document?.uri.scheme === 'file' && isCheckpointPath(document.uri.fsPath)) return document.uri.fsPath;
  return undefined;
}

/** Returns the checkpoint a command starts from: `uri`, else the active inspector, else one the user picks. */
export async function referenceCheckpoint(uri: vscode.Uri | undefined, title: string): Promise<string | undefined> {
  if (uri instanceof vscode.Uri && uri.scheme === 'file') return uri.fsPath;
  const active = activeCheckpoint();
  if (active !== undefined) return active;
  const paths = await findWorkspaceCheckpoints();
  const picked = await vscode.window.showQuickPick(paths.map((path) => ({ label: vscode.workspace.asRelativePath(path), path })), { title, placeHolder: 'Checkpoint A' });
  return picked?.path;
}
