// PyTorch reader on files that Debian's torch writes in a temporary folder. They cover every storage dtype,
// views with offsets, transposes and zero strides, parameters, a bare tensor, pickle protocol 4, legacy views and
// ZIP64 records. Lightning-style containers and unknown globals sit next to readable tensors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checkpoint } from '../../../src/formats/checkpoint';
import { openPytorch } from '../../../src/formats/pytorch/reader';

interface ExpectedTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Finite floats as numbers; integers, infinities and NaN as Python's repr. */
  values: Array<number | string>;
}

let folder = '';
let expected: Record<string, ExpectedTensor[]> = {};

const GENERATE = `
import argparse, json, math, os, sys, zipfile, collections
import numpy as np
import torch
folder = sys.argv[1]
DTYPES = {torch.float64: 'F64', torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64',
          torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8', torch.bool: 'BOOL'}
def describe(named):
    out = []
    for name, t in named:
        values = t.double() if t.is_floating_point() else t.long()
        out.append({'name': name, 'dtype': DTYPES[t.dtype], 'shape': list(t.shape),
                    'values': [v if isinstance(v, float) and math.isfinite(v) else repr(v) for v in values.flatten().tolist()]})
    return out
expected = {}
def save(name, obj, named, **kwargs):
    torch.save(obj, os.path.join(folder, name), **kwargs)
    expected[name] = describe(named)

g = torch.Generator().manual_seed(0)
base = torch.randn(6, 4, generator=g)
dtypes = collections.OrderedDict()
for dtype in DTYPES:
    if dtype == torch.bool:
        dtypes['bool'] = torch.tensor([[True, False], [False, True]])
    elif dtype.is_floating_point:
        dtypes[str(dtype)] = (base * 100).to(dtype)
    else:
        info = torch.iinfo(dtype)
        dtypes[str(dtype)] = torch.tensor([info.min, -1, 0, 1, info.max], dtype=dtype)
dtypes['special'] = torch.tensor([float('inf'), float('-inf'), -0.0, 1e-40])
save('dtypes.pt', dtypes, dtypes.items())

views = collections.OrderedDict()
views['base'] = base
views['transposed'] = base.t()
views['rows'] = base[2:5]
views['columns'] = base[:, 1::2]
views['expanded'] = torch.arange(3.0).expand(4, 3)
views['element'] = base[3, 2]
views['tied'] = base
save('views.pt', views, views.items())
save('views.legacy.pt', views, views.items(), _use_new_zipfile_serialization=False)
save('views.p4.pt', views, views.items(), pickle_protocol=4)

parameter = torch.nn.Parameter(torch.arange(4.0).reshape(2, 2))
save('parameter.pt', {'p': parameter}, [('p', parameter.detach())])
save('bare.pt', torch.arange(5), [('tensor', torch.arange(5))])

linear = torch.nn.Linear(3, 2)
state = linear.state_dict()
save('model_key.pt', {'model': state, 'epoch': 3}, state.items())
save('model_state_dict.pt', {'model_state_dict': state, 'optimizer_state_dict': torch.optim.SGD(linear.parameters(), lr=0.1).state_dict()}, state.items())
hparams = argparse.Namespace(lr=0.01, layers=[3, 2], name='run')
save('lightning.ckpt', {'epoch': 7, 'global_step': 70, 'state_dict': {'model.' + k: v for k, v in state.items()},
                        'hyper_parameters': hparams, 'best_score': np.float64(0.5)},
     [('model.' + k, v) for k, v in state.items()])

class Holder:
    def __init__(self, tensor):
        self.tensor = tensor
hidden = torch.arange(6.0)
save('holder.legacy.pt', {'w': base, 'holder': Holder(hidden)}, [('w', base)], _use_new_zipfile_serialization=False)

# ZIP64 extra fields in every local header, as some zip tools write them.
with zipfile.ZipFile(os.path.join(folder, 'views.pt')) as zin, zipfile.ZipFile(os.path.join(folder, 'zip64.pt'), 'w') as zout:
    for info in zin.infolist():
        with zout.open(info.filename, 'w', force_zip64=True) as target:
            target.write(zin.read(info.filename))
expected['zip64.pt'] = expected['views.pt']
json.dump(expected, sys.stdout)
`;

before(() => {
  folder = mkdtempSync(join(tmpdir(), 'pytorch-reader-'));
  expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', GENERATE, folder], { encoding: 'utf8' })) as Record<string, ExpectedTensor[]>;
});
after(() => rmSync(folder, { recursive: true, force: true }));

function valuesOf(dtype: string, stored: ArrayLike<number | bigint>, floats: Float64Array): Array<number | string> {
  const out: Array<number | string> = [];
  const isFloat = ['F64', 'F32', 'F16', 'BF16'].includes(dtype);
  for (let i = 0; i < floats.length; i++) {
    if (!isFloat) out.push(String(stored[i]));
    else if (Number.isNaN(floats[i])) out.push('nan');
    else if (!Number.isFinite(floats[i])) out.push(floats[i] > 0 ? 'inf' : '-inf');
    else out.push(floats[i]);
  }
  return out;
}

