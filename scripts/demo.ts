// `npm run demo`: aligns the bundled MLP pair (two seeds trained on scikit-learn's digits) and writes
// demo-output/report.json, demo-output/report.html and the aligned model demo-output/mlp_s1_aligned.safetensors.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderAlignReportHtml, type AlignReportSummary } from '../src/cli/reportHtml';

const outputDir = 'demo-output';
const modelA = 'test/fixtures/models/mlp_s0.safetensors';
const modelB = 'test/fixtures/models/mlp_s1.safetensors';
const report = join(outputDir, 'report.json');
const aligned = join(outputDir, 'mlp_s1_aligned.safetensors');
const html = join(outputDir, 'report.html');

mkdirSync(outputDir, { recursive: true });
// The aligned model is rewritten on every run; the writer refuses nothing here because it is no input.
rmSync(aligned, { force: true });

function run(command: string, args: string[]): void {
  console.log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run('node', ['scripts/build.mjs', 'cli']);
run('node', ['dist/cli.js', 'align', modelA, modelB, '--order', 'sorted', '--out', report, '--write-aligned', aligned]);

const summary = JSON.parse(readFileSync(report, 'utf8')) as AlignReportSummary;
writeFileSync(html, renderAlignReportHtml(summary));
console.log(`\nWrote ${report}, ${html} and ${aligned}.`);
