// The alignment panel: shows one alignment's report and heatmaps, computes the interpolation curves when an
// ONNX graph and data are known, and runs the panel's actions (save spec, write π(B), export, merge at λ).
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomically } from '../formats/atomicWrite';
import { EQUIVALENCE_TOLERANCE, type EvaluationReport } from '../evaluation/evaluateInterpolation';
import type { AlignViewResult } from '../protocol/workerMessages';
import type { AlignmentReportData, CurvesData, FromWebviewMessage, ToWebviewMessage } from '../protocol/webviewMessages';
import type { AlignOptionsStore } from './alignOptions';
import { parseChartImages, writeChartImages } from './chartFiles';
import { DisposableStore } from './disposables';
import { errorMessage, reportFailure } from './errors';
import { evaluationInputs } from './evaluationInputs';
import type { JobRunner } from './jobRunner';
import type { Logger } from './log';
import { splitCheckpointName } from './outputPaths';
import { askOutputPath, showWrittenFile } from './outputDialogs';
import { readEvaluationSettings, readMatchingSettings } from './settings';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const alignmentPanelViewType = 'checkpointAligner.alignmentPanel';

export interface PanelServices {
  readonly extensionUri: vscode.Uri;
  readonly runner: JobRunner;
  readonly log: Logger;
  readonly options: AlignOptionsStore;
  /** Runs the merge flow for A and B at weight λ of B. */
  readonly mergeAt: (a: string, b: string, lambda: number, spec: string) => Promise<void>;
}

/** One alignment of B onto A, with the spec choice that produced it. */
export interface AlignmentRun {
  readonly a: string;
  readonly b: string;
  readonly spec: string;
  readonly result: AlignViewResult;
}

/** Converts the evaluation report into the curves the panel draws. */
export function toCurvesData(report: EvaluationReport): CurvesData {
  const resetBn = report.naiveResetBn || report.alignedResetBn ? { naive: report.naiveResetBn, aligned: report.alignedResetBn } : undefined;
  return {
    lambdas: report.lambdas,
    naive: report.naive,
    aligned: report.aligned,
    barrier: report.barrier,
    ...(resetBn ? { resetBn } : {}),
    equivalence: { maxAbsLogitDiff: report.equivalence.maxAbsLogitDiff, tolerance: EQUIVALENCE_TOLERANCE },
  };
}

export class AlignmentPanel {
  private readonly disposables = new DisposableStore();
  private disposed = false;
  private curves: EvaluationReport | undefined;
  private evaluating = false;

  constructor(private readonly panel: vscode.WebviewPanel, private readonly services: PanelServices, private readonly run: AlignmentRun) {
    panel.title = `Alignment: ${basename(run.b)} → ${basename(run.a)}`;
    panel.webview.options = webviewOptions(services.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, services.extensionUri, 'alignment', panel.title);
    this.disposables.add(panel.onDidDispose(() => {
      this.disposed = true;
      this.disposables.dispose();
    }));
    this.disposables.add(panel.webview.onDidReceiveMessage((message: FromWebviewMessage) => {
      this.handle(message).catch((error: unknown) => reportFailure(services.log, `Alignment panel action "${message.type}"`, error));
    }));
  }

  static create(services: PanelServices, run: AlignmentRun): AlignmentPanel {
    const panel = vscode.window.createWebviewPanel(alignmentPanelViewType, 'Alignment', vscode.ViewColumn.Active, webviewOptions(services.extensionUri));
    return new AlignmentPanel(panel, services, run);
  }

  /** Posts to the webview; a job that finishes after the panel closed has its message dropped. */
  private post(message: ToWebviewMessage): void {
    if (!this.disposed) this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  private async handle(message: FromWebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        // Also sent after the webview was reloaded (hidden and shown again), so everything is sent again.
        this.post({ type: 'alignmentReport', report: this.run.result.report as AlignmentReportData, heatmaps: this.run.result.heatmaps });
        if (this.curves) this.post({ type: 'curves', curves: toCurvesData(this.curves) });
        else await this.evaluateWhenPossible();
        break;
      case 'chooseGraph': {
        const graph = await this.chooseFile('ONNX model of the architecture', { 'ONNX models': ['onnx'] });
        if (graph !== undefined) await this.services.options.update({ graph });
        await this.evaluateWhenPossible();
        break;
      }
      case 'chooseData': {
        const data = await this.chooseFile('Evaluation data (.npz or .safetensors with inputs and labels)', { 'Data files': ['npz', 'safetensors'] });
        if (data !== undefined) await this.services.options.update({ data });
        await this.evaluateWhenPossible();
        break;
      }
      case 'saveSpec':
        await this.saveSpec();
        break;
      case 'writeAligned':
        await this.writeAligned();
        break;
      case 'exportReport':
        await this.exportReport(message.charts);
        break;
      case 'mergeAt':
        await this.services.mergeAt(this.run.a, this.run.b, message.lambda, this.run.spec);
        break;
      default:
        break;
    }
  }

