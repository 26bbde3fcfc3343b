// Alignment panel cases, run by run.mjs in headless Chromium.
/* global window, getComputedStyle, sessionStorage -- in code that runs in the page */
import assert from 'node:assert/strict';
import { curvesMessage, postAlignmentReportInPage } from './data.mjs';
import { openView, post, posted, settle, waitForReady } from './harness.mjs';
import { colorPosition, countPixelsNear, pixelAt, resolveColor } from './pixels.mjs';

async function openAlignment(ctx, n = 64, gaussian = false) {
  const tab = await openView(ctx.context, ctx.origin, 'alignment');
  const perm = await tab.evaluate(postAlignmentReportInPage, { n, gaussian });
  await tab.waitForSelector('canvas.heatmap-after');
  await settle(tab);
  return { tab, perm };
}

/** Mean colour-scale position (0 background, 1 charts-blue) of the cells (i, column(i)) of a heatmap. */
async function meanPosition(tab, selector, n, column) {
  const background = await resolveColor(tab, 'var(--vscode-editor-background)');
  const blue = await resolveColor(tab, 'var(--vscode-charts-blue)');
  const size = await tab.$eval(selector, (canvas) => canvas.width);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = Math.floor(((column(i) + 0.5) * size) / n);
    const y = Math.floor(((i + 0.5) * size) / n);
    total += colorPosition(await pixelAt(tab, selector, x, y), background, blue);
  }
  return total / n;
}

