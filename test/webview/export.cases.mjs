// "Export report" cases of the alignment panel, run by run.mjs in headless Chromium.
/* global window, document, Blob, createImageBitmap -- in code that runs in the page */
import assert from 'node:assert/strict';
import { curvesMessage, postAlignmentReportInPage } from './data.mjs';
import { openView, post, settle, violations } from './harness.mjs';
import { resolveColor } from './pixels.mjs';

/** The canvas each exported chart name must come from. */
const expectedCharts = {
  'objective-per-sweep': 'canvas.sparkline',
  loss: 'canvas.curve-loss',
  accuracy: 'canvas.curve-accuracy',
  'layer-similarity': 'canvas.layer-chart',
  'heatmap.P_fc1.before': 'canvas.heatmap-before[data-permutation="P_fc1"]',
  'heatmap.P_fc1.after': 'canvas.heatmap-after[data-permutation="P_fc1"]',
  'heatmap.P_fc2.before': 'canvas.heatmap-before[data-permutation="P_fc2"]',
  'heatmap.P_fc2.after': 'canvas.heatmap-after[data-permutation="P_fc2"]',
};

/**
 * Runs in the page: reads the posted `exportReport` message and, for each chart, the PNG header, the decoded
 * image and the source canvas named in `selectors`.
 */
async function inspectExportedCharts(selectors) {
  const message = window.__posted.find((entry) => entry.type === 'exportReport');
  const results = [];
  for (const chart of message.charts) {
    const png = chart.png;
    const header = new DataView(png.buffer, png.byteOffset, png.byteLength);
    const bitmap = await createImageBitmap(new Blob([png], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    const decoded = document.createElement('canvas');
    decoded.width = bitmap.width;
    decoded.height = bitmap.height;
    decoded.getContext('2d').drawImage(bitmap, 0, 0);

    const selector = selectors[chart.name];
    const canvas = selector ? document.querySelector(selector) : null;
    const result = {
      name: chart.name,
      isUint8Array: png instanceof Uint8Array,
      signature: Array.from(png.subarray(0, 8)),
      // IHDR is the first chunk: length (4 bytes), type (4), then width and height as big-endian uint32.
      headerType: String.fromCharCode(...png.subarray(12, 16)),
      headerSize: [header.getUint32(16), header.getUint32(20)],
      decodedSize: [bitmap.width, bitmap.height],
      canvasSize: canvas ? [canvas.width, canvas.height] : null,
      minAlpha: 255,
      maxDifference: undefined,
      corner: [],
    };
    const exported = decoded.getContext('2d').getImageData(0, 0, decoded.width, decoded.height).data;
    result.corner = Array.from(exported.subarray(0, 4));
    for (let i = 3; i < exported.length; i += 4) result.minAlpha = Math.min(result.minAlpha, exported[i]);
    if (canvas && canvas.width === decoded.width && canvas.height === decoded.height) {
      const source = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      result.maxDifference = 0;
      for (let i = 0; i < source.length; i++) result.maxDifference = Math.max(result.maxDifference, Math.abs(source[i] - exported[i]));
    }
    results.push(result);
  }
  return results;
}

export const exportCases = [
  ['export report posts chart PNGs', async (ctx) => {
    // Device pixels twice the CSS pixels, so the PNG size must follow the backing store, not the layout.
    const context = await ctx.context.browser().newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 2 });
    try {
      const tab = await openView(context, ctx.origin, 'alignment');
      await tab.evaluate(postAlignmentReportInPage, 64);
      await post(tab, curvesMessage({ maxAbsLogitDiff: 2e-6, tolerance: 1e-4 }));
      await tab.waitForSelector('canvas.curve-loss');
      await settle(tab);

      await tab.click('#export-report');
      await tab.waitForFunction(() => window.__posted.some((message) => message.type === 'exportReport'));
      const charts = await tab.evaluate(inspectExportedCharts, expectedCharts);
      assert.deepEqual(charts.map((chart) => chart.name).sort(), Object.keys(expectedCharts).sort());

      const background = await resolveColor(tab, 'var(--vscode-editor-background)');
      for (const chart of charts) {
        assert.ok(chart.isUint8Array, `${chart.name}: png is a Uint8Array`);
        assert.deepEqual(chart.signature, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${chart.name}: PNG signature`);
        assert.equal(chart.headerType, 'IHDR', `${chart.name}: first chunk`);
        assert.ok(chart.canvasSize, `${chart.name}: source canvas found`);
        assert.deepEqual(chart.headerSize, chart.canvasSize, `${chart.name}: IHDR size is the canvas size`);
        assert.deepEqual(chart.decodedSize, chart.canvasSize, `${chart.name}: decoded size is the canvas size`);
        assert.equal(chart.minAlpha, 255, `${chart.name}: no transparent pixels, so the image reads in any viewer`);
        assert.equal(chart.maxDifference, 0, `${chart.name}: decoded pixels differ from the canvas by up to ${chart.maxDifference}`);
      }

      const heatmap = charts.find((chart) => chart.name === 'heatmap.P_fc1.after');
      assert.equal(heatmap.canvasSize[0], 480, 'heatmap canvas is 240 CSS pixels at device pixel ratio 2');
      const loss = charts.find((chart) => chart.name === 'loss');
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(loss.corner[c] - background[c]) <= 1, `loss chart corner ${loss.corner} is the editor background ${background}`);

      assert.deepEqual(await violations(tab), []);
      assert.deepEqual(tab.pageErrors, []);
    } finally {
      await context.close();
    }
  }],
];
