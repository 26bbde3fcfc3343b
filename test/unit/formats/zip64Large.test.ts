// PyTorch zip reader on ZIP64 archives beyond 4 GiB. zip64_large.py writes sparse checkpoints of 4.4 GB that take a
// few KiB of disk: a tensor record larger than 4 GiB, records whose local headers lie past 4 GiB, and corrupt
// variants. Python's zipfile and torch have checked the files before these tests read them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, type Checkpoint, type TensorEntry } from '../../../src/formats/checkpoint';
import { openCheckpoint } from '../../../src/formats/open';

/** The JSON object that zip64_large.py prints. */
interface Generated {
  files: { large: string; locatorPastEnd: string; headerPastEnd: string; sizePastEnd: string };
  fileSize: number;
  cutFileSize: number;
  zip64EndOffset: number;
  records: Record<string, { headerOffset: number; dataOffset: number; length: number }>;
  badHeaderOffset: number;
  badBigBytes: number;
  tensors: TensorEntry[];
  values: { after: number[]; tail: number[] };
}

const FOUR_GIB = 2 ** 32;
/** Bytes that opening may read: the end of the file, data.pkl and local headers (67 KB in this test). */
const MAX_OPEN_READ_BYTES = 256 * 1024;
const COLUMNS = 1000;

let folder = '';
let generated: Generated;
before(() => {
  folder = mkdtempSync(join(tmpdir(), 'zip64-large-'));
  const output = execFileSync('/usr/bin/python3', [join(__dirname, 'zip64_large.py'), folder], { encoding: 'utf8' });
  generated = JSON.parse(output) as Generated;
});
after(() => rmSync(folder, { recursive: true, force: true }));

/** Bytes this process has read through read(2) and similar calls, from Linux's /proc/self/io. */
function bytesReadByProcess(): number {
  const match = /^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  assert.ok(match, '/proc/self/io has an rchar line');
  return Number(match[1]);
}

async function withCheckpoint(path: string, use: (checkpoint: Checkpoint) => Promise<void>): Promise<void> {
  const checkpoint = await openCheckpoint(path);
  try {
    await use(checkpoint);
  } finally {
    await checkpoint.close();
  }
}

async function collectChunks(chunks: AsyncIterable<Float32Array>): Promise<{ values: number[]; count: number }> {
  const values: number[] = [];
  let count = 0;
  for await (const chunk of chunks) {
    // The reader may reuse a chunk's memory for the next one, so copy the values out.
    values.push(...chunk);
    count++;
  }
  return { values, count };
}

async function openError(path: string): Promise<CheckpointError> {
  let checkpoint: Checkpoint | undefined;
  try {
    checkpoint = await openCheckpoint(path);
  } catch (error) {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    return error;
  }
  await checkpoint.close();
  assert.fail(`${path} opened without an error`);
}

test('generated archive needs ZIP64', () => {
  const records = generated.records;
  assert.ok(generated.fileSize > FOUR_GIB);
  assert.ok(records['archive/data/0'].length > FOUR_GIB, 'big record is larger than 4 GiB');
  assert.ok(records['archive/data/1'].headerOffset > FOUR_GIB, 'after record starts past 4 GiB');
  assert.ok(records['archive/version'].headerOffset > FOUR_GIB, 'version record starts past 4 GiB');
  assert.ok(generated.zip64EndOffset > FOUR_GIB, 'central directory lies past 4 GiB');
});

test('tensor entries past 4 GiB', async () => {
  await withCheckpoint(generated.files.large, async (checkpoint) => {
    assert.equal(checkpoint.format, 'pytorch-zip');
    assert.deepEqual(checkpoint.tensors, generated.tensors);
    const byName = new Map(checkpoint.tensors.map((entry) => [entry.name, entry]));
    assert.ok(byName.get('big')!.length > FOUR_GIB, 'big spans more than 4 GiB');
    assert.ok(byName.get('tail')!.offset > FOUR_GIB, 'tail starts past 4 GiB');
    assert.ok(byName.get('corner')!.offset > FOUR_GIB, 'corner starts past 4 GiB');
    assert.ok(byName.get('after')!.offset > FOUR_GIB, 'after starts past 4 GiB');
  });
});

test('open reads only headers', async () => {
  const before = bytesReadByProcess();
  const checkpoint = await openCheckpoint(generated.files.large);
  const read = bytesReadByProcess() - before;
  await checkpoint.close();
  assert.ok(read < MAX_OPEN_READ_BYTES, `open read ${read} bytes`);
});

