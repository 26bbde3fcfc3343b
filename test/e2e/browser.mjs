// Headless Chromium driven by playwright-core, confined to the loopback address.
import { chromium } from 'playwright-core';
import { sandboxEnvironment } from './sandbox.mjs';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Every host name except 127.0.0.1 fails to resolve, so the page cannot reach anything but code-server.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/**
 * Launches Chromium with the sandbox's fresh profile folder, and with its HOME and XDG folders, so that files
 * Chromium writes outside the profile (its crash report database) stay in the sandbox too. The caller closes
 * the returned context.
 */
export async function launchBrowser(sandbox) {
  return chromium.launchPersistentContext(sandbox.browserProfile, {
    env: sandboxEnvironment(sandbox, process.env),
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1400, height: 900 },
    // run.mjs handles SIGINT and SIGTERM itself, so that the server is stopped too.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}

/**
 * Returns the workbench URL that opens `folder` and passes `payload` (pairs of option name and value) to the
 * workbench. Paths in the payload are `vscode-remote://` URIs, because the extension host runs on the server.
 */
export function workbenchUrl(server, folder, payload) {
  const url = new URL(server.url);
  url.searchParams.set('folder', folder);
  if (payload.length > 0) url.searchParams.set('payload', JSON.stringify(payload));
  return url.toString();
}

export function remoteUri(server, absolutePath) {
  return `vscode-remote://127.0.0.1:${server.port}${absolutePath}`;
}
