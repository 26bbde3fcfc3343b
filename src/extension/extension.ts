// Entry point that VS Code loads from `dist/extension.js`.
import * as vscode from 'vscode';
import { VERSION } from '../version';
import { alignmentPanelSerializer } from './alignFlow';
import { alignmentPanelViewType, type PanelServices } from './alignmentPanel';
import { AlignOptionsStore } from './alignOptions';
import { commandIds, registerCommands } from './commands';
import { DisposableStore } from './disposables';
import { InspectorProvider, inspectorViewType, optionalInspectorViewType } from './inspectorProvider';
import { JobRunner } from './jobRunner';
import { Logger } from './log';
import { mergeFlow } from './mergeFlow';

export const showLogCommand = commandIds.showLog;

/** The API `activate` returns; the extension host tests use it to reach the workspace's remembered options. */
export interface CheckpointAlignerApi {
  readonly alignOptions: AlignOptionsStore;
  readonly workspaceState: vscode.Memento;
}

/** Creates the log channel, the worker runner, the inspector and the commands; `context.subscriptions` releases them. */
export function activate(context: vscode.ExtensionContext): CheckpointAlignerApi {
  const disposables = new DisposableStore();
  context.subscriptions.push(disposables);

  const log = disposables.add(Logger.create());
  const runner = disposables.add(new JobRunner(context.asAbsolutePath('dist/worker.js'), log));
  const services: PanelServices = {
    extensionUri: context.extensionUri,
    runner,
    log,
    options: new AlignOptionsStore(context.workspaceState),
    mergeAt: (a, b, lambda, spec) => mergeFlow({ runner, log }, { inputs: [a, b], lambda, align: true, spec }),
  };

  for (const registration of registerCommands(services)) disposables.add(registration);
  const inspector = new InspectorProvider(context.extensionUri, runner, log, { alignWith: commandIds.alignWith, mergeWith: commandIds.merge, compareWith: commandIds.compareWith });
  for (const viewType of [inspectorViewType, optionalInspectorViewType]) {
    disposables.add(vscode.window.registerCustomEditorProvider(viewType, inspector, { supportsMultipleEditorsPerDocument: true }));
  }
  disposables.add(vscode.window.registerWebviewPanelSerializer(alignmentPanelViewType, alignmentPanelSerializer(services)));

  const mode = vscode.ExtensionMode[context.extensionMode];
  log.info(`Checkpoint Aligner ${VERSION} activated (VS Code ${vscode.version}, ${vscode.env.appHost}, ${mode} mode)`);
  return { alignOptions: services.options, workspaceState: context.workspaceState };
}

export function deactivate(): void {
  // Nothing to do: `context.subscriptions` disposes the store, and with it the worker, the channel and the commands.
}
