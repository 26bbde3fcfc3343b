// Runs the whole test suite: type check, lint, build, unit tests, the webview tests in Chromium, then the tests
// in a real VS Code.
// Ends with one line of counts, `N passed, N failed`, and exits non-zero when anything failed.
// Usage: node scripts/test.mjs [--unit-only] [FILE ...]  (FILE limits the unit tests to those files)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit-only');
const requestedFiles = args.filter((arg) => !arg.startsWith('--'));
const outputDir = 'test-output';
mkdirSync(outputDir, { recursive: true });

const totals = { passed: 0, failed: 0, skipped: 0 };
const failedSteps = [];

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit' });
  return result.status === 0;
}

/** Runs a step without counts of its own (type check, lint, build), which counts as one check. */
function checkStep(name, command, commandArgs) {
  console.log(`\n== ${name}`);
  if (run(command, commandArgs)) totals.passed++;
  else {
    totals.failed++;
    failedSteps.push(name);
  }
}

/** Runs a step whose runner writes `{ passed, failed, skipped }` to `countsFile`, and adds those counts. */
function countedStep(name, countsFile, command, commandArgs) {
  console.log(`\n== ${name}`);
  rmSync(countsFile, { force: true });
  const exitedCleanly = run(command, commandArgs);
  if (!existsSync(countsFile)) {
    totals.failed++;
    failedSteps.push(`${name} (no results written)`);
    return;
  }
  const counts = JSON.parse(readFileSync(countsFile, 'utf8'));
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped ?? 0;
  for (const failure of counts.failures ?? []) console.log(`  failed: ${failure}`);
  if (counts.failed > 0) failedSteps.push(name);
  else if (!exitedCleanly) {
    totals.failed++;
    failedSteps.push(`${name} (runner exited with an error)`);
  }
}

function findTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  }).sort();
}

checkStep('type check', 'npx', ['tsc', '--noEmit', '-p', '.']);
checkStep('lint', 'npx', ['eslint', '.']);
checkStep('WebAssembly kernels match their source', 'node', ['scripts/assemble-wasm.mjs', '--check']);
checkStep('build', 'node', ['scripts/build.mjs']);

const unitFiles = requestedFiles.length > 0 ? requestedFiles : findTests('test/unit');
const unitCounts = join(outputDir, 'unit-counts.json');
countedStep('unit tests', unitCounts, 'node', [
  '--import', 'tsx', '--test',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=./scripts/count-reporter.mjs', `--test-reporter-destination=${unitCounts}`,
  ...unitFiles,
]);

if (!unitOnly && existsSync('test/webview/run.mjs')) {
  countedStep('webview tests in Chromium', join(outputDir, 'webview-counts.json'), 'node', ['test/webview/run.mjs']);
}

if (!unitOnly && existsSync('test/e2e/run.mjs')) {
  countedStep('tests in a real VS Code', join(outputDir, 'e2e-counts.json'), 'node', ['test/e2e/run.mjs']);
}

if (failedSteps.length > 0) console.log(`\nFailed steps: ${failedSteps.join(', ')}`);
const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : '';
console.log(`\n${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(totals.failed > 0 ? 1 : 0);
