// Mocha runner that VS Code's extension host loads through `extensionTestsPath`. The host's exit code does not
// carry the outcome (code-server's extension host exits with 0 even when a test fails), so the runner writes the
// results to a JSON file that the launching script reads.
import Mocha from 'mocha';
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Environment variable naming the results file; without it the file is `results.json` beside this bundle. */
export const resultsFileVariable = 'CHECKPOINT_ALIGNER_TEST_RESULTS';

export interface ExtensionTestResults {
  passed: number;
  failed: number;
  skipped: number;
  /** Every test and failed hook, in run order; `error` is set for failures. */
  tests: { name: string; state: 'passed' | 'failed' | 'skipped'; error?: string }[];
}

function writeResults(file: string, results: ExtensionTestResults): void {
  // Rename from a temporary file so the reader never sees a half-written file.
  const temporaryFile = `${file}.${process.pid}.tmp`;
  writeFileSync(temporaryFile, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(temporaryFile, file);
}

function runMocha(mocha: Mocha, results: ExtensionTestResults): Promise<void> {
  return new Promise((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (test) => {
      results.passed++;
      results.tests.push({ name: test.fullTitle(), state: 'passed' });
    });
    runner.on('pending', (test) => {
      results.skipped++;
      results.tests.push({ name: test.fullTitle(), state: 'skipped' });
    });
    // Also fires for a failed hook, whose tests then never run: counting it keeps that failure visible.
    runner.on('fail', (test, error) => {
      results.failed++;
      results.tests.push({ name: test.fullTitle(), state: 'failed', error: error.stack ?? error.message });
    });
  });
}

/** Runs every `*.test.js` bundle beside this file, writes the results file, and throws when a test failed. */
export async function run(): Promise<void> {
  const resultsFile = process.env[resultsFileVariable] ?? join(__dirname, 'results.json');
  const results: ExtensionTestResults = { passed: 0, failed: 0, skipped: 0, tests: [] };

  try {
    const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000 });
    const testFiles = readdirSync(__dirname).filter((name) => name.endsWith('.test.js')).sort();
    if (testFiles.length === 0) throw new Error(`no *.test.js files in ${__dirname}; build the extension tests first`);
    for (const name of testFiles) mocha.addFile(join(__dirname, name));
    await runMocha(mocha, results);
  } catch (error) {
    // A test file that throws while loading stops mocha before any test runs.
    results.failed++;
    results.tests.push({ name: 'loading the extension tests', state: 'failed', error: String((error as Error).stack ?? error) });
  }

  writeResults(resultsFile, results);
  if (results.failed > 0) throw new Error(`${results.failed} extension host test(s) failed; see ${resultsFile}`);
}
