// Inspector view cases, run by run.mjs in headless Chromium.
/* global window, document, getComputedStyle, performance, requestAnimationFrame -- in code that runs in the page */
import assert from 'node:assert/strict';
import { dangerousPickle, inspectorData, manyTensors, postStatisticsInPage, smallModelTensors, torchscriptPickle } from './data.mjs';
import { openView, post, posted, settle, waitForReady } from './harness.mjs';
import { countPixelsNear } from './pixels.mjs';

/** Labels, kinds and depths of the rows in the DOM, top to bottom. */
async function visibleRows(tab) {
  return tab.evaluate(() => Array.from(document.querySelectorAll('.table-window .table-row')).map((row) => ({
    label: row.querySelector('.label').textContent,
    kind: row.dataset.kind,
    depth: Number(row.getAttribute('aria-level')) - 1,
    title: row.querySelector('.cell-name').title,
    bytes: row.querySelector('.cell-number:last-child').title,
  })));
}

async function openInspector(ctx, tensors = smallModelTensors(), extra = {}) {
  const tab = await openView(ctx.context, ctx.origin, 'inspector');
  // Tall enough that the virtualized table keeps all 140 rows of the small model in the DOM.
  await tab.setViewportSize({ width: 1280, height: 3600 });
  await post(tab, inspectorData(tensors, extra));
  await tab.waitForSelector('.table-window .table-row');
  await settle(tab);
  return tab;
}

async function typeFilter(tab, text) {
  await tab.locator('#tensor-filter input').fill(text);
  await tab.waitForTimeout(250);
  await settle(tab);
}

