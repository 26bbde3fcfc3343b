// Small static tables (a few hundred rows at most); the tensor list uses its own virtualized table instead.
import { element } from './dom';

export interface GridColumn {
  readonly title: string;
  /** CSS grid track, e.g. `1fr` or `120px`. */
  readonly width: string;
}

export interface GridRow {
  readonly cells: readonly (string | HTMLElement)[];
  /** Extra class names for the row, e.g. to highlight it. */
  readonly className?: string;
}

/** Creates a read-only data grid with a header row; arrow keys move between cells, as the toolkit implements it. */
export function createDataGrid(columns: readonly GridColumn[], rows: readonly GridRow[], ariaLabel: string): HTMLElement {
  const grid = element('vscode-data-grid', {
    'generate-header': 'none',
    'grid-template-columns': columns.map((column) => column.width).join(' '),
    'aria-label': ariaLabel,
  });

  const header = element('vscode-data-grid-row', { 'row-type': 'header' });
  columns.forEach((column, index) => {
    header.appendChild(element('vscode-data-grid-cell', { 'cell-type': 'columnheader', 'grid-column': index + 1 }, column.title));
  });
  grid.appendChild(header);

  for (const row of rows) {
    const line = element('vscode-data-grid-row', { class: row.className });
    row.cells.forEach((cell, index) => {
      line.appendChild(element('vscode-data-grid-cell', { 'grid-column': index + 1 }, cell));
    });
    grid.appendChild(line);
  }
  return grid;
}
