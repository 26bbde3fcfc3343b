// Crafted and corrupt PyTorch and .npz archives that must not pass as valid. The cases are a dangerous global
// behind an interpretation error, `__torch__` globals outside TorchScript archives, a dangerous constants.pkl,
// floats where torch.load requires ints, and deflated records whose CRC-32 or declared size is wrong. Debian's torch.save and
// numpy write each file before it is altered, and the same Python run records whether torch.load or np.load
// rejects it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, type Checkpoint } from '../../../src/formats/checkpoint';
import { openNumpy } from '../../../src/formats/numpy/reader';
import { pickleReport, riskyGlobalsNote } from '../../../src/formats/pickle/unpickler';
import { openPytorch } from '../../../src/formats/pytorch/reader';

let folder = '';
/** Whether torch.load, np.load or zipfile rejects each file, and the state_dict of the scripted module. */
let reference: { rejected: Record<string, boolean>; stateDict: Record<string, number[]> } = { rejected: {}, stateDict: {} };

const MAKE_FILES = `
import io, json, os, re, struct, sys, types, zipfile
import numpy as np
import torch

folder = sys.argv[1]
path = lambda name: os.path.join(folder, name)
torch.manual_seed(0)

def rewrite(source, target, change=lambda name, data: data, method=zipfile.ZIP_STORED, level=None, compressed='/data/'):
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, 'w') as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            compress = method if compressed in info.filename else zipfile.ZIP_STORED
            zout.writestr(info.filename, data, compress_type=compress, compresslevel=level)

def in_pickle(transform):
    return lambda name, data: transform(data) if name.endswith('data.pkl') or name.endswith('constants.pkl') else data

def record_data_offset(file, name):
    with zipfile.ZipFile(file) as archive:
        info = archive.getinfo(name)
    with open(file, 'rb') as handle:
        handle.seek(info.header_offset)
        header = handle.read(30)
    name_length, extra_length = struct.unpack('<HH', header[26:30])
    return info, info.header_offset + 30 + name_length + extra_length

# A dangerous global in place of the storage class, in a zip and a legacy file.
b = torch.arange(10, dtype=torch.float32)
torch.save({'w': b, 'view': b[2:5]}, path('base.pt'))
storage_to_system = in_pickle(lambda data: data.replace(b'ctorch\\nFloatStorage\\n', b'cposix\\nsystem\\n'))
rewrite(path('base.pt'), path('posix.pt'), storage_to_system)
torch.save({'w': b, 'view': b[2:5]}, path('base.legacy.pt'), _use_new_zipfile_serialization=False)
with open(path('base.legacy.pt'), 'rb') as handle:
    legacy = handle.read()
assert legacy.count(b'ctorch\\nFloatStorage\\n') == 1
with open(path('posix.legacy.pt'), 'wb') as handle:
    handle.write(legacy.replace(b'ctorch\\nFloatStorage\\n', b'cposix\\nsystem\\n'))

# A __torch__ class in a plain torch.save archive, which has no code/ records.
class X:
    pass
X.__module__ = '__torch__.evil'
X.__qualname__ = 'X'
sys.modules['__torch__'] = types.ModuleType('__torch__')
sys.modules['__torch__.evil'] = types.ModuleType('__torch__.evil')
sys.modules['__torch__.evil'].X = X
torch.save({'w': b, 'x': X()}, path('torch_class.pt'))
torch.save(X(), path('torch_class_root.pt'))

# A scripted module whose constants.pkl starts with a call to os.system, then discards its result.
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.plist = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(3)), torch.nn.Parameter(torch.randn(2, 2))])
        self.pdict = torch.nn.ParameterDict({'a': torch.nn.Parameter(torch.randn(4))})
        self.fc = torch.nn.Linear(3, 2)
        self.k = torch.ones(5)
        self.items = [1, 2, 3]
    def forward(self, x):
        return self.fc(x) + self.k.sum() + self.plist[0].sum() + self.pdict['a'].sum() + float(len(self.items))
scripted = torch.jit.script(Net())
scripted.save(path('scripted.pt'))
state_dict = {name: list(tensor.shape) for name, tensor in scripted.state_dict().items()}
marker = path('executed')
call_system = b'cos\\nsystem\\nX' + struct.pack('<I', len('touch ' + marker)) + ('touch ' + marker).encode() + b'\\x85R0'
rewrite(path('scripted.pt'), path('constants_system.pt'),
        lambda name, data: data[:2] + call_system + data[2:] if name.endswith('constants.pkl') else data)

# Floats in place of a tensor's size, stride and storage offset.
torch.save({'w': b}, path('single.pt'))
float_bytes = lambda value: b'G' + struct.pack('>d', value)
float_cases = {
    'float_size.pt': (b'K\\x00K\\n\\x85', b'K\\x00' + float_bytes(10.0) + b'\\x85'),
    'float_stride.pt': (b'K\\x01\\x85', float_bytes(1.0) + b'\\x85'),
    'float_offset.pt': (b'QK\\x00', b'Q' + float_bytes(0.0)),
}
for name, (old, new) in float_cases.items():
    with zipfile.ZipFile(path('single.pt')) as archive:
        assert archive.read('single/data.pkl').count(old) == 1, name
    rewrite(path('single.pt'), path(name), in_pickle(lambda data, old=old, new=new: data.replace(old, new)))

# A deflated record made of stored deflate blocks (level 0), so a flipped byte still inflates, to a wrong value.
rewrite(path('single.pt'), path('deflated.pt'), method=zipfile.ZIP_DEFLATED, level=0)
info, offset = record_data_offset(path('deflated.pt'), 'single/data/0')
with open(path('deflated.pt'), 'rb') as handle:
    deflated = bytearray(handle.read())
deflated[offset + info.compress_size - 8] ^= 0x40
with open(path('bad_crc.pt'), 'wb') as handle:
    handle.write(deflated)

# The same with data.pkl deflated and corrupt.
rewrite(path('single.pt'), path('deflated_pickle.pt'), method=zipfile.ZIP_DEFLATED, level=0, compressed='data.pkl')
info, offset = record_data_offset(path('deflated_pickle.pt'), 'single/data.pkl')
with open(path('deflated_pickle.pt'), 'rb') as handle:
    deflated = bytearray(handle.read())
deflated[offset + info.compress_size - 20] ^= 0x01
with open(path('bad_crc_pickle.pt'), 'wb') as handle:
    handle.write(deflated)

# A deflated record of 40 bytes whose local header and directory entry declare 400.
with open(path('deflated.pt'), 'rb') as handle:
    deflated = bytearray(handle.read())
for start in [m.start() for m in re.finditer(b'PK\\x01\\x02', deflated)]:
    name_length = struct.unpack('<H', deflated[start + 28:start + 30])[0]
    if deflated[start + 46:start + 46 + name_length] == b'single/data/0':
        struct.pack_into('<I', deflated, start + 24, 400)
struct.pack_into('<I', deflated, info.header_offset + 22, 400)
with open(path('declared_size.pt'), 'wb') as handle:
    handle.write(deflated)

# A stored record with 64 bytes beyond what its storage needs, which torch.load accepts.
rewrite(path('single.pt'), path('padded.pt'), lambda name, data: data + bytes(64) if name.endswith('/data/0') else data)

# An .npz member deflated at level 0 with one flipped data byte.
npy = io.BytesIO()
np.save(npy, np.arange(64, dtype=np.float32))
with zipfile.ZipFile(path('bad_crc.npz'), 'w') as archive:
    archive.writestr('a.npy', npy.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=0)
info, offset = record_data_offset(path('bad_crc.npz'), 'a.npy')
with open(path('bad_crc.npz'), 'rb') as handle:
    npz = bytearray(handle.read())
npz[offset + info.compress_size - 8] ^= 0x40
with open(path('bad_crc.npz'), 'wb') as handle:
    handle.write(npz)

def rejected(load, name):
    try:
        load(path(name))
    except Exception:
        return True
    return False
names = ['bad_crc.pt', 'declared_size.pt', 'padded.pt'] + list(float_cases)
outcome = {name: rejected(torch.load, name) for name in names}
outcome['bad_crc.pt:zipfile'] = rejected(lambda file: zipfile.ZipFile(file).read('single/data/0'), 'bad_crc.pt')
outcome['bad_crc.npz'] = rejected(lambda file: np.load(file)['a'], 'bad_crc.npz')
print(json.dumps({'rejected': outcome, 'stateDict': state_dict}))
`;

