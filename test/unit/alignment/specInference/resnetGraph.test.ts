// The ResNet template and graph inference reach a spec independently; on a bottleneck ResNet with downsample
// branches, written here as an ONNX graph with torchvision's tensor names, both must agree and keep the outputs.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { elementCount } from '../../../../src/formats/checkpoint';
import { openOnnx } from '../../../../src/formats/onnx/reader';
import { writeOnnxWithInitializers } from '../../../../src/formats/onnx/writer';
import { inferSpecFromGraph } from '../../../../src/alignment/specInference/graphSpec';
import { inferFromTemplates } from '../../../../src/alignment/specInference/templates';
import { maxRelativeDifference, partition, permutedTensors, randomPermutations, resolveAgainst, runOnnx, withTemporaryDirectory } from './specTestHelpers';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const { INT, INTS } = onnx.AttributeProto.AttributeType;

class ResnetGraph {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private count = 0;

  private tensor(name: string, shape: number[], positive = false): string {
    const index = this.initializers.length;
    const values = Float32Array.from({ length: elementCount(shape) }, (_, i) => (positive ? 1.2 + 0.5 * Math.sin(index + i) : 0.4 * Math.sin(index * 17 + i * 1.1)));
    this.initializers.push({ name, dataType: FLOAT, dims: shape, rawData: new Uint8Array(values.buffer) });
    return name;
  }

  private node(opType: string, input: string[], attribute: onnx.IAttributeProto[] = [], output = `v${this.count}`): string {
    this.count++;
    this.nodes.push({ opType, name: `${opType}_${this.count}`, input, output: [output], attribute });
    return output;
  }

  convBn(x: string, conv: string, bn: string, out: number, input: number, kernel: number): string {
    const pad = (kernel - 1) / 2;
    const y = this.node('Conv', [x, this.tensor(`${conv}.weight`, [out, input, kernel, kernel])], [{ name: 'pads', type: INTS, ints: [pad, pad, pad, pad] }]);
    const parameters = ['weight', 'bias', 'running_mean', 'running_var'].map((parameter) => this.tensor(`${bn}.${parameter}`, [out], parameter !== 'bias' && parameter !== 'running_mean'));
    return this.node('BatchNormalization', [y, ...parameters]);
  }

  relu(x: string): string {
    return this.node('Relu', [x]);
  }

  bottleneck(x: string, block: string, input: number, width: number, output: number, downsample: boolean): string {
    let y = this.relu(this.convBn(x, `${block}.conv1`, `${block}.bn1`, width, input, 1));
    y = this.relu(this.convBn(y, `${block}.conv2`, `${block}.bn2`, width, width, 3));
    y = this.convBn(y, `${block}.conv3`, `${block}.bn3`, output, width, 1);
    const shortcut = downsample ? this.convBn(x, `${block}.downsample.0`, `${block}.downsample.1`, output, input, 1) : x;
    return this.relu(this.node('Add', [y, shortcut]));
  }

  head(x: string, channels: number, classes: number): void {
    const pooled = this.node('Flatten', [this.node('GlobalAveragePool', [x])], [{ name: 'axis', type: INT, i: 1 }]);
    this.node('Gemm', [pooled, this.tensor('fc.weight', [classes, channels]), this.tensor('fc.bias', [classes])], [{ name: 'transB', type: INT, i: 1 }], 'y');
  }
}

async function writeResnet(path: string): Promise<void> {
  const graph = new ResnetGraph();
  let x = graph.relu(graph.convBn('x', 'conv1', 'bn1', 8, 2, 3));
  x = graph.bottleneck(x, 'layer1.0', 8, 4, 16, true);
  x = graph.bottleneck(x, 'layer1.1', 16, 4, 16, false);
  x = graph.bottleneck(x, 'layer2.0', 16, 8, 32, true);
  x = graph.bottleneck(x, 'layer2.1', 32, 8, 32, false);
  graph.head(x, 32, 5);
  const valueInfo = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) } } },
  });
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 14 }],
    graph: { name: 'resnet', node: graph.nodes, initializer: graph.initializers, input: [valueInfo('x', ['N', 2, 5, 5])], output: [valueInfo('y', ['N', 5])] },
  };
  await writeFile(path, onnx.ModelProto.encode(model).finish());
}

describe('bottleneck ResNet template against its graph', () => {
  it('agrees with graph inference and keeps outputs', async () => {
    await withTemporaryDirectory(async (directory) => {
      const path = join(directory, 'resnet.onnx');
      await writeResnet(path);
      const model = await openOnnx(path);
      try {
        const fromTemplate = inferFromTemplates(model, { level: 'local' });
        const fromGraph = await inferSpecFromGraph(path, model);
        assert.equal(fromTemplate.source, 'auto: ResNet template (4 bottleneck blocks)');
        assert.deepEqual(partition(fromTemplate.spec), partition(fromGraph.spec));

        const resolved = resolveAgainst(fromTemplate.spec, model, model);
        assert.equal(resolved.permutations.size, 11);
        const output = join(directory, 'permuted.onnx');
        await writeOnnxWithInitializers(output, path, await permutedTensors(resolved, model, randomPermutations(resolved, 8)), { inputs: [path] });
        const x = new ort.Tensor('float32', Float32Array.from({ length: 4 * 2 * 5 * 5 }, (_, i) => Math.cos(i * 0.37)), [4, 2, 5, 5]);
        const difference = maxRelativeDifference(await runOnnx(path, x), await runOnnx(output, x));
        assert.ok(difference <= 1e-5, `max relative |Δy| = ${difference}`);
      } finally {
        await model.close();
      }
    });
  });
});
