/* global acquireVsCodeApi, document, window -- a webview page script */
// The Compare panel's page: renders the rows the extension host sends as a table that sorts by any column and
// filters by tensor name or status. No inline handlers, so the page's Content Security Policy allows no inline script.
(function () {
  const vscode = acquireVsCodeApi();
  const root = document.getElementById('root');
  const columns = [
    { key: 'status', label: 'Status', numeric: false },
    { key: 'tensor', label: 'Tensor', numeric: false },
    { key: 'shape', label: 'Shape', numeric: false },
    { key: 'dtype', label: 'Dtype', numeric: false },
    { key: 'relativeL2', label: 'Rel. L2', numeric: true, title: '‖A − B‖₂ / ‖A‖₂' },
    { key: 'cosine', label: 'Cosine', numeric: true, title: '⟨A, B⟩ / (‖A‖₂ ‖B‖₂)' },
    { key: 'maxAbsDifference', label: 'Max |A − B|', numeric: true },
    { key: 'meanA', label: 'Mean A', numeric: true },
    { key: 'stdA', label: 'Std A', numeric: true },
    { key: 'meanB', label: 'Mean B', numeric: true },
    { key: 'stdB', label: 'Std B', numeric: true },
  ];
  const statusOrder = { added: 0, removed: 1, changed: 2, shared: 3 };
  const saved = vscode.getState() || {};
  let state = { sortKey: saved.sortKey || 'status', descending: Boolean(saved.descending), filter: saved.filter || '' };
  let data;

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    for (const child of children) node.append(child);
    return node;
  }

  function formatNumber(value) {
    if (value === null || value === undefined) return '';
    if (value === 0) return '0';
    const magnitude = Math.abs(value);
    return magnitude >= 1e-3 && magnitude < 1e5 ? value.toPrecision(4) : value.toExponential(3);
  }

  function compareValues(x, y, key) {
    if (key === 'status') return statusOrder[x.status] - statusOrder[y.status] || x.tensor.localeCompare(y.tensor);
    const a = x[key];
    const b = y[key];
    // Empty cells sort last in both directions.
    if (a === null && b === null) return 0;
    if (a === null) return state.descending ? -1 : 1;
    if (b === null) return state.descending ? 1 : -1;
    return typeof a === 'number' ? a - b : String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function visibleRows() {
    const needle = state.filter.trim().toLowerCase();
    const rows = data.rows.filter((row) => needle === '' || row.tensor.toLowerCase().includes(needle) || row.status.includes(needle));
    rows.sort((x, y) => compareValues(x, y, state.sortKey) * (state.descending ? -1 : 1));
    return rows;
  }

  function openButton(side, row) {
    const button = el('button', { type: 'button', class: 'open', 'data-side': side, 'data-tensor': row.tensor, title: `Open ${side.toUpperCase()} in the inspector` }, side.toUpperCase());
    return button;
  }

  function renderBody(tbody, count) {
    const rows = visibleRows();
    tbody.replaceChildren(...rows.map((row) => {
      const cells = columns.map((column) => {
        const value = row[column.key];
        if (column.key === 'status') return el('td', {}, el('span', { class: `status status-${row.status}` }, row.status));
        if (column.key === 'tensor') return el('td', { class: 'tensor' }, row.tensor);
        return el('td', { class: column.numeric ? 'number' : '' }, column.numeric ? formatNumber(value) : value);
      });
      const open = el('td', { class: 'actions' });
      if (row.inA) open.append(openButton('a', row));
      if (row.inB) open.append(openButton('b', row));
      return el('tr', { class: `row-${row.status}` }, ...cells, open);
    }));
    count.textContent = `${rows.length} of ${data.rows.length} tensors`;
  }

  function render() {
    const counts = { added: 0, removed: 0, changed: 0, shared: 0 };
    for (const row of data.rows) counts[row.status]++;
    const summary = el('p', { class: 'summary' },
      data.identical ? 'The checkpoints are identical. ' : '',
      `${counts.added} added, ${counts.removed} removed, ${counts.changed} changed, ${counts.shared} shared.`);
    const filter = el('input', { type: 'search', placeholder: 'Filter by tensor name or status', 'aria-label': 'Filter tensors', value: state.filter });
    const count = el('span', { class: 'muted count' });
    const header = el('tr', {}, ...columns.map((column) => {
      const sorted = state.sortKey === column.key;
      let direction = 'none';
      let arrow = '';
      if (sorted) {
        direction = state.descending ? 'descending' : 'ascending';
        arrow = state.descending ? ' ▼' : ' ▲';
      }
      const button = el('button', { type: 'button', class: 'sort', 'data-key': column.key, title: column.title || `Sort by ${column.label}` }, column.label, arrow);
      return el('th', { class: column.numeric ? 'number' : '', 'aria-sort': direction }, button);
    }), el('th', {}, 'Open'));
    const tbody = el('tbody');
    const table = el('table', { class: 'compare' }, el('thead', {}, header), tbody);

    root.replaceChildren(
      el('h1', {}, 'Compare checkpoints'),
      el('p', { class: 'files' }, el('span', { class: 'label' }, 'A '), data.a, el('span', { class: 'label' }, '  B '), data.b),
      summary,
      el('div', { class: 'toolbar' }, filter, count),
      el('div', { class: 'table-wrap' }, table),
    );
    root.setAttribute('aria-busy', 'false');
    renderBody(tbody, count);

    filter.addEventListener('input', () => {
      state = { ...state, filter: filter.value };
      vscode.setState(state);
      renderBody(tbody, count);
    });
    header.addEventListener('click', (event) => {
      const button = event.target.closest('button.sort');
      if (!button) return;
      const key = button.dataset.key;
      state = { ...state, sortKey: key, descending: state.sortKey === key ? !state.descending : false };
      vscode.setState(state);
      render();
    });
    tbody.addEventListener('click', (event) => {
      const button = event.target.closest('button.open');
      if (button) vscode.postMessage({ type: 'open', side: button.dataset.side, tensor: button.dataset.tensor });
    });
  }

  window.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'compareData') {
      data = event.data.data;
      render();
    }
  });
  vscode.postMessage({ type: 'ready' });
})();
