// PyTorch zip writer: files it writes are loaded by Debian's torch with `torch.load(path, weights_only=True)` and
// compared value by value, read back by this project's reader, and checked for 64-byte aligned records.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NamedTensor } from '../../../src/formats/checkpoint';
import { bfloat16BitsToNumber, float16BitsToNumber, numberToBfloat16Bits, numberToFloat16Bits } from '../../../src/formats/dtype';
import { openPytorch } from '../../../src/formats/pytorch/reader';
import { writePytorchZip } from '../../../src/formats/pytorch/writer';

let folder = '';
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'pytorch-writer-'));
});
after(() => rmSync(folder, { recursive: true, force: true }));

const LOAD_SCRIPT = `
import json, math, sys, torch
state = torch.load(sys.argv[1], weights_only=True)
out = {'type': type(state).__name__, 'tensors': []}
for name, tensor in state.items():
    values = tensor.double() if tensor.is_floating_point() else tensor.long()
    out['tensors'].append({
        'name': name, 'dtype': str(tensor.dtype), 'shape': list(tensor.shape),
        'contiguous': tensor.is_contiguous(),
        'values': [v if isinstance(v, float) and math.isfinite(v) else repr(v) for v in values.flatten().tolist()],
    })
json.dump(out, sys.stdout)
`;

interface Loaded {
  type: string;
  /** Finite floats as numbers; integers, infinities and NaN as Python's repr. */
  tensors: Array<{ name: string; dtype: string; shape: number[]; contiguous: boolean; values: Array<number | string> }>;
}

function torchLoad(path: string): Loaded {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', LOAD_SCRIPT, path], { encoding: 'utf8' })) as Loaded;
}

const TORCH_DTYPES: Record<string, string> = {
  F64: 'torch.float64', F32: 'torch.float32', F16: 'torch.float16', BF16: 'torch.bfloat16',
  I64: 'torch.int64', I32: 'torch.int32', I16: 'torch.int16', I8: 'torch.int8', U8: 'torch.uint8', BOOL: 'torch.bool',
};

/** Computes each value from the written data as the load script prints it after `.double()` or `.long()`. */
function expectedValues(tensor: NamedTensor): Array<number | string> {
  const source = tensor.data as unknown as ArrayLike<number | bigint>;
  const values: Array<number | string> = [];
  for (let i = 0; i < source.length; i++) {
    let value = source[i];
    if (tensor.dtype === 'F16') value = float16BitsToNumber(value as number);
    if (tensor.dtype === 'BF16') value = bfloat16BitsToNumber(value as number);
    const isFloat = ['F64', 'F32', 'F16', 'BF16'].includes(tensor.dtype);
    if (!isFloat || typeof value === 'bigint') values.push(String(value));
    else if (Number.isNaN(value)) values.push('nan');
    else if (!Number.isFinite(value)) values.push(value > 0 ? 'inf' : '-inf');
    else values.push(value);
  }
  return values;
}

function sampleTensors(): NamedTensor[] {
  const f16 = [0, -0, 1, -2.5, 65504, 6e-8, Infinity, 0.1].map(numberToFloat16Bits);
  const bf16 = [0, 1, -3.25, 1e30, 0.1, -Infinity].map(numberToBfloat16Bits);
  return [
    { name: 'fc1.weight', dtype: 'F32', shape: [2, 3], data: new Float32Array([1.5, -2, 0.1, 3e-8, 1e20, -0]) },
    { name: 'half', dtype: 'F16', shape: [2, 4], data: Uint16Array.from(f16) },
    { name: 'brain', dtype: 'BF16', shape: [6], data: Uint16Array.from(bf16) },
    { name: 'double', dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1e-300]) },
    { name: 'steps', dtype: 'I64', shape: [3], data: new BigInt64Array([0n, -9007199254740993n, 9223372036854775807n]) },
    { name: 'int32', dtype: 'I32', shape: [2], data: new Int32Array([-2147483648, 7]) },
    { name: 'int16', dtype: 'I16', shape: [1], data: new Int16Array([-300]) },
    { name: 'int8', dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
    { name: 'bytes', dtype: 'U8', shape: [70000], data: Uint8Array.from({ length: 70000 }, (_, i) => i % 251) },
    { name: 'mask', dtype: 'BOOL', shape: [2, 2], data: Uint8Array.from([1, 0, 0, 1]) },
    { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([42.5]) },
    { name: 'empty', dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
    { name: 'module.encoder.layers.0.weight', dtype: 'F32', shape: [1, 1, 1], data: new Float32Array([-7]) },
  ];
}

