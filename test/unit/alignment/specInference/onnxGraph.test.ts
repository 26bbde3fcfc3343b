import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import { openOnnx } from '../../../../src/formats/onnx/reader';
import { loadOnnxModel } from '../../../../src/formats/onnx/reader';
import { writeOnnxWithInitializers } from '../../../../src/formats/onnx/writer';
import { openSafetensors } from '../../../../src/formats/safetensors/reader';
import { writeSafetensors } from '../../../../src/formats/safetensors/writer';
import { loadPermutationSpec } from '../../../../src/alignment/permutationSpecFile';
import { inferPermutationSpec, SpecInferenceError } from '../../../../src/alignment/specInference/index';
import { inferSpecFromGraph } from '../../../../src/alignment/specInference/graphSpec';
import { traceInitializers } from '../../../../src/alignment/specInference/initializerSources';
import {
  FIXTURES, MODELS, maxRelativeDifference, partition, permutedTensors, randomPermutations, resolveAgainst, runOnnx, testInputs, withTemporaryDirectory,
} from './specTestHelpers';

const GRAPH_ARCHITECTURES = ['mlp', 'cnn', 'resnet'] as const;

describe('spec inference from an ONNX graph', () => {
  for (const architecture of GRAPH_ARCHITECTURES) {
    it(`matches the hand-written ${architecture} spec`, async () => {
      const a = await openOnnx(join(MODELS, `${architecture}_s0.onnx`));
      const b = await openOnnx(join(MODELS, `${architecture}_s1.onnx`));
      try {
        const inferred = await inferPermutationSpec(a, b, {});
        const expected = await loadPermutationSpec(join(FIXTURES, 'specs', `${architecture}.permspec.json`));
        assert.equal(inferred.source, `auto: ONNX graph ${a.path}`);
        assert.deepEqual(partition(inferred.spec), partition(expected));
      } finally {
        await a.close();
        await b.close();
      }
    });

    it(`keeps ${architecture} outputs when B is permuted`, async () => {
      const pathB = join(MODELS, `${architecture}_s1.onnx`);
      const a = await openOnnx(join(MODELS, `${architecture}_s0.onnx`));
      const b = await openOnnx(pathB);
      try {
        const inferred = await inferPermutationSpec(a, b, {});
        const resolved = resolveAgainst(inferred.spec, a, b);
        assert.ok(resolved.permutations.size > 0);
        const tensors = await permutedTensors(resolved, b, randomPermutations(resolved, 1));
        await withTemporaryDirectory(async (directory) => {
          const output = join(directory, 'permuted.onnx');
          await writeOnnxWithInitializers(output, pathB, tensors, { inputs: [pathB] });
          const x = await testInputs(architecture);
          const original = await runOnnx(pathB, x);
          const permuted = await runOnnx(output, x);
          assert.equal(permuted.length, original.length);
          const difference = maxRelativeDifference(original, permuted);
          assert.ok(difference <= 1e-5, `max relative |Δlogit| = ${difference}`);
        });
      } finally {
        await a.close();
        await b.close();
      }
    });
  }

  it('names state-dict tensors when the graph is separate', async () => {
    const a = await openSafetensors(join(MODELS, 'cnn_s0.safetensors'));
    try {
      const inferred = await inferSpecFromGraph(join(MODELS, 'cnn_s0.onnx'), a);
      const expected = await loadPermutationSpec(join(FIXTURES, 'specs', 'cnn.permspec.json'));
      assert.deepEqual(partition(inferred.spec), partition(expected));
      assert.deepEqual(inferred.spec.axes['fc.weight'], [null, { perm: 'P_conv2', outer: 1, inner: 16 }]);
    } finally {
      await a.close();
    }
  });

  it('stops at attention with the node and operator', async () => {
    const a = await openSafetensors(join(MODELS, 'transformer_s0.safetensors'));
    try {
      await assert.rejects(inferSpecFromGraph(join(MODELS, 'transformer_s0.onnx'), a), (error: Error) => {
        assert.ok(error instanceof SpecInferenceError);
        assert.match(error.message, /^node "[^"]+" \((Shape|MatMul|Reshape)\): /);
        return true;
      });
    } finally {
      await a.close();
    }
  });

  it('traces folded initializers to state-dict names', async () => {
    const manifest = JSON.parse(await readFile(join(FIXTURES, 'manifest.json'), 'utf8')) as {
      files: { path: string; nameMap?: Record<string, { stateDictName: string; transposed: boolean }> }[];
    };
    const nameMap = manifest.files.find((file) => file.path === 'models/transformer_s0.folded.onnx')?.nameMap;
    assert.ok(nameMap !== undefined);
    const graphPath = join(MODELS, 'transformer_s0.folded.onnx');
    const a = await openSafetensors(join(MODELS, 'transformer_s0.safetensors'));
    try {
      const sources = await traceInitializers(await loadOnnxModel(graphPath), graphPath, a);
      assert.equal(sources.size, Object.keys(nameMap).length);
      for (const [initializer, expected] of Object.entries(nameMap)) {
        const source = sources.get(initializer);
        assert.equal(source?.tensor, expected.stateDictName, initializer);
        assert.equal(source?.transposed, expected.transposed, initializer);
      }
    } finally {
      await a.close();
    }
  });
});

