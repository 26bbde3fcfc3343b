// Symbolic unpickler: malicious pickles assembled by hand (never loaded by Python), limits on nesting and
// truncation, benign values that Python pickles at every protocol, and the data.pkl of a real torch.save file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { classifyGlobal } from '../../../src/formats/pickle/globals';
import { MAX_NESTING, PickleTruncatedError, pickleReport, unpickle } from '../../../src/formats/pickle/unpickler';
import { isPickleObject, type PickleValue } from '../../../src/formats/pickle/values';
import { interpretPickle, type PlainValue } from '../../../src/formats/pytorch/interpret';
import { RandomAccessFile } from '../../../src/formats/fileRange';
import { listZip, readRecord } from '../../../src/formats/pytorch/zipArchive';

const options = { file: 'test.pt', label: 'archive/data.pkl' };

function bytes(...parts: Array<string | number[]>): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'string') for (const char of part) out.push(char.charCodeAt(0));
    else out.push(...part);
  }
  return Uint8Array.from(out);
}

function expectCall(value: PickleValue, module: string, name: string): PickleValue[] {
  assert.ok(isPickleObject(value), 'an object');
  assert.ok(value.kind === 'call', 'a call node');
  const callee = value.callee;
  assert.ok(isPickleObject(callee), 'an object callee');
  assert.ok(callee.kind === 'global', 'a global node');
  assert.equal(callee.module, module);
  assert.equal(callee.name, name);
  return value.args;
}

