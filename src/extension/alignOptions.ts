// Alignment and evaluation choices remembered per workspace (in `workspaceState`), so the next run offers them again.
import type * as vscode from 'vscode';

export interface AlignOptions {
  /** `auto`, or the path of a `*.permspec.json` file. */
  readonly spec: string;
  /** ONNX model of the architecture, for spec inference and evaluation. */
  readonly graph?: string;
  /** Evaluation data chosen in the panel; the `evaluation.dataFile` setting takes precedence. */
  readonly data?: string;
}

export const alignOptionsKey = 'checkpointAligner.alignOptions';

const defaults: AlignOptions = { spec: 'auto' };

/** Reads and updates the remembered options; invalid stored values fall back to the defaults. */
export class AlignOptionsStore {
  constructor(private readonly memento: vscode.Memento) {}

  get(): AlignOptions {
    const stored = this.memento.get<unknown>(alignOptionsKey);
    if (typeof stored !== 'object' || stored === null) return defaults;
    const { spec, graph, data } = stored as Record<string, unknown>;
    return {
      spec: typeof spec === 'string' && spec !== '' ? spec : 'auto',
      ...(typeof graph === 'string' ? { graph } : {}),
      ...(typeof data === 'string' ? { data } : {}),
    };
  }

  async update(change: Partial<AlignOptions>): Promise<AlignOptions> {
    const next = { ...this.get(), ...change };
    await this.memento.update(alignOptionsKey, next);
    return next;
  }
}
