// Runs the extension host suites of test/extension in desktop VS Code (Electron) with @vscode/test-electron.
// It downloads VS Code from Microsoft's update server into .cache/vscode-test, so it needs that server. Where the
// server is unreachable, `npm run test:e2e` runs the same suites in code-server instead.
// Usage: node test/electron/run.mjs
//   VSCODE_TEST_VERSION       VS Code version to download: 'stable' (default), 'insiders' or e.g. '1.95.0'
//   VSCODE_EXECUTABLE_PATH    use this VS Code executable instead of downloading one
// On Linux without a display, run it under `xvfb-run -a`.
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleExtensionTests, resultsFileVariable } from '../e2e/extensionHostTests.mjs';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const version = process.env.VSCODE_TEST_VERSION ?? 'stable';
const cachePath = join(repositoryRoot, '.cache', 'vscode-test');
// The download's idle timeout (no data for this long) and a bound on the whole download.
const downloadIdleTimeoutMs = 30_000;
const downloadTimeoutMs = 10 * 60_000;

async function downloadVSCode() {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${downloadTimeoutMs / 60_000} min`)), downloadTimeoutMs);
  });
  try {
    return await Promise.race([
      downloadAndUnzipVSCode({ version, cachePath, timeout: downloadIdleTimeoutMs }),
      deadline,
    ]);
  } catch (error) {
    throw new Error(`Downloading VS Code ${version} from update.code.visualstudio.com failed: ${error.message}. ` +
      'This machine may not reach Microsoft\'s update server. Set VSCODE_EXECUTABLE_PATH to an installed VS Code, ' +
      'or run `npm run test:e2e`, which runs the same suites in code-server from the npm registry.');
  } finally {
    clearTimeout(timer);
  }
}

function printResults(resultsFile) {
  if (!existsSync(resultsFile)) {
    console.error(`The extension host wrote no results to ${resultsFile}. See VS Code's output above.`);
    return false;
  }
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  for (const test of results.tests) {
    const mark = { passed: '✓', failed: '✗', skipped: '-' }[test.state];
    console.log(`  ${mark} ${test.name}${test.error ? `: ${test.error.split('\n')[0]}` : ''}`);
  }
  console.log(`${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped`);
  return results.failed === 0 && results.tests.length > 0;
}

async function main() {
  const build = spawnSync('node', ['scripts/build.mjs', 'extension'], { cwd: repositoryRoot, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building the extension failed; see the esbuild output above');
  const testsIndex = await bundleExtensionTests(repositoryRoot);

  const vscodeExecutablePath = process.env.VSCODE_EXECUTABLE_PATH ?? await downloadVSCode();

  const sandbox = mkdtempSync(join(tmpdir(), 'checkpoint-aligner-electron-'));
  const workspace = join(sandbox, 'workspace');
  mkdirSync(workspace);
  writeFileSync(join(workspace, 'README.md'), '# Sample workspace\n');
  const resultsFile = join(sandbox, 'results.json');

  try {
    await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: repositoryRoot,
      extensionTestsPath: testsIndex,
      extensionTestsEnv: { [resultsFileVariable]: resultsFile },
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--user-data-dir', join(sandbox, 'user-data'),
        '--extensions-dir', join(sandbox, 'extensions'),
      ],
    });
  } catch (error) {
    // runTests rejects when VS Code exits non-zero, which includes failed tests. The results file lists which.
    console.error(`VS Code exited with an error: ${error.message}`);
  }

  const passed = printResults(resultsFile);
  rmSync(sandbox, { recursive: true, force: true });
  return passed;
}

try {
  process.exitCode = (await main()) ? 0 : 1;
} catch (error) {
  console.error(error.message);
  // Exits at once, because a download that timed out may still hold a socket open.
  process.exit(1);
}