before(() => {
  folder = mkdtempSync(join(tmpdir(), 'pytorch-safety-'));
  // torch.jit.script reads the module's source, so the script runs from a file rather than with -c.
  const script = join(folder, 'make_files.py');
  writeFileSync(script, MAKE_FILES);
  reference = JSON.parse(execFileSync('/usr/bin/python3', [script, folder], { encoding: 'utf8' })) as typeof reference;
});
after(() => rmSync(folder, { recursive: true, force: true }));

async function withCheckpoint(path: string, body: (checkpoint: Checkpoint) => Promise<void>): Promise<void> {
  const checkpoint = await openPytorch(path);
  try {
    await body(checkpoint);
  } finally {
    await checkpoint.close();
  }
}

/** Opens `path` and returns the CheckpointError it raises, failing the test when it opens. */
async function openError(path: string, open: (path: string) => Promise<Checkpoint> = openPytorch): Promise<CheckpointError> {
  let checkpoint: Checkpoint | undefined;
  try {
    checkpoint = await open(path);
  } catch (error) {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    return error;
  }
  await checkpoint.close();
  assert.fail(`${path} opened without an error`);
}

test('interpretation error names dangerous globals', async () => {
  for (const name of ['posix.pt', 'posix.legacy.pt']) {
    const error = await openError(join(folder, name));
    assert.match(error.message, /storage \d+ has the storage type posix\.system, which this reader does not know/, name);
    assert.match(error.message, /; the pickle also references dangerous globals posix\.system \(nothing was executed\)$/, name);
    assert.equal(error.detail.tensor, 'w', name);
  }
});

