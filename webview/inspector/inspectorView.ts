// The checkpoint inspector: header, filterable tensor tree, and details of the selected tensor.
import type { InspectorData, InspectorState, TensorStatisticsData, ToWebviewMessage } from '../../src/protocol/webviewMessages';
import { createBadge } from '../components/badge';
import { createButton, setButtonDisabled } from '../components/button';
import { element, replaceChildren } from '../components/dom';
import { createTabs, setTabLabel } from '../components/tabs';
import { createTextField, type TextField } from '../components/textField';
import { watchThemeChanges } from '../charts/theme';
import type { Host } from '../host';
import { formatCount } from '../logic/format';
import { buildTensorTree, flattenTree, type GroupNode, type SortColumn, type TableRow } from '../logic/tensorTree';
import { createHeader } from './header';
import { createMetadataView } from './metadataView';
import { createPickleView } from './pickleView';
import { StatisticsPanel } from './statisticsPanel';
import { rowKey, TensorTable } from './tensorTable';

/** Delay before arrow-key navigation requests statistics, so holding a key does not queue one job per row. */
const keyboardRequestDelayMs = 200;
const filterDelayMs = 80;
const scrollSaveDelayMs = 250;

const defaultState: InspectorState = {
  view: 'inspector', filter: '', sortColumn: 'name', sortDescending: false, flat: false, collapsed: [], scrollTop: 0,
};

export class InspectorView {
  private state: InspectorState;
  private data: InspectorData | undefined;
  private tree: GroupNode | undefined;
  private readonly statistics = new Map<string, TensorStatisticsData>();
  private readonly requested = new Set<string>();
  private readonly table: TensorTable;
  private readonly statisticsPanel = new StatisticsPanel();
  private readonly filterField: TextField;
  private readonly copyButton: HTMLElement;
  private readonly flatButton: HTMLElement;
  private readonly alignButton: HTMLElement;
  private readonly mergeButton: HTMLElement;
  private readonly compareButton: HTMLElement;
  private readonly countLabel = element('span', { class: 'row-count muted', 'aria-live': 'polite' });
  private readonly headerSlot = element('div', { class: 'header-slot' });
  private readonly bannerSlot = element('div', { class: 'banner-slot' });
  private readonly metadataSlot = element('div', { class: 'metadata-slot' });
  private readonly pickleSlot = element('div', { class: 'pickle-slot' });
  private readonly tabs: HTMLElement;
  private readonly body: HTMLElement;
  private requestTimer: number | undefined;
  private filterTimer: number | undefined;
  private scrollTimer: number | undefined;
  private selectedName: string | undefined;

  constructor(private readonly root: HTMLElement, private readonly host: Host) {
    const saved = host.getState();
    this.state = saved?.view === 'inspector' ? { ...defaultState, ...saved } : defaultState;
    this.selectedName = this.state.selected;

    this.filterField = createTextField(
      { placeholder: 'Filter tensors by name', ariaLabel: 'Filter tensors by name', value: this.state.filter, id: 'tensor-filter' },
      (value) => this.onFilterInput(value),
    );
    this.flatButton = createButton(this.state.flat ? 'Show tree' : 'Show flat list', () => this.toggleFlat(), { id: 'toggle-flat' });
    this.copyButton = createButton('Copy tensor name', () => this.copySelectedName(), { disabled: true, id: 'copy-name', title: 'Copy the selected tensor name' });
    // Disabled until `inspectorData` arrives, and for good when the host reports that the file cannot be read.
    this.alignButton = createButton('Align with…', () => host.post({ type: 'alignWith' }),
      { appearance: 'primary', disabled: true, id: 'align-with', title: 'Choose a second checkpoint and align it onto this one' });
    this.mergeButton = createButton('Merge with…', () => host.post({ type: 'mergeWith' }),
      { disabled: true, id: 'merge-with', title: 'Choose a second checkpoint and merge it with this one' });
    this.compareButton = createButton('Compare with…', () => host.post({ type: 'compareWith' }),
      { disabled: true, id: 'compare-with', title: 'Choose a second checkpoint and compare it with this one' });

    this.table = new TensorTable({
      select: (row, immediate) => this.onSelect(row, immediate),
      toggle: (path) => this.toggleGroup(path),
      sort: (column) => this.sortBy(column),
      scroll: (scrollTop) => this.saveScrollTop(scrollTop),
    });
    this.table.setSort(this.state.sortColumn, this.state.sortDescending);

    this.tabs = createTabs([
      { id: 'statistics', label: 'Statistics', content: this.statisticsPanel.element },
      { id: 'metadata', label: 'Metadata', content: this.metadataSlot },
      { id: 'pickle', label: 'Pickle safety', content: this.pickleSlot },
    ]);

    const toolbar = element('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Tensor list' },
      this.filterField.element,
      this.flatButton,
      this.countLabel,
      element('span', { class: 'toolbar-spacer' }),
      this.alignButton,
      this.mergeButton,
      this.compareButton,
      this.copyButton,
    );

