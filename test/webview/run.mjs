// Tests of the webview bundle in headless Chromium: builds dist/webview.js, serves harness pages on 127.0.0.1,
// drives /usr/bin/chromium with playwright-core, saves screenshots under test-output/webview/ and writes
// test-output/webview-counts.json as { passed, failed, skipped, failures }. Exits non-zero when a case failed.
// Usage: node test/webview/run.mjs [--production] [SUBSTRING]
//   --production tests the minified bundle; SUBSTRING runs only the cases whose name contains it.
/* global window, document, getComputedStyle -- in code that runs in the page */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { alignmentCases } from './alignment.cases.mjs';
import { exportCases } from './export.cases.mjs';
import { curvesMessage, inspectorData, postAlignmentReportInPage, postStatisticsInPage, smallModelTensors } from './data.mjs';
import { openView, post, settle, violations } from './harness.mjs';
import { inspectorCases } from './inspector.cases.mjs';
import { resolveColor } from './pixels.mjs';
import { startServer } from './harness.mjs';
import { themes } from './themes.mjs';

const root = process.cwd();
const outputDir = join(root, 'test-output');
const screenshotDir = join(outputDir, 'webview');
const countsFile = join(outputDir, 'webview-counts.json');
const production = process.argv.includes('--production');
const only = process.argv.slice(2).find((arg) => !arg.startsWith('--'));
mkdirSync(screenshotDir, { recursive: true });

const counts = { passed: 0, failed: 0, skipped: 0, failures: [] };

function finish(code) {
  writeFileSync(countsFile, `${JSON.stringify(counts, null, 2)}\n`);
  console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  process.exit(code);
}

const build = spawnSync('node', ['scripts/build.mjs', ...(production ? ['--production'] : []), 'webview'], { stdio: 'inherit' });
if (build.status !== 0 || !existsSync(join(root, 'dist/webview.js'))) {
  counts.failed++;
  counts.failures.push('build: node scripts/build.mjs webview failed');
  finish(1);
}

const executablePath = '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  counts.skipped++;
  counts.failures.push(`all webview cases skipped: ${executablePath} not found (apt-get install -y chromium)`);
  console.log(`Skipped: ${executablePath} not found.`);
  finish(0);
}

/** Theme cases: each view in each theme, with a screenshot and a check that the theme's colours are used. */
const themeCases = Object.keys(themes).flatMap((theme) => [
  [`inspector renders in ${theme} theme`, async (ctx) => {
    const tab = await openView(ctx.context, ctx.origin, 'inspector', theme);
    await post(tab, inspectorData(smallModelTensors()));
    await tab.waitForSelector('.table-window .table-row');
    await tab.click('.table-row[data-kind="tensor"] >> text=weight');
    await tab.evaluate(postStatisticsInPage, 'embed.weight');
    await tab.waitForSelector('canvas.histogram');
    await settle(tab);
    const expected = themes[theme].variables;
    const [foreground, background] = await tab.evaluate(() => [getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor]);
    assert.equal(foreground, `rgb(${(await resolveColor(tab, expected['--vscode-foreground'])).join(', ')})`);
    assert.equal(background, `rgb(${(await resolveColor(tab, expected['--vscode-editor-background'])).join(', ')})`);
    await ctx.screenshot(tab, `inspector-${theme}`);
    ctx.close(tab);
  }],
  [`alignment panel renders in ${theme} theme`, async (ctx) => {
    const tab = await openView(ctx.context, ctx.origin, 'alignment', theme);
    await tab.evaluate(postAlignmentReportInPage, 64);
    await post(tab, curvesMessage({ maxAbsLogitDiff: 2e-6, tolerance: 1e-4 }));
    await tab.waitForSelector('canvas.curve-loss');
    await settle(tab);
    // A cell at the low end of the scale must paint in this theme's editor background.
    const corner = await tab.evaluate(() => {
      const canvas = document.querySelector('canvas.heatmap-after[data-permutation="P_fc2"]');
      return Array.from(canvas.getContext('2d').getImageData(canvas.width - 2, 1, 1, 1).data).slice(0, 3);
    });
    const backgroundRgb = await resolveColor(tab, themes[theme].variables['--vscode-editor-background']);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(corner[c] - backgroundRgb[c]) <= 2, `heatmap low end ${corner} is the editor background ${backgroundRgb}`);
    await ctx.screenshot(tab, `alignment-${theme}`, true);
    ctx.close(tab);
  }],
]);

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
});
const { server, origin } = await startServer(root);
const measurements = [];
const allViolations = [];
const pageErrors = [];

async function runCase(name, body) {
  if (only && !name.includes(only)) return;
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const pending = [];
  const ctx = {
    context,
    origin,
    measure: (label, value) => measurements.push([label, value]),
    screenshot: (tab, file, fullPage = false) => tab.screenshot({ path: join(screenshotDir, `${file}.png`), fullPage }),
    close: (tab) => pending.push(tab),
  };
  try {
    await body(ctx);
    counts.passed++;
    console.log(`  ok    ${name}`);
  } catch (error) {
    counts.failed++;
    counts.failures.push(`${name}: ${error.message.split('\n')[0]}`);
    console.log(`  FAIL  ${name}\n        ${error.stack ?? error.message}`);
  }
  for (const tab of [...pending, ...context.pages()]) {
    if (tab.isClosed()) continue;
    try {
      for (const violation of await violations(tab)) allViolations.push({ test: name, ...violation });
    } catch {
      // A page that navigated away or crashed has no violation list to read.
    }
    for (const message of tab.pageErrors ?? []) pageErrors.push(`${name}: ${message}`);
  }
  await context.close();
}

try {
  for (const [name, body] of [...inspectorCases, ...alignmentCases, ...exportCases, ...themeCases]) await runCase(name, body);

  await runCase('harness enforces the CSP', async (ctx) => {
    const tab = await openView(ctx.context, ctx.origin, 'inspector');
    const ran = await tab.evaluate(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineScriptRan = true;';
      document.body.appendChild(script);
      document.body.setAttribute('style', 'color: red');
      await new Promise((resolve) => setTimeout(resolve, 50));
      return window.__inlineScriptRan === true;
    });
    assert.equal(ran, false, 'an inline script without the nonce is blocked');
    const directives = (await violations(tab)).map((violation) => violation.directive);
    assert.ok(directives.some((directive) => directive.startsWith('script-src')), `script violation recorded: ${directives}`);
    assert.ok(directives.some((directive) => directive.startsWith('style-src')), `style attribute violation recorded: ${directives}`);
    // These violations were provoked on purpose: keep them out of the checks that every view has none.
    await tab.waitForTimeout(100);
    tab.pageErrors = [];
    await tab.evaluate(() => { window.__violations = []; });
  });

  if (!only) {
    await runCase('no CSP violations in any view', async () => {
      assert.deepEqual(allViolations, [], JSON.stringify(allViolations, null, 1));
    });
    await runCase('no page errors in any view', async () => {
      assert.deepEqual(pageErrors, []);
    });
  }
} finally {
  await browser.close();
  server.close();
}

if (measurements.length > 0) {
  console.log('\nMeasurements (headless Chromium, this machine; not asserted):');
  for (const [label, value] of measurements) console.log(`  ${label}: ${typeof value === 'number' ? value.toFixed(1) : value}`);
}
console.log(`Screenshots: ${screenshotDir}`);
finish(counts.failed > 0 ? 1 : 0);
