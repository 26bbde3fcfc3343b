// Paths that are not regular files (directories, FIFOs, devices, sockets) are rejected before anything opens them,
// and symbolic links to regular files still open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPermutationSpec } from '../../../src/alignment/permutationSpecFile';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { RandomAccessFile } from '../../../src/formats/fileRange';
import { readModelBytes } from '../../../src/formats/onnx/modelFile';
import { openCheckpoint } from '../../../src/formats/open';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';

const directory = mkdtempSync(join(tmpdir(), 'regular-file-'));
test.after(() => rmSync(directory, { recursive: true, force: true }));

function makeFifo(path: string): void {
  const result = spawnSync('mkfifo', [path]);
  assert.equal(result.status, 0, `mkfifo failed: ${String(result.stderr)}`);
}

async function expectRejected(path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(openCheckpoint(path), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${path}: `), `message names the file: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('directory rejected with its kind', async () => {
  const path = join(directory, 'model.safetensors');
  mkdirSync(path);
  await expectRejected(path, /not a regular file but a directory; pass a checkpoint file inside it/);
});

test('FIFO rejected without waiting', async () => {
  // Opening a FIFO for reading blocks until a writer appears, so this test hangs if the FIFO is ever opened.
  for (const name of ['pipe.safetensors', 'pipe.bin']) {
    const path = join(directory, name);
    makeFifo(path);
    await expectRejected(path, /not a regular file but a FIFO \(named pipe\); .*save the data to a regular file/);
  }
});

test('link to character device rejected', async () => {
  const path = join(directory, 'random.safetensors');
  symlinkSync('/dev/urandom', path);
  await expectRejected(path, /not a regular file but a symbolic link to a character device \(\/dev\/urandom\)/);
});

test('character device rejected', async () => {
  await expectRejected('/dev/null', /not a regular file but a character device;/);
});

test('socket rejected', async (context) => {
  const path = join(directory, 'socket.pt');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  context.after(() => server.close());
  await expectRejected(path, /not a regular file but a socket;/);
});

test('missing file names the path', async () => {
  const path = join(directory, 'absent.pt');
  await expectRejected(path, /cannot open the file: ENOENT/);
});

test('link to regular file opens', async () => {
  const target = join(directory, 'real.safetensors');
  await writeSafetensors(target, [{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }], { inputs: [] });
  const link = join(directory, 'link.safetensors');
  symlinkSync(target, link);

  const checkpoint = await openCheckpoint(link);
  try {
    assert.equal(checkpoint.format, 'safetensors');
    assert.deepEqual(checkpoint.tensors.map((tensor) => tensor.name), ['w']);
  } finally {
    await checkpoint.close();
  }
});

test('sharded index with FIFO shard', async () => {
  const shard = join(directory, 'fifo-shard.safetensors');
  makeFifo(shard);
  const index = join(directory, 'fifo.safetensors.index.json');
  writeFileSync(index, JSON.stringify({ metadata: {}, weight_map: { w: 'fifo-shard.safetensors' } }));
  await assert.rejects(openCheckpoint(index), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${shard}: not a regular file but a FIFO`), error.message);
    return true;
  });
});

test('FIFO spec, graph and shard rejected', async () => {
  const fifo = join(directory, 'pipe.json');
  makeFifo(fifo);
  await assert.rejects(loadPermutationSpec(fifo), /cannot read the permutation spec: it is not a regular file/);
  await assert.rejects(readModelBytes(fifo), /not a regular file but a FIFO/);
  // Shards and ONNX external data open through RandomAccessFile directly.
  await assert.rejects(RandomAccessFile.open(fifo), /not a regular file but a FIFO/);
});