test('riskyGlobalsNote lists five of each', () => {
  const globals = [
    ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((name) => ({ module: 'os', name, verdict: 'dangerous' as const })),
    { module: 'mylib', name: 'Config', verdict: 'unknown' as const },
    { module: 'torch', name: 'Size', verdict: 'allowed' as const },
  ];
  assert.equal(
    riskyGlobalsNote(pickleReport(globals, { torchscriptArchive: false })),
    '; the pickle also references dangerous globals os.a, os.b, os.c, os.d, os.e plus 2 more and unknown globals mylib.Config (nothing was executed)',
  );
  assert.equal(riskyGlobalsNote(pickleReport(globals.slice(-1), { torchscriptArchive: false })), '');
});

test('torch class outside torchscript archive', async () => {
  await withCheckpoint(join(folder, 'torch_class.pt'), async (checkpoint) => {
    assert.equal(checkpoint.pickle?.verdict, 'unknown');
    assert.equal(checkpoint.pickle?.torchscript, undefined);
    assert.deepEqual(checkpoint.pickle?.globals.find((entry) => entry.module === '__torch__.evil'), { module: '__torch__.evil', name: 'X', verdict: 'unknown' });
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), ['w']);
  });
  await withCheckpoint(join(folder, 'torch_class_root.pt'), async (checkpoint) => {
    assert.equal(checkpoint.pickle?.torchscript, undefined);
    assert.equal(checkpoint.metadata.torchscript, undefined);
    assert.equal(checkpoint.metadata.torchscriptClass, undefined);
  });
});

test('torchscript constants.pkl globals', async () => {
  await withCheckpoint(join(folder, 'constants_system.pt'), async (checkpoint) => {
    assert.equal(checkpoint.pickle?.verdict, 'dangerous');
    assert.equal(checkpoint.pickle?.torchscript, true);
    assert.deepEqual(checkpoint.pickle?.globals.find((entry) => entry.module === 'os'), { module: 'os', name: 'system', verdict: 'dangerous' });
  });
  assert.equal(existsSync(join(folder, 'executed')), false, 'the command in constants.pkl was not run');
});

test('scripted module lists its state_dict', async () => {
  await withCheckpoint(join(folder, 'scripted.pt'), async (checkpoint) => {
    assert.equal(checkpoint.pickle?.verdict, 'unknown');
    const listed = Object.fromEntries(checkpoint.tensors.map((entry) => [entry.name, entry.shape]));
    assert.deepEqual(listed, reference.stateDict);
  });
});

