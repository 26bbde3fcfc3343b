// Bundles the mocha suites under test/extension and runs them inside code-server's extension host.
import * as esbuild from 'esbuild';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const testsOutDir = 'out/extension-tests';
export const resultsFileVariable = 'CHECKPOINT_ALIGNER_TEST_RESULTS';

/** Bundles test/extension/index.ts and every test/extension/*.test.ts into `testsOutDir`, replacing old bundles. */
export async function bundleExtensionTests(repositoryRoot) {
  const sourceDir = join(repositoryRoot, 'test', 'extension');
  const entryPoints = readdirSync(sourceDir)
    .filter((name) => name === 'index.ts' || name.endsWith('.test.ts'))
    .map((name) => join(sourceDir, name));
  const outdir = join(repositoryRoot, testsOutDir);
  rmSync(outdir, { recursive: true, force: true });

  await esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    // The extension host provides `vscode`; mocha loads the test files by path, so it stays one shared copy.
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return join(outdir, 'index.js');
}

/** Polls `resultsFile` until the runner in the extension host has written it, and returns its contents. */
export async function waitForResults(resultsFile, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(resultsFile)) return JSON.parse(readFileSync(resultsFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the extension host wrote no results to ${resultsFile} within ${timeoutMs / 1000} s`);
}
