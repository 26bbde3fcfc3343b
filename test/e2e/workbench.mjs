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
