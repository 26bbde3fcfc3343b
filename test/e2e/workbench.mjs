// Actions on the VS Code workbench page, with selectors checked against VS Code 1.139 (code-server 4.139.1).

/** Waits for the workbench and for the Explorer to list `fileName` from the opened folder. */
export async function waitForWorkbench(page, fileName, timeoutMs) {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: fileName });
  await row.first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * Runs `label` from the command palette. The palette fixes its list when it opens, and an extension's commands
 * can appear a few seconds after the workbench, so a miss closes the palette and opens it again, until
 * `timeoutMs` has passed.
 */
export async function runFromCommandPalette(page, label, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();

  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: Math.max(deadline - Date.now(), 1_000) });
    await input.fill(`>${label}`);
    try {
      // The list renders at once when the command is known, so early attempts are short and later ones longer.
      const attemptTimeoutMs = Math.min(2_500 * attempt, 15_000, Math.max(deadline - Date.now(), 1_000));
      await row.waitFor({ state: 'visible', timeout: attemptTimeoutMs });
      break;
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(`the command palette did not list "${label}" after ${attempt} attempts in ${timeoutMs / 1000} s`, { cause: error });
      }
    }
  }

  await row.click();
  await input.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Returns the visible lines of the Output view's editor, joined with newlines. */
export async function outputViewText(page) {
  const lines = await page.locator('.part.panel .monaco-editor .view-lines').allInnerTexts();
  // The editor renders spaces as no-break spaces (U+00A0).
  return lines.join('\n').replaceAll('\u00a0', ' ');
}

/** Returns the Explorer row of the file or folder named exactly `name`. */
export function explorerRow(page, name) {
  return page.locator('.explorer-folders-view .monaco-list-row').filter({ has: page.getByText(name, { exact: true }) }).first();
}

/** Right-clicks the Explorer row `name` (adding it to the selection with `extend`) and runs the menu item `label`. */
export async function runFromExplorerMenu(page, name, label, { timeoutMs = 30_000 } = {}) {
  const row = explorerRow(page, name);
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click({ button: 'right' });
  const item = page.locator('.monaco-menu .action-item:not(.disabled) .action-label', { hasText: label }).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  // A click right after the menu opens was seen to leave the menu open (VS Code 1.139), while hovering the
  // item focuses it and Enter runs it every time.
  await item.hover();
  await page.keyboard.press('Enter');
  await item.waitFor({ state: 'hidden', timeout: timeoutMs });
}

/** Selects the Explorer rows `names`, in order, as a multi-selection. */
export async function selectExplorerRows(page, names) {
  for (const [index, name] of names.entries()) {
    const row = explorerRow(page, name);
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await row.click({ modifiers: index === 0 ? [] : ['Control'] });
  }
}

/**
 * The document of the visible webview: `iframe.webview.ready` contains an inner `#active-frame` with the page.
 * VS Code keeps the iframes of background tabs in the document, hidden, and draws webviews in an overlay
 * outside the editor part, so the frame is found by visibility.
 */
export function activeWebview(page) {
  return page.locator('iframe.webview.ready').filter({ visible: true }).last().contentFrame().locator('#active-frame').contentFrame();
}

/** Picks the quick input row that contains `text`, after typing `filter` (defaults to `text`) into the box. */
export async function pickQuickInput(page, text, { filter = text, timeoutMs = 30_000 } = {}) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  if (filter !== '') await input.fill(filter);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
}

/** Waits for the quick input to show `title` (its title bar or placeholder), then presses Enter to accept it as it is. */
export async function acceptQuickInput(page, { timeoutMs = 30_000 } = {}) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await page.waitForTimeout(300);
  await input.press('Enter');
}

/** Waits for the quick input box to show `title`, so the next key goes to the right step of a flow. */
export async function waitForQuickInputTitle(page, title, timeoutMs = 30_000) {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * Clicks the button `label` of the notification that contains `text`. In the headless workbench (VS Code 1.139)
 * notifications were seen to reach the notification center without a toast, so when no toast shows, the center
 * is opened with "Notifications: Show Notifications" and the button is clicked there.
 */
export async function clickNotificationButton(page, text, label, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  const item = page.locator('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item', { hasText: text }).first();
  let nextCenterOpen = Date.now() + 3_000;
  while (Date.now() < deadline) {
    if (await item.isVisible()) {
      await item.locator('.monaco-button', { hasText: label }).first().click();
      return;
    }
    if (Date.now() >= nextCenterOpen) {
      await runFromCommandPalette(page, 'Notifications: Show Notifications', 30_000);
      nextCenterOpen = Date.now() + 5_000;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no notification containing "${text}" with a "${label}" button appeared within ${timeoutMs / 1000} s`);
}
