// Tabbed panels.
import { element } from './dom';

export interface Tab {
  readonly id: string;
  readonly label: string;
  readonly content: HTMLElement;
}

/** Creates a tab strip with one panel per tab; arrow keys move between tabs, as the toolkit implements it. */
export function createTabs(tabs: readonly Tab[], activeId?: string): HTMLElement {
  const panels = element('vscode-panels', { 'activeid': activeId ? `tab-${activeId}` : undefined, class: 'tabs' });
  for (const tab of tabs) {
    panels.appendChild(element('vscode-panel-tab', { id: `tab-${tab.id}` }, tab.label));
  }
  for (const tab of tabs) {
    panels.appendChild(element('vscode-panel-view', { id: `view-${tab.id}`, class: 'tab-view' }, tab.content));
  }
  return panels;
}

/** Changes the text of a tab made by `createTabs`, e.g. to add a warning mark. */
export function setTabLabel(tabs: HTMLElement, id: string, label: string): void {
  const tab = tabs.querySelector(`#tab-${CSS.escape(id)}`);
  if (tab) tab.textContent = label;
}
