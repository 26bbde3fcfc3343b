// Tests of the GGUF reader on files written by a small GGUF v3 writer (after the GGUF specification in the ggml
// repository), on the fixture, and on invalid files.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CheckpointError } from '../../../src/formats/checkpoint';
import { numberToFloat16Bits } from '../../../src/formats/dtype';
import { openGguf } from '../../../src/formats/gguf/reader';

// Value type codes of GGUF metadata.
const U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12;

/** Little-endian byte builder. */
class Bytes {
  private parts: Buffer[] = [];
  length = 0;
  push(buffer: Buffer): this {
    this.parts.push(buffer);
    this.length += buffer.length;
    return this;
  }
  u32(value: number): this { const b = Buffer.alloc(4); b.writeUInt32LE(value); return this.push(b); }
  u64(value: number | bigint): this { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(value)); return this.push(b); }
  string(text: string): this { const raw = Buffer.from(text, 'utf8'); return this.u64(raw.length).push(raw); }
  pad(alignment: number): this { return this.push(Buffer.alloc((alignment - (this.length % alignment)) % alignment)); }
  build(): Buffer { return Buffer.concat(this.parts); }
}

type Value = { type: number; value: unknown };

function encodeValue(out: Bytes, { type, value }: Value): void {
  const scalar = (size: number, write: (b: Buffer) => void) => {
    const b = Buffer.alloc(size);
    write(b);
    out.push(b);
  };
  switch (type) {
    case U8: scalar(1, (b) => b.writeUInt8(value as number)); break;
    case I8: scalar(1, (b) => b.writeInt8(value as number)); break;
    case U16: scalar(2, (b) => b.writeUInt16LE(value as number)); break;
    case I16: scalar(2, (b) => b.writeInt16LE(value as number)); break;
    case U32: out.u32(value as number); break;
    case I32: scalar(4, (b) => b.writeInt32LE(value as number)); break;
    case F32: scalar(4, (b) => b.writeFloatLE(value as number)); break;
    case BOOL: scalar(1, (b) => b.writeUInt8(value ? 1 : 0)); break;
    case STRING: out.string(value as string); break;
    case U64: out.u64(value as bigint); break;
    case I64: scalar(8, (b) => b.writeBigInt64LE(value as bigint)); break;
    case F64: scalar(8, (b) => b.writeDoubleLE(value as number)); break;
    case ARRAY: {
      const { elementType, items } = value as { elementType: number; items: unknown[] };
      out.u32(elementType).u64(items.length);
      for (const item of items) encodeValue(out, { type: elementType, value: item });
      break;
    }
  }
}

interface TensorSpec { name: string; ggmlType: number; dims: number[]; data: Buffer }

/** Writes a GGUF v3 file: metadata, tensor infos with offsets aligned to `alignment`, then the data section. */
function encodeGguf(metadata: [string, Value][], tensors: TensorSpec[], alignment = 32): { bytes: Buffer; dataStart: number; offsets: number[] } {
  const header = new Bytes().push(Buffer.from('GGUF')).u32(3).u64(tensors.length).u64(metadata.length);
  for (const [key, value] of metadata) {
    header.string(key).u32(value.type);
    encodeValue(header, value);
  }
  const data = new Bytes();
  const offsets: number[] = [];
  for (const tensor of tensors) {
    data.pad(alignment);
    offsets.push(data.length);
    header.string(tensor.name).u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    header.u32(tensor.ggmlType).u64(data.length);
    data.push(tensor.data);
  }
  header.pad(alignment);
  return { bytes: Buffer.concat([header.build(), data.build()]), dataStart: header.length, offsets };
}

const f32Bytes = (values: number[]) => Buffer.from(Float32Array.from(values).buffer);

/** Q8_0 blocks of 32 values: an f16 scale d = max|x| / 127, then round(x / d) as int8. */
function quantizeQ8_0(values: number[]): Buffer {
  const blocks: Buffer[] = [];
  for (let start = 0; start < values.length; start += 32) {
    const block = values.slice(start, start + 32);
    const scale = Math.max(...block.map(Math.abs)) / 127;
    const bytes = Buffer.alloc(34);
    bytes.writeUInt16LE(numberToFloat16Bits(scale));
    block.forEach((value, i) => bytes.writeInt8(scale === 0 ? 0 : Math.round(value / scale), 2 + i));
    blocks.push(bytes);
  }
  return Buffer.concat(blocks);
}

