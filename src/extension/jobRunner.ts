// Runs worker jobs for the extension: one worker thread, started on the first job and restarted after it dies,
// with every job's start, end, duration and failure written to the log.
import * as vscode from 'vscode';
import type { JobProgress, JobRequest, JobResult, JobType } from '../protocol/workerMessages';
import { JobCancelledError, WorkerClient } from '../worker/client';
import type { Logger } from './log';

export interface JobRunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: JobProgress) => void;
}

export class JobRunner implements vscode.Disposable {
  private client: WorkerClient | undefined;
  private nextJob = 1;

  constructor(private readonly workerScript: string, private readonly log: Logger) {}

  /** Runs `job` in the worker; rejects with JobCancelledError when `signal` aborts it. */
  async run<T extends JobType>(job: JobRequest<T>, options: JobRunOptions = {}): Promise<JobResult<T>> {
    const label = `job ${this.nextJob++} (${job.type})`;
    const started = performance.now();
    this.log.info(`${label} started: ${describeJob(job as AnyJobRequest)}`);
    const client = this.worker();
    try {
      const result = await client.run(job, options);
      this.log.info(`${label} finished in ${seconds(started)} s`);
      return result;
    } catch (error) {
      if (error instanceof JobCancelledError) this.log.info(`${label} cancelled after ${seconds(started)} s`);
      else this.log.error(`${label} failed after ${seconds(started)} s`, error);
      if (error instanceof Error && /worker thread (exited|was stopped)/.test(error.message) && this.client === client) this.client = undefined;
      throw error;
    }
  }

  /**
   * Runs `job` under a cancellable progress notification titled `title`; Cancel aborts the job, which then
   * rejects with JobCancelledError.
   */
  runWithProgress<T extends JobType>(title: string, job: JobRequest<T>, onProgress?: (progress: JobProgress) => void): Promise<JobResult<T>> {
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        const subscription = token.onCancellationRequested(() => controller.abort());
        return this.run(job, {
          signal: controller.signal,
          onProgress: (update) => {
            if (update.message !== undefined) progress.report({ message: update.message });
            onProgress?.(update);
          },
        }).finally(() => subscription.dispose());
      },
    ));
  }

  dispose(): void {
    void this.client?.dispose();
    this.client = undefined;
  }

  private worker(): WorkerClient {
    this.client ??= new WorkerClient(this.workerScript, (level, message) => {
      if (level === 'error') this.log.error(`worker: ${message}`);
      else if (level === 'warn') this.log.warn(`worker: ${message}`);
      else this.log.info(`worker: ${message}`);
    });
    return this.client;
  }
}

function seconds(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(2);
}

/** Every job request as a union discriminated on `type`. */
type AnyJobRequest = { [T in JobType]: JobRequest<T> }[JobType];

function describeJob(job: AnyJobRequest): string {
  switch (job.type) {
    case 'align':
    case 'alignView':
      return `${job.b} onto ${job.a}`;
    case 'diff':
      return `${job.a} and ${job.b}`;
    case 'inspect':
      return job.file;
    case 'statistics':
      return `${job.tensor} in ${job.file}`;
    case 'eval':
      return `${job.options.a} to ${job.options.b} on ${job.options.data}`;
    case 'merge':
      return `${job.options.inputs.join(', ')} into ${job.options.output}`;
  }
}
