// One way to tell the user that a job failed: a single notification with "Show Log", and the full error in the log.
import * as vscode from 'vscode';
import { JobCancelledError } from '../worker/client';
import type { Logger } from './log';

export const showLogAction = 'Show Log';

/** Returns the error's message without the stack, for notifications. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Logs that `action` (e.g. "Aligning b.pt onto a.pt") failed with `error` and shows one error notification. A
 * cancelled job is logged as cancelled and shows nothing, because the user cancelled it.
 */
export async function reportFailure(log: Logger, action: string, error: unknown): Promise<void> {
  if (error instanceof JobCancelledError) {
    log.info(`${action}: cancelled by the user`);
    return;
  }
  log.error(`${action} failed`, error);
  const choice = await vscode.window.showErrorMessage(`${action} failed: ${errorMessage(error)}`, showLogAction);
  if (choice === showLogAction) log.show();
}