test('protocol 0 os.system is dangerous', () => {
  const folder = mkdtempSync(join(tmpdir(), 'pickle-'));
  const marker = join(folder, 'executed');
  try {
    const result = unpickle(bytes(`cos\nsystem\n(S'touch ${marker}'\ntR.`), options);
    assert.deepEqual(expectCall(result.value, 'os', 'system'), [`touch ${marker}`]);
    assert.deepEqual(result.globals, [{ module: 'os', name: 'system', verdict: 'dangerous' }]);
    assert.equal(pickleReport(result.globals).verdict, 'dangerous');
    assert.equal(existsSync(marker), false, 'the command was not run');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('protocol 4 STACK_GLOBAL posix.system', () => {
  const body = bytes(
    [0x8c, 5], 'posix', [0x94],
    [0x8c, 6], 'system', [0x94],
    [0x93, 0x94],
    [0x8c, 7], 'echo hi', [0x94],
    [0x85, 0x94, 0x52, 0x94, 0x2e],
  );
  const frame = new Uint8Array(9);
  frame[0] = 0x95;
  new DataView(frame.buffer).setBigUint64(1, BigInt(body.length), true);
  const result = unpickle(bytes([0x80, 4], [...frame], [...body]), options);
  assert.deepEqual(expectCall(result.value, 'posix', 'system'), ['echo hi']);
  assert.deepEqual(result.globals, [{ module: 'posix', name: 'system', verdict: 'dangerous' }]);
});

test('global verdicts by module and name', () => {
  const cases: Array<[string, string, string]> = [
    ['os', 'system', 'dangerous'], ['nt', 'system', 'dangerous'], ['subprocess', 'Popen', 'dangerous'],
    ['builtins', 'eval', 'dangerous'], ['builtins', 'exec', 'dangerous'], ['builtins', 'getattr', 'dangerous'],
    ['__builtin__', 'open', 'dangerous'], ['runpy', '_run_code', 'dangerous'], ['shutil', 'rmtree', 'dangerous'],
    ['socket', 'create_connection', 'dangerous'], ['webbrowser', 'open', 'dangerous'],
    ['importlib', 'import_module', 'dangerous'], ['importlib.util', 'find_spec', 'dangerous'],
    ['pickle', 'loads', 'dangerous'], ['sys', 'exit', 'dangerous'], ['pty', 'spawn', 'dangerous'],
    ['ctypes', 'CDLL', 'dangerous'], ['operator', 'attrgetter', 'dangerous'],
    ['torch._utils', '_rebuild_tensor_v2', 'allowed'], ['torch', 'FloatStorage', 'allowed'],
    ['torch', 'BFloat16Storage', 'allowed'], ['torch.storage', 'UntypedStorage', 'allowed'],
    ['torch', 'float32', 'allowed'], ['collections', 'OrderedDict', 'allowed'], ['_codecs', 'encode', 'allowed'],
    ['torch._utils', '_rebuild_parameter', 'allowed'], ['torch', 'Size', 'allowed'],
    ['numpy.core.multiarray', '_reconstruct', 'unknown'], ['builtins', 'print', 'unknown'],
    ['ossify', 'system', 'unknown'], ['torch.nn.modules.linear', 'Linear', 'unknown'],
  ];
  for (const [module, name, verdict] of cases) assert.equal(classifyGlobal(module, name), verdict, `${module}.${name}`);
});

test('report verdict combines globals', () => {
  assert.equal(pickleReport([]).verdict, 'safe');
  assert.equal(pickleReport([{ module: 'torch', name: 'Size', verdict: 'allowed' }]).verdict, 'safe');
  assert.equal(pickleReport([
    { module: 'torch', name: 'Size', verdict: 'allowed' },
    { module: 'numpy', name: 'dtype', verdict: 'unknown' },
  ]).verdict, 'unknown');
  assert.equal(pickleReport([
    { module: 'numpy', name: 'dtype', verdict: 'unknown' },
    { module: 'os', name: 'system', verdict: 'dangerous' },
  ]).verdict, 'dangerous');
});

test('truncated stream reports offset', () => {
  // BINUNICODE declares 100 bytes but the stream contains 3 after the length.
  const stream = bytes([0x80, 2, 0x58, 100, 0, 0, 0], 'abc');
  assert.throws(() => unpickle(stream, options), (error: unknown) => {
    assert.ok(error instanceof PickleTruncatedError);
    assert.equal(error.detail.offset, 2);
    assert.match(error.message, /^test\.pt: archive\/data\.pkl ended at byte 10, but opcode BINUNICODE at byte 2/);
    return true;
  });
  assert.throws(() => unpickle(bytes([0x80, 2, 0x4e]), options), (error: unknown) => {
    assert.ok(error instanceof PickleTruncatedError);
    assert.match(error.message, /ended at byte 3 before the pickle's STOP opcode/);
    return true;
  });
});

test('100k nested containers are rejected', () => {
  const depth = 100_000;
  const variants: Array<[string, Uint8Array]> = [
    ['lists', bytes([0x80, 2], new Array(depth).fill(0x5d), new Array(depth - 1).fill(0x61), '.')],
    ['tuples', bytes([0x80, 2, 0x4e], new Array(depth).fill(0x85), '.')],
    ['marks', bytes(new Array(depth).fill(0x28), new Array(depth).fill(0x74), '.')],
  ];
  for (const [name, stream] of variants) {
    assert.throws(() => unpickle(stream, options), (error: unknown) => {
      assert.ok(error instanceof CheckpointError, name);
      assert.match(error.message, new RegExp(`nests containers more than ${MAX_NESTING} levels deep`), name);
      assert.equal(typeof error.detail.offset, 'number', name);
      return true;
    });
  }
});

test('moderate nesting is accepted', () => {
  const stream = bytes([0x80, 2, 0x4e], new Array(MAX_NESTING - 1).fill(0x85), '.');
  const { value } = unpickle(stream, options);
  let node = value;
  let levels = 0;
  while (isPickleObject(node) && node.kind === 'tuple') {
    node = node.items[0];
    levels++;
  }
  assert.equal(levels, MAX_NESTING - 1);
  assert.equal(node, null);
});

test('invalid opcodes are rejected clearly', () => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [bytes([0x80, 2, 0x82, 1, 0x2e]), /EXT1, an index into Python's copyreg extension registry/],
    [bytes([0x80, 5, 0x97, 0x2e]), /out-of-band buffer \(NEXT_BUFFER/],
    [bytes([0x80, 2, 0xff]), /unknown opcode 0xff/],
    [bytes([0x80, 2, 0x68, 7, 0x2e]), /reads memo entry 7, which was never stored/],
    [bytes([0x80, 2, 0x74, 0x2e]), /has no MARK to pop to/],
    [bytes([0x80, 2, 0x61, 0x2e]), /pops from an empty stack/],
    [bytes([0x80, 9, 0x4e, 0x2e]), /protocol 9/],
    [bytes([0x80, 2, 0x8b, 0, 0, 0, 1, 0x2e]), /an integer of 16777216 bytes, more than the 65536 this reader accepts/],
  ];
  for (const [stream, pattern] of cases) {
    assert.throws(() => unpickle(stream, options), (error: unknown) => {
      assert.ok(error instanceof CheckpointError);
      assert.match(error.message, pattern);
      assert.match(error.message, /^test\.pt: archive\/data\.pkl: /);
      return true;
    });
  }
});

test('protocol 0 text opcodes', () => {
  // A dict with a memoized list, escapes in STRING, a \u escape in UNICODE, INT booleans and LONG.
  const stream = bytes(
    '(dp0\n',
    "S'k\\x41\\n'\np1\n", '(lp2\nI1\naI01\naL123456789012345678901234567890L\naF-0.25\naI-7\na', 's',
    'Vcaf\\u00e9\n', 'g2\n', 's.',
  );
  const { value } = unpickle(stream, options);
  assert.ok(isPickleObject(value));
  assert.ok(value.kind === 'dict', 'a dict node');
  assert.equal(value.entries.length, 2);
  const [firstKey, list] = value.entries[0];
  assert.equal(firstKey, 'kA\n');
  assert.ok(isPickleObject(list));
  assert.ok(list.kind === 'list', 'a list node');
  assert.deepEqual(list.items, [1, true, 123456789012345678901234567890n, { kind: 'float', value: -0.25, depth: 0 }, -7]);
  assert.equal(unpickle(bytes([0x80, 2, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x2e]), options).value, -(2n ** 71n));
  assert.equal(unpickle(bytes([0x80, 2, 0x8a, 0, 0x2e]), options).value, 0);
  assert.equal(unpickle(bytes([0x80, 2, 0x8a, 1, 0xff, 0x2e]), options).value, -1);
  assert.equal(value.entries[1][0], 'café');
  assert.equal(value.entries[1][1], list, 'GET returns the memoized list');
});

/** Canonical JSON of an interpreted value, matching what the Python side prints. */
function canonical(value: PlainValue): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return { int: value.toString() };
  if (typeof value === 'number') return Number.isInteger(value) ? { int: String(value) } : { float: value };
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('hex') };
  if (value.kind === 'tuple') return { tuple: value.items.map(canonical) };
  if (value.kind === 'list') return value.items.map(canonical);
  if (value.kind === 'set') return { set: value.items.map((item) => String(item)).sort() };
  if (value.kind === 'dict') return { dict: value.entries.map(([key, item]) => [canonical(key), canonical(item)]) };
  return { other: value.kind };
}

const PYTHON_VALUES = `
import json, pickle, sys
value = {
    'ints': [0, 1, -1, 255, 256, 65535, 65536, -129, 2**31 - 1, 2**31, -2**31 - 1, 2**70, -2**70],
    'floats': [3.5, -0.25, 1.25e-5, 2.5e-300],
    'flags': (True, False, None),
    'text': 'h\\u00e9llo\\n\\\\ \\u4e2d',
    'bytes': b'\\x00\\xff\\n ab',
    'bytearray': bytearray(b'xy'),
    'set': {1, 2, 3},
    'frozenset': frozenset([4]),
    'nested': [[1], (2,), (), (1, 2), (1, 2, 3), (1, 2, 3, 4), {}],
    7: 'int key',
}
value['shared'] = value['nested']
def canon(v):
    if v is None or isinstance(v, (bool, str)): return v
    if isinstance(v, int): return {'int': str(v)}
    if isinstance(v, float): return {'float': v}
    if isinstance(v, (bytes, bytearray)): return {'bytes': v.hex()}
    if isinstance(v, tuple): return {'tuple': [canon(x) for x in v]}
    if isinstance(v, list): return [canon(x) for x in v]
    if isinstance(v, (set, frozenset)): return {'set': sorted(str(x) for x in v)}
    if isinstance(v, dict): return {'dict': [[canon(k), canon(x)] for k, x in v.items()]}
    raise TypeError(type(v))
out = {'expected': canon(value), 'pickles': {str(p): pickle.dumps(value, protocol=p).hex() for p in range(6)}}
json.dump(out, sys.stdout, ensure_ascii=False, separators=(',', ':'))
`;

test('python pickles at protocols 0 to 5', () => {
  const output = execFileSync('/usr/bin/python3', ['-c', PYTHON_VALUES], { encoding: 'utf8' });
  const { expected, pickles } = JSON.parse(output) as { expected: unknown; pickles: Record<string, string> };
  for (const [protocol, hex] of Object.entries(pickles)) {
    const result = unpickle(Uint8Array.from(Buffer.from(hex, 'hex')), options);
    const interpreted = interpretPickle(result.value, 'test.pt').value;
    assert.deepEqual(canonical(interpreted), expected, `protocol ${protocol}`);
    assert.equal(pickleReport(result.globals).verdict, 'safe', `protocol ${protocol}: ${JSON.stringify(result.globals)}`);
  }
});

test('real torch data.pkl globals', async () => {
  const path = join(__dirname, '..', '..', 'fixtures', 'models', 'mlp_s0.pt');
  const file = await RandomAccessFile.open(path);
  const listing = await listZip(path, file.size);
  try {
    const record = [...listing.records.values()].find((candidate) => candidate.name.endsWith('/data.pkl'));
    assert.ok(record, 'data.pkl record');
    const result = unpickle(await readRecord(file, listing, record), { file: path, label: record.name });
    assert.deepEqual(result.globals.map((entry) => `${entry.module}.${entry.name}:${entry.verdict}`), [
      'collections.OrderedDict:allowed',
      'torch._utils._rebuild_tensor_v2:allowed',
      'torch.FloatStorage:allowed',
    ]);
    const root = result.value;
    assert.ok(isPickleObject(root));
  assert.ok(root.kind === 'call', 'a call node');
    assert.deepEqual(root.dictEntries?.map(([key]) => key), [
      'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias',
    ]);
    const tensorArgs = expectCall(root.dictEntries?.[0][1] ?? null, 'torch._utils', '_rebuild_tensor_v2');
    const storage = tensorArgs[0];
    assert.ok(isPickleObject(storage));
  assert.ok(storage.kind === 'persistent', 'a persistent node');
  } finally {
    listing.zip.close();
    await file.close();
  }
});
