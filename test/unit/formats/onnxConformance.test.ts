// Checks the ONNX reader against ONNX's conformance test corpus (Debian package libonnx-testdata): every model
// opens with the initializers NumPy lists, and every serialized tensor reads to the values onnx.numpy_helper gives.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { elementCount } from '../../../src/formats/checkpoint';
import { decodeToFloat, isFloatingDType, isSafetensorsDType } from '../../../src/formats/dtype';
import { openOnnx, readTensorProtoFile } from '../../../src/formats/onnx/reader';

const CORPUS = '/usr/share/libonnx-testdata/data';
const PYTHON = '/usr/bin/python3';
const skip = existsSync(CORPUS) ? false : `${CORPUS} is missing; install the Debian package libonnx-testdata`;

interface ModelRecord { model: string; initializers: { name: string; type: string; shape: number[]; sha256?: string }[] }
interface TensorRecord { tensor: string; type: string; shape: number[]; sha256: string }
interface SkippedRecord { skipped: string; reason: string }
type ReferenceRecord = ModelRecord | TensorRecord | SkippedRecord;

function loadReference(): ReferenceRecord[] {
  const output = execFileSync(PYTHON, [join(__dirname, 'onnx_reference.py'), CORPUS], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  return output.trim().split('\n').map((line) => JSON.parse(line) as ReferenceRecord);
}

/**
 * Hashes values the way onnx_reference.py does: float32 for floats up to 32 bits, float64 for doubles, int64 for
 * integers. Floating safetensors dtypes are converted through `decodeToFloat` by dtype, so a wrong dtype mapping
 * changes the hash.
 */
function valueHash(dtype: string, data: ArrayBufferView, count: number): string {
  let canonical: ArrayBufferView;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (isSafetensorsDType(dtype) && isFloatingDType(dtype)) {
    canonical = decodeToFloat(bytes, dtype, count, dtype === 'F64' ? Float64Array : Float32Array);
  } else if (data instanceof Float32Array || data instanceof Float64Array) {
    canonical = data; // COMPLEX64 and COMPLEX128 as interleaved parts
  } else {
    const integers = data as unknown as ArrayLike<number | bigint>;
    canonical = BigInt64Array.from({ length: integers.length }, (_, i) => BigInt.asIntN(64, BigInt(integers[i])));
  }
  return createHash('sha256').update(new Uint8Array(canonical.buffer, canonical.byteOffset, canonical.byteLength)).digest('hex');
}

const ONNX_TO_DTYPE: Record<string, string> = { FLOAT: 'F32', INT64: 'I64', FLOAT16: 'F16', DOUBLE: 'F64', INT32: 'I32', INT8: 'I8', UINT8: 'U8', BOOL: 'BOOL', INT16: 'I16', BFLOAT16: 'BF16' };

test('conformance corpus matches numpy_helper', { skip }, async (t) => {
  const records = loadReference();
  const models = records.filter((record): record is ModelRecord => 'model' in record);
  const tensors = records.filter((record): record is TensorRecord => 'tensor' in record);
  const skipped = records.filter((record): record is SkippedRecord => 'skipped' in record);
  assert.ok(models.length > 1000, `expected the whole corpus, found ${models.length} models`);

  await t.test('every model opens with the reference initializers', async () => {
    let initializerCount = 0;
    for (const record of models) {
      const checkpoint = await openOnnx(record.model);
      try {
        assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), record.initializers.map((entry) => entry.name), record.model);
        const graph = checkpoint.metadata.graph as { nodeCount: number; initializerCount: number };
        assert.equal(graph.initializerCount, record.initializers.length, record.model);
        assert.equal(typeof graph.nodeCount, 'number', record.model);
        for (const expected of record.initializers) {
          const entry = checkpoint.tensors.find((candidate) => candidate.name === expected.name);
          assert.ok(entry, `${record.model}: ${expected.name}`);
          assert.deepEqual(entry.shape, expected.shape, `${record.model}: ${expected.name}`);
          assert.equal(entry.dtype, ONNX_TO_DTYPE[expected.type] ?? expected.type, `${record.model}: ${expected.name}`);
          if (!isSafetensorsDType(entry.dtype)) {
            await assert.rejects(checkpoint.readTensor(entry.name), /cannot convert/);
            continue;
          }
          const stored = await checkpoint.readTensor(entry.name);
          assert.equal(valueHash(entry.dtype, stored.data, elementCount(entry.shape)), expected.sha256, `${record.model}: ${expected.name}`);
          initializerCount++;
        }
      } finally {
        await checkpoint.close();
      }
    }
    t.diagnostic(`${models.length} models opened, ${initializerCount} initializers compared`);
  });

  await t.test('every tensor file reads to the reference values', async () => {
    for (const record of tensors) {
      const value = await readTensorProtoFile(record.tensor);
      assert.equal(value.onnxType, record.type, record.tensor);
      assert.equal(value.dtype, ONNX_TO_DTYPE[record.type] ?? record.type, record.tensor);
      assert.deepEqual(value.shape, record.shape, record.tensor);
      assert.equal(valueHash(value.dtype, value.data, elementCount(value.shape)), record.sha256, record.tensor);
    }
    const reasons = [...new Set(skipped.map((record) => record.reason))].join(', ');
    t.diagnostic(`${tensors.length} tensor files compared; ${skipped.length} skipped (${reasons})`);
  });
});
