// The tensor table: a tree grid that renders only the rows in view, so 50 000 tensors stay responsive.
import { element } from '../components/dom';
import { formatBytes, formatCount, formatPlural, formatShape } from '../logic/format';
import type { SortColumn, TableRow } from '../logic/tensorTree';
import { computeVirtualWindow, scrollTopToReveal } from '../logic/virtualWindow';

/** Row height in CSS pixels; every row has exactly this height, which is what makes the window arithmetic exact. */
export const rowHeight = 22;
const overscanRows = 8;
const indentPerLevel = 14;

const columns: readonly { id: SortColumn; title: string }[] = [
  { id: 'name', title: 'Name' },
  { id: 'dtype', title: 'Dtype' },
  { id: 'shape', title: 'Shape' },
  { id: 'parameters', title: 'Parameters' },
  { id: 'bytes', title: 'Bytes' },
];

export interface TensorTableEvents {
  /** A row became the selected one; `immediate` is false while arrow keys move through rows. */
  select(row: TableRow, immediate: boolean): void;
  toggle(groupPath: string): void;
  sort(column: SortColumn): void;
  scroll(scrollTop: number): void;
}

export class TensorTable {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly window: HTMLElement;
  private readonly headerButtons = new Map<SortColumn, HTMLButtonElement>();
  private readonly pool: HTMLElement[] = [];
  private rows: readonly TableRow[] = [];
  private selectedIndex = -1;
  private frameRequested = false;

  constructor(private readonly events: TensorTableEvents) {
    const header = element('div', { class: 'table-row table-header', role: 'row' });
    for (const column of columns) {
      const button = element('button', { class: `column-header column-${column.id}`, type: 'button', role: 'columnheader' }, column.title);
      button.addEventListener('click', () => this.events.sort(column.id));
      this.headerButtons.set(column.id, button);
      header.appendChild(button);
    }

    this.spacer = element('div', { class: 'table-spacer' });
    this.window = element('div', { class: 'table-window', role: 'rowgroup' });
    this.viewport = element('div', {
      class: 'table-viewport',
      role: 'treegrid',
      tabindex: 0,
      'aria-label': 'Tensors',
      'aria-readonly': 'true',
    }, this.spacer, this.window);

    this.element = element('div', { class: 'tensor-table' }, header, this.viewport);

    this.viewport.addEventListener('scroll', () => {
      this.scheduleRender();
      this.events.scroll(this.viewport.scrollTop);
    });
    this.viewport.addEventListener('keydown', (event) => this.onKeyDown(event));
    this.window.addEventListener('click', (event) => this.onClick(event));
    new ResizeObserver(() => this.scheduleRender()).observe(this.viewport);
  }

  /** Replaces the rows; keeps the selection on the row with the same tensor or group, if still visible. */
  setRows(rows: readonly TableRow[]): void {
    const selectedKey = this.selectedIndex >= 0 ? rowKey(this.rows[this.selectedIndex]) : undefined;
    this.rows = rows;
    this.selectedIndex = selectedKey === undefined ? -1 : rows.findIndex((row) => rowKey(row) === selectedKey);
    this.viewport.setAttribute('aria-rowcount', String(rows.length));
    this.render();
  }

  setSort(column: SortColumn, descending: boolean): void {
    for (const [id, button] of this.headerButtons) {
      if (id !== column) {
        button.setAttribute('aria-sort', 'none');
        button.dataset.sortMark = '';
        continue;
      }
      button.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      button.dataset.sortMark = descending ? '▼' : '▲';
    }
  }

  /** Selects the row of `key` (a tensor name or `group:PATH`) without notifying, e.g. when restoring state. */
  selectKey(key: string | undefined): void {
    this.selectedIndex = key === undefined ? -1 : this.rows.findIndex((row) => rowKey(row) === key);
    if (this.selectedIndex >= 0) this.reveal(this.selectedIndex);
    this.render();
  }

  get scrollTop(): number {
    return this.viewport.scrollTop;
  }

  set scrollTop(value: number) {
    this.viewport.scrollTop = value;
    this.render();
  }

