// A temporary folder that contains everything one e2e run writes: code-server's user data, extensions and config,
// a private HOME and XDG folders, the browser profile, and a small workspace to open.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWideMlp } from './wideModel.mjs';

const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

// Settings that stop the workbench from reaching the network or opening pages that cover the editor area.
const userSettings = {
  'chat.disableAIFeatures': true,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
};

const workspaceFiles = {
  'README.md': '# Sample workspace\n\nOpened by the Checkpoint Aligner end-to-end tests.\n',
  'notes/layers.txt': 'fc1.weight [64, 784]\nfc2.weight [10, 64]\n',
  // A text file with a checkpoint's name: the inspector must show its error and keep working.
  'broken.safetensors': 'This is a text file, not a safetensors checkpoint.\n',
};

/** Fixture files copied to the workspace root, where the Explorer lists them without expanding folders. */
const copiedFixtures = [
  'models/mlp_s0.onnx',
  'models/mlp_s1.onnx',
  'models/mlp_s0.safetensors',
  'models/mlp_s1.safetensors',
  'data/digits_test_flat.npz',
];

/** Hidden units of the wide MLP pair whose alignment runs long enough to be cancelled (about 23 MB per file). */
export const wideHiddenUnits = 2048;

/** Creates the folders under a fresh temporary folder and returns their paths. */
export function createSandbox() {
  const root = mkdtempSync(join(tmpdir(), 'checkpoint-aligner-e2e-'));
  const paths = {
    root,
    home: join(root, 'home'),
    xdgConfig: join(root, 'xdg', 'config'),
    xdgData: join(root, 'xdg', 'data'),
    xdgCache: join(root, 'xdg', 'cache'),
    xdgState: join(root, 'xdg', 'state'),
    userDataDir: join(root, 'user-data'),
    extensionsDir: join(root, 'extensions'),
    configFile: join(root, 'code-server.yaml'),
    browserProfile: join(root, 'browser-profile'),
    workspace: join(root, 'workspace'),
    serverLog: join(root, 'server.log'),
    extensionTestResults: join(root, 'extension-test-results.json'),
  };

  for (const key of ['home', 'xdgConfig', 'xdgData', 'xdgCache', 'xdgState', 'extensionsDir', 'browserProfile', 'workspace']) {
    mkdirSync(paths[key], { recursive: true });
  }
  mkdirSync(join(paths.userDataDir, 'User'), { recursive: true });
  // The evaluation data setting lets the alignment panel compute curves without asking.
  const settings = { ...userSettings, 'checkpointAligner.evaluation.dataFile': join(paths.workspace, 'digits_test_flat.npz') };
  writeFileSync(join(paths.userDataDir, 'User', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  // code-server writes a default config with a random password to the config path when the file is missing.
  writeFileSync(paths.configFile, 'auth: none\ncert: false\n');

  for (const [name, text] of Object.entries(workspaceFiles)) {
    const path = join(paths.workspace, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
  for (const fixture of copiedFixtures) copyFileSync(join(fixturesDir, fixture), join(paths.workspace, fixture.split('/').pop()));
  writeWideMlp(join(paths.workspace, 'wide_s0.safetensors'), wideHiddenUnits, 0);
  writeWideMlp(join(paths.workspace, 'wide_s1.safetensors'), wideHiddenUnits, 1);
  return paths;
}

/** Environment for code-server that keeps HOME and every XDG folder inside the sandbox. */
export function sandboxEnvironment(sandbox, baseEnv) {
  return {
    ...baseEnv,
    HOME: sandbox.home,
    XDG_CONFIG_HOME: sandbox.xdgConfig,
    XDG_DATA_HOME: sandbox.xdgData,
    XDG_CACHE_HOME: sandbox.xdgCache,
    XDG_STATE_HOME: sandbox.xdgState,
  };
}
