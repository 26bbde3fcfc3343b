// Invalid .npy and .npz files: each is rejected with one CheckpointError naming the file and the member or
// byte offset, and no archive member is inflated past the size its .npy header calls for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { openNumpy } from '../../../src/formats/numpy/reader';
import { parsePythonLiteral, LiteralSyntaxError } from '../../../src/formats/numpy/literal';

const directory = mkdtempSync(join(tmpdir(), 'numpy-bad-'));
test.after(() => rmSync(directory, { recursive: true, force: true }));

function python(script: string): void {
  execFileSync('/usr/bin/python3', ['-c', script, directory], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** A version 1.0 .npy file with the given header text (padded as NumPy pads it) and data bytes. */
function npyBytes(header: string, data: Uint8Array): Buffer {
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const padded = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  prefix.writeUInt16LE(padded.length, 8);
  return Buffer.concat([prefix, Buffer.from(padded, 'latin1'), data]);
}

function writeNpy(name: string, header: string, data: Uint8Array): string {
  const path = join(directory, name);
  writeFileSync(path, npyBytes(header, data));
  return path;
}

function checkError(error: unknown, path: string, pattern: RegExp, detail: { tensor?: string; offset?: number }): true {
  assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
  assert.ok(error.message.startsWith(`${path}: `), `message names the file: ${error.message}`);
  assert.match(error.message, pattern);
  if (detail.tensor !== undefined) assert.equal(error.detail.tensor, detail.tensor);
  if (detail.offset !== undefined) assert.equal(error.detail.offset, detail.offset);
  return true;
}

async function expectOpenRejected(path: string, pattern: RegExp, detail: { tensor?: string; offset?: number } = {}): Promise<void> {
  await assert.rejects(openNumpy(path), (error: unknown) => checkError(error, path, pattern, detail));
}

test('npy with bad magic', async () => {
  const path = join(directory, 'bad-magic.npy');
  writeFileSync(path, Buffer.from('\x93NUMPX\x01\x00\x10\x00{}', 'latin1'));
  await expectOpenRejected(path, /neither a \.npy nor a \.npz file/, { offset: 0 });
});

test('npy with truncated data', async () => {
  const path = writeNpy('short.npy', "{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", new Uint8Array(12));
  await expectOpenRejected(path, /array data is 12 bytes but F32 \[10\] needs 40; the file is truncated/, { tensor: 'array', offset: 128 });
});

test('npy with truncated header', async () => {
  const path = join(directory, 'short-header.npy');
  writeFileSync(path, npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)).subarray(0, 30));
  await expectOpenRejected(path, /the \.npy header spans bytes 10\.\.128, outside the file \(30 bytes\)/, { offset: 10 });
});