  private scheduleRender(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.render();
    });
  }

  /** Draws the rows in view, reusing row elements from the pool. */
  private render(): void {
    const view = computeVirtualWindow(this.viewport.scrollTop, this.viewport.clientHeight, rowHeight, this.rows.length, overscanRows);
    this.spacer.style.height = `${view.totalHeight}px`;
    this.window.style.transform = `translateY(${view.offset}px)`;

    const count = view.end - view.start;
    while (this.pool.length < count) this.pool.push(createRowElement());
    for (let i = 0; i < count; i++) {
      const rowElement = this.pool[i];
      fillRow(rowElement, this.rows[view.start + i], view.start + i, view.start + i === this.selectedIndex);
      if (rowElement.parentElement !== this.window) this.window.appendChild(rowElement);
    }
    for (let i = count; i < this.pool.length; i++) this.pool[i].remove();

    if (this.selectedIndex >= 0) this.viewport.setAttribute('aria-activedescendant', `tensor-row-${this.selectedIndex}`);
    else this.viewport.removeAttribute('aria-activedescendant');
  }

  private onClick(event: MouseEvent): void {
    const rowElement = (event.target as HTMLElement).closest<HTMLElement>('.table-row');
    if (!rowElement || rowElement.dataset.index === undefined) return;
    const index = Number(rowElement.dataset.index);
    const row = this.rows[index];
    this.activate(index, true);
    if (row.node.kind === 'group') this.events.toggle(row.node.path);
  }

  private onKeyDown(event: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / rowHeight) - 1);
    const last = this.rows.length - 1;
    const current = this.selectedIndex;
    const row = current >= 0 ? this.rows[current] : undefined;

    switch (event.key) {
      case 'ArrowDown': this.activate(Math.min(last, current + 1), false); break;
      case 'ArrowUp': this.activate(Math.max(0, current - 1), false); break;
      case 'PageDown': this.activate(Math.min(last, current + page), false); break;
      case 'PageUp': this.activate(Math.max(0, current - page), false); break;
      case 'Home': this.activate(0, false); break;
      case 'End': this.activate(last, false); break;
      case 'ArrowRight':
        if (row?.node.kind === 'group' && !row.expanded) this.events.toggle(row.node.path);
        else if (row?.node.kind === 'group') this.activate(Math.min(last, current + 1), false);
        break;
      case 'ArrowLeft':
        if (row?.node.kind === 'group' && row.expanded) this.events.toggle(row.node.path);
        else if (row) this.activate(parentIndex(this.rows, current), false);
        break;
      case 'Enter':
      case ' ':
        if (!row) this.activate(0, true);
        else if (row.node.kind === 'group') this.events.toggle(row.node.path);
        else this.events.select(row, true);
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  private activate(index: number, immediate: boolean): void {
    if (index < 0 || index >= this.rows.length) return;
    this.selectedIndex = index;
    this.reveal(index);
    this.render();
    this.events.select(this.rows[index], immediate);
  }

  private reveal(index: number): void {
    const top = scrollTopToReveal(index, this.viewport.scrollTop, this.viewport.clientHeight, rowHeight);
    if (top !== this.viewport.scrollTop) this.viewport.scrollTop = top;
  }
}

/** Identifies a row across re-sorting and filtering: the tensor name, or `group:` and the group path. */
export function rowKey(row: TableRow): string {
  return row.node.kind === 'tensor' ? row.node.entry.name : `group:${row.node.path}`;
}

function parentIndex(rows: readonly TableRow[], index: number): number {
  const depth = rows[index].depth;
  for (let i = index - 1; i >= 0; i--) if (rows[i].depth < depth) return i;
  return index;
}

function createRowElement(): HTMLElement {
  const row = element('div', { class: 'table-row', role: 'row' },
    element('span', { class: 'cell cell-name', role: 'gridcell' }, element('span', { class: 'twisty' }), element('span', { class: 'label' })),
    element('span', { class: 'cell cell-dtype', role: 'gridcell' }),
    element('span', { class: 'cell cell-shape', role: 'gridcell' }),
    element('span', { class: 'cell cell-number', role: 'gridcell' }),
    element('span', { class: 'cell cell-number', role: 'gridcell' }),
  );
  row.style.height = `${rowHeight}px`;
  return row;
}

function fillRow(rowElement: HTMLElement, row: TableRow, index: number, selected: boolean): void {
  const [nameCell, dtypeCell, shapeCell, parametersCell, bytesCell] = Array.from(rowElement.children) as HTMLElement[];
  const node = row.node;
  const isGroup = node.kind === 'group';

  rowElement.id = `tensor-row-${index}`;
  rowElement.dataset.index = String(index);
  rowElement.dataset.kind = node.kind;
  rowElement.classList.toggle('selected', selected);
  rowElement.setAttribute('aria-selected', String(selected));
  rowElement.setAttribute('aria-level', String(row.depth + 1));
  if (isGroup) rowElement.setAttribute('aria-expanded', String(row.expanded));
  else rowElement.removeAttribute('aria-expanded');

  nameCell.style.paddingLeft = `${4 + row.depth * indentPerLevel}px`;
  let twisty = '';
  if (isGroup) twisty = row.expanded ? '▾' : '▸';
  (nameCell.firstChild as HTMLElement).textContent = twisty;
  (nameCell.lastChild as HTMLElement).textContent = node.label;
  nameCell.title = isGroup ? `${node.path} (${formatPlural(node.tensorCount, 'tensor')})` : node.entry.name;

  dtypeCell.textContent = isGroup ? '' : node.entry.dtype;
  shapeCell.textContent = isGroup ? formatPlural(node.tensorCount, 'tensor') : formatShape(node.entry.shape);
  parametersCell.textContent = formatCount(node.parameters);
  bytesCell.textContent = formatBytes(node.bytes);
  bytesCell.title = `${formatCount(node.bytes)} bytes`;
}
