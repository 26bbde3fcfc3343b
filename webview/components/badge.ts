// Small count and status labels.
// NOTE: the toolkit's <vscode-badge> binds a `style` attribute in its template, which a CSP without
// 'unsafe-inline' for styles blocks (and reports as a violation), so badges are plain elements styled by
// media/webview.css with the toolkit's badge colours.
import { element } from './dom';

/** Visual weight of a badge: `danger` and `warning` use the theme's validation colours. */
export type BadgeTone = 'neutral' | 'success' | 'warning' | 'danger';

/** Creates a badge with `text`; the tone becomes the class `badge-TONE` that media/webview.css colours. */
export function createBadge(text: string, tone: BadgeTone = 'neutral', title?: string): HTMLElement {
  return element('span', { class: `badge badge-${tone}`, title }, text);
}
