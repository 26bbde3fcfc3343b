// "Merge Checkpoints…": choose the checkpoints, the weights, alignment and the output, then merge in the worker.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { reportFailure } from './errors';
import type { JobRunner } from './jobRunner';
import type { Logger } from './log';
import { askOutputPath, showWrittenFile } from './outputDialogs';
import { siblingOutputPath } from './outputPaths';
import { pickCheckpoints } from './pickCheckpoint';
import { readMatchingSettings } from './settings';

export interface MergeServices {
  readonly runner: JobRunner;
  readonly log: Logger;
}

/** Choices made before the flow starts; the flow prompts for the rest. */
export interface MergePreset {
  readonly inputs?: readonly string[];
  readonly lambda?: number;
  readonly align?: boolean;
  readonly spec?: string;
}

/** Returns an error message for λ text, or undefined when it is a number in [0, 1]. */
export function validateLambda(text: string): string | undefined {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value)) return 'Enter a number between 0 and 1, e.g. 0.5.';
  if (value < 0 || value > 1) return `λ must be between 0 and 1; ${value} is outside.`;
  return undefined;
}

/** Parses comma-separated weights, one per checkpoint; returns an error message instead when invalid. */
export function parseWeights(text: string, count: number): number[] | string {
  const parts = text.split(',').map((part) => part.trim());
  const weights = parts.map(Number);
  if (parts.length !== count) return `Enter ${count} weights separated by commas, one per checkpoint; got ${parts.length}.`;
  if (parts.some((part) => part === '') || !weights.every(Number.isFinite)) return 'Every weight must be a number, e.g. 1, 1, 2.';
  if (weights.some((weight) => weight < 0)) return 'Weights must not be negative.';
  if (!(weights.reduce((sum, weight) => sum + weight, 0) > 0)) return 'The weights must sum to a positive number.';
  return weights;
}

async function askWeights(inputs: readonly string[], preset: MergePreset): Promise<{ weights: number[]; lambda?: number } | undefined> {
  if (inputs.length === 2) {
    const text = preset.lambda !== undefined ? String(preset.lambda) : await vscode.window.showInputBox({
      title: 'Merge: weight λ of the second checkpoint',
      prompt: `The output is (1 − λ)·${basename(inputs[0])} + λ·${basename(inputs[1])}`,
      value: '0.5',
      validateInput: validateLambda,
    });
    if (text === undefined) return undefined;
    const lambda = Number(text);
    return { weights: [1 - lambda, lambda], lambda };
  }
  const text = await vscode.window.showInputBox({
    title: `Merge: weights of ${inputs.length} checkpoints`,
    prompt: `One weight per checkpoint, in the order ${inputs.map((input) => basename(input)).join(', ')}; they are divided by their sum`,
    value: new Array(inputs.length).fill('1').join(', '),
    validateInput: (value) => {
      const parsed = parseWeights(value, inputs.length);
      return typeof parsed === 'string' ? parsed : undefined;
    },
  });
  if (text === undefined) return undefined;
  return { weights: parseWeights(text, inputs.length) as number[] };
}

async function askAlignment(): Promise<boolean | undefined> {
  const picked = await vscode.window.showQuickPick([
    { label: 'Align first', description: 'weight matching of each checkpoint onto the first (Git Re-Basin)', align: true },
    { label: 'Average as they are', description: 'no alignment', align: false },
  ], { title: 'Merge: alignment' });
  return picked?.align;
}

/** Runs the whole merge flow; every question can be cancelled, which ends the flow without writing anything. */
export async function mergeFlow(services: MergeServices, preset: MergePreset = {}): Promise<void> {
  let inputs = preset.inputs ?? [];
  if (inputs.length < 2) {
    const picked = await pickCheckpoints('Merge Checkpoints', inputs);
    if (picked === undefined) return;
    inputs = picked;
  }
  if (inputs.length < 2) {
    void vscode.window.showWarningMessage(`Merging needs at least two checkpoints; ${inputs.length} chosen.`);
    return;
  }

  const weighting = await askWeights(inputs, preset);
  if (weighting === undefined) return;
  const align = preset.align ?? await askAlignment();
  if (align === undefined) return;
  const output = await askOutputPath({ title: 'Merged Checkpoint', defaultPath: siblingOutputPath(inputs[0], 'merged'), inputs });
  if (output === undefined) return;

  const matching = readMatchingSettings();
  try {
    const summary = await services.runner.runWithProgress(`Merging into ${basename(output)}`, {
      type: 'merge',
      options: {
        inputs,
        weights: weighting.weights,
        lambda: weighting.lambda,
        output,
        spec: preset.spec ?? 'auto',
        align,
        matching: { seed: matching.seed, order: matching.order, maxSweeps: matching.maxSweeps, executionProvider: matching.executionProvider },
      },
    });
    void showWrittenFile(summary.output, `Merged ${inputs.length} checkpoints into ${basename(summary.output)} (${summary.merged} tensors averaged).`);
  } catch (error) {
    await reportFailure(services.log, `Merging into ${basename(output)}`, error);
  }
}
