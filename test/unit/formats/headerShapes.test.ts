// Header shapes that cannot be read exactly (sizes beyond 2^53 - 1) and headers without a shape are rejected
// with a message that names the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { openNumpy } from '../../../src/formats/numpy/reader';
import { openSafetensors } from '../../../src/formats/safetensors/reader';

const directory = mkdtempSync(join(tmpdir(), 'header-shapes-'));
test.after(() => rmSync(directory, { recursive: true, force: true }));

/** Writes a safetensors file whose header is `headerText` verbatim, so integers keep the digits written here. */
function safetensorsFile(name: string, headerText: string, bufferLength: number): string {
  const text = Buffer.from(headerText, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  const path = join(directory, name);
  writeFileSync(path, Buffer.concat([prefix, text, Buffer.alloc(bufferLength)]));
  return path;
}

/** Writes a version 1.0 .npy file with the given header text, padded as NumPy pads it. */
function npyFile(name: string, header: string, dataLength: number): string {
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const padded = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  prefix.writeUInt16LE(padded.length, 8);
  const path = join(directory, name);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(padded, 'latin1'), Buffer.alloc(dataLength)]));
  return path;
}

function checkError(error: unknown, path: string, pattern: RegExp): true {
  assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
  assert.ok(error.message.startsWith(`${path}: `), `message names the file: ${error.message}`);
  assert.match(error.message, pattern);
  return true;
}

test('safetensors dimension of 2^62 is too large', async () => {
  const path = safetensorsFile('huge-dimension.safetensors', '{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}', 16);
  await assert.rejects(openSafetensors(path), (error: unknown) => {
    checkError(error, path, /tensor "w": "shape" dimension 0 is about 4611686018427387904, beyond 2\^53 - 1/);
    assert.doesNotMatch((error as Error).message, /non-negative integers/);
    assert.equal((error as CheckpointError).detail.tensor, 'w');
    return true;
  });
});

test('safetensors dimension overflowing to Infinity', async () => {
  const path = safetensorsFile('infinite-dimension.safetensors', '{"w":{"dtype":"F32","shape":[2,1e400],"data_offsets":[0,8]}}', 8);
  await assert.rejects(openSafetensors(path), (error: unknown) => checkError(error, path, /"shape" dimension 1 is infinite, beyond 2\^53 - 1/));
});

test('safetensors element count beyond 2^53', async () => {
  const path = safetensorsFile('huge-count.safetensors', '{"w":{"dtype":"F32","shape":[1073741824,1073741824],"data_offsets":[0,8]}}', 8);
  await assert.rejects(openSafetensors(path), (error: unknown) =>
    checkError(error, path, /"shape" \[1073741824,1073741824\] has about 1\.153e\+18 elements, beyond 2\^53 - 1/));
});

test('safetensors largest exact dimension still checked', async () => {
  // 2^53 - 1 is read exactly, so the shape passes and the byte-length check rejects it.
  const path = safetensorsFile('max-safe.safetensors', '{"w":{"dtype":"U8","shape":[9007199254740991],"data_offsets":[0,8]}}', 8);
  await assert.rejects(openSafetensors(path), (error: unknown) => checkError(error, path, /give 8 bytes but U8 \[9007199254740991\] needs 9007199254740991/));
});

test('safetensors fractional dimension rejected', async () => {
  const path = safetensorsFile('fraction.safetensors', '{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', 4);
  await assert.rejects(openSafetensors(path), (error: unknown) => checkError(error, path, /"shape" must be a list of non-negative integers, got \[1\.5\]/));
});

test('npy header without shape key', async () => {
  const path = npyFile('no-shape.npy', "{'descr': '<f4', 'fortran_order': False, }", 4);
  await assert.rejects(openNumpy(path), (error: unknown) => {
    checkError(error, path, /the \.npy header has no "shape" key/);
    assert.doesNotMatch((error as Error).message, /undefined/);
    return true;
  });
});

test('npy header without descr key', async () => {
  const path = npyFile('no-descr.npy', "{'fortran_order': False, 'shape': (1,), }", 4);
  await assert.rejects(openNumpy(path), (error: unknown) => checkError(error, path, /the \.npy header has no "descr" key/));
});