export const alignmentCases = [
  ['heatmap diagonal brighter after alignment', async (ctx) => {
    const n = 64;
    const { tab, perm } = await openAlignment(ctx, n);
    const after = 'canvas.heatmap-after[data-permutation="P_fc1"]';
    const before = 'canvas.heatmap-before[data-permutation="P_fc1"]';
    const diagonalAfter = await meanPosition(tab, after, n, (i) => i);
    const offDiagonalAfter = await meanPosition(tab, after, n, (i) => (i + n / 2) % n);
    const diagonalBefore = await meanPosition(tab, before, n, (i) => i);
    const matchedBefore = await meanPosition(tab, before, n, (i) => perm[i]);
    assert.ok(diagonalAfter > 0.85, `diagonal after alignment at ${diagonalAfter.toFixed(2)} of the colour scale`);
    assert.ok(offDiagonalAfter < 0.35, `off-diagonal after alignment at ${offDiagonalAfter.toFixed(2)}`);
    assert.ok(diagonalBefore < 0.5, `diagonal before alignment at ${diagonalBefore.toFixed(2)}`);
    assert.ok(matchedBefore > 0.85, `matched cells (i, perm[i]) before alignment at ${matchedBefore.toFixed(2)}`);
    ctx.close(tab);
  }],

  ['heatmap diagonal stands out on N(0, 1) similarities', async (ctx) => {
    // Off-diagonal cells from N(0, 1) and matched cells 3 higher: a min-to-max scale puts the aligned diagonal
    // near 0.75 of the scale and the rest near 0.4, while clipping at the 1st and 99th percentiles separates them.
    const n = 64;
    const { tab, perm } = await openAlignment(ctx, n, true);
    const after = 'canvas.heatmap-after[data-permutation="P_fc1"]';
    const before = 'canvas.heatmap-before[data-permutation="P_fc1"]';
    const diagonalAfter = await meanPosition(tab, after, n, (i) => i);
    const offDiagonalAfter = await meanPosition(tab, after, n, (i) => (i + n / 2) % n);
    const diagonalBefore = await meanPosition(tab, before, n, (i) => i);
    const matchedBefore = await meanPosition(tab, before, n, (i) => perm[i]);
    assert.ok(diagonalAfter > 0.85, `diagonal after alignment at ${diagonalAfter.toFixed(2)} of the colour scale`);
    assert.ok(diagonalAfter - offDiagonalAfter > 0.4, `diagonal ${diagonalAfter.toFixed(2)} vs off-diagonal ${offDiagonalAfter.toFixed(2)} after alignment`);
    assert.ok(diagonalBefore < 0.6, `diagonal before alignment at ${diagonalBefore.toFixed(2)}`);
    // Before and after share one scale, so the same cells paint in the same colours in both.
    assert.ok(Math.abs(matchedBefore - diagonalAfter) < 0.02, `matched cells before at ${matchedBefore.toFixed(2)}, after at ${diagonalAfter.toFixed(2)}`);

    const pair = tab.locator('.heatmap-pair', { has: tab.locator(after) });
    const high = await pair.locator('.legend-high').textContent();
    const low = await pair.locator('.legend-low').textContent();
    assert.match(high, /^≥ /, 'the legend marks the clipped top');
    assert.match(low, /^≤ /, 'the legend marks the clipped bottom');
    const highValue = Number(high.slice(2));
    const lowValue = Number(low.slice(2));
    assert.ok(highValue > 2, `99th percentile ${highValue} is above most of the N(0, 1) noise`);
    assert.ok(highValue < 4, `99th percentile ${highValue} is below the largest matched cells`);
    assert.ok(lowValue > -3, `1st percentile ${lowValue} is near the N(0, 1) 1st percentile −2.33`);
    assert.ok(lowValue < -1.5, `1st percentile ${lowValue} is near the N(0, 1) 1st percentile −2.33`);
    assert.match(await pair.locator('.heatmap-clipping').textContent(), /1st and 99th percentiles/);
    await ctx.screenshot(tab, 'alignment-gaussian-heatmap', true);
    ctx.close(tab);
  }],

  ['heatmap hover names A and B units', async (ctx) => {
    const n = 64;
    const { tab, perm } = await openAlignment(ctx, n);
    const canvas = tab.locator('canvas.heatmap-after[data-permutation="P_fc1"]');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    const cell = box.width / n;
    await tab.mouse.move(box.x + 5.5 * cell, box.y + 5.5 * cell);
    const text = await tab.textContent('.heatmap-pair:first-child .heatmap-readout');
    assert.match(text, new RegExp(`A unit 5, B unit ${perm[5]} \\(aligned unit 5\\): similarity 0\\.9`));
    ctx.close(tab);
  }],

  ['block max keeps one hot cell of 16 384', async (ctx) => {
    const tab = await openView(ctx.context, ctx.origin, 'alignment');
    const n = 16384;
    const hot = { row: 12345, column: 6789 };
    await tab.evaluate(({ n, hot }) => {
      // 1 GiB of float32, transferred rather than copied; `before` and `after` share it.
      const matrix = new Float32Array(n * n);
      matrix[hot.row * n + hot.column] = 1;
      const report = {
        a: 'a.safetensors', b: 'b.safetensors',
        spec: { source: 'file: wide.permspec.json', permutations: { P_wide: n } },
        permutations: {}, objective: { before: 0, after: 1, perSweep: [1] }, sweeps: 1,
        distance: { before: 1, after: 1 }, layers: [], executionProvider: 'cpu', seconds: {},
      };
      window.postMessage({ type: 'alignmentReport', report, heatmaps: [{ permutation: 'P_wide', n, size: n, before: matrix, after: matrix }] }, '*', [matrix.buffer]);
    }, { n, hot });
    await tab.waitForSelector('canvas.heatmap-after', { timeout: 60000 });
    await settle(tab);

    const selector = 'canvas.heatmap-before';
    const size = await tab.$eval(selector, (canvas) => canvas.width);
    const background = await resolveColor(tab, 'var(--vscode-editor-background)');
    const blue = await resolveColor(tab, 'var(--vscode-charts-blue)');
    const x = Math.floor((hot.column * size) / n);
    const y = Math.floor((hot.row * size) / n);
    const hotPixel = colorPosition(await pixelAt(tab, selector, x, y), background, blue);
    assert.ok(hotPixel > 0.95, `pixel (${x}, ${y}) holding the hot cell is at ${hotPixel.toFixed(2)} of the colour scale`);
    const bluePixels = await countPixelsNear(tab, selector, 'var(--vscode-charts-blue)', 20);
    assert.ok(bluePixels >= 1, `${bluePixels} hot pixels, expected at least one`);
    assert.ok(bluePixels <= 4, `${bluePixels} hot pixels, expected only the hot cell's pixel`);
    const elsewhere = colorPosition(await pixelAt(tab, selector, (x + size / 2) % size, y), background, blue);
    assert.ok(elsewhere < 0.05, `other pixels stay at the background (${elsewhere.toFixed(2)})`);
    assert.match(await tab.textContent('.heatmap-pair'), /maximum of the block/);
    ctx.close(tab);
  }],

  ['curves draw with barriers', async (ctx) => {
    const { tab } = await openAlignment(ctx);
    await post(tab, curvesMessage({ maxAbsLogitDiff: 2e-6, tolerance: 1e-4 }));
    await tab.waitForSelector('canvas.curve-loss');
    await settle(tab);
    const orange = await countPixelsNear(tab, 'canvas.curve-loss', 'var(--vscode-charts-orange)', 30);
    const blue = await countPixelsNear(tab, 'canvas.curve-loss', 'var(--vscode-charts-blue)', 30);
    assert.ok(orange > 300, `naive loss curve: ${orange} orange pixels`);
    assert.ok(blue > 300, `aligned loss curve: ${blue} blue pixels`);
    const accuracyBlue = await countPixelsNear(tab, 'canvas.curve-accuracy', 'var(--vscode-charts-blue)', 30);
    assert.ok(accuracyBlue > 300, `aligned accuracy curve: ${accuracyBlue} blue pixels`);
    const text = await tab.textContent('.curves-card');
    assert.match(text, /naive 0\.9, aligned 0\.06/);
    assert.match(text, /BatchNorm reset/);
    assert.match(await tab.textContent('.summary-card'), /Equivalence check passed/);
    assert.equal(await tab.$('.equivalence-failed'), null);
    ctx.close(tab);
  }],

  ['missing inputs offer graph and data buttons', async (ctx) => {
    const { tab } = await openAlignment(ctx);
    await post(tab, { type: 'needsEvaluationInputs', graph: true, data: true });
    await tab.waitForSelector('#choose-graph');
    assert.match(await tab.textContent('.missing-inputs'), /ONNX model.*data file/);
    await tab.click('#choose-graph');
    await tab.click('#choose-data');
    const types = (await posted(tab)).map((message) => message.type);
    assert.ok(types.includes('chooseGraph'));
    assert.ok(types.includes('chooseData'));
    await post(tab, { type: 'needsEvaluationInputs', graph: false, data: true });
    await settle(tab);
    assert.equal(await tab.$('#choose-graph'), null, 'no graph button when only data is missing');
    ctx.close(tab);
  }],

  ['failed equivalence check shows warning', async (ctx) => {
    const { tab } = await openAlignment(ctx);
    await post(tab, curvesMessage({ maxAbsLogitDiff: 0.031, tolerance: 1e-4 }));
    await tab.waitForSelector('.equivalence-failed');
    assert.equal(await tab.getAttribute('.equivalence-failed', 'role'), 'alert');
    assert.match(await tab.textContent('.equivalence-failed'), /failed.*0\.031/s);
    const background = await tab.$eval('.equivalence-failed', (box) => getComputedStyle(box).backgroundColor);
    const warning = await resolveColor(tab, 'var(--vscode-inputValidation-warningBackground)');
    assert.equal(background, `rgb(${warning.join(', ')})`);
    await ctx.screenshot(tab, 'alignment-equivalence-failed');
    ctx.close(tab);
  }],

  ['actions post merge, write and export', async (ctx) => {
    const { tab } = await openAlignment(ctx);
    await tab.focus('#lambda-slider');
    await tab.keyboard.press('ArrowRight');
    await tab.keyboard.press('ArrowRight');
    assert.match(await tab.textContent('#merge-at'), /λ = 0\.60/);
    await tab.click('#merge-at');
    await tab.click('#write-aligned');
    await tab.click('#export-report');
    // The export encodes the charts as PNG first, so its message arrives asynchronously.
    await tab.waitForFunction(() => window.__posted.some((message) => message.type === 'exportReport'));
    await tab.click('#save-spec');
    // Export encodes every chart as PNG before it posts, so its message can arrive after the clicks return.
    await tab.waitForFunction(() => window.__posted.some((message) => message.type === 'exportReport'));
    const messages = await posted(tab);
    assert.deepEqual(messages.find((message) => message.type === 'mergeAt'), { type: 'mergeAt', lambda: 0.6 });
    for (const type of ['writeAligned', 'exportReport', 'saveSpec']) assert.ok(messages.some((message) => message.type === type), `${type} posted`);
    const state = await tab.evaluate(() => JSON.parse(sessionStorage.getItem('vscodeState')));
    assert.equal(state.lambda, 0.6);
    assert.equal(state.a, '/work/models/mlp_a.safetensors');
    ctx.close(tab);
  }],

  ['panel state restores after reload', async (ctx) => {
    const { tab } = await openAlignment(ctx);
    await tab.focus('#lambda-slider');
    await tab.keyboard.press('ArrowLeft');
    await tab.click('vscode-button[data-sort="cosineAfter"]');
    await tab.reload();
    await waitForReady(tab);
    await tab.evaluate(postAlignmentReportInPage, 16);
    await tab.waitForSelector('#lambda-slider');
    await settle(tab);
    assert.equal(await tab.$eval('#lambda-slider', (slider) => slider.value), '0.45');
    assert.match(await tab.textContent('#merge-at'), /λ = 0\.45/);
    assert.equal(await tab.getAttribute('vscode-button[data-sort="cosineAfter"]', 'aria-pressed'), 'true');
    ctx.close(tab);
  }],

  ['layer chart sorts by gain', async (ctx) => {
    const { tab } = await openAlignment(ctx);
    await tab.click('vscode-button[data-sort="gain"]');
    assert.equal(await tab.getAttribute('vscode-button[data-sort="gain"]', 'aria-pressed'), 'true');
    const state = await tab.evaluate(() => JSON.parse(sessionStorage.getItem('vscodeState')));
    assert.equal(state.layerSort, 'gain');
    const bars = await countPixelsNear(tab, 'canvas.layer-chart', 'var(--vscode-charts-blue)', 10);
    assert.ok(bars > 500, `after-alignment bars cover ${bars} pixels`);
    ctx.close(tab);
  }],

  ['job progress shows and clears', async (ctx) => {
    const { tab } = await openAlignment(ctx);
    await post(tab, { type: 'jobProgress', job: 'evaluate', progress: { stage: 'interpolating', done: 3, total: 21 } });
    await settle(tab);
    assert.match(await tab.textContent('.progress-slot'), /Evaluating curves: interpolating 3 of 21/);
    await post(tab, { type: 'jobProgress', job: 'evaluate' });
    await settle(tab);
    assert.equal((await tab.textContent('.progress-slot')).trim(), '');
    ctx.close(tab);
  }],
];
