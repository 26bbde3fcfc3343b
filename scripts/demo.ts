// `npm run demo`: aligns the bundled MLP pair (two seeds trained on scikit-learn's digits), evaluates the loss
// along the straight line between them with and without alignment, and writes demo-output/report.json,
// demo-output/curves.json, demo-output/report.html and the aligned model demo-output/mlp_s1_aligned.safetensors.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderAlignReportHtml, type AlignReportSummary, type CurvesSummary } from '../src/cli/reportHtml';

const outputDir = 'demo-output';
const modelA = 'test/fixtures/models/mlp_s0.safetensors';
const modelB = 'test/fixtures/models/mlp_s1.safetensors';
const graph = 'test/fixtures/models/mlp_s0.onnx';
const data = 'test/fixtures/data/digits_test_flat.npz';
const report = join(outputDir, 'report.json');
const curves = join(outputDir, 'curves.json');
const aligned = join(outputDir, 'mlp_s1_aligned.safetensors');
const html = join(outputDir, 'report.html');

mkdirSync(outputDir, { recursive: true });
// The aligned model from an earlier run is replaced; it is an output, never an input.
rmSync(aligned, { force: true });

function run(command: string, args: string[]): void {
  console.log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run('node', ['scripts/build.mjs', 'cli']);
run('node', ['dist/cli.js', 'align', modelA, modelB, '--out', report, '--write-aligned', aligned]);
console.log('');
run('node', ['dist/cli.js', 'eval', modelA, modelB, '--graph', graph, '--data', data, '--out', curves]);

const summary = JSON.parse(readFileSync(report, 'utf8')) as AlignReportSummary;
const curveSummary = JSON.parse(readFileSync(curves, 'utf8')) as CurvesSummary;
writeFileSync(html, renderAlignReportHtml(summary, curveSummary));
console.log(`\nWrote ${report}, ${curves}, ${html} and ${aligned}.`);
