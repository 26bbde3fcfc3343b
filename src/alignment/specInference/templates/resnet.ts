// torchvision ResNet: stem `conv1`/`bn1`, stages `layerS.B` of basic (conv1–conv2) or bottleneck (conv1–conv3)
// blocks with an optional `downsample` (1×1 conv and BatchNorm) branch, and the classifier `fc`.
import type { AxisEntry } from '../../permutationSpec';
import type { InferredSpec } from '../index';
import { findBase, SpecBuilder, type TemplateInput } from './builder';

export function inferResnet(a: TemplateInput): InferredSpec | undefined {
  const base = findBase(a.tensors, /^(.*?)layer1\.0\.conv1\.weight$/);
  if (base === undefined || !a.tensors.some((entry) => entry.name === `${base}conv1.weight`)) return undefined;
  const builder = new SpecBuilder('ResNet', a.tensors);
  const conv = (name: string, output: AxisEntry, input: AxisEntry) => {
    builder.set(`${name}.weight`, [output, input, null, null]);
    builder.setOptional(`${name}.bias`, [output]);
  };
  const batchNorm = (name: string, channels: AxisEntry) => {
    for (const parameter of ['weight', 'bias', 'running_mean', 'running_var']) builder.set(`${name}.${parameter}`, [channels]);
  };

  // Each downsample branch starts a new residual stream; blocks without one add into the stream they read.
  let stream = 'P_res_stem';
  conv(`${base}conv1`, stream, null);
  batchNorm(`${base}bn1`, stream);
  const blocks = new Set<string>();
  for (const entry of a.tensors) {
    const match = /^layer(\d+)\.(\d+)\.conv1\.weight$/.exec(entry.name.slice(base.length));
    if (entry.name.startsWith(base) && match !== null) blocks.add(`${match[1]}.${match[2]}`);
  }
  const ordered = [...blocks].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  let bottleneck = false;
  for (const block of ordered) {
    const [stage, index] = block.split('.');
    const prefix = `${base}layer${stage}.${index}.`;
    const input = stream;
    if (builder.has(`${prefix}downsample.0.weight`)) {
      stream = `P_res_layer${stage}_${index}`;
      conv(`${prefix}downsample.0`, stream, input);
      batchNorm(`${prefix}downsample.1`, stream);
    }
    const inner = `P_layer${stage}_${index}`;
    if (builder.has(`${prefix}conv3.weight`)) {
      bottleneck = true;
      conv(`${prefix}conv1`, `${inner}_1`, input);
      batchNorm(`${prefix}bn1`, `${inner}_1`);
      conv(`${prefix}conv2`, `${inner}_2`, `${inner}_1`);
      batchNorm(`${prefix}bn2`, `${inner}_2`);
      conv(`${prefix}conv3`, stream, `${inner}_2`);
      batchNorm(`${prefix}bn3`, stream);
    } else {
      conv(`${prefix}conv1`, inner, input);
      batchNorm(`${prefix}bn1`, inner);
      conv(`${prefix}conv2`, stream, inner);
      batchNorm(`${prefix}bn2`, stream);
    }
  }
  builder.set(`${base}fc.weight`, [null, stream]);
  builder.setOptional(`${base}fc.bias`, [null]);
  const kind = bottleneck ? 'bottleneck' : 'basic';
  return builder.finish(`auto: ResNet template (${ordered.length} ${kind} blocks)`, [`residual streams: ${new Set(Object.values(builder.axes).flatMap((entries) => entries.filter((entry): entry is string => typeof entry === 'string' && entry.startsWith('P_res')))).size}`]);
}
