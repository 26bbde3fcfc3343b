// Starts code-server on 127.0.0.1 in its own process group and stops the whole group.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { sandboxEnvironment } from './sandbox.mjs';

/** Returns a port that was free a moment ago, by binding port 0 on the loopback address and closing it. */
export function findFreePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// The gallery URLs point at a port where nothing listens, so the server and the page fail fast instead of
// contacting the public extension marketplace.
export function closedGallery(port) {
  const base = `http://127.0.0.1:${port}`;
  return JSON.stringify({
    serviceUrl: `${base}/gallery`,
    itemUrl: `${base}/item`,
    resourceUrlTemplate: `${base}/resource/{publisher}/{name}/{version}/{path}`,
    extensionUrlTemplate: `${base}/extension/{publisher}/{name}/{version}`,
    controlUrl: '',
    nlsBaseUrl: '',
  });
}

async function waitForHealth(server, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`code-server exited with code ${server.exitCode} before it responded`);
    try {
      const response = await fetch(`${server.url}healthz`, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not respond at ${server.url}healthz within ${timeoutMs / 1000} s`);
}

/**
 * Starts code-server for `sandbox` and waits until its health endpoint responds. `extraEnv` reaches the
 * server and, through it, the extension host. Returns `{ url, port, pid, exitCode, stop() }`.
 */
export async function startCodeServer({ paths, sandbox, extraEnv = {}, timeoutMs = 120_000 }) {
  const port = await findFreePort();
  const galleryPort = await findFreePort();
  const logFd = openSync(sandbox.serverLog, 'a');
  const args = [
    paths.entryScript,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir', sandbox.userDataDir,
    '--extensions-dir', sandbox.extensionsDir,
    '--config', sandbox.configFile,
    // Without the smoke-test driver the workbench ignores the URL payload that loads the extension and its tests.
    '--vscode-option', 'enable-smoke-test-driver',
    sandbox.workspace,
  ];
  const env = {
    ...sandboxEnvironment(sandbox, process.env),
    PATH: `${paths.nodeBinDir}:${process.env.PATH ?? ''}`,
    EXTENSIONS_GALLERY: closedGallery(galleryPort),
    ...extraEnv,
  };

  // `detached` makes the child call setsid(), so it leads a new process group that `stop` signals as a whole,
  // which also reaches the extension hosts and file watchers that code-server forks.
  const child = spawn(paths.nodeBinary, args, { env, detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);

  const server = {
    url: `http://127.0.0.1:${port}/`,
    port,
    pid: child.pid,
    exitCode: null,
    exited: new Promise((resolve) => child.once('exit', (code, signal) => {
      server.exitCode = code ?? signal;
      resolve();
    })),
    stop: () => stopProcessGroup(server),
  };
  child.once('error', (error) => {
    server.exitCode = `spawn error: ${error.message}`;
  });

  try {
    await waitForHealth(server, timeoutMs);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // The group is gone.
  }
}

/** Sends SIGTERM to the server's process group, then SIGKILL after 5 s to whatever is left. */
export async function stopProcessGroup(server) {
  if (!server.pid || server.stopped) return;
  signalGroup(server.pid, 'SIGTERM');
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, 5_000);
  });
  await Promise.race([server.exited, timeout]);
  clearTimeout(timer);
  // Children of the group may outlive the leader, so the group gets SIGKILL even after the leader exited.
  signalGroup(server.pid, 'SIGKILL');
  // Once the group is empty its id may be reused, so it is never signalled again.
  server.stopped = true;
}

/** Synchronous variant for `process.on('exit')`, where no promise can be awaited. */
export function killProcessGroupNow(server) {
  if (server?.pid && !server.stopped) signalGroup(server.pid, 'SIGKILL');
}
