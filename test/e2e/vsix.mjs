// Packages the extension as a VSIX with `npm run package` and installs it into the sandbox's code-server, so
// packaging mistakes (a file left out, a missing native binary) fail the end-to-end run.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxEnvironment } from './sandbox.mjs';
import { closedGallery, findFreePort } from './server.mjs';

/** Name that `npm run package` gives the VSIX in the repository root. */
export const vsixName = 'checkpoint-aligner-linux-x64.vsix';

/** Runs `npm run package` and returns the VSIX path and its size in bytes. */
export function packageVsix(repositoryRoot) {
  const result = spawnSync('npm', ['run', 'package'], { cwd: repositoryRoot, encoding: 'utf8' });
  const vsix = join(repositoryRoot, vsixName);
  if (result.status !== 0 || !existsSync(vsix)) {
    throw new Error(`npm run package failed with exit code ${result.status}:\n${(result.stdout + result.stderr).split('\n').slice(-15).join('\n')}`);
  }
  return { vsix, bytes: statSync(vsix).size };
}

/** Installs `vsix` with code-server's own CLI into the sandbox's extensions folder, before the server starts. */
export async function installVsix(paths, sandbox, vsix) {
  const args = [
    paths.entryScript,
    '--install-extension', vsix,
    '--extensions-dir', sandbox.extensionsDir,
    '--user-data-dir', sandbox.userDataDir,
    '--config', sandbox.configFile,
  ];
  const env = {
    ...sandboxEnvironment(sandbox, process.env),
    PATH: `${paths.nodeBinDir}:${process.env.PATH ?? ''}`,
    EXTENSIONS_GALLERY: closedGallery(await findFreePort()),
  };
  const result = spawnSync(paths.nodeBinary, args, { env, encoding: 'utf8', timeout: 120_000 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0 || !/successfully installed/i.test(output)) {
    throw new Error(`code-server --install-extension ${vsix} failed (exit code ${result.status ?? result.signal}): ${output.trim().split('\n').slice(-5).join(' | ')}`);
  }
}
