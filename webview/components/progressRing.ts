// Indeterminate progress indicator.
import { element } from './dom';

/** Creates a spinning progress ring with an accessible label. */
export function createProgressRing(label: string): HTMLElement {
  return element('vscode-progress-ring', { 'aria-label': label, class: 'progress-ring' });
}
