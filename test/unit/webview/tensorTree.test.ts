import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TensorEntry } from '../../../src/formats/checkpoint';
import { buildTensorTree, flattenTree, type FlattenOptions, type TableRow } from '../../../webview/logic/tensorTree';

function entry(name: string, shape: number[], dtype = 'F32'): TensorEntry {
  const bytes = shape.reduce((product, size) => product * size, 1) * (dtype === 'F16' ? 2 : 4);
  return { name, dtype, shape, offset: 0, length: bytes };
}

const tensors: TensorEntry[] = [
  entry('layers.10.weight', [8, 8]),
  entry('layers.9.weight', [4, 4]),
  entry('layers.9.bias', [4]),
  entry('layers.2.weight', [16, 16], 'F16'),
  entry('embed.weight', [100, 8]),
  entry('params/dense/kernel', [8, 2]),
  entry('params/dense/bias', [2]),
  entry('step', []),
];

const defaults: FlattenOptions = { filter: '', sortColumn: 'name', descending: false, collapsed: new Set(), flat: false };

function describe(rows: TableRow[]): string[] {
  return rows.map((row) => `${'  '.repeat(row.depth)}${row.node.kind === 'group' ? `[${row.node.label}]` : row.node.label}`);
}

test('tree groups by dot and slash', () => {
  const rows = flattenTree(buildTensorTree(tensors), defaults);
  assert.deepEqual(describe(rows), [
    '[embed]',
    '  weight',
    '[layers]',
    '  [2]',
    '    weight',
    '  [9]',
    '    bias',
    '    weight',
    '  [10]',
    '    weight',
    '[params/dense]',
    '  bias',
    '  kernel',
    'step',
  ]);
});

test('group totals include descendants', () => {
  const root = buildTensorTree(tensors);
  const layers = root.children.find((node) => node.kind === 'group' && node.label === 'layers');
  assert.ok(layers, 'group layers exists');
  assert.ok(layers.kind === 'group');
  assert.equal(layers.tensorCount, 4);
  assert.equal(layers.parameters, 64 + 16 + 4 + 256);
  assert.equal(layers.bytes, 64 * 4 + 16 * 4 + 4 * 4 + 256 * 2);
  assert.equal(root.tensorCount, tensors.length);
});

test('merged group keeps full path', () => {
  const root = buildTensorTree(tensors);
  const dense = root.children.find((node) => node.kind === 'group' && node.label === 'params/dense');
  assert.ok(dense, 'group params/dense exists');
  assert.ok(dense.kind === 'group');
  assert.equal(dense.path, 'params/dense');
});

test('collapsed group hides children', () => {
  const rows = flattenTree(buildTensorTree(tensors), { ...defaults, collapsed: new Set(['layers']) });
  assert.deepEqual(describe(rows), ['[embed]', '  weight', '[layers]', '[params/dense]', '  bias', '  kernel', 'step']);
  const layers = rows.find((row) => row.node.kind === 'group' && row.node.path === 'layers');
  assert.equal(layers?.expanded, false);
});

test('filter keeps matches and their groups', () => {
  const rows = flattenTree(buildTensorTree(tensors), { ...defaults, filter: 'BIAS', collapsed: new Set(['layers']) });
  assert.deepEqual(describe(rows), ['[layers]', '  [9]', '    bias', '[params/dense]', '  bias']);
});

test('filter without matches gives no rows', () => {
  assert.deepEqual(flattenTree(buildTensorTree(tensors), { ...defaults, filter: 'nothing-like-this' }), []);
});

test('sort by bytes descending orders siblings', () => {
  const rows = flattenTree(buildTensorTree(tensors), { ...defaults, sortColumn: 'bytes', descending: true });
  const top = rows.filter((row) => row.depth === 0).map((row) => row.node.label);
  // Bytes: embed 3200, layers 848, params/dense 40, step 4.
  assert.deepEqual(top, ['embed', 'layers', 'params/dense', 'step']);
});

test('flat list sorts full names', () => {
  const rows = flattenTree(buildTensorTree(tensors), { ...defaults, flat: true });
  assert.deepEqual(rows.map((row) => row.node.label), [
    'embed.weight', 'layers.2.weight', 'layers.9.bias', 'layers.9.weight', 'layers.10.weight',
    'params/dense/bias', 'params/dense/kernel', 'step',
  ]);
  assert.ok(rows.every((row) => row.depth === 0));
});

test('sort by dtype in tree keeps groups first', () => {
  const tree = flattenTree(buildTensorTree(tensors), { ...defaults, sortColumn: 'dtype', collapsed: new Set(['layers', 'embed', 'params/dense']) });
  assert.deepEqual(describe(tree), ['[embed]', '[layers]', '[params/dense]', 'step']);
});

test('sort by dtype in flat list', () => {
  const rows = flattenTree(buildTensorTree(tensors), { ...defaults, sortColumn: 'dtype', flat: true });
  assert.equal(rows[0].node.label, 'layers.2.weight', 'F16 sorts before F32');
  const dtypes = rows.map((row) => (row.node.kind === 'tensor' ? row.node.entry.dtype : ''));
  assert.deepEqual(dtypes, [...dtypes].sort());
});

test('sort by shape orders rank first', () => {
  const rows = flattenTree(buildTensorTree(tensors), { ...defaults, sortColumn: 'shape', flat: true });
  const ranks = rows.map((row) => (row.node.kind === 'tensor' ? row.node.entry.shape.length : -1));
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
  assert.equal(rows[0].node.label, 'step');
});

test('fifty thousand tensors build one group per block', () => {
  const many: TensorEntry[] = [];
  for (let i = 0; i < 50000; i++) many.push(entry(`model.blocks.${Math.floor(i / 10)}.part${i % 10}.weight`, [2, 2]));
  const root = buildTensorTree(many);
  const blocks = root.children[0];
  assert.equal(blocks.kind, 'group');
  assert.equal(blocks.kind === 'group' && blocks.label, 'model.blocks');
  assert.equal(blocks.kind === 'group' && blocks.children.length, 5000);
  const rows = flattenTree(root, defaults);
  assert.equal(rows.filter((row) => row.node.kind === 'tensor').length, 50000);
  const blockLabels = rows.filter((row) => row.depth === 1).slice(0, 12).map((row) => row.node.label);
  assert.deepEqual(blockLabels, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
});