async function checkFile(name: string, check?: (checkpoint: Checkpoint) => Promise<void> | void): Promise<void> {
  const tensors = expected[name];
  assert.ok(tensors, `${name} was generated`);
  const checkpoint = await openPytorch(join(folder, name));
  try {
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), tensors.map((tensor) => tensor.name), `${name}: names`);
    for (const tensor of tensors) {
      const entry = checkpoint.tensors.find((candidate) => candidate.name === tensor.name);
      assert.equal(entry?.dtype, tensor.dtype, `${name} ${tensor.name}: dtype`);
      assert.deepEqual(entry?.shape, tensor.shape, `${name} ${tensor.name}: shape`);
      const stored = await checkpoint.readTensor(tensor.name);
      const floats = await checkpoint.readTensor(tensor.name, 'float64');
      const values = valuesOf(tensor.dtype, stored.data as unknown as ArrayLike<number | bigint>, floats);
      assert.deepEqual(values, tensor.values, `${name} ${tensor.name}: values`);
      const chunked: number[] = [];
      for await (const chunk of checkpoint.readTensorChunks(tensor.name, 12)) chunked.push(...chunk);
      assert.deepEqual(chunked, [...await checkpoint.readTensor(tensor.name, 'float32')], `${name} ${tensor.name}: chunks`);
    }
    await check?.(checkpoint);
  } finally {
    await checkpoint.close();
  }
}

test('every storage dtype', async () => {
  await checkFile('dtypes.pt', (checkpoint) => assert.equal(checkpoint.pickle?.verdict, 'safe'));
});

test('views, offsets and tied storages', async () => {
  await checkFile('views.pt', (checkpoint) => {
    const byName = new Map(checkpoint.tensors.map((entry) => [entry.name, entry]));
    assert.equal(byName.get('tied')?.offset, byName.get('base')?.offset, 'tied tensors share their bytes');
    assert.equal(byName.get('transposed')?.offset, byName.get('base')?.offset, 'a transpose reads the same span');
    assert.equal(byName.get('rows')?.offset, (byName.get('base')?.offset ?? 0) + 2 * 4 * 4, 'a row slice starts at its storage offset');
    assert.equal(byName.get('expanded')?.length, 3 * 4, 'a zero-stride view spans its storage once');
    assert.equal(byName.get('element')?.length, 4);
  });
});

test('legacy views and tied storages', async () => {
  await checkFile('views.legacy.pt', (checkpoint) => assert.equal(checkpoint.format, 'pytorch-legacy'));
});

test('pickle protocol 4 archive', async () => {
  await checkFile('views.p4.pt', (checkpoint) => assert.equal(checkpoint.pickle?.verdict, 'safe'));
});

test('zip64 local headers', async () => {
  await checkFile('zip64.pt');
});

test('parameter and bare tensor', async () => {
  await checkFile('parameter.pt', (checkpoint) => assert.equal(checkpoint.pickle?.verdict, 'safe'));
  await checkFile('bare.pt');
});

test('state dict under model keys', async () => {
  await checkFile('model_key.pt', (checkpoint) => {
    assert.equal(checkpoint.metadata.stateDictKey, 'model');
    assert.equal(checkpoint.metadata.epoch, 3);
  });
  await checkFile('model_state_dict.pt', (checkpoint) => {
    assert.equal(checkpoint.metadata.stateDictKey, 'model_state_dict');
    const optimizer = checkpoint.metadata.optimizer_state_dict as { tensorCount: number; paramGroups: unknown[] };
    assert.equal(optimizer.tensorCount, 0);
    assert.equal((optimizer.paramGroups[0] as Array<{ lr: number }>)[0].lr, 0.1);
  });
});

test('lightning with unknown globals', async () => {
  await checkFile('lightning.ckpt', (checkpoint) => {
    assert.equal(checkpoint.metadata.stateDictKey, 'state_dict');
    assert.equal(checkpoint.metadata.epoch, 7);
    assert.equal(checkpoint.metadata.global_step, 70);
    assert.deepEqual(checkpoint.metadata.hyper_parameters, { lr: 0.01, layers: [3, 2], name: 'run' });
    assert.equal(checkpoint.pickle?.verdict, 'unknown', 'the numpy scalar is not allow-listed');
    const verdicts = Object.fromEntries((checkpoint.pickle?.globals ?? []).map((entry) => [`${entry.module}.${entry.name}`, entry.verdict]));
    assert.equal(verdicts['argparse.Namespace'], 'allowed');
    assert.equal(verdicts['numpy.core.multiarray.scalar'], 'unknown');
    assert.equal(checkpoint.metadata.best_score, 'numpy.core.multiarray.scalar(…)');
  });
});

test('legacy storage inside an unknown object', async () => {
  await checkFile('holder.legacy.pt', (checkpoint) => {
    assert.equal(checkpoint.pickle?.verdict, 'unknown');
    assert.ok(checkpoint.pickle?.globals.some((entry) => entry.module === '__main__' && entry.name === 'Holder' && entry.verdict === 'unknown'));
    assert.equal(checkpoint.metadata.holder, '__main__.Holder(…)');
  });
});