// A small graph written here: x [N, 4] → MatMul(x, Transpose(w1)) + b1 → Relu → MatMul(·, onnx::MatMul_9) → Add(x)
// → Gemm(head, transB = 1). `onnx::MatMul_9` is w2 transposed, as constant folding writes it, and the Add joins
// w2's output channels to the graph input, so they must stay unpermuted.
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function floatInitializer(name: string, shape: number[], values: Float32Array): onnx.ITensorProto {
  return { name, dataType: FLOAT, dims: shape, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

function values(count: number, seed: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(seed * 100 + i * 1.7));
}

function transposed(data: Float32Array, rows: number, columns: number): Float32Array {
  const result = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) result[c * rows + r] = data[r * columns + c];
  return result;
}

interface GraphVariant {
  /** A node between the residual Add and the head, reading `h5` and writing `h6`. */
  readonly extraNode?: onnx.INodeProto;
  /** Routes b1 through an Identity node, then through Abs, which makes it a computed value. */
  readonly computedBias?: boolean;
  /** Routes w1 through an Identity node, as exporters do for tied weights. */
  readonly weightThroughIdentity?: boolean;
}

async function writeSmallGraph(path: string, tensors: Record<string, Float32Array>, variant: GraphVariant = {}): Promise<void> {
  const { extraNode, computedBias = false, weightThroughIdentity = false } = variant;
  const valueInfo = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) } } },
  });
  const nodes: onnx.INodeProto[] = [
    ...(weightThroughIdentity ? [{ opType: 'Identity', name: 'tie_w1', input: ['w1'], output: ['w1_tied'] }] : []),
    { opType: 'Transpose', name: 'transpose_w1', input: [weightThroughIdentity ? 'w1_tied' : 'w1'], output: ['w1_t'], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0] }] },
    { opType: 'MatMul', name: 'matmul_1', input: ['x', 'w1_t'], output: ['h1'] },
    ...(computedBias ? [{ opType: 'Identity', name: 'copy_b1', input: ['b1'], output: ['b1_copy'] }, { opType: 'Abs', name: 'abs_b1', input: ['b1_copy'], output: ['b1_abs'] }] : []),
    { opType: 'Add', name: 'add_b1', input: ['h1', computedBias ? 'b1_abs' : 'b1'], output: ['h2'] },
    { opType: 'Relu', name: 'relu', input: ['h2'], output: ['h3'] },
    { opType: 'MatMul', name: 'matmul_2', input: ['h3', 'onnx::MatMul_9'], output: ['h4'] },
    { opType: 'Add', name: 'residual', input: ['h4', 'x'], output: ['h5'] },
    ...(extraNode === undefined ? [] : [extraNode]),
    { opType: 'Gemm', name: 'head', input: [extraNode === undefined ? 'h5' : 'h6', 'head.weight', 'head.bias'], output: ['y'], attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
  ];
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 14 }],
    graph: {
      name: 'small',
      node: nodes,
      input: [valueInfo('x', ['N', 4])],
      output: [valueInfo('y', ['N', 3])],
      initializer: [
        floatInitializer('w1', [6, 4], tensors['w1']),
        floatInitializer('b1', [6], tensors['b1']),
        floatInitializer('onnx::MatMul_9', [6, 4], transposed(tensors['w2'], 4, 6)),
        floatInitializer('head.weight', [3, 4], tensors['head.weight']),
        floatInitializer('head.bias', [3], tensors['head.bias']),
      ],
    },
  };
  await writeFile(path, onnx.ModelProto.encode(model).finish());
}

