// The HTML page of the bundled webview views, with a strict Content Security Policy: scripts only with the
// page's nonce, styles and fonts only from the extension's own files.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { WebviewView } from '../protocol/webviewMessages';

/** Returns a fresh random nonce for one page load. */
export function createNonce(): string {
  return randomBytes(18).toString('base64');
}

/** Webview options that allow scripts and load files only from `dist/` and `media/`. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/**
 * Returns the Content Security Policy of every page. The toolkit's one `<style>` element carries the nonce that the
 * `csp-nonce` meta element names, so styles need the nonce but never 'unsafe-inline'.
 */
export function contentSecurityPolicy(webview: vscode.Webview, nonce: string): string {
  const source = webview.cspSource;
  return `default-src 'none'; img-src ${source} data:; style-src ${source} 'nonce-${nonce}'; font-src ${source}; script-src 'nonce-${nonce}';`;
}

/** Parts of a webview page that differ between panels; everything else, the CSP included, is shared. */
export interface PageParts {
  readonly script: vscode.Uri;
  readonly style: vscode.Uri;
  readonly title: string;
  /** Attributes of `<body>`, already escaped, e.g. `data-view="inspector"`. */
  readonly bodyAttributes: string;
  /** Static markup inside `<body>` before the script runs. */
  readonly body: string;
}

/** Returns a page that loads one script and one stylesheet under the strict CSP, with a fresh nonce. */
export function pageHtml(webview: vscode.Webview, parts: PageParts): string {
  const nonce = createNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview, nonce)}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${parts.style}">
<title>${escapeHtml(parts.title)}</title>
</head>
<body${parts.bodyAttributes ? ` ${parts.bodyAttributes}` : ''}>
${parts.body}
<script nonce="${nonce}" src="${parts.script}"></script>
</body>
</html>`;
}

/** Returns the page for one view of `dist/webview.js`, which reads the view's name from `<body data-view>`. */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: WebviewView, title: string): string {
  return pageHtml(webview, {
    script: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')),
    style: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css')),
    title,
    bodyAttributes: `data-view="${view}"`,
    body: '<div id="root"></div>',
  });
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