const folder = mkdtempSync(join(tmpdir(), 'gguf-reader-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const vocabulary = Array.from({ length: 1000 }, (_, i) => `token${i}`);
const metadata: [string, Value][] = [
  ['general.architecture', { type: STRING, value: 'test' }],
  ['general.alignment', { type: U32, value: 64 }],
  ['test.u8', { type: U8, value: 200 }],
  ['test.i8', { type: I8, value: -100 }],
  ['test.u16', { type: U16, value: 60000 }],
  ['test.i16', { type: I16, value: -30000 }],
  ['test.i32', { type: I32, value: -2_000_000_000 }],
  ['test.f32', { type: F32, value: 0.5 }],
  ['test.bool', { type: BOOL, value: true }],
  ['test.u64', { type: U64, value: 2n ** 60n }],
  ['test.i64', { type: I64, value: -5n }],
  ['test.f64', { type: F64, value: 0.1 }],
  ['test.nested', { type: ARRAY, value: { elementType: ARRAY, items: [{ elementType: U32, items: [1, 2] }, { elementType: U32, items: [] }] } }],
  ['tokenizer.ggml.tokens', { type: ARRAY, value: { elementType: STRING, items: vocabulary } }],
  ['tokenizer.ggml.scores', { type: ARRAY, value: { elementType: F32, items: vocabulary.map((_, i) => i / 2) } }],
];
const weights = Array.from({ length: 6 }, (_, i) => i - 2.5);
const quantizedValues = Array.from({ length: 128 }, (_, i) => Math.sin(i) * 3);
const q8Blocks = quantizeQ8_0(quantizedValues);
const tensors: TensorSpec[] = [
  { name: 'blk.0.weight', ggmlType: 0, dims: [3, 2], data: f32Bytes(weights) },
  { name: 'blk.0.half', ggmlType: 1, dims: [4], data: Buffer.from(Uint16Array.from([1, -2, 0.5, 65504].map(numberToFloat16Bits)).buffer) },
  { name: 'blk.0.q8', ggmlType: 8, dims: [64, 2], data: q8Blocks },
  { name: 'blk.0.index', ggmlType: 26, dims: [3], data: Buffer.from(Int32Array.from([7, -8, 9]).buffer) },
  { name: 'blk.0.scalar', ggmlType: 28, dims: [], data: Buffer.from(Float64Array.from([Math.PI]).buffer) },
];
const written = encodeGguf(metadata, tensors, 64);
const ggufPath = join(folder, 'model.gguf');
writeFileSync(ggufPath, written.bytes);

test('tensor infos give shapes, types and offsets', async () => {
  const checkpoint = await openGguf(ggufPath);
  try {
    assert.equal(checkpoint.format, 'gguf');
    assert.deepEqual(checkpoint.tensors.map((entry) => [entry.name, entry.dtype, entry.shape]), [
      ['blk.0.weight', 'F32', [2, 3]],
      ['blk.0.half', 'F16', [4]],
      ['blk.0.q8', 'Q8_0', [2, 64]],
      ['blk.0.index', 'I32', [3]],
      ['blk.0.scalar', 'F64', []],
    ]);
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.offset), written.offsets.map((offset) => written.dataStart + offset));
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.length), [24, 8, 136, 12, 8]);
    assert.equal(written.dataStart % 64, 0);
    assert.equal(checkpoint.metadata.dataOffset, written.dataStart);
  } finally {
    await checkpoint.close();
  }
});

test('values read as stored and as float', async () => {
  const checkpoint = await openGguf(ggufPath);
  try {
    assert.deepEqual([...(await checkpoint.readTensor('blk.0.weight', 'float32'))], weights);
    assert.deepEqual([...(await checkpoint.readTensor('blk.0.half', 'float64'))], [1, -2, 0.5, 65504]);
    assert.deepEqual([...((await checkpoint.readTensor('blk.0.index')).data as Int32Array)], [7, -8, 9]);
    assert.deepEqual([...(await checkpoint.readTensor('blk.0.scalar', 'float64'))], [Math.PI]);
    const parts: number[] = [];
    for await (const chunk of checkpoint.readTensorChunks('blk.0.weight', 8)) parts.push(...chunk);
    assert.deepEqual(parts, weights);
  } finally {
    await checkpoint.close();
  }
});

