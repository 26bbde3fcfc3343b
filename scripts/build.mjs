// Bundles the extension host, the worker thread, the command line and the webview with esbuild.
// Usage: node scripts/build.mjs [--watch] [--production] [TARGET ...], TARGET one of the keys of `targets`.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const nodeTarget = { platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'onnxruntime-node'] };

const targets = {
  extension: { entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', ...nodeTarget },
  worker: { entryPoints: ['src/worker/worker.ts'], outfile: 'dist/worker.js', ...nodeTarget },
  cli: { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', ...nodeTarget },
  webview: { entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2022' },
};

const args = process.argv.slice(2);
const watch = args.includes('--watch');
const production = args.includes('--production');
const requested = args.filter((arg) => !arg.startsWith('--'));
const names = requested.length > 0 ? requested : Object.keys(targets);

for (const name of names) {
  const options = targets[name];
  if (!options) {
    console.error(`Unknown build target "${name}"; expected one of ${Object.keys(targets).join(', ')}.`);
    process.exit(2);
  }
  // Targets whose entry point has not been written yet are skipped, so a partial tree still builds.
  if (!existsSync(options.entryPoints[0])) continue;

  const config = { ...options, bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };
  if (watch) {
    const context = await esbuild.context(config);
    await context.watch();
  } else {
    await esbuild.build(config);
  }
}
