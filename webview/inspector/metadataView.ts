// Collapsible tree of the checkpoint's metadata object, built from native <details> elements.
import { element } from '../components/dom';
import { formatCount } from '../logic/format';

const maxStringLength = 400;
const maxChildren = 500;

/** Builds the metadata section; nested objects and arrays are collapsible, top-level entries start open. */
export function createMetadataView(metadata: Readonly<Record<string, unknown>>): HTMLElement {
  const keys = Object.keys(metadata);
  if (keys.length === 0) return element('p', { class: 'muted' }, 'This file carries no metadata.');
  const root = element('div', { class: 'json-tree' });
  for (const key of keys) root.appendChild(createEntry(key, metadata[key], 0));
  return root;
}

function createEntry(key: string, value: unknown, depth: number): HTMLElement {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value);
    const summary = element('summary', {},
      element('span', { class: 'json-key' }, key),
      element('span', { class: 'muted' }, Array.isArray(value) ? ` [${entries.length}]` : ` {${entries.length}}`));
    const details = element('details', { open: depth === 0 && entries.length <= 20 }, summary);
    for (const [childKey, child] of entries.slice(0, maxChildren)) details.appendChild(createEntry(childKey, child, depth + 1));
    if (entries.length > maxChildren) details.appendChild(element('div', { class: 'json-leaf muted' }, `… ${entries.length - maxChildren} more entries not shown`));
    return details;
  }
  return element('div', { class: 'json-leaf' }, element('span', { class: 'json-key' }, key), ': ', formatLeaf(value));
}

function formatLeaf(value: unknown): HTMLElement {
  if (typeof value === 'string') {
    if (value.length <= maxStringLength) return element('span', { class: 'json-string', title: value }, JSON.stringify(value));
    return element('span', {},
      element('span', { class: 'json-string' }, `${JSON.stringify(value.slice(0, maxStringLength))}…`),
      element('span', { class: 'muted' }, ` (${formatCount(value.length)} characters, first ${maxStringLength} shown)`));
  }
  return element('span', { class: `json-${value === null ? 'null' : typeof value}` }, String(value));
}
