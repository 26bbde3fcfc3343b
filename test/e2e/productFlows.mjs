// End-to-end tests of the extension's features: the inspector, Align with… and the alignment panel, cancelling
// an alignment, Merge Checkpoints…, a broken file, Compare Selected Checkpoints, and the packaged VSIX.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workbenchUrl } from './browser.mjs';
import {
  acceptQuickInput, activeWebview, clickNotificationButton, explorerRow, pickQuickInput, runFromCommandPalette,
  runFromExplorerMenu, selectExplorerRows, waitForQuickInputTitle, waitForWorkbench,
} from './workbench.mjs';

const extensionId = 'checkpoint-aligner.checkpoint-aligner';
const paletteTimeoutMs = 90_000;
const webviewTimeoutMs = 90_000;
const workbench = 'workbench loads the workspace';

/** Returns the newest extension host's copy of the extension's log channel file, or '' before it exists. */
function channelLog(userDataDir) {
  const logsDir = join(userDataDir, 'logs');
  if (!existsSync(logsDir)) return '';
  const sessions = readdirSync(logsDir).sort().reverse();
  for (const session of sessions) {
    const hosts = readdirSync(join(logsDir, session)).filter((name) => name.startsWith('exthost'))
      .sort((x, y) => Number(y.slice(7) || 0) - Number(x.slice(7) || 0));
    for (const host of hosts) {
      const path = join(logsDir, session, host, extensionId, 'Checkpoint Aligner.log');
      if (existsSync(path)) return readFileSync(path, 'utf8');
    }
  }
  return '';
}

async function waitForLog(page, userDataDir, pattern, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(channelLog(userDataDir))) return;
    await page.waitForTimeout(500);
  }
  throw new Error(`the log channel shows no line matching ${pattern} within ${timeoutMs / 1000} s`);
}

async function closeAllEditors(page) {
  await runFromCommandPalette(page, 'View: Close All Editors', paletteTimeoutMs);
  await page.locator('.part.editor .tabs-container .tab').first().waitFor({ state: 'detached', timeout: 15_000 }).catch(() => undefined);
}

async function expectInspectorOf(page, fileName) {
  const view = activeWebview(page);
  const heading = view.locator('h1.file-name', { hasText: fileName });
  await heading.waitFor({ state: 'visible', timeout: webviewTimeoutMs });
  // The tree groups tensors by module path, so the `fc1` group stands for fc1.weight and fc1.bias.
  await view.locator('[role="treegrid"]', { hasText: 'fc1' }).first().waitFor({ state: 'visible', timeout: webviewTimeoutMs });
}

/**
 * Types `path` into the simple file dialog that code-server shows for open and save dialogs, and accepts it. The
 * dialog fills in its folder a moment after it opens, which can land after a first fill, so the value is checked.
 */
async function fillSimpleDialog(page, path) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  for (let attempt = 0; attempt < 10; attempt++) {
    await input.fill(path);
    await page.waitForTimeout(400);
    if (await input.inputValue() === path) break;
  }
  await input.press('Enter');
}

function workspaceListing(workspace) {
  return readdirSync(workspace).sort().join('\n');
}