export const inspectorCases = [
  ['inspector lists tensors from inspectorData', async (ctx) => {
    const tab = await openInspector(ctx);
    const header = await tab.textContent('.inspector-header');
    assert.match(header, /model\.safetensors/);
    assert.match(header, /safetensors/);
    assert.match(header, /63/, 'tensor count 63 in the header');
    for (const dtype of ['F32', 'BF16', 'F16', 'I64']) assert.ok(header.includes(dtype), `dtype ${dtype} in the header`);
    assert.match(header, /cpu/);
    const rows = await visibleRows(tab);
    assert.ok(rows.some((row) => row.title === 'embed.weight'), 'embed.weight is listed');
    ctx.close(tab);
  }],

  ['tree groups by module path', async (ctx) => {
    const tab = await openInspector(ctx);
    const rows = await visibleRows(tab);
    const layers = rows.find((row) => row.label === 'layers');
    assert.ok(layers, 'a group "layers" exists');
    assert.equal(layers.kind, 'group');
    assert.equal(layers.depth, 0);
    const layerZero = rows.findIndex((row) => row.label === '0' && row.kind === 'group');
    assert.ok(layerZero > 0, 'group layers.0 exists');
    assert.equal(rows[layerZero].depth, 1);
    assert.equal(rows[layerZero + 1].label, 'attn', 'layers.0 starts with its attn group');
    // Single-child chains merge like compact folders, keeping the `/` separator of Flax paths.
    assert.ok(rows.some((row) => row.label === 'params/head' && row.kind === 'group'), 'params/head is one group');
    ctx.close(tab);
  }],

  ['natural sort puts layer 10 after 9', async (ctx) => {
    const tab = await openInspector(ctx);
    // Collapse every layer so only the layer groups remain under "layers".
    await tab.click('.table-row[data-kind="group"] >> text=layers');
    await settle(tab);
    let rows = await visibleRows(tab);
    assert.ok(!rows.some((row) => row.depth === 1 && row.label === '0'), 'clicking a group collapses it');
    await tab.click('.table-row[data-kind="group"] >> text=layers');
    await settle(tab);
    rows = await visibleRows(tab);
    const layerGroups = rows.filter((row) => row.kind === 'group' && row.depth === 1).map((row) => row.label);
    assert.deepEqual(layerGroups.slice(0, 12), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    ctx.close(tab);
  }],

  ['filter narrows rows', async (ctx) => {
    const tab = await openInspector(ctx);
    await typeFilter(tab, 'fc2');
    const rows = await visibleRows(tab);
    const tensors = rows.filter((row) => row.kind === 'tensor');
    assert.equal(tensors.length, 12, 'one fc2.weight per layer');
    for (const row of tensors) assert.match(row.title, /fc2/);
    assert.ok(!rows.some((row) => row.label === 'embed.weight' || row.title === 'embed.weight'));
    assert.match(await tab.textContent('.row-count'), /12 of 63 tensors/);
    await typeFilter(tab, 'no-such-tensor');
    assert.equal((await visibleRows(tab)).length, 0);
    ctx.close(tab);
  }],

  ['sorting by bytes in flat list', async (ctx) => {
    const tab = await openInspector(ctx);
    await tab.click('#toggle-flat');
    await tab.click('.column-bytes');
    await settle(tab);
    let rows = await visibleRows(tab);
    assert.ok(rows.every((row) => row.kind === 'tensor'), 'flat list has no groups');
    const bytes = (list) => list.map((row) => Number(row.bytes.replace(/[^\d]/g, '')));
    const descending = bytes(rows);
    assert.equal(rows[0].title, 'embed.weight', 'largest tensor first');
    for (let i = 1; i < descending.length; i++) assert.ok(descending[i - 1] >= descending[i], `row ${i} not larger than row ${i - 1}`);
    assert.equal(await tab.getAttribute('.column-bytes', 'aria-sort'), 'descending');

    await tab.click('.column-bytes');
    await settle(tab);
    rows = await visibleRows(tab);
    const ascending = bytes(rows);
    for (let i = 1; i < ascending.length; i++) assert.ok(ascending[i - 1] <= ascending[i], `row ${i} not smaller than row ${i - 1}`);
    assert.equal(await tab.getAttribute('.column-bytes', 'aria-sort'), 'ascending');
    ctx.close(tab);
  }],

  ['50 000 tensors render a bounded number of rows', async (ctx) => {
    const tab = await openView(ctx.context, ctx.origin, 'inspector');
    const message = inspectorData(manyTensors(50000));
    const [firstPaintMs, handledMs] = await tab.evaluate(async (data) => {
      let handled = 0;
      // Registered after the view's listener, so it runs once the view has handled the message.
      window.addEventListener('message', () => { handled = performance.now(); }, { once: true });
      const start = performance.now();
      window.postMessage(data, '*');
      await new Promise((resolve) => {
        const poll = () => (document.querySelector('.table-window .table-row') ? resolve() : requestAnimationFrame(poll));
        poll();
      });
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      return [performance.now() - start, handled - start];
    }, message);

    const domRows = await tab.evaluate(() => document.querySelectorAll('.table-row').length);
    assert.ok(domRows < 120, `${domRows} rows in the DOM for 50 000 tensors`);
    const totalHeight = await tab.evaluate(() => document.querySelector('.table-spacer').getBoundingClientRect().height);
    assert.ok(totalHeight > 50000 * 22, 'the spacer covers every tensor and group row');

    const frames = await tab.evaluate(async () => {
      const viewport = document.querySelector('.table-viewport');
      const durations = [];
      let last = performance.now();
      for (let i = 0; i < 120; i++) {
        viewport.scrollTop += 1500;
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const now = performance.now();
        durations.push(now - last);
        last = now;
      }
      return durations;
    });
    const scrolledRows = await tab.evaluate(() => document.querySelectorAll('.table-row').length);
    assert.ok(scrolledRows < 120, `${scrolledRows} rows in the DOM after scrolling`);
    const labels = (await visibleRows(tab)).map((row) => row.title);
    assert.ok(labels.some((title) => /^model\.blocks\.\d+/.test(title)), 'rows after scrolling show deeper blocks');

    const sorted = [...frames].sort((a, b) => a - b);
    ctx.measure('50 000 tensors: time to first paint (ms)', firstPaintMs);
    ctx.measure('50 000 tensors: message copied and handled (ms)', handledMs);
    ctx.measure('50 000 tensors: scroll frame time, median (ms)', sorted[Math.floor(sorted.length / 2)]);
    ctx.measure('50 000 tensors: scroll frame time, max (ms)', sorted[sorted.length - 1]);
    ctx.measure('50 000 tensors: rows in the DOM', scrolledRows);
    ctx.close(tab);
  }],

  ['selecting a row requests statistics and draws histogram', async (ctx) => {
    const tab = await openInspector(ctx);
    await tab.click('.table-row[data-kind="tensor"] >> text=weight');
    const request = (await posted(tab)).find((message) => message.type === 'requestStatistics');
    assert.ok(request, 'requestStatistics was posted');
    assert.equal(request.name, 'embed.weight');
    assert.match(await tab.textContent('.statistics-panel'), /Computing statistics/);

    await tab.evaluate(postStatisticsInPage, 'embed.weight');
    await tab.waitForSelector('canvas.histogram');
    await settle(tab);
    const text = await tab.textContent('.statistics-panel');
    assert.match(text, /0\.0012/, 'mean shown');
    assert.match(text, /0\.051/, 'std shown');
    const barPixels = await countPixelsNear(tab, 'canvas.histogram', 'var(--vscode-charts-blue)', 10);
    assert.ok(barPixels > 2000, `histogram bars cover ${barPixels} pixels`);

    await tab.click('#copy-name');
    const copy = (await posted(tab)).find((message) => message.type === 'copyTensorName');
    assert.deepEqual(copy, { type: 'copyTensorName', name: 'embed.weight' });
    await tab.setViewportSize({ width: 1280, height: 860 });
    await settle(tab);
    await ctx.screenshot(tab, 'inspector-statistics');
    ctx.close(tab);
  }],

  ['statistics error is shown', async (ctx) => {
    const tab = await openInspector(ctx);
    await tab.click('.table-row[data-kind="tensor"] >> text=weight');
    await post(tab, { type: 'error', tensor: 'embed.weight', message: 'model.safetensors: tensor embed.weight: byte range 128..256128 is past the end of the file (1 000 bytes).' });
    await settle(tab);
    const alert = await tab.textContent('.statistics-panel [role="alert"]');
    assert.match(alert, /past the end of the file/);
    await post(tab, { type: 'error', message: 'model.safetensors: the file changed on disk; reopen it.' });
    await settle(tab);
    assert.match(await tab.textContent('.banner-slot'), /changed on disk/);
    ctx.close(tab);
  }],

  ['unreadable file shows only the error', async (ctx) => {
    const tab = await openView(ctx.context, ctx.origin, 'inspector');
    assert.match(await tab.textContent('.header-slot'), /Reading the checkpoint header/);
    await post(tab, { type: 'error', message: 'broken.safetensors: header length 9 000 000 000 at byte offset 0 is larger than the file (512 bytes). Check that the file is a complete safetensors file.' });
    await settle(tab);

    assert.match(await tab.textContent('.banner-slot [role="alert"]'), /header length 9 000 000 000/);
    assert.equal((await tab.textContent('.header-slot')).trim(), '', 'the loading placeholder is gone');
    assert.equal(await tab.isVisible('.inspector-body'), false, 'the empty table and details are hidden');
    assert.equal(await tab.$$eval('.table-window .table-row', (rows) => rows.length), 0);
    for (const selector of ['#align-with', '#merge-with', '#compare-with', '#copy-name', '#toggle-flat', '#tensor-filter']) {
      assert.equal(await tab.getAttribute(selector, 'disabled'), '', `${selector} is disabled`);
    }
    await tab.click('#align-with', { force: true });
    await tab.click('#merge-with', { force: true });
    const types = (await posted(tab)).map((message) => message.type);
    assert.ok(!types.includes('alignWith'), 'a disabled Align with… posts nothing');
    assert.ok(!types.includes('mergeWith'), 'a disabled Merge with… posts nothing');
    await ctx.screenshot(tab, 'inspector-unreadable-file');

    // Reopening the file after a fix sends inspectorData to the same view, which must come back whole.
    await post(tab, inspectorData(smallModelTensors()));
    await tab.waitForSelector('.table-window .table-row');
    await settle(tab);
    assert.equal(await tab.isVisible('.inspector-body'), true);
    assert.equal(await tab.$('.banner-slot [role="alert"]'), null, 'the error banner is cleared');
    for (const selector of ['#align-with', '#merge-with', '#compare-with', '#toggle-flat', '#tensor-filter']) {
      assert.equal(await tab.getAttribute(selector, 'disabled'), null, `${selector} is enabled again`);
    }
    ctx.close(tab);
  }],

  ['pickle dangerous globals are highlighted', async (ctx) => {
    const tab = await openInspector(ctx, smallModelTensors(), { format: 'pytorch-zip', fileName: 'model.pt', pickle: dangerousPickle });
    assert.match(await tab.textContent('.banner-error'), /1 global that can run code/);
    await tab.click('#tab-pickle');
    await settle(tab);
    const dangerous = await tab.$$eval('.global-dangerous', (rows) => rows.map((row) => row.textContent));
    assert.equal(dangerous.length, 1);
    assert.match(dangerous[0], /os/);
    assert.match(dangerous[0], /system/);
    const pickleText = await tab.textContent('.pickle-view');
    assert.match(pickleText, /Nothing in this file was executed/);
    assert.match(pickleText, /CustomLayer/);
    const [highlighted, plain] = await tab.evaluate(() => [
      getComputedStyle(document.querySelector('.global-dangerous vscode-data-grid-cell')).backgroundColor,
      getComputedStyle(document.querySelector('vscode-data-grid-row:not(.global-dangerous):not([row-type="header"]) vscode-data-grid-cell')).backgroundColor,
    ]);
    assert.notEqual(highlighted, plain, 'dangerous row has its own background');
    await tab.setViewportSize({ width: 1280, height: 860 });
    await settle(tab);
    await ctx.screenshot(tab, 'inspector-pickle-dangerous');
    ctx.close(tab);
  }],

  ['pickle torchscript verdict is explained', async (ctx) => {
    const tab = await openInspector(ctx, smallModelTensors(), { format: 'pytorch-zip', fileName: 'model.torchscript.pt', pickle: torchscriptPickle });
    assert.equal(await tab.$('.banner-slot [role="alert"]'), null, 'no error banner');
    await tab.click('#tab-pickle');
    await settle(tab);
    assert.match(await tab.textContent('.pickle-verdict'), /unknown.*TorchScript archive/s);
    const pickleText = await tab.textContent('.pickle-view');
    assert.match(pickleText, /TorchScript archive/);
    assert.match(pickleText, /torch\.jit\.load would compile/);
    const rows = await tab.$$eval('vscode-data-grid-row:not([row-type="header"])', (found) => found.map((row) => row.textContent));
    assert.equal(rows.length, 3);
    assert.match(rows[0], /DigitsMLP.*torchscript-class/, 'TorchScript classes sort before allowed globals');
    assert.match(rows[1], /Linear.*torchscript-class/);
    assert.match(rows[2], /_rebuild_tensor_v2.*allowed/);
    await ctx.screenshot(tab, 'inspector-pickle-torchscript');
    ctx.close(tab);
  }],

  ['metadata section lists nested keys', async (ctx) => {
    const tab = await openInspector(ctx);
    await tab.click('#tab-metadata');
    const text = await tab.textContent('.json-tree');
    assert.match(text, /training/);
    assert.match(text, /optimizer/);
    assert.match(text, /"adamw"/);
    ctx.close(tab);
  }],

  ['keyboard reaches filter and table', async (ctx) => {
    const tab = await openInspector(ctx);
    const reached = [];
    for (let i = 0; i < 12; i++) {
      await tab.keyboard.press('Tab');
      reached.push(await tab.evaluate(() => document.activeElement?.id || document.activeElement?.className || document.activeElement?.tagName));
    }
    assert.ok(reached.includes('tensor-filter'), `Tab order: ${reached.join(', ')}`);
    assert.ok(reached.some((name) => String(name).includes('table-viewport')), `Tab order: ${reached.join(', ')}`);
    assert.ok(reached.indexOf('tensor-filter') < reached.findIndex((name) => String(name).includes('table-viewport')), 'filter comes before the table');

    await tab.focus('.table-viewport');
    for (const key of ['ArrowDown', 'ArrowDown', 'ArrowDown']) await tab.keyboard.press(key);
    await tab.keyboard.press('Enter');
    await settle(tab);
    const active = await tab.getAttribute('.table-viewport', 'aria-activedescendant');
    assert.equal(active, 'tensor-row-2', 'three ArrowDown presses from no selection select the third row');
    // Rows: [embed], weight, [layers], …; the third row is the group "layers".
    assert.equal(await tab.$eval('.table-row.selected', (row) => row.dataset.kind), 'group');
    assert.equal(await tab.getAttribute('.table-row.selected', 'aria-expanded'), 'false', 'Enter collapses a group');
    await tab.keyboard.press('ArrowRight');
    await settle(tab);
    assert.equal(await tab.getAttribute('.table-row.selected', 'aria-expanded'), 'true', 'ArrowRight expands it again');

    await tab.keyboard.press('Home');
    await tab.keyboard.press('ArrowDown');
    await tab.keyboard.press(' ');
    await settle(tab);
    const requests = (await posted(tab)).filter((message) => message.type === 'requestStatistics');
    assert.equal(requests.at(-1)?.name, 'embed.weight', 'Space requests statistics for the selected tensor');
    ctx.close(tab);
  }],

  ['state restores after reload', async (ctx) => {
    const tab = await openInspector(ctx);
    await typeFilter(tab, 'fc1');
    await tab.click('.column-parameters');
    await tab.reload();
    await waitForReady(tab);
    await post(tab, inspectorData(smallModelTensors()));
    await tab.waitForSelector('.table-window .table-row');
    await settle(tab);
    assert.equal(await tab.locator('#tensor-filter').evaluate((field) => field.value), 'fc1');
    const rows = await visibleRows(tab);
    assert.equal(rows.filter((row) => row.kind === 'tensor').length, 12);
    assert.equal(await tab.getAttribute('.column-parameters', 'aria-sort'), 'descending');
    ctx.close(tab);
  }],

  ['header buttons post alignWith, mergeWith, compareWith', async (ctx) => {
    const tab = await openInspector(ctx);
    await tab.click('vscode-button >> text=Align with…');
    await tab.click('vscode-button >> text=Merge with…');
    await tab.click('vscode-button >> text=Compare with…');
    const types = (await posted(tab)).map((message) => message.type);
    assert.ok(types.includes('alignWith'));
    assert.ok(types.includes('mergeWith'));
    assert.ok(types.includes('compareWith'));
    ctx.close(tab);
  }],
];