test('float size, stride or offset rejected', async () => {
  const cases = [
    ['float_size.pt', /a tensor's size has the float 10\.0 at index 0, where torch\.load requires a non-negative integer/],
    ['float_stride.pt', /a tensor's stride has the float 1\.0 at index 0, where torch\.load requires a non-negative integer/],
    ['float_offset.pt', /a tensor's storage offset is the float 0\.0, where torch\.load requires a non-negative integer/],
  ] as const;
  for (const [name, message] of cases) {
    assert.equal(reference.rejected[name], true, `torch.load rejects ${name}`);
    const error = await openError(join(folder, name));
    assert.match(error.message, message, name);
    assert.equal(error.detail.tensor, 'w', name);
  }
});

test('deflated record with bad CRC-32', async () => {
  // torch.load of torch 1.13 returns the wrong values without an error; Python's zipfile rejects the record.
  assert.equal(reference.rejected['bad_crc.pt'], false, 'torch.load accepts the file');
  assert.equal(reference.rejected['bad_crc.pt:zipfile'], true, 'zipfile rejects the record');
  await withCheckpoint(join(folder, 'deflated.pt'), async (checkpoint) => {
    assert.deepEqual([...await checkpoint.readTensor('w', 'float32')], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  await withCheckpoint(join(folder, 'bad_crc.pt'), async (checkpoint) => {
    const crcMessage = /zip record single\/data\/0 inflates to bytes whose CRC-32 is 0x[0-9a-f]{8}, but its zip directory entry declares 0x[0-9a-f]{8}/;
    await assert.rejects(checkpoint.readTensor('w', 'float32'), crcMessage);
    await assert.rejects(checkpoint.readTensor('w', 'stored'), crcMessage);
    const chunks = async () => {
      for await (const chunk of checkpoint.readTensorChunks('w', 16)) assert.ok(chunk.length > 0);
    };
    await assert.rejects(chunks(), crcMessage);
  });
});

test('deflated data.pkl with bad CRC-32', async () => {
  await withCheckpoint(join(folder, 'deflated_pickle.pt'), async (checkpoint) => {
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), ['w']);
  });
  const error = await openError(join(folder, 'bad_crc_pickle.pt'));
  assert.match(error.message, /zip record single\/data\.pkl inflates to bytes whose CRC-32 is 0x[0-9a-f]{8}, but its zip directory entry declares 0x[0-9a-f]{8}/);
  assert.equal(typeof error.detail.offset, 'number');
});

test('deflated record declaring extra bytes', async () => {
  assert.equal(reference.rejected['declared_size.pt'], true, 'torch.load rejects the file');
  const error = await openError(join(folder, 'declared_size.pt'));
  assert.match(error.message, /zip record single\/data\/0 declares 400 uncompressed bytes, but tensor "w" uses it as storage "0" of 10 F32 elements \(40 bytes\)/);
  assert.equal(error.detail.tensor, 'w');
  assert.equal(typeof error.detail.offset, 'number');
});

test('stored record with extra bytes reads', async () => {
  assert.equal(reference.rejected['padded.pt'], false, 'torch.load accepts the file');
  await withCheckpoint(join(folder, 'padded.pt'), async (checkpoint) => {
    // single.pt contains torch.arange(10) as "w".
    assert.deepEqual([...await checkpoint.readTensor('w', 'float32')], Array.from({ length: 10 }, (_, index) => index));
  });
});

test('npz member with bad CRC-32', async () => {
  assert.equal(reference.rejected['bad_crc.npz'], true, 'np.load rejects the file');
  // The member is small enough that inflating its .npy header at open reaches its end, so either step may reject.
  const read = async () => {
    const checkpoint = await openNumpy(join(folder, 'bad_crc.npz'));
    try {
      await checkpoint.readTensor('a', 'float32');
    } finally {
      await checkpoint.close();
    }
  };
  await assert.rejects(read(), /member "a\.npy" inflates to bytes whose CRC-32 is 0x[0-9a-f]{8}, but its zip directory entry declares 0x[0-9a-f]{8}/);
});

test('local header method mismatch', async () => {
  // The zip directory marks the record deflated and the local header marks it stored, so neither reading is safe.
  const bytes = Buffer.from(readFileSync(join(folder, 'deflated.pt')));
  const name = Buffer.from('single/data/0');
  let header = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  while (header >= 0 && !bytes.subarray(header + 30, header + 30 + name.length).equals(name)) {
    header = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), header + 4);
  }
  assert.ok(header >= 0, 'local header of single/data/0 found');
  assert.equal(bytes.readUInt16LE(header + 8), 8, 'the record is deflated');
  bytes.writeUInt16LE(0, header + 8);
  const path = join(folder, 'method_mismatch.pt');
  writeFileSync(path, bytes);
  const error = await openError(path);
  assert.match(error.message, /zip record single\/data\/0 has compression method 0 in its local header at byte \d+ but 8 in the zip directory/);
  assert.equal(error.detail.offset, header);
});
