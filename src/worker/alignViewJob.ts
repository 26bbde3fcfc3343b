// The `alignView` job for the alignment panel: the `align` pipeline, then the unit similarity matrices before and
// after alignment, and the spec as `*.permspec.json` text for "Save Spec".
import { DEFAULT_ALIGN_SETTINGS } from '../alignment/alignCheckpoints';
import { chooseSpec } from '../alignment/specChoice';
import { serializePermutationSpec } from '../alignment/specInference';
import type { Checkpoint, FloatTensor } from '../formats/checkpoint';
import { openCheckpoint } from '../formats/open';
import type { JobRequest, JobResult } from '../protocol/workerMessages';
import { alignForJob } from './alignJob';
import type { JobContext } from './jobs';
import { computeHeatmaps } from './similarityMatrices';

export async function runAlignViewJob(request: JobRequest<'alignView'>, context: JobContext): Promise<JobResult<'alignView'>> {
  const { options } = request;
  const started = performance.now();
  const outcome = await alignForJob(request.a, request.b, options, context, 'alignView');
  const { report } = outcome;

  context.onProgress({ stage: 'similarity', message: 'computing unit similarity matrices' });
  const heatmapStart = performance.now();
  const permutations = new Map(Object.entries(report.permutations));
  const heatmaps = await withBoth(request.a, request.b, async (a, b) => {
    const spec = (await chooseSpec(options.spec ?? 'auto', a, b, { graph: options.graph })).resolved;
    const costTensors = spec.tensors.filter((tensor) => tensor.cost);
    const floatsA = new Map<string, FloatTensor>();
    const floatsB = new Map<string, FloatTensor>();
    for (const tensor of costTensors) {
      context.signal.throwIfAborted();
      floatsA.set(tensor.nameA, { shape: tensor.shape, data: await a.readTensor(tensor.nameA, 'float32') });
      floatsB.set(tensor.nameB, { shape: tensor.shape, data: await b.readTensor(tensor.nameB, 'float32') });
    }
    const computeOptions = { precision: 'float32' as const, executionProvider: options.executionProvider ?? DEFAULT_ALIGN_SETTINGS.executionProvider };
    return computeHeatmaps(spec, floatsA, floatsB, permutations, computeOptions, context.signal);
  });
  const heatmapSeconds = (performance.now() - heatmapStart) / 1000;
  context.log('info', `alignView: ${heatmaps.length} similarity matrices in ${heatmapSeconds.toFixed(2)} s; total ${((performance.now() - started) / 1000).toFixed(2)} s`);

  return { report, heatmaps, specText: serializePermutationSpec(outcome.spec), specNotes: outcome.specNotes };
}

async function withBoth<T>(pathA: string, pathB: string, use: (a: Checkpoint, b: Checkpoint) => Promise<T>): Promise<T> {
  const a = await openCheckpoint(pathA);
  try {
    const b = await openCheckpoint(pathB);
    try {
      return await use(a, b);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}
