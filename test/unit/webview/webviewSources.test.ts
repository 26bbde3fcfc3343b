// Static checks of the webview sources: the toolkit stays behind webview/components/, and nothing needs a CSP
// relaxation (inline handlers, HTML strings, eval, style attributes).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const webviewRoot = join(__dirname, '../../../webview');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const files = sourceFiles(webviewRoot).map((path) => ({ path: relative(webviewRoot, path), text: readFileSync(path, 'utf8') }));

test('webview sources are found', () => {
  assert.ok(files.length > 10, `found ${files.length} files under webview/`);
  assert.ok(files.some((file) => file.path === 'main.ts'));
});

test('toolkit imported only in components', () => {
  const importers = files.filter((file) => file.text.includes('@vscode/webview-ui-toolkit')).map((file) => file.path);
  assert.ok(importers.length > 0, 'some file imports the toolkit');
  for (const path of importers) assert.ok(path.startsWith('components/'), `${path} imports the toolkit outside components/`);
});

test('no CSP-relaxing constructs', () => {
  const forbidden: [RegExp, string][] = [
    [/\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML/, 'HTML strings'],
    [/\beval\(|new Function\(/, 'eval'],
    [/setAttribute\(\s*['"]style['"]/, 'style attributes'],
    [/setAttribute\(\s*['"]on[a-z]+['"]/, 'inline event handlers'],
    [/\.cssText\s*=/, 'style attributes through cssText'],
    [/https?:\/\//, 'network addresses'],
    [/\bfetch\(|XMLHttpRequest|WebSocket/, 'network access'],
  ];
  for (const file of files) {
    for (const [pattern, what] of forbidden) assert.doesNotMatch(file.text, pattern, `${file.path} uses ${what}`);
  }
});
