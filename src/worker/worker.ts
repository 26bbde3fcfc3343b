// Entry point of the worker thread (bundled to dist/worker.js). Runs one job per `start` message, reports
// progress, and aborts a job's AbortSignal on `cancel`. Jobs run concurrently when several are started.
import { parentPort } from 'node:worker_threads';
import type { FromWorkerMessage, ToWorkerMessage } from '../protocol/workerMessages';
import { runJob } from './jobs';

const port = parentPort;
if (!port) throw new Error('worker.ts must run inside a worker thread');

const running = new Map<number, AbortController>();

function send(message: FromWorkerMessage): void {
  port!.postMessage(message);
}

port.on('message', (message: ToWorkerMessage) => {
  switch (message.type) {
    case 'start':
      void start(message.id, message);
      break;
    case 'cancel':
      running.get(message.id)?.abort(new CancelledError());
      break;
  }
});

async function start(id: number, message: Extract<ToWorkerMessage, { type: 'start' }>): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const result = await runJob(message.job, {
      signal: controller.signal,
      onProgress: (progress) => send({ type: 'progress', id, progress }),
      log: (level, text) => send({ type: 'log', level, message: text }),
    });
    send({ type: 'result', id, result });
  } catch (error) {
    const cancelled = controller.signal.aborted;
    const err = error instanceof Error ? error : new Error(String(error));
    send({ type: 'error', id, message: cancelled ? 'cancelled' : err.message, cancelled, stack: err.stack });
  } finally {
    running.delete(id);
  }
}

class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