test('record past 4 GiB reads its values', async () => {
  await withCheckpoint(generated.files.large, async (checkpoint) => {
    const values = await checkpoint.readTensor('after', 'float32');
    assert.deepEqual([...values], generated.values.after);
    assert.ok(values.every((value) => value !== 0), 'values are not zeros from a hole');
  });
});

test('views near the end of big', async () => {
  await withCheckpoint(generated.files.large, async (checkpoint) => {
    // tail is contiguous, so it is read in chunks straight from the file at an offset past 4 GiB.
    const tail = await collectChunks(checkpoint.readTensorChunks('tail', 1024));
    assert.deepEqual(tail.values, generated.values.tail);
    assert.equal(tail.count, Math.ceil(generated.values.tail.length / 256));

    // corner is big[-2:, -3:].t(), a strided view, so its span is read and its elements gathered.
    const corner = await checkpoint.readTensor('corner', 'float32');
    const expected: number[] = [];
    for (let column = COLUMNS - 3; column < COLUMNS; column++) {
      for (let row = 0; row < 2; row++) expected.push(generated.values.tail[row * COLUMNS + column]);
    }
    assert.deepEqual([...corner], expected);
  });
});

test('first chunk of big reads the hole', async () => {
  await withCheckpoint(generated.files.large, async (checkpoint) => {
    const chunkBytes = 1 << 20;
    const before = bytesReadByProcess();
    let first: Float32Array | undefined;
    for await (const chunk of checkpoint.readTensorChunks('big', chunkBytes)) {
      first = chunk.slice();
      break;
    }
    const read = bytesReadByProcess() - before;
    assert.ok(first !== undefined, 'big yields a chunk');
    assert.equal(first.length, chunkBytes / 4);
    assert.ok(first.every((value) => value === 0), 'the hole reads as zeros');
    // The reader reads one chunk ahead; stopping after the first chunk must not read the rest of big.
    assert.ok(read <= 4 * chunkBytes, `stopping after one chunk read ${read} bytes`);
  });
});

test('readTensor of big points to chunks', async () => {
  await withCheckpoint(generated.files.large, async (checkpoint) => {
    await assert.rejects(checkpoint.readTensor('big', 'float32'), (error: unknown) => {
      assert.ok(error instanceof CheckpointError, String(error));
      assert.match(error.message, /readTensorChunks/);
      return true;
    });
  });
});

test('inspect --json lists the large archive', () => {
  const result = spawnSync(process.execPath, ['bin/checkpoint-aligner.js', 'inspect', generated.files.large, '--json'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const listing = JSON.parse(result.stdout) as { format: string; tensors: TensorEntry[]; pickle: { verdict: string } };
  assert.equal(listing.format, 'pytorch-zip');
  assert.equal(listing.pickle.verdict, 'safe');
  assert.deepEqual(listing.tensors, generated.tensors);
});

test('ZIP64 locator past the end', async () => {
  const path = generated.files.locatorPastEnd;
  assert.ok(generated.zip64EndOffset > generated.cutFileSize);
  const error = await openError(path);
  assert.equal(error.file, path);
  assert.ok(error.message.includes(String(generated.zip64EndOffset)), error.message);
  assert.equal(error.detail.offset, generated.zip64EndOffset);
});

test('ZIP64 locator past the end in inspect', () => {
  const path = generated.files.locatorPastEnd;
  const result = spawnSync(process.execPath, ['bin/checkpoint-aligner.js', 'inspect', path, '--json'], { encoding: 'utf8' });
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.ok(result.stderr.includes(path), result.stderr);
  assert.ok(result.stderr.includes(String(generated.zip64EndOffset)), result.stderr);
  assert.equal(result.stderr.trim().split('\n').length, 1, 'one error line without a stack trace');
});

test('ZIP64 local header offset past the end', async () => {
  const path = generated.files.headerPastEnd;
  const offset = generated.badHeaderOffset;
  const error = await openError(path);
  assert.equal(error.file, path);
  assert.equal(error.detail.offset, offset);
  assert.ok(error.message.includes(String(offset)), error.message);
  assert.ok(error.message.includes('archive/data/1'), error.message);
});

test('ZIP64 record size past the end', async () => {
  const path = generated.files.sizePastEnd;
  const dataOffset = generated.records['archive/data/0'].dataOffset;
  const error = await openError(path);
  assert.equal(error.file, path);
  assert.equal(error.detail.offset, dataOffset);
  assert.ok(error.message.includes(String(generated.badBigBytes)), error.message);
  assert.ok(error.message.includes('archive/data/0'), error.message);
});
