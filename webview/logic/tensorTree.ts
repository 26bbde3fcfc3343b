// Grouping of tensor names into a tree of module paths, and flattening it into the rows the table shows.
import type { TensorEntry } from '../../src/formats/checkpoint';
import { elementCount } from '../../src/formats/checkpoint';
import { compareNaturalKeys, naturalKey, type NaturalKey } from './naturalSort';

export type SortColumn = 'name' | 'dtype' | 'shape' | 'parameters' | 'bytes';

export interface TensorNode {
  readonly kind: 'tensor';
  readonly entry: TensorEntry;
  /** Last path segment, or the whole name in a flat list. */
  readonly label: string;
  readonly parameters: number;
  readonly bytes: number;
  readonly key: NaturalKey;
}

export interface GroupNode {
  readonly kind: 'group';
  /** Prefix of the member tensor names up to, not including, the separator after this group, e.g. `layers.3`. */
  readonly path: string;
  /** Segments this group adds to its parent's path; several when single-child groups were merged. */
  label: string;
  readonly children: TreeNode[];
  parameters: number;
  bytes: number;
  tensorCount: number;
  key: NaturalKey;
}

export type TreeNode = TensorNode | GroupNode;

/** One visible line of the table. */
export interface TableRow {
  readonly node: TreeNode;
  readonly depth: number;
  /** For groups: whether the children follow. */
  readonly expanded: boolean;
}

function newGroup(path: string, label: string): GroupNode {
  return { kind: 'group', path, label, children: [], parameters: 0, bytes: 0, tensorCount: 0, key: naturalKey(label) };
}

function isSeparator(code: number): boolean {
  return code === 46 || code === 47; // '.' or '/'
}

/**
 * Builds the module tree of `tensors`, splitting names on `.` and `/`. A group with a single child group and
 * no tensors of its own is merged into that child (`model` + `layers` becomes `model.layers`), as compact folders
 * do. Group totals (parameters, bytes, tensor count) include all descendants.
 */
export function buildTensorTree(tensors: readonly TensorEntry[]): GroupNode {
  const root = newGroup('', '');
  // Child groups by segment, per group; walking segment by segment avoids a lookup by every full prefix.
  const childGroups = new Map<GroupNode, Map<string, GroupNode>>();

  for (const entry of tensors) {
    const name = entry.name;
    const parameters = elementCount(entry.shape);
    let parent = root;
    let segmentStart = 0;
    parent.parameters += parameters;
    parent.bytes += entry.length;
    parent.tensorCount++;

    for (let i = 0; i < name.length; i++) {
      if (!isSeparator(name.charCodeAt(i))) continue;
      const segment = name.slice(segmentStart, i);
      let children = childGroups.get(parent);
      if (!children) {
        children = new Map();
        childGroups.set(parent, children);
      }
      let group = children.get(segment);
      if (!group) {
        group = newGroup(name.slice(0, i), segment);
        children.set(segment, group);
        parent.children.push(group);
      }
      group.parameters += parameters;
      group.bytes += entry.length;
      group.tensorCount++;
      parent = group;
      segmentStart = i + 1;
    }

    const label = name.slice(segmentStart);
    parent.children.push({ kind: 'tensor', entry, label, parameters, bytes: entry.length, key: naturalKey(label) });
  }

  compactGroups(root);
  return root;
}

/** Merges chains of single-child groups, keeping the separator that joined them in the label. */
function compactGroups(group: GroupNode): void {
  for (let i = 0; i < group.children.length; i++) {
    let child = group.children[i];
    if (child.kind !== 'group') continue;
    while (child.children.length === 1 && child.children[0].kind === 'group') {
      const only: GroupNode = child.children[0];
      const separator = only.path.charAt(child.path.length);
      only.label = `${child.label}${separator}${only.label}`;
      only.key = naturalKey(only.label);
      child = only;
    }
    group.children[i] = child;
    compactGroups(child);
  }
}

