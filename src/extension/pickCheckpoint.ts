// Quick picks that choose checkpoints from the workspace, compatible ones first, with "Browse…" for any other file.
import * as vscode from 'vscode';
import type { JobRunner } from './jobRunner';
import { CHECKPOINT_GLOB, EXCLUDED_GLOB, rankCandidates, structureKey } from './checkpointFiles';

/** At most this many workspace files are offered; each costs one header read. */
const MAX_CANDIDATES = 200;

interface CheckpointItem extends vscode.QuickPickItem {
  readonly path?: string;
  readonly browse?: boolean;
}

/** Paths of the workspace's checkpoint files, without node_modules and .git. */
export async function findWorkspaceCheckpoints(): Promise<string[]> {
  const uris = await vscode.workspace.findFiles(CHECKPOINT_GLOB, EXCLUDED_GLOB, MAX_CANDIDATES);
  return uris.filter((uri) => uri.scheme === 'file').map((uri) => uri.fsPath);
}

/** Reads each file's header in the worker; unreadable files map to undefined. */
async function readStructures(runner: JobRunner, paths: readonly string[]): Promise<Map<string, string | undefined>> {
  const keys = await Promise.all(paths.map(async (path) => {
    try {
      return structureKey((await runner.run({ type: 'inspect', file: path })).tensors);
    } catch {
      return undefined;
    }
  }));
  return new Map(paths.map((path, index) => [path, keys[index]]));
}

function browseItem(): CheckpointItem {
  return { label: '$(folder-opened) Browse…', description: 'choose a file outside this list', browse: true, alwaysShow: true };
}

async function browse(title: string, many: boolean): Promise<string[] | undefined> {
  const uris = await vscode.window.showOpenDialog({ title, canSelectMany: many, openLabel: 'Choose', filters: { Checkpoints: ['safetensors', 'json', 'pt', 'pth', 'ckpt', 'onnx', 'npz', 'npy', 'msgpack', 'gguf', 'bin'], 'All files': ['*'] } });
  return uris?.map((uri) => uri.fsPath);
}

/**
 * Asks for a second checkpoint to use with `reference`: workspace files whose headers list the same shapes come
 * first. Returns undefined when the user cancels.
 */
export async function pickSecondCheckpoint(runner: JobRunner, reference: string, title: string): Promise<string | undefined> {
  const items = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Reading checkpoint headers' }, async () => {
    const paths = await findWorkspaceCheckpoints();
    const structures = await readStructures(runner, [reference, ...paths]);
    return rankCandidates(reference, paths, structures).map((candidate): CheckpointItem => ({
      label: vscode.workspace.asRelativePath(candidate.path),
      description: candidate.compatible ? 'same tensor shapes' : 'different structure',
      path: candidate.path,
    }));
  });

  const compatible = items.filter((item) => item.description === 'same tensor shapes');
  const others = items.filter((item) => item.description !== 'same tensor shapes');
  const picked = await vscode.window.showQuickPick<CheckpointItem>([
    ...(compatible.length > 0 ? [{ label: 'Same structure', kind: vscode.QuickPickItemKind.Separator }, ...compatible] : []),
    ...(others.length > 0 ? [{ label: 'Other checkpoints', kind: vscode.QuickPickItemKind.Separator }, ...others] : []),
    browseItem(),
  ], { title, placeHolder: `Checkpoint to use with ${vscode.workspace.asRelativePath(reference)}`, matchOnDescription: true });
  if (picked === undefined) return undefined;
  if (picked.browse) return (await browse(title, false))?.[0];
  return picked.path;
}

/** Asks for two or more checkpoints; `preselected` are checked already. Returns undefined when cancelled. */
export async function pickCheckpoints(title: string, preselected: readonly string[]): Promise<string[] | undefined> {
  const paths = [...new Set([...preselected, ...await findWorkspaceCheckpoints()])];
  const items: CheckpointItem[] = paths.map((path) => ({ label: vscode.workspace.asRelativePath(path), path, picked: preselected.includes(path) }));
  const picked = await vscode.window.showQuickPick<CheckpointItem>([...items, browseItem()], {
    title,
    placeHolder: 'Check two or more checkpoints; the first checked is the reference A',
    canPickMany: true,
  });
  if (picked === undefined) return undefined;
  const chosen = picked.filter((item) => item.path !== undefined).map((item) => item.path as string);
  if (picked.some((item) => item.browse)) chosen.push(...(await browse(title, true)) ?? []);
  // The reference stays first when it was preselected, as the inspector and the panel pass it.
  return [...preselected.filter((path) => chosen.includes(path)), ...chosen.filter((path) => !preselected.includes(path))];
}
