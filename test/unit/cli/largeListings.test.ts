// Listings of more tensors than a call takes as spread arguments (about 130 000 on Node 20), and JSON written
// in pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inspectCommand } from '../../../src/cli/inspect';
import { prettyJsonPieces, writePrettyJson } from '../../../src/cli/jsonOutput';
import { formatTable } from '../../../src/cli/textFormat';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { writeSafetensors } from '../../../src/formats/safetensors/writer';

const TENSOR_COUNT = 130_000;

const directory = mkdtempSync(join(tmpdir(), 'large-listings-'));
test.after(() => rmSync(directory, { recursive: true, force: true }));

function runCli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

/** Writes a safetensors file of `count` one-element F32 tensors named t0, t1, … holding 0, 1, 2, …. */
function manyTensorsFile(name: string, count: number): string {
  const header: Record<string, unknown> = {};
  const data = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    header[`t${index}`] = { dtype: 'F32', shape: [1], data_offsets: [4 * index, 4 * index + 4] };
    data[index] = index;
  }
  const text = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  const path = join(directory, name);
  writeFileSync(path, Buffer.concat([prefix, text, Buffer.from(data.buffer)]));
  return path;
}

/** A stream that keeps every chunk written to it. With `highWaterMark` 1, every `write` returns false. */
class CollectingStream extends Writable {
  readonly chunks: string[] = [];

  constructor() {
    super({ highWaterMark: 1, decodeStrings: false });
  }

  override _write(chunk: string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    setImmediate(callback);
  }
}

test('formatTable pads 130 000 rows', () => {
  const rows: string[][] = [];
  for (let index = 0; index < TENSOR_COUNT; index++) rows.push([`t${index}`, String(index)]);
  const lines = formatTable(['name', 'value'], rows).split('\n');

  assert.equal(lines.length, TENSOR_COUNT + 1);
  assert.equal(lines[0], 'name     value');
  assert.equal(lines[1], 't0       0');
  assert.equal(lines.at(-1), 't129999  129999');
});

test('inspect text lists 130 000 tensors', () => {
  const path = manyTensorsFile('many.safetensors', TENSOR_COUNT);
  const result = runCli('inspect', path);
  assert.equal(result.status, 0, result.stderr);
  // Lines are checked one by one, so a failure does not print the whole listing.
  const lines = result.stdout.split('\n');
  assert.equal(lines.length, TENSOR_COUNT + 5);
  assert.match(lines[1], /^format: safetensors, 130000 tensors, 130,000 parameters/);
  assert.match(lines[3], /^name +dtype +shape +offset +bytes$/);
  assert.match(lines.at(-2) ?? '', /^t129999 +F32 +\[1\] +\d+ +4$/);
});

test('diff text lists 129 999 removed tensors', () => {
  const many = manyTensorsFile('many-a.safetensors', TENSOR_COUNT);
  const single = manyTensorsFile('single.safetensors', 1);
  const result = runCli('diff', many, single);
  assert.equal(result.status, 3, result.stderr);
  const lines = result.stdout.split('\n');
  const listStart = lines.indexOf('only in A (129999):');
  assert.ok(listStart > 0, 'the removed tensors have a heading');
  assert.equal(lines[listStart + 1], '  - t1 F32 [1]');
  assert.equal(lines[listStart + TENSOR_COUNT - 1], '  - t129999 F32 [1]');
  assert.equal(lines[listStart + TENSOR_COUNT + 1], 'shared tensors: 1');
});

test('prettyJsonPieces matches JSON.stringify', () => {
  const documents: Record<string, unknown>[] = [
    {},
    { empty: [] },
    { file: 'a "quoted"\nname λ', tensors: [{ name: 'w', shape: [2, 3], stats: { histogram: { counts: [1, 2] } } }], metadata: {} },
    { tensors: [1, 'two', null, [3, [4]], { nested: { deeper: [] } }], metadata: { key: 'value' }, pickle: { verdict: 'safe', globals: [] } },
    { skipped: undefined, kept: 1, method: () => 0, list: [undefined, () => 0, Symbol('s')] },
    { date: new Date(0), values: [{ toJSON: () => 'custom' }] },
    { onlyArray: [[], {}] },
  ];
  for (const document of documents) {
    assert.equal([...prettyJsonPieces(document)].join(''), JSON.stringify(document, null, 2));
  }
});

test('writePrettyJson writes in pieces', async () => {
  const tensors = Array.from({ length: 40_000 }, (_, index) => ({ name: `layer.${index}.weight`, shape: [index, 4] }));
  const document = { file: 'model.safetensors', tensors, metadata: { format: 'pt' } };
  const stream = new CollectingStream();
  await writePrettyJson(stream, document);

  const expected = `${JSON.stringify(document, null, 2)}\n`;
  assert.ok(expected.length > 2 * 1024 * 1024, 'the document is larger than two write chunks');
  assert.equal(stream.chunks.join(''), expected);
  assert.ok(stream.chunks.length >= 3, `${stream.chunks.length} writes`);
  for (const chunk of stream.chunks) assert.ok(chunk.length < 2 * 1024 * 1024, `chunk of ${chunk.length} characters`);
});

test('inspect write failure names the file', async () => {
  const path = join(directory, 'small.safetensors');
  await writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }], { inputs: [] });
  const failing = new Writable({
    highWaterMark: 1,
    write(_chunk, _encoding, callback) {
      callback(new Error('no space left on device'));
    },
  });
  failing.on('error', () => undefined);
  const io = { stdout: failing, stderr: failing, signal: new AbortController().signal, verbose: false };

  await assert.rejects(inspectCommand.run([path], { json: true }, io), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${String(error)}`);
    assert.equal(error.message, `${path}: writing the listing to standard output failed: no space left on device`);
    return true;
  });
});