describe('spec inference from a written graph', () => {
  const tensors = { w1: values(24, 1), b1: values(6, 2), w2: values(24, 3), 'head.weight': values(12, 4), 'head.bias': values(3, 5) };
  const shapes: Record<string, number[]> = { w1: [6, 4], b1: [6], w2: [4, 6], 'head.weight': [3, 4], 'head.bias': [3] };

  it('swaps axes of transposed copies and fixes input-joined channels', async () => {
    await withTemporaryDirectory(async (directory) => {
      const graphPath = join(directory, 'small.onnx');
      const checkpointPath = join(directory, 'small.safetensors');
      await writeSmallGraph(graphPath, tensors);
      await writeSafetensors(checkpointPath, Object.entries(tensors).map(([name, data]) => ({ name, dtype: 'F32', shape: shapes[name], data })), { inputs: [] });
      const a = await openSafetensors(checkpointPath);
      try {
        const inferred = await inferSpecFromGraph(graphPath, a);
        assert.deepEqual(inferred.spec.axes['w1'], ['P_w1', null]);
        assert.deepEqual(inferred.spec.axes['b1'], ['P_w1']);
        assert.deepEqual(inferred.spec.axes['w2'], [null, 'P_w1']);
        assert.deepEqual(inferred.spec.axes['head.weight'], [null, null]);
        assert.equal(inferred.spec.axes['onnx::MatMul_9'], undefined);
        assert.ok(inferred.notes.some((note) => note.includes('"onnx::MatMul_9" is the transpose of "w2"')), inferred.notes.join('\n'));
      } finally {
        await a.close();
      }
    });
  });

  it('follows Identity nodes on weights', async () => {
    await withTemporaryDirectory(async (directory) => {
      const graphPath = join(directory, 'small.onnx');
      await writeSmallGraph(graphPath, tensors, { weightThroughIdentity: true });
      const a = await openOnnx(graphPath);
      try {
        const inferred = await inferSpecFromGraph(graphPath, a);
        assert.deepEqual(inferred.spec.axes['w1'], ['P_w1', null]);
        assert.deepEqual(inferred.spec.axes['onnx::MatMul_9'], ['P_w1', null]);
      } finally {
        await a.close();
      }
    });
  });

  it('rejects an unknown operator by node name', async () => {
    await withTemporaryDirectory(async (directory) => {
      const graphPath = join(directory, 'small.onnx');
      await writeSmallGraph(graphPath, tensors, { extraNode: { opType: 'TopK', name: 'odd_node', input: ['h5'], output: ['h6'] } });
      const a = await openOnnx(graphPath);
      try {
        await assert.rejects(inferSpecFromGraph(graphPath, a), /^SpecInferenceError: node "odd_node" \(TopK\): this operator is not supported/);
      } finally {
        await a.close();
      }
    });
  });

  it('rejects an input no node produced', async () => {
    await withTemporaryDirectory(async (directory) => {
      const graphPath = join(directory, 'small.onnx');
      await writeSmallGraph(graphPath, tensors, { extraNode: { opType: 'Add', name: 'add_mask', input: ['h5', 'dropout_mask'], output: ['h6'] } });
      const a = await openOnnx(graphPath);
      try {
        await assert.rejects(inferSpecFromGraph(graphPath, a), /^SpecInferenceError: node "add_mask" \(Add\): input "dropout_mask" is not a graph input, an initializer or the first output of an earlier node/);
      } finally {
        await a.close();
      }
    });
  });

  it('rejects a computed bias on permuted channels', async () => {
    await withTemporaryDirectory(async (directory) => {
      const graphPath = join(directory, 'small.onnx');
      await writeSmallGraph(graphPath, tensors, { computedBias: true });
      const a = await openOnnx(graphPath);
      try {
        await assert.rejects(inferSpecFromGraph(graphPath, a), /^SpecInferenceError: node "add_b1" \(Add\): a value computed from initializer "b1" varies along a permuted channel axis/);
      } finally {
        await a.close();
      }
    });
  });

  it('rejects a permuted initializer it cannot trace', async () => {
    await withTemporaryDirectory(async (directory) => {
      const graphPath = join(directory, 'small.onnx');
      const checkpointPath = join(directory, 'small.safetensors');
      await writeSmallGraph(graphPath, tensors);
      const changed = { ...tensors, w2: values(24, 9) };
      await writeSafetensors(checkpointPath, Object.entries(changed).map(([name, data]) => ({ name, dtype: 'F32', shape: shapes[name], data })), { inputs: [] });
      const a = await openSafetensors(checkpointPath);
      try {
        await assert.rejects(inferSpecFromGraph(graphPath, a), /initializer\(s\) "onnx::MatMul_9" match no tensor of .*small\.safetensors/);
      } finally {
        await a.close();
      }
    });
  });
});