export const productTests = [
  {
    name: 'inspector lists a checkpoint\'s tensors',
    needs: workbench,
    screenshot: 'inspector',
    async run({ page }) {
      await explorerRow(page, 'mlp_s0.safetensors').click();
      await expectInspectorOf(page, 'mlp_s0.safetensors');
      await activeWebview(page).getByText('safetensors', { exact: false }).first().waitFor({ state: 'visible', timeout: 10_000 });
    },
  },
  {
    name: 'Align with… shows heatmaps and curves',
    needs: workbench,
    screenshot: 'alignment-panel',
    async run({ page }) {
      await closeAllEditors(page);
      await runFromExplorerMenu(page, 'mlp_s0.onnx', 'Align with…');
      await waitForQuickInputTitle(page, 'Align with mlp_s0.onnx');
      await pickQuickInput(page, 'mlp_s1.onnx');
      await waitForQuickInputTitle(page, 'Permutation Spec');
      await acceptQuickInput(page);

      const panel = activeWebview(page);
      await panel.getByText('Permutation heatmaps').waitFor({ state: 'visible', timeout: webviewTimeoutMs });
      const heatmaps = await panel.locator('.heatmap-figure canvas').count();
      if (heatmaps < 4) throw new Error(`the panel shows ${heatmaps} heatmap canvases, expected 4 (before and after for P_fc1 and P_fc2)`);
      await panel.locator('canvas.layer-chart').waitFor({ state: 'visible', timeout: 10_000 });
      // The evaluation data setting and A's own ONNX graph let the panel compute the curves without asking.
      await panel.getByText('Loss barrier: naive').waitFor({ state: 'visible', timeout: webviewTimeoutMs });
      await panel.locator('canvas.curve-loss').waitFor({ state: 'visible', timeout: 10_000 });
      // The screenshot taken after the test shows the heatmaps.
      await panel.locator('.heatmap-figure canvas').first().scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'Export report writes JSON and chart PNGs',
    needs: 'Align with… shows heatmaps and curves',
    screenshot: 'alignment-exported',
    async run({ page, sandbox }) {
      const panel = activeWebview(page);
      const lossSize = await panel.locator('canvas.curve-loss').evaluate((canvas) => [canvas.width, canvas.height]);
      // The summary draws the objective per sweep only when weight matching took more than one sweep.
      const sweepChart = await panel.locator('canvas.sparkline').count() > 0;
      await panel.locator('#export-report').click();
      await waitForQuickInputTitle(page, 'Export Alignment Report');
      await acceptQuickInput(page);
      // Charts are written after the JSON, in the panel's order, and the P_fc2 heatmaps come last.
      await waitForLog(page, sandbox.userDataDir, /Exported chart heatmap\.P_fc2\.after .* to \S+heatmap\.P_fc2\.after\.png/, 30_000);

      const base = join(sandbox.workspace, 'mlp_s1_onto_mlp_s0.alignment');
      const report = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
      if (!report.report?.permutations?.P_fc1) throw new Error(`${base}.json has no report.permutations.P_fc1`);
      const charts = [...(sweepChart ? ['objective-per-sweep'] : []), 'loss', 'accuracy', 'layer-similarity', 'heatmap.P_fc1.before', 'heatmap.P_fc1.after', 'heatmap.P_fc2.before', 'heatmap.P_fc2.after'];
      for (const chart of charts) {
        const png = readFileSync(`${base}.${chart}.png`);
        if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error(`${base}.${chart}.png does not start with the PNG signature`);
        // IHDR, the first chunk, contains width and height as big-endian uint32 at bytes 16 and 20.
        if (chart === 'loss' && (png.readUInt32BE(16) !== lossSize[0] || png.readUInt32BE(20) !== lossSize[1])) {
          throw new Error(`the loss PNG is ${png.readUInt32BE(16)}×${png.readUInt32BE(20)}, expected the canvas size ${lossSize.join('×')}`);
        }
      }
    },
  },
  {
    name: 'Cancel stops a running alignment',
    needs: workbench,
    screenshot: 'alignment-cancelled',
    async run({ page, sandbox }) {
      await closeAllEditors(page);
      const before = workspaceListing(sandbox.workspace);
      await runFromExplorerMenu(page, 'wide_s0.safetensors', 'Align with…');
      await waitForQuickInputTitle(page, 'Align with wide_s0.safetensors');
      await pickQuickInput(page, 'wide_s1.safetensors');
      await waitForQuickInputTitle(page, 'Permutation Spec');
      await acceptQuickInput(page);

      await waitForLog(page, sandbox.userDataDir, /\(alignView\) started: \S*wide_s1\.safetensors/, 30_000);
      await clickNotificationButton(page, 'Aligning wide_s1.safetensors onto wide_s0.safetensors', 'Cancel');
      await waitForLog(page, sandbox.userDataDir, /\(alignView\) cancelled after/, 60_000);

      const panels = await page.locator('.tabs-container .tab', { hasText: 'Alignment:' }).count();
      if (panels > 0) throw new Error('an alignment panel opened although the alignment was cancelled');
      const after = workspaceListing(sandbox.workspace);
      if (after !== before) throw new Error(`the workspace changed after the cancelled alignment:\n${after}`);
    },
  },
  {
    name: 'Merge Checkpoints… writes a file the inspector opens',
    needs: workbench,
    screenshot: 'merged-inspector',
    async run({ page, sandbox }) {
      await closeAllEditors(page);
      await selectExplorerRows(page, ['mlp_s0.safetensors', 'mlp_s1.safetensors']);
      await runFromExplorerMenu(page, 'mlp_s1.safetensors', 'Merge Checkpoints…');
      await waitForQuickInputTitle(page, 'Merge: weight λ');
      await acceptQuickInput(page);
      await waitForQuickInputTitle(page, 'Merge: alignment');
      await acceptQuickInput(page);
      await waitForQuickInputTitle(page, 'Merged Checkpoint');
      await acceptQuickInput(page);

      await clickNotificationButton(page, 'Merged 2 checkpoints', 'Open', 90_000);
      const merged = readdirSync(sandbox.workspace).find((name) => /^mlp_s[01]_merged\.safetensors$/.test(name));
      if (!merged) throw new Error(`no merged file in the workspace: ${readdirSync(sandbox.workspace).join(', ')}`);
      await expectInspectorOf(page, merged);
    },
  },
  {
    name: 'broken file shows its error in the inspector',
    needs: workbench,
    screenshot: 'inspector-error',
    async run({ page }) {
      await closeAllEditors(page);
      await explorerRow(page, 'broken.safetensors').click();
      const banner = activeWebview(page).locator('.banner-error');
      await banner.waitFor({ state: 'visible', timeout: webviewTimeoutMs });
      const text = await banner.innerText();
      if (!text.includes('broken.safetensors')) throw new Error(`the error banner does not name the file: "${text}"`);

      // The editor keeps working: another checkpoint opens normally afterwards.
      await explorerRow(page, 'mlp_s1.safetensors').dblclick();
      await expectInspectorOf(page, 'mlp_s1.safetensors');
      await explorerRow(page, 'broken.safetensors').click();
      await activeWebview(page).locator('.banner-error').waitFor({ state: 'visible', timeout: webviewTimeoutMs });
    },
  },
  {
    name: 'Compare Selected Checkpoints shows the table',
    needs: workbench,
    screenshot: 'compare-panel',
    async run({ page }) {
      await closeAllEditors(page);
      await selectExplorerRows(page, ['mlp_s0.safetensors', 'mlp_s1.safetensors']);
      await runFromExplorerMenu(page, 'mlp_s1.safetensors', 'Compare Selected Checkpoints');

      const panel = activeWebview(page);
      const table = panel.locator('table.compare');
      await table.waitFor({ state: 'visible', timeout: webviewTimeoutMs });
      const rows = await table.locator('tbody tr').count();
      if (rows !== 6) throw new Error(`the table lists ${rows} tensors, expected the 6 of the MLP`);
      await table.locator('tbody tr', { hasText: 'fc1.weight' }).first().waitFor({ state: 'visible', timeout: 5_000 });

      await table.locator('button.sort', { hasText: 'Rel. L2' }).click();
      const sort = await table.locator('th', { hasText: 'Rel. L2' }).getAttribute('aria-sort');
      if (sort !== 'ascending') throw new Error(`after one click the Rel. L2 column is sorted "${sort}", expected ascending`);
      await panel.locator('input[type="search"]').fill('fc2');
      const filtered = await table.locator('tbody tr').count();
      if (filtered !== 2) throw new Error(`filtering by "fc2" leaves ${filtered} rows, expected 2`);
    },
  },
  {
    name: 'Align Selected asks for a graph',
    needs: workbench,
    screenshot: 'alignment-graph-chosen',
    async run({ page, sandbox }) {
      await closeAllEditors(page);
      await selectExplorerRows(page, ['mlp_s0.safetensors', 'mlp_s1.safetensors']);
      await runFromExplorerMenu(page, 'mlp_s1.safetensors', 'Align Selected Checkpoints');
      await waitForQuickInputTitle(page, 'Permutation Spec');
      await acceptQuickInput(page);

      // Neither file is ONNX and no graph was chosen yet, so the panel offers "Choose ONNX model…".
      const panel = activeWebview(page);
      await panel.getByText('Interpolation curves need an ONNX model').waitFor({ state: 'visible', timeout: webviewTimeoutMs });
      await page.screenshot({ path: join('test-output', 'e2e', 'alignment-needs-graph.png') });

      await panel.locator('#choose-graph').click();
      await waitForQuickInputTitle(page, 'ONNX model of the architecture');
      await fillSimpleDialog(page, join(sandbox.workspace, 'mlp_s0.onnx'));
      await panel.getByText('Loss barrier: naive').waitFor({ state: 'visible', timeout: webviewTimeoutMs });
      await panel.locator('canvas.curve-loss').scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'alignment panel restores after reload',
    needs: 'Align Selected asks for a graph',
    screenshot: 'alignment-restored',
    async run({ page }) {
      // "Reload Window" shuts the workbench down properly, so it saves the open editors and the webview's state,
      // which a plain page reload was seen to lose.
      await runFromCommandPalette(page, 'Developer: Reload Window', paletteTimeoutMs);
      await page.waitForLoadState('load');
      await waitForWorkbench(page, 'README.md', 180_000);
      await page.locator('.tabs-container .tab', { hasText: 'Alignment:' }).first().waitFor({ state: 'visible', timeout: 60_000 });
      const panel = activeWebview(page);
      await panel.getByText('Permutation heatmaps').waitFor({ state: 'visible', timeout: webviewTimeoutMs });
      // The graph chosen before the reload is remembered for this workspace, so the curves come back too.
      await panel.getByText('Loss barrier: naive').waitFor({ state: 'visible', timeout: webviewTimeoutMs });
      await panel.locator('canvas.curve-loss').scrollIntoViewIfNeeded();
    },
  },
];

/** Runs in a window without extensionDevelopmentPath, where the extension comes from the installed VSIX. */
export const vsixTest = {
  name: 'installed VSIX activates and opens the inspector',
  screenshot: 'vsix-inspector',
  async run({ page, server, sandbox }) {
    await page.goto(workbenchUrl(server, sandbox.workspace, []));
    await waitForWorkbench(page, 'README.md', 180_000);
    await runFromCommandPalette(page, 'Checkpoint Aligner: Show Log', paletteTimeoutMs);
    // An installed extension runs in Production mode; one loaded from the working tree in Development mode.
    await waitForLog(page, sandbox.userDataDir, /activated \(.*Production mode\)/, 60_000);
    await explorerRow(page, 'mlp_s1.onnx').click();
    await expectInspectorOf(page, 'mlp_s1.onnx');
  },
};
