// End-to-end tests in a real VS Code: code-server from .cache/, driven by headless Chromium, with the extension
// loaded from the working tree. Prints each test's result, writes test-output/e2e-counts.json for
// scripts/test.mjs, and on failure saves screenshots and the server's logs under test-output/e2e/.
// Usage: node test/e2e/run.mjs   (E2E_KEEP_SANDBOX=1 keeps the temporary folder for inspection)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';
import { bundleExtensionTests } from './extensionHostTests.mjs';
import { resultsFileVariable, runExtensionHostSuites, uiTests } from './flows.mjs';
import { ensureCodeServer } from './install.mjs';
import { productTests, vsixTest } from './productFlows.mjs';
import { createSandbox } from './sandbox.mjs';
import { killProcessGroupNow, startCodeServer } from './server.mjs';
import { installVsix, packageVsix } from './vsix.mjs';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outputDir = join(repositoryRoot, 'test-output');
const artifactsDir = join(outputDir, 'e2e');
const countsFile = join(outputDir, 'e2e-counts.json');
// Bundles that the extension loads at run time. The CLI is not among them, and the full build is a step of its
// own in scripts/test.mjs.
const buildTargets = ['extension', 'worker', 'webview'];
// The feature flows run in the development window; the VSIX test runs last in a window without the payload.
const allUiTests = [...uiTests, ...productTests, vsixTest];
// Bounds the run after the install, so that a wedged browser or server ends as a failure instead of a hang.
const runTimeoutMs = 15 * 60_000;

const results = [];
// Errors from the workbench pages' consoles, saved with the logs when a test fails.
const browserErrors = [];
const resources = { server: undefined, browser: undefined, sandbox: undefined };
// Set once by the first call, so an interrupt during the run and the run's own `finally` share one clean-up.
let cleanUpPromise;

function log(message) {
  console.log(message);
}

function record(name, state, reason, seconds) {
  results.push({ name, state, reason });
  const time = seconds === undefined ? '' : ` (${seconds.toFixed(1)} s)`;
  if (state === 'passed') log(`  ✓ ${name}${time}`);
  else if (state === 'skipped') log(`  - ${name}: skipped, ${reason}`);
  else log(`  ✗ ${name}${time}: ${reason}`);
}

function slug(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

async function screenshot(page, name) {
  if (!page || page.isClosed()) return;
  try {
    await page.screenshot({ path: join(artifactsDir, `${name}.png`), timeout: 15_000 });
  } catch (error) {
    log(`  (screenshot ${name}.png failed: ${error.message})`);
  }
}

function writeCounts() {
  const counts = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const { name, state, reason } of results) {
    counts[state]++;
    if (state === 'failed') counts.failures.push(`${name}: ${reason}`);
  }
  mkdirSync(outputDir, { recursive: true });
  writeFileSync(countsFile, `${JSON.stringify(counts, null, 2)}\n`);
  return counts;
}

function watchBrowserErrors(page) {
  page.on('console', (message) => {
    if (message.type() === 'error') browserErrors.push(`[console] ${message.text()}`);
  });
  page.on('pageerror', (error) => browserErrors.push(`[page error] ${error.stack ?? error.message}`));
}

function saveServerLogs() {
  if (browserErrors.length > 0) writeFileSync(join(artifactsDir, 'browser-errors.log'), `${browserErrors.join('\n')}\n`);
  const { sandbox } = resources;
  if (!sandbox) return;
  if (existsSync(sandbox.serverLog)) cpSync(sandbox.serverLog, join(artifactsDir, 'server.log'));
  const logsDir = join(sandbox.userDataDir, 'logs');
  if (existsSync(logsDir)) cpSync(logsDir, join(artifactsDir, 'vscode-logs'), { recursive: true });
}

/** Waits for `promise` for at most `timeoutMs`, without a timer left behind to keep the process alive. */
async function settleWithin(promise, timeoutMs) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([promise, timeout]);
  clearTimeout(timer);
}

function cleanUp() {
  cleanUpPromise ??= (async () => {
    const { browser, server, sandbox } = resources;
    if (browser) await settleWithin(browser.close().catch(() => {}), 15_000);
    if (server) await server.stop();
    if (!sandbox) return;
    if (process.env.E2E_KEEP_SANDBOX) {
      log(`Sandbox kept at ${sandbox.root}`);
      return;
    }
    try {
      rmSync(sandbox.root, { recursive: true, force: true, maxRetries: 5 });
    } catch (error) {
      log(`[e2e] could not remove ${sandbox.root}: ${error.message}`);
    }
  })();
  return cleanUpPromise;
}