test('torch loads written state dict', async () => {
  const path = join(folder, 'sample.pt');
  const tensors = sampleTensors();
  await writePytorchZip(path, tensors, { inputs: [] });
  const loaded = torchLoad(path);
  assert.equal(loaded.type, 'OrderedDict');
  assert.deepEqual(loaded.tensors.map((tensor) => tensor.name), tensors.map((tensor) => tensor.name));
  for (const [index, tensor] of tensors.entries()) {
    const actual = loaded.tensors[index];
    assert.equal(actual.dtype, TORCH_DTYPES[tensor.dtype], `${tensor.name}: dtype`);
    assert.deepEqual(actual.shape, tensor.shape, `${tensor.name}: shape`);
    assert.ok(actual.contiguous, `${tensor.name}: contiguous`);
    assert.deepEqual(actual.values, expectedValues(tensor), `${tensor.name}: values`);
  }
});

test('written file reads back', async () => {
  const path = join(folder, 'roundtrip.pt');
  const tensors = sampleTensors();
  await writePytorchZip(path, tensors, { inputs: [] });
  const checkpoint = await openPytorch(path);
  try {
    assert.equal(checkpoint.format, 'pytorch-zip');
    assert.equal(checkpoint.pickle?.verdict, 'safe');
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), tensors.map((tensor) => tensor.name));
    for (const tensor of tensors) {
      const entry = checkpoint.tensors.find((candidate) => candidate.name === tensor.name);
      assert.equal(entry?.offset !== undefined && entry.offset % 64, 0, `${tensor.name}: 64-byte aligned`);
      const stored = await checkpoint.readTensor(tensor.name);
      assert.equal(stored.dtype, tensor.dtype);
      assert.deepEqual(stored.shape, tensor.shape);
      assert.deepEqual(stored.data, tensor.data, `${tensor.name}: data`);
    }
  } finally {
    await checkpoint.close();
  }
});

test('more than one SETITEMS batch', async () => {
  const path = join(folder, 'many.pt');
  const tensors: NamedTensor[] = Array.from({ length: 1234 }, (_, i) => ({
    name: `layer${i}.bias`, dtype: 'F32', shape: [1], data: new Float32Array([i]),
  }));
  await writePytorchZip(path, tensors, { inputs: [] });
  const loaded = torchLoad(path);
  assert.equal(loaded.tensors.length, tensors.length);
  assert.equal(loaded.tensors[1233].name, 'layer1233.bias');
  assert.deepEqual(loaded.tensors[1233].values, [1233]);
  assert.deepEqual(loaded.tensors[999].values, [999]);
});

test('zip64 directory for 66000 records', async () => {
  // More than 65535 records need the ZIP64 end of central directory; Python's zipfile checks it and every CRC.
  const path = join(folder, 'zip64.pt');
  const count = 66_000;
  const tensors: NamedTensor[] = Array.from({ length: count }, (_, i) => ({
    name: `t${i}`, dtype: 'I32', shape: [], data: new Int32Array([i]),
  }));
  await writePytorchZip(path, tensors, { inputs: [] });
  const check = `import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    print(len(archive.namelist()), archive.testzip())`;
  const output = execFileSync('/usr/bin/python3', ['-c', check, path], { encoding: 'utf8' }).trim();
  assert.equal(output, `${count + 3} None`);
  const tail = readFileSync(path).subarray(-98);
  assert.equal(tail.readUInt32LE(0), 0x06064b50, 'ZIP64 end of central directory record');
  assert.equal(tail.readUInt32LE(56), 0x07064b50, 'ZIP64 locator');
  const checkpoint = await openPytorch(path);
  try {
    assert.equal(checkpoint.tensors.length, count);
    assert.deepEqual([...await checkpoint.readTensor(`t${count - 1}`, 'float32')], [count - 1]);
  } finally {
    await checkpoint.close();
  }
});

test('writer rejects bad tensors', async () => {
  const path = join(folder, 'bad.pt');
  await assert.rejects(
    writePytorchZip(path, [{ name: 'x', dtype: 'F8_E4M3', shape: [1], data: new Uint8Array(1) }], { inputs: [] }),
    /tensor "x" has dtype F8_E4M3, which has no PyTorch storage class/,
  );
  await assert.rejects(
    writePytorchZip(path, [{ name: 'x', dtype: 'F32', shape: [3], data: new Float32Array(2) }], { inputs: [] }),
    /tensor "x" has 8 bytes of data, but F32 \[3\] needs 12/,
  );
  const one: NamedTensor = { name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) };
  await assert.rejects(writePytorchZip(path, [one, one], { inputs: [] }), /the tensor name "x" appears twice/);
  assert.equal(existsSync(path), false, 'no output after a rejected write');
});

test('writer never overwrites an input', async () => {
  const input = join(folder, 'input.pt');
  writeFileSync(input, 'original');
  await assert.rejects(
    writePytorchZip(input, [{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) }], { inputs: [input] }),
    /refusing to write the output over an input file/,
  );
  assert.deepEqual(readdirSync(folder).filter((name) => name.includes('input.pt')), ['input.pt']);
});
