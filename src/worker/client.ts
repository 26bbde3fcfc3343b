// Host side of the worker thread: starts jobs, forwards progress, cancels, and turns worker errors into
// rejected promises. Used by the extension host; the command line may run the same jobs in-process.
import { Worker } from 'node:worker_threads';
import type { FromWorkerMessage, JobProgress, JobRequest, JobResult, JobType, ToWorkerMessage } from '../protocol/workerMessages';

/** A job that ended because its caller cancelled it. */
export class JobCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'JobCancelledError';
  }
}

interface PendingJob {
  resolve(result: unknown): void;
  reject(error: Error): void;
  onProgress?: (progress: JobProgress) => void;
}

export interface RunOptions {
  readonly onProgress?: (progress: JobProgress) => void;
  readonly signal?: AbortSignal;
}

export class WorkerClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, PendingJob>();
  private nextId = 1;

  /** `workerScript` is the bundled dist/worker.js; `onLog` receives the worker's log lines. */
  constructor(workerScript: string, private readonly onLog: (level: 'info' | 'warn' | 'error', message: string) => void = () => undefined) {
    this.worker = new Worker(workerScript);
    this.worker.on('message', (message: FromWorkerMessage) => this.handle(message));
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => this.failAll(new Error(`the worker thread exited with code ${code}`)));
  }

  /** Runs a job in the worker. Aborting `signal` sends `cancel`; the promise then rejects with JobCancelledError. */
  run<T extends JobType>(job: JobRequest<T>, options: RunOptions = {}): Promise<JobResult<T>> {
    const id = this.nextId++;
    return new Promise<JobResult<T>>((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new JobCancelledError());
        return;
      }
      const onAbort = () => this.post({ type: 'cancel', id });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (result) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(result as JobResult<T>);
        },
        reject: (error) => {
          options.signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        onProgress: options.onProgress,
      });
      this.post({ type: 'start', id, job });
    });
  }

  async dispose(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
    this.failAll(new Error('the worker thread was stopped'));
  }

  private post(message: ToWorkerMessage): void {
    this.worker.postMessage(message);
  }

  private handle(message: FromWorkerMessage): void {
    if (message.type === 'log') {
      this.onLog(message.level, message.message);
      return;
    }
    const job = this.pending.get(message.id);
    if (!job) return;
    switch (message.type) {
      case 'progress':
        job.onProgress?.(message.progress);
        break;
      case 'result':
        this.pending.delete(message.id);
        job.resolve(message.result);
        break;
      case 'error': {
        this.pending.delete(message.id);
        if (message.cancelled) {
          job.reject(new JobCancelledError());
          break;
        }
        const error = new Error(message.message);
        if (message.stack) error.stack = message.stack;
        job.reject(error);
        break;
      }
    }
  }

  private failAll(error: Error): void {
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
  }
}