function buildStep(description, command, args) {
  log(`[e2e] ${description}`);
  const result = spawnSync(command, args, { cwd: repositoryRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${description} failed with exit code ${result.status ?? result.signal}`);
}

async function runUiTests(context) {
  const passed = new Set();
  for (const test of allUiTests) {
    if (test.needs && !passed.has(test.needs)) {
      record(test.name, 'skipped', `needs "${test.needs}"`);
      continue;
    }
    const started = Date.now();
    try {
      await test.run(context);
      passed.add(test.name);
      record(test.name, 'passed', undefined, (Date.now() - started) / 1000);
      if (test.screenshot) await screenshot(context.page, test.screenshot);
    } catch (error) {
      record(test.name, 'failed', error.message.split('\n')[0], (Date.now() - started) / 1000);
      if (error.message.includes('\n')) log(error.message.split('\n').slice(1, 12).map((line) => `      ${line}`).join('\n'));
      await screenshot(context.page, `${slug(test.name)}-failure`);
    }
  }
}

async function runSuites(context) {
  const started = Date.now();
  try {
    const suiteResults = await runExtensionHostSuites(context);
    for (const test of suiteResults.tests) {
      const reason = test.state === 'skipped' ? 'skipped in mocha' : test.error?.split('\n')[0];
      record(`extension host > ${test.name}`, test.state, reason);
    }
    if (suiteResults.tests.length === 0) record('extension host suites', 'failed', 'the runner found no tests');
    await screenshot(context.page, 'extension-host-tests');
  } catch (error) {
    record('extension host suites', 'failed', error.message, (Date.now() - started) / 1000);
    await screenshot(context.page, 'extension-host-tests-failure');
  }
}

async function main() {
  const started = Date.now();
  rmSync(artifactsDir, { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });

  let context;
  try {
    // The install blocks the event loop, so the watchdog starts after it; a cold install takes minutes.
    const paths = ensureCodeServer();
    startWatchdog();
    // Packaging builds minified bundles into dist/, so the development build comes after it.
    log('[e2e] packaging the VSIX (npm run package)');
    const { vsix, bytes } = packageVsix(repositoryRoot);
    log(`[e2e] ${vsix}: ${(bytes / 1024 / 1024).toFixed(1)} MB`);
    buildStep(`building ${buildTargets.join(', ')}`, 'node', ['scripts/build.mjs', ...buildTargets]);
    log('[e2e] bundling the extension host tests');
    const testsIndex = await bundleExtensionTests(repositoryRoot);

    resources.sandbox = createSandbox();
    log('[e2e] installing the VSIX into the sandbox');
    await installVsix(paths, resources.sandbox, vsix);
    const extraEnv = { [resultsFileVariable]: resources.sandbox.extensionTestResults };
    resources.server = await startCodeServer({ paths, sandbox: resources.sandbox, extraEnv });
    log(`[e2e] code-server ${resources.server.url} (process group ${resources.server.pid})`);
    resources.browser = await launchBrowser(resources.sandbox);

    const page = resources.browser.pages()[0] ?? await resources.browser.newPage();
    watchBrowserErrors(page);
    context = { page, server: resources.server, sandbox: resources.sandbox, repositoryRoot, testsIndex, log };
    await runUiTests(context);

    // A fresh page gives the suites their own window and extension host.
    await page.close();
    context.page = await resources.browser.newPage();
    watchBrowserErrors(context.page);
    await runSuites(context);
  } catch (error) {
    record('e2e setup', 'failed', error.message);
    await screenshot(context?.page, 'setup-failure');
  } finally {
    const counts = writeCounts();
    if (counts.failed > 0) saveServerLogs();
    await cleanUp();
    log(`[e2e] ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s`);
    process.exitCode = counts.failed > 0 ? 1 : 0;
  }
}

/** Starts the timer that ends a run that exceeds `runTimeoutMs`; it does not keep the process alive. */
function startWatchdog() {
  const watchdog = setTimeout(() => {
    log(`[e2e] the run exceeded ${runTimeoutMs / 60_000} min`);
    record('e2e run', 'failed', `timed out after ${runTimeoutMs / 60_000} min`);
    saveServerLogs();
    writeCounts();
    cleanUp().finally(() => process.exit(1));
  }, runTimeoutMs);
  watchdog.unref();
}

function interrupt(signal) {
  log(`[e2e] ${signal} received; stopping code-server and Chromium`);
  record('e2e run', 'failed', `interrupted by ${signal}`);
  writeCounts();
  cleanUp().finally(() => process.exit(130));
}

process.once('SIGINT', () => interrupt('SIGINT'));
process.once('SIGTERM', () => interrupt('SIGTERM'));
// Last resort when the process exits by another path: no await is possible here, so the group gets SIGKILL.
process.on('exit', () => killProcessGroupNow(resources.server));

await main();