/** Options of `flattenTree`: what to show and in which order. */
export interface FlattenOptions {
  /** Case-insensitive substring of the full tensor name; empty shows all. */
  readonly filter: string;
  readonly sortColumn: SortColumn;
  readonly descending: boolean;
  /** Group paths whose children are hidden; ignored while a filter is set, so every match is visible. */
  readonly collapsed: ReadonlySet<string>;
  /** A flat list of full names instead of the tree. */
  readonly flat: boolean;
}

/** Lists the visible rows of the tree, depth first, children sorted by `sortColumn`. */
export function flattenTree(root: GroupNode, options: FlattenOptions): TableRow[] {
  const needle = options.filter.trim().toLowerCase();
  const compare = nodeComparator(options.sortColumn, options.descending);
  const rows: TableRow[] = [];

  if (options.flat) {
    const leaves: TensorNode[] = [];
    collectTensors(root, needle, leaves);
    const flatNodes = leaves.map(flatVariant);
    flatNodes.sort(compare);
    for (const node of flatNodes) rows.push({ node, depth: 0, expanded: false });
    return rows;
  }

  // Returns whether any row was added for the group's children.
  const visit = (group: GroupNode, depth: number): boolean => {
    let added = false;
    for (const child of [...group.children].sort(compare)) {
      if (child.kind === 'tensor') {
        if (needle && !child.entry.name.toLowerCase().includes(needle)) continue;
        rows.push({ node: child, depth, expanded: false });
        added = true;
      } else if (needle) {
        // While filtering, groups are open and a group without a matching descendant is dropped again.
        const index = rows.length;
        rows.push({ node: child, depth, expanded: true });
        if (visit(child, depth + 1)) added = true;
        else rows.length = index;
      } else {
        const expanded = !options.collapsed.has(child.path);
        rows.push({ node: child, depth, expanded });
        added = true;
        if (expanded) visit(child, depth + 1);
      }
    }
    return added;
  };

  visit(root, 0);
  return rows;
}

// The flat list shows full names, so its nodes carry the full name's key; built once per tensor node.
const flatVariants = new WeakMap<TensorNode, TensorNode>();

function flatVariant(leaf: TensorNode): TensorNode {
  let variant = flatVariants.get(leaf);
  if (!variant) {
    variant = { ...leaf, label: leaf.entry.name, key: naturalKey(leaf.entry.name) };
    flatVariants.set(leaf, variant);
  }
  return variant;
}

function collectTensors(group: GroupNode, needle: string, out: TensorNode[]): void {
  for (const child of group.children) {
    if (child.kind === 'group') collectTensors(child, needle, out);
    else if (!needle || child.entry.name.toLowerCase().includes(needle)) out.push(child);
  }
}

/** Compares siblings; ties fall back to natural name order so the order is stable whatever the column. */
function nodeComparator(column: SortColumn, descending: boolean): (a: TreeNode, b: TreeNode) => number {
  const sign = descending ? -1 : 1;
  return (a, b) => {
    let result = 0;
    if (column === 'parameters') result = a.parameters - b.parameters;
    else if (column === 'bytes') result = a.bytes - b.bytes;
    else if (column === 'dtype' || column === 'shape') {
      // Groups have no dtype or shape: they stay before the tensors, in name order.
      if (a.kind !== b.kind) return a.kind === 'group' ? -1 : 1;
      if (a.kind === 'tensor' && b.kind === 'tensor') {
        result = column === 'dtype' ? compareText(a.entry.dtype, b.entry.dtype) : compareShapes(a.entry.shape, b.entry.shape);
      }
    }
    if (result !== 0) return sign * result;
    const byName = compareNaturalKeys(a.key, b.key);
    return column === 'name' ? sign * byName : byName;
  };
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Orders shapes by rank, then dimension by dimension. */
function compareShapes(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}