test('Q8_0 reads as raw blocks only', async () => {
  const checkpoint = await openGguf(ggufPath);
  try {
    const stored = await checkpoint.readTensor('blk.0.q8');
    assert.equal(stored.dtype, 'Q8_0');
    assert.deepEqual(Buffer.from(stored.data.buffer, stored.data.byteOffset, stored.data.byteLength), q8Blocks);
    await assert.rejects(checkpoint.readTensor('blk.0.q8', 'float32'), /"blk\.0\.q8": quantized GGUF type Q8_0 has no float conversion; dequantization is not supported/);
    await assert.rejects(async () => {
      for await (const _ of checkpoint.readTensorChunks('blk.0.q8', 64)) assert.fail('no chunk expected');
    }, /quantized GGUF type Q8_0/);
  } finally {
    await checkpoint.close();
  }
});

test('metadata keeps every value type', async () => {
  const checkpoint = await openGguf(ggufPath);
  const values = checkpoint.metadata;
  assert.equal(values['general.architecture'], 'test');
  assert.equal(values['test.u8'], 200);
  assert.equal(values['test.i8'], -100);
  assert.equal(values['test.u16'], 60000);
  assert.equal(values['test.i16'], -30000);
  assert.equal(values['test.i32'], -2_000_000_000);
  assert.equal(values['test.f32'], 0.5);
  assert.equal(values['test.bool'], true);
  assert.equal(values['test.u64'], (2n ** 60n).toString());
  assert.equal(values['test.i64'], -5);
  assert.equal(values['test.f64'], 0.1);
  assert.deepEqual(values['test.nested'], [[1, 2], []]);
  assert.deepEqual(values['tokenizer.ggml.tokens'], { type: 'string', length: 1000, first: vocabulary.slice(0, 8) });
  assert.deepEqual(values['tokenizer.ggml.scores'], { type: 'float32', length: 1000, first: [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5] });
  assert.equal(values.alignment, 64);
  await checkpoint.close();
});

const manifestPath = join(__dirname, '../../fixtures/manifest.json');
interface ManifestTensor { name: string; shape: number[]; dtype: string; sha256: string; ggufDims: number[]; dataOffset: number }
interface ManifestFile { path: string; format: string; tensors: ManifestTensor[]; dataSectionOffset: number; metadata: Record<string, unknown> }
const ggufFixtures = existsSync(manifestPath)
  ? ((JSON.parse(readFileSync(manifestPath, 'utf8')) as { files?: ManifestFile[] }).files ?? []).filter((file) => file.format === 'gguf')
  : [];

test('GGUF fixtures match the manifest', { skip: ggufFixtures.length === 0 ? 'no GGUF fixtures in the manifest' : false }, async () => {
  for (const file of ggufFixtures) {
    const checkpoint = await openGguf(join(__dirname, '../../fixtures', file.path));
    try {
      assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), file.tensors.map((tensor) => tensor.name), file.path);
      for (const [key, value] of Object.entries(file.metadata)) assert.deepEqual(checkpoint.metadata[key], value, `${file.path}: ${key}`);
      for (const tensor of file.tensors) {
        const entry = checkpoint.tensors.find((candidate) => candidate.name === tensor.name);
        assert.ok(entry, `${file.path}: ${tensor.name}`);
        assert.deepEqual(entry.shape, tensor.shape, `${file.path}: ${tensor.name}`);
        assert.deepEqual([...entry.shape].reverse(), tensor.ggufDims, `${file.path}: ${tensor.name}`);
        assert.equal(entry.dtype, tensor.dtype, `${file.path}: ${tensor.name}`);
        assert.equal(entry.offset, file.dataSectionOffset + tensor.dataOffset, `${file.path}: ${tensor.name}`);
        if (entry.dtype === 'Q8_0') {
          // The manifest hashes the dequantized values, which this reader does not compute; check the block bytes' size.
          const stored = await checkpoint.readTensor(tensor.name);
          assert.equal(stored.data.byteLength, (tensor.shape.reduce((a, b) => a * b, 1) / 32) * 34);
          await assert.rejects(checkpoint.readTensor(tensor.name, 'float32'), /dequantization is not supported/);
          continue;
        }
        const values = await checkpoint.readTensor(tensor.name, 'float32');
        const hash = createHash('sha256').update(new Uint8Array(values.buffer)).digest('hex');
        assert.equal(hash, tensor.sha256, `${file.path}: ${tensor.name}`);
      }
    } finally {
      await checkpoint.close();
    }
  }
});

