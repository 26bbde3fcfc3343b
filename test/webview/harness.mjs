// Test harness for the webview bundle: a page that mimics a VS Code webview (fake `acquireVsCodeApi`, theme
// variables, the host's Content Security Policy with a script nonce), served from 127.0.0.1.
/* global window, requestAnimationFrame -- in code that runs in the page */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { themes } from './themes.mjs';

const staticFiles = {
  '/dist/webview.js': 'dist/webview.js',
  '/dist/webview.js.map': 'dist/webview.js.map',
  '/media/webview.css': 'media/webview.css',
};

const contentTypes = { '.js': 'text/javascript', '.map': 'application/json', '.css': 'text/css' };

/**
 * Script run before the bundle: records CSP violations, sets the theme variables on <html> through CSSOM as
 * VS Code does, and defines `acquireVsCodeApi`. Posted messages go to `window.__posted`; state lives in
 * sessionStorage so it survives `page.reload()`, as VS Code keeps it across a webview reload.
 */
function bootstrapScript(theme) {
  return `
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push({ directive: event.violatedDirective, blocked: event.blockedURI, sample: event.sample, source: event.sourceFile + ':' + event.lineNumber });
});
const variables = ${JSON.stringify(theme.variables)};
for (const [name, value] of Object.entries(variables)) document.documentElement.style.setProperty(name, value);
document.body.classList.add(${JSON.stringify(theme.bodyClass)});
document.body.dataset.vscodeThemeKind = ${JSON.stringify(theme.bodyClass)};
window.__posted = [];
let acquired = false;
window.acquireVsCodeApi = () => {
  if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
  acquired = true;
  return {
    postMessage: (message) => window.__posted.push(message),
    getState: () => JSON.parse(sessionStorage.getItem('vscodeState') ?? 'null') ?? undefined,
    setState: (state) => { sessionStorage.setItem('vscodeState', JSON.stringify(state)); return state; },
  };
};`;
}

function page(view, themeName, origin) {
  const theme = themes[themeName];
  if (!theme) throw new Error(`Unknown theme "${themeName}".`);
  const nonce = randomBytes(16).toString('base64');
  // The policy the extension host sets, with this server's origin in place of the webview's cspSource. The toolkit
  // (FAST) creates one <style> element to probe :focus-visible support; it carries the nonce that the
  // `csp-nonce` meta element names, so styles need the nonce but never 'unsafe-inline'.
  const csp = `default-src 'none'; img-src ${origin} data:; font-src ${origin}; style-src ${origin} 'nonce-${nonce}'; script-src 'nonce-${nonce}';`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${origin}/media/webview.css">
<title>Checkpoint Aligner ${view}</title>
</head>
<body data-view="${view}">
<div id="root"></div>
<script nonce="${nonce}">${bootstrapScript(theme)}</script>
<script nonce="${nonce}" src="${origin}/dist/webview.js"></script>
</body>
</html>`;
}

/** Starts the page server on 127.0.0.1 with an ephemeral port; `/VIEW?theme=NAME` serves a harness page. */
export async function startServer(root) {
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const origin = `http://127.0.0.1:${server.address().port}`;
    try {
      if (url.pathname === '/inspector' || url.pathname === '/alignment') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(page(url.pathname.slice(1), url.searchParams.get('theme') ?? 'dark', origin));
        return;
      }
      if (url.pathname === '/favicon.ico') {
        response.writeHead(204).end();
        return;
      }
      const file = staticFiles[url.pathname];
      if (!file) {
        response.writeHead(404).end();
        return;
      }
      const body = await readFile(join(root, file));
      response.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      response.end(body);
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Opens a harness page and waits until the view posted `ready`. */
export async function openView(context, origin, view, theme = 'dark') {
  const tab = await context.newPage();
  const errors = [];
  tab.on('pageerror', (error) => errors.push(error.message));
  tab.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  tab.pageErrors = errors;
  await tab.goto(`${origin}/${view}?theme=${theme}`);
  await waitForReady(tab);
  return tab;
}

export async function waitForReady(tab) {
  await tab.waitForFunction(() => window.__posted.some((message) => message.type === 'ready'), null, { timeout: 15000 });
}

/** Posts a host message into the page as VS Code does, with `window.postMessage`. */
export async function post(tab, message) {
  await tab.evaluate((data) => window.postMessage(data, '*'), message);
}

/** Waits two animation frames, so the message was handled and the result painted. */
export async function settle(tab) {
  await tab.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

export async function posted(tab) {
  return tab.evaluate(() => window.__posted);
}

export async function violations(tab) {
  return tab.evaluate(() => window.__violations);
}