test('npy cut inside preamble', async () => {
  const path = join(directory, 'preamble.npy');
  writeFileSync(path, Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
  await expectOpenRejected(path, /the \.npy data ends after 8 bytes, inside its header; the file is truncated/, { offset: 8 });
});

test('npy header is never evaluated', async () => {
  const path = writeNpy('eval.npy', "__import__('os').system('touch pwned')", new Uint8Array(0));
  await expectOpenRejected(path, /the \.npy header is not a valid dict literal \(unexpected character "_" at character 0\)/, { offset: 10 });
});

test('npy with unsupported dtypes', async () => {
  const unsigned = writeNpy('u2.npy', "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(4));
  await expectOpenRejected(unsigned, /unsupported dtype "<u2".*convert with a\.astype/);
  const object = writeNpy('object.npy', "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(16));
  await expectOpenRejected(object, /unsupported dtype "\|O": object arrays hold pickled Python objects, which are never loaded/);
  const structured = writeNpy('structured.npy', "{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8));
  await expectOpenRejected(structured, /structured dtype/);
});

test('npy with unsupported version', async () => {
  const path = join(directory, 'v9.npy');
  const bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4));
  bytes[6] = 9;
  writeFileSync(path, bytes);
  await expectOpenRejected(path, /unsupported \.npy format version 9\.0/, { offset: 6 });
});

test('npy with negative shape', async () => {
  const path = writeNpy('negative.npy', "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new Uint8Array(0));
  await expectOpenRejected(path, /"shape" \[-1\] is not a tuple of non-negative integers/);
});

test('literal parser limits nesting', () => {
  assert.throws(() => parsePythonLiteral('('.repeat(100) + ')'.repeat(100)), LiteralSyntaxError);
  const parsed = parsePythonLiteral("{'shape': (3,), \"a\": [True, None], }");
  assert.deepEqual({ ...(parsed as object) }, { shape: [3], a: [true, null] });
});

// Member "a.npy" contains a header for 1000 float32 values but only 12 bytes of data.
const truncatedMember = `
import sys, zipfile, io
import numpy as np
buffer = io.BytesIO()
np.save(buffer, np.zeros(1000, dtype='<f4'))
data = buffer.getvalue()[:128 + 12]
for name, method in (('truncated_stored.npz', zipfile.ZIP_STORED), ('truncated_deflated.npz', zipfile.ZIP_DEFLATED)):
    with zipfile.ZipFile(sys.argv[1] + '/' + name, 'w', method) as z:
        z.writestr('a.npy', data)
`;

test('npz member truncated', async () => {
  python(truncatedMember);
  for (const name of ['truncated_stored.npz', 'truncated_deflated.npz']) {
    const path = join(directory, name);
    await expectOpenRejected(path, /member "a\.npy": the member holds 140 bytes but its \.npy header calls for 4128 \(F32 \[1000\]\); the archive is truncated/, { tensor: 'a' });
  }
});

test('npz file truncated', async () => {
  python("import sys\nimport numpy as np\nnp.savez(sys.argv[1] + '/cut.npz', w=np.ones((64, 64), dtype='<f4'))");
  const path = join(directory, 'cut.npz');
  truncateSync(path, 5000);
  await expectOpenRejected(path, /invalid zip archive \(.*\); the \.npz file is truncated or corrupt/);
});

// Patches the uncompressed size of member "a.npy" in both its local header and the central directory.
const patchSizes = `
def patch_uncompressed_size(path, size):
    data = bytearray(open(path, 'rb').read())
    local = data.find(b'PK\\x03\\x04')
    central = data.find(b'PK\\x01\\x02')
    data[local + 22:local + 26] = size.to_bytes(4, 'little')
    data[central + 24:central + 28] = size.to_bytes(4, 'little')
    open(path, 'wb').write(bytes(data))
`;

test('npz entry declaring a huge size', async () => {
  python(`${patchSizes}
import sys, zipfile, io
import numpy as np
buffer = io.BytesIO()
np.save(buffer, np.arange(4, dtype='<f4'))
path = sys.argv[1] + '/huge.npz'
with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('a.npy', buffer.getvalue())
patch_uncompressed_size(path, 0xfffffff0)
`);
  const path = join(directory, 'huge.npz');
  await expectOpenRejected(path, /member "a\.npy": the member declares 4294967280 bytes but its \.npy header calls for only 144; the archive is corrupt, so it is not inflated/, { tensor: 'a' });
});

test('npz member inflating past its header', async () => {
  // The sizes declare 144 bytes (128-byte header and 4 float32 values) but the deflate stream inflates to 4128.
  python(`${patchSizes}
import sys, zipfile, io
import numpy as np
buffer = io.BytesIO()
np.save(buffer, np.zeros(4, dtype='<f4'))
header = buffer.getvalue()[:128]
path = sys.argv[1] + '/longer.npz'
with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('a.npy', header + bytes(4000))
patch_uncompressed_size(path, 144)
`);
  const path = join(directory, 'longer.npz');
  // Inflation stops at the first piece past 144 bytes, which already comes while reading the .npy header.
  const pattern = /member "a\.npy"(: too many bytes in the stream\. expected 144| inflates to more than the 144 bytes)/;
  await expectOpenRejected(path, pattern, { tensor: 'a' });
});

test('npz with corrupt deflate data', async () => {
  python("import sys\nimport numpy as np\nnp.savez_compressed(sys.argv[1] + '/garbled.npz', w=np.random.default_rng(0).standard_normal(4096))");
  const path = join(directory, 'garbled.npz');
  const bytes = readFileSync(path);
  // Overwrite compressed bytes in the middle of the member, past the .npy header.
  bytes.fill(0xff, 2000, 2400);
  writeFileSync(path, bytes);
  const checkpoint = await openNumpy(path);
  try {
    await assert.rejects(checkpoint.readTensor('w', 'float64'), (error: unknown) => checkError(error, path, /member "w\.npy": .*the archive is corrupt/, { tensor: 'w' }));
  } finally {
    await checkpoint.close();
  }
});