async function assertOpenFails(bytes: Uint8Array, pattern: RegExp, label: string, tensor?: string): Promise<void> {
  const path = join(folder, `${label}.gguf`);
  writeFileSync(path, bytes);
  await assert.rejects(openGguf(path), (error: unknown) => {
    assert.ok(error instanceof CheckpointError, String(error));
    assert.match(error.message, pattern, label);
    assert.ok(error.message.startsWith(path), error.message);
    if (tensor !== undefined) assert.equal(error.detail.tensor, tensor, label);
    else assert.equal(typeof error.detail.offset, 'number', label);
    return true;
  });
}

test('bad magic is rejected', async () => {
  const bytes = Buffer.from(written.bytes);
  bytes.write('GGML', 0);
  await assertOpenFails(bytes, /not a GGUF file: the first bytes are 0x4c4d4747/, 'magic');
  await assertOpenFails(Buffer.from('GG'), /too short for a GGUF header/, 'tiny');
});

test('truncated tensor table is rejected', async () => {
  // Cut inside the tensor infos, which follow the metadata.
  const infosStart = written.bytes.indexOf(Buffer.from('blk.0.half')) - 8;
  await assertOpenFails(written.bytes.subarray(0, infosStart + 4), /truncated/, 'table');
  await assertOpenFails(written.bytes.subarray(0, 40), /truncated/, 'metadata');
});

test('truncated data section is rejected', async () => {
  await assertOpenFails(written.bytes.subarray(0, written.bytes.length - 1), /tensor "blk\.0\.scalar" .* past the end of the file/, 'data', 'blk.0.scalar');
});

test('absurd counts are rejected before allocating', async () => {
  const tensorCount = Buffer.from(written.bytes);
  tensorCount.writeBigUInt64LE(2n ** 60n, 8);
  await assertOpenFails(tensorCount, /tensor count at byte 8 is 1152921504606846976, which is impossibly large/, 'tensor-count');
  tensorCount.writeBigUInt64LE(2n ** 40n, 8);
  await assertOpenFails(tensorCount, /declares 1099511627776 tensors, which cannot fit/, 'tensor-count-fit');
  const metadataCount = Buffer.from(written.bytes);
  metadataCount.writeBigUInt64LE(2n ** 40n, 16);
  await assertOpenFails(metadataCount, /declares 1099511627776 metadata entries/, 'metadata-count');
  // Each file is long enough for its declared entry count, so the per-value checks are the ones that fire.
  const hugeString = new Bytes().push(Buffer.from('GGUF')).u32(3).u64(0).u64(1).u64(2n ** 50n).push(Buffer.alloc(64)).build();
  await assertOpenFails(hugeString, /declares 1125899906842624 bytes but only/, 'string-length');
  const hugeArray = new Bytes().push(Buffer.from('GGUF')).u32(3).u64(0).u64(1).string('a').u32(ARRAY).u32(U64).u64(2n ** 40n).push(Buffer.alloc(64)).build();
  await assertOpenFails(hugeArray, /metadata "a" declares 1099511627776 uint64 elements/, 'array-length');
});

test('invalid tensor infos are rejected', async () => {
  const unknownType = encodeGguf([], [{ name: 'w', ggmlType: 31, dims: [32], data: Buffer.alloc(18) }]);
  await assertOpenFails(unknownType.bytes, /tensor "w" .*unknown or removed ggml type 31/, 'type', 'w');
  const badBlock = encodeGguf([], [{ name: 'q', ggmlType: 8, dims: [33], data: Buffer.alloc(68) }]);
  await assertOpenFails(badBlock.bytes, /innermost dimension 33 is not a multiple of Q8_0's block size 32/, 'block', 'q');
  const fiveDims = encodeGguf([], [{ name: 'x', ggmlType: 0, dims: [1, 1, 1, 1, 1], data: Buffer.alloc(4) }]);
  await assertOpenFails(fiveDims.bytes, /5 dimensions/, 'dims', 'x');
  const version = Buffer.from(written.bytes);
  version.writeUInt32LE(1, 4);
  await assertOpenFails(version, /GGUF version 1/, 'version');
});
