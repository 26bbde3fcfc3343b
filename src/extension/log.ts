// Logging to the "Checkpoint Aligner" log output channel (Output panel), whose level the user sets with
// "Developer: Set Log Level".
import * as vscode from 'vscode';

export const logChannelName = 'Checkpoint Aligner';

/** Describes a caught value with its stack when it has one, because the log is where users look for causes. */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

/** Writes to one log output channel; `error` takes the caught value so its stack reaches the log. */
export class Logger implements vscode.Disposable {
  constructor(private readonly channel: vscode.LogOutputChannel) {}

  static create(): Logger {
    return new Logger(vscode.window.createOutputChannel(logChannelName, { log: true }));
  }

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  /** Logs `message` followed by the error's stack, or by the value itself when it is not an `Error`. */
  error(message: string, error?: unknown): void {
    this.channel.error(error === undefined ? message : `${message}\n${describeError(error)}`);
  }

  /** Reveals the channel in the Output panel without moving focus from the editor. */
  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