    this.body = element('div', { class: 'inspector-body' },
      this.table.element,
      element('aside', { class: 'details', 'aria-label': 'Tensor details' }, this.tabs),
    );

    replaceChildren(root,
      element('div', { class: 'inspector' },
        this.headerSlot,
        this.bannerSlot,
        toolbar,
        this.body,
      ),
    );
    this.headerSlot.appendChild(element('p', { class: 'muted' }, 'Reading the checkpoint header…'));
    watchThemeChanges(() => this.statisticsPanel.redraw());
  }

  handle(message: ToWebviewMessage): void {
    switch (message.type) {
      case 'inspectorData': this.showData(message.data); break;
      case 'tensorStatistics':
        this.statistics.set(message.name, message.stats);
        this.requested.delete(message.name);
        this.statisticsPanel.receive(message.name, message.stats);
        break;
      case 'error':
        if (message.tensor) {
          this.requested.delete(message.tensor);
          this.statisticsPanel.fail(message.tensor, message.message);
        } else {
          replaceChildren(this.bannerSlot, element('div', { class: 'banner banner-error', role: 'alert' }, message.message));
          if (!this.data) this.showLoadFailure();
        }
        break;
      default:
        break;
    }
  }

  /**
   * Clears the view when the host failed to read the checkpoint before sending any `inspectorData`. The banner
   * keeps the error, while the placeholder, the empty table and the actions that need a loaded checkpoint go away.
   */
  private showLoadFailure(): void {
    replaceChildren(this.headerSlot);
    this.body.hidden = true;
    this.countLabel.textContent = '';
    this.setCheckpointActionsDisabled(true);
  }

  private setCheckpointActionsDisabled(disabled: boolean): void {
    for (const button of [this.alignButton, this.mergeButton, this.compareButton, this.flatButton]) setButtonDisabled(button, disabled);
    this.filterField.element.toggleAttribute('disabled', disabled);
    // Copying also needs a selected tensor, so `showTensor` enables it, not this method.
    if (disabled) setButtonDisabled(this.copyButton, true);
  }

  private showData(data: InspectorData): void {
    this.data = data;
    this.tree = buildTensorTree(data.tensors);
    this.statistics.clear();
    this.requested.clear();
    this.body.hidden = false;
    this.setCheckpointActionsDisabled(false);

    replaceChildren(this.headerSlot, createHeader(data));
    replaceChildren(this.metadataSlot, createMetadataView(data.metadata));
    replaceChildren(this.pickleSlot, createPickleView(data.pickle));
    replaceChildren(this.bannerSlot);
    if (data.pickle?.verdict === 'dangerous') {
      const count = data.pickle.globals.filter((global) => global.verdict === 'dangerous').length;
      this.bannerSlot.appendChild(element('div', { class: 'banner banner-error', role: 'alert' },
        createBadge('dangerous', 'danger'),
        ` The pickle in this file references ${count} global${count === 1 ? '' : 's'} that can run code when loaded with torch.load. Nothing was executed here; see Pickle safety.`));
      setTabLabel(this.tabs, 'pickle', 'Pickle safety ⚠');
    } else {
      setTabLabel(this.tabs, 'pickle', 'Pickle safety');
    }

    this.refreshRows();
    // The saved selection is a tensor name or a group key (see `rowKey`); only a tensor has statistics.
    const selected = this.state.selected;
    const entry = selected ? data.tensors.find((tensor) => tensor.name === selected) : undefined;
    this.selectedName = entry?.name;
    this.table.selectKey(selected);
    this.table.scrollTop = this.state.scrollTop;
    if (entry) this.showTensor(entry.name);
    else this.statisticsPanel.showEmpty();
  }

  private refreshRows(): void {
    if (!this.tree || !this.data) return;
    const rows = flattenTree(this.tree, {
      filter: this.state.filter,
      sortColumn: this.state.sortColumn,
      descending: this.state.sortDescending,
      collapsed: new Set(this.state.collapsed),
      flat: this.state.flat,
    });
    this.table.setRows(rows);

    const total = this.data.tensors.length;
    const matching = this.state.filter ? countTensors(rows) : total;
    this.countLabel.textContent = this.state.filter ? `${formatCount(matching)} of ${formatCount(total)} tensors` : `${formatCount(total)} tensors`;
  }

  private onFilterInput(value: string): void {
    window.clearTimeout(this.filterTimer);
    this.filterTimer = window.setTimeout(() => {
      this.saveState({ filter: value });
      this.refreshRows();
    }, filterDelayMs);
  }

  private sortBy(column: SortColumn): void {
    // A second click on the sorted column reverses it; numbers start largest first, text A to Z.
    const descending = column === this.state.sortColumn ? !this.state.sortDescending : column === 'parameters' || column === 'bytes';
    this.saveState({ sortColumn: column, sortDescending: descending });
    this.table.setSort(column, descending);
    this.refreshRows();
  }

  private toggleFlat(): void {
    this.saveState({ flat: !this.state.flat });
    this.flatButton.textContent = this.state.flat ? 'Show tree' : 'Show flat list';
    this.refreshRows();
  }

  private toggleGroup(path: string): void {
    if (this.state.filter) return; // Filtering shows every match, so groups stay open until the filter is cleared.
    const collapsed = new Set(this.state.collapsed);
    if (collapsed.has(path)) collapsed.delete(path);
    else collapsed.add(path);
    this.saveState({ collapsed: [...collapsed] });
    this.refreshRows();
  }

  private onSelect(row: TableRow, immediate: boolean): void {
    window.clearTimeout(this.requestTimer);
    if (row.node.kind === 'group') {
      this.selectedName = undefined;
      this.saveState({ selected: rowKey(row) });
      setButtonDisabled(this.copyButton, true);
      return;
    }

    const name = row.node.entry.name;
    this.selectedName = name;
    this.saveState({ selected: name });
    setButtonDisabled(this.copyButton, false);
    if (immediate) this.showTensor(name);
    else this.requestTimer = window.setTimeout(() => this.showTensor(name), keyboardRequestDelayMs);
  }

  private showTensor(name: string): void {
    const entry = this.data?.tensors.find((tensor) => tensor.name === name);
    if (!entry) return;
    setButtonDisabled(this.copyButton, false);
    const cached = this.statistics.get(name);
    this.statisticsPanel.show(entry, cached);
    if (!cached && !this.requested.has(name)) {
      this.requested.add(name);
      this.host.post({ type: 'requestStatistics', name });
    }
  }

  private copySelectedName(): void {
    if (this.selectedName) this.host.post({ type: 'copyTensorName', name: this.selectedName });
  }

  /** Saves the scroll position once scrolling pauses, since every `setState` is sent to the extension host. */
  private saveScrollTop(scrollTop: number): void {
    window.clearTimeout(this.scrollTimer);
    this.scrollTimer = window.setTimeout(() => this.saveState({ scrollTop }), scrollSaveDelayMs);
  }

  private saveState(change: Partial<InspectorState>): void {
    this.state = { ...this.state, ...change };
    this.host.setState(this.state);
  }
}

function countTensors(rows: readonly TableRow[]): number {
  let count = 0;
  for (const row of rows) if (row.node.kind === 'tensor') count++;
  return count;
}