  private async chooseFile(title: string, filters: Record<string, string[]>): Promise<string | undefined> {
    const uris = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters, defaultUri: vscode.Uri.file(dirname(this.run.a)) });
    return uris?.[0]?.fsPath;
  }

  /** Computes the curves when a graph and data are known, and otherwise sends the panel `needsEvaluationInputs`. */
  private async evaluateWhenPossible(): Promise<void> {
    if (this.evaluating || this.curves) return;
    const settings = readEvaluationSettings();
    const inputs = evaluationInputs(this.run.a, this.services.options.get(), settings);
    if (inputs.missingGraph || inputs.missingData || inputs.data === undefined) {
      this.post({ type: 'needsEvaluationInputs', graph: inputs.missingGraph, data: inputs.missingData });
      return;
    }

    this.evaluating = true;
    const controller = new AbortController();
    const disposeListener = this.panel.onDidDispose(() => controller.abort());
    this.post({ type: 'jobProgress', job: 'evaluate', progress: { stage: 'evaluate', message: 'Evaluating the interpolation curves…' } });
    try {
      const matching = readMatchingSettings();
      this.curves = await this.services.runner.run({
        type: 'eval',
        options: {
          a: this.run.a,
          b: this.run.b,
          graph: inputs.graph,
          data: inputs.data,
          inputName: settings.inputName,
          labelName: settings.labelName,
          steps: settings.steps,
          spec: this.run.spec,
          executionProvider: matching.executionProvider,
          matching: { seed: matching.seed, order: matching.order, maxSweeps: matching.maxSweeps },
        },
      }, { signal: controller.signal, onProgress: (progress) => this.post({ type: 'jobProgress', job: 'evaluate', progress }) });
      this.post({ type: 'jobProgress', job: 'evaluate' });
      this.post({ type: 'curves', curves: toCurvesData(this.curves) });
    } catch (error) {
      this.post({ type: 'jobProgress', job: 'evaluate' });
      if (controller.signal.aborted) return;
      this.post({ type: 'error', message: `Evaluating the curves failed: ${errorMessage(error)}` });
      await reportFailure(this.services.log, `Evaluating ${basename(this.run.b)} against ${basename(this.run.a)}`, error);
    } finally {
      this.evaluating = false;
      disposeListener.dispose();
    }
  }

  private async saveSpec(): Promise<void> {
    const { stem } = splitCheckpointName(this.run.a);
    const output = await askOutputPath({ title: 'Save Permutation Spec', defaultPath: join(dirname(this.run.a), `${stem}.permspec.json`), inputs: [this.run.a, this.run.b], filters: { 'Permutation specs': ['json'] } });
    if (output === undefined) return;
    await writeFile(output, this.run.result.specText);
    this.services.log.info(`Saved the permutation spec to ${output}`);
    void vscode.window.showInformationMessage(`Saved the permutation spec to ${basename(output)}.`);
  }

  private async writeAligned(): Promise<void> {
    const { stem, extension } = splitCheckpointName(this.run.b);
    const outputExtension = extension === '.safetensors.index.json' ? '.safetensors' : extension;
    const output = await askOutputPath({ title: 'Write Aligned B', defaultPath: join(dirname(this.run.b), `${stem}_aligned${outputExtension}`), inputs: [this.run.a, this.run.b] });
    if (output === undefined) return;
    await this.services.runner.runWithProgress(`Writing π(${basename(this.run.b)})`, {
      type: 'align',
      a: this.run.a,
      b: this.run.b,
      options: { ...readMatchingSettings(), spec: this.run.spec, writeAligned: output },
    }).then(() => void showWrittenFile(output, `Wrote the aligned checkpoint ${basename(output)}.`),
      (error: unknown) => reportFailure(this.services.log, `Writing ${basename(output)}`, error));
  }

  private async exportReport(sentCharts: unknown): Promise<void> {
    // Checked before the dialog, so that invalid charts never leave a report without its images.
    const charts = parseChartImages(sentCharts);
    const { stem: stemA } = splitCheckpointName(this.run.a);
    const { stem: stemB } = splitCheckpointName(this.run.b);
    const inputs = [this.run.a, this.run.b];
    const output = await askOutputPath({ title: 'Export Alignment Report', defaultPath: join(dirname(this.run.a), `${stemB}_onto_${stemA}.alignment.json`), inputs, filters: { JSON: ['json'] } });
    if (output === undefined) return;
    const exported = { report: this.run.result.report, specNotes: this.run.result.specNotes, ...(this.curves ? { curves: this.curves } : {}) };
    await writeFileAtomically(output, inputs, (handle) => handle.writeFile(`${JSON.stringify(exported, null, 2)}\n`));
    this.services.log.info(`Exported the alignment report to ${output}`);
    const written = await writeChartImages(output, charts, inputs, this.services.log);
    const images = written.length > 0 ? ` and ${written.length} chart${written.length === 1 ? '' : 's'} as PNG beside it` : '';
    void vscode.window.showInformationMessage(`Exported the alignment report to ${basename(output)}${images}.`);
  }
}
