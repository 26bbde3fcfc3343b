// The extension's settings (`checkpointAligner.*`), read fresh on each job so a change applies to the next run.
import * as vscode from 'vscode';
import type { AlignJobOptions } from '../protocol/workerMessages';

export const configurationSection = 'checkpointAligner';

export interface EvaluationSettings {
  /** Absolute path of the data file, resolved against the first workspace folder; undefined when unset. */
  readonly dataFile?: string;
  readonly inputName: string;
  readonly labelName: string;
  readonly steps: number;
}

/** Weight matching settings in the form the worker's `align` and `alignView` jobs take. */
export function readMatchingSettings(): Omit<AlignJobOptions, 'spec' | 'graph' | 'writeAligned'> {
  const config = vscode.workspace.getConfiguration(configurationSection);
  return {
    executionProvider: config.get<AlignJobOptions['executionProvider']>('executionProvider', 'auto'),
    maxSweeps: config.get<number>('maxSweeps', 100),
    seed: config.get<number>('seed', 0),
    order: config.get<AlignJobOptions['order']>('order', 'random'),
    precision: config.get<AlignJobOptions['precision']>('precision', 'float32'),
  };
}

export function readEvaluationSettings(): EvaluationSettings {
  const config = vscode.workspace.getConfiguration(configurationSection);
  const dataFile = config.get<string>('evaluation.dataFile', '').trim();
  return {
    dataFile: dataFile === '' ? undefined : resolveWorkspacePath(dataFile),
    inputName: config.get<string>('evaluation.inputName', 'x'),
    labelName: config.get<string>('evaluation.labelName', 'y'),
    steps: config.get<number>('evaluation.steps', 21),
  };
}

/** Resolves a setting's path: absolute paths stay, relative ones are taken from the first workspace folder. */
export function resolveWorkspacePath(path: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder === undefined || isAbsolutePath(path)) return path;
  return vscode.Uri.joinPath(folder.uri, path).fsPath;
}

function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');
}
