// Recomputing BatchNorm running statistics of an interpolated network from its own activations.
//
// The running statistics of an interpolated network are the interpolated statistics of its end points, which
// do not describe the activations of the interpolated weights (mixing two networks shrinks their variance), so
// the network normalizes with the wrong scale. Measuring the statistics again removes that part of the barrier.
import { CheckpointError } from '../formats/checkpoint';
import type { Dataset } from './dataset';
import type { EvaluationSession, WeightValues } from './evaluationSession';
import { replaceWeights } from './interpolation';

/**
 * Returns `weights` with every BatchNorm's running mean and variance replaced by the statistics of its input over
 * the whole of `train`, in eval mode.
 *
 * The layers are reset one at a time in graph order, one pass over `train` per layer, because layer k's input
 * depends on the reset statistics of every BatchNorm before it. Training-mode semantics would need only one pass,
 * but would normalize each batch with that batch's own statistics, so the result would depend on the batch size.
 *
 * Each variance is unbiased (divided by count − 1), as PyTorch stores in `running_var`. The result equals
 * PyTorch's reset (`momentum=None`, then a forward pass in train mode) when the whole training set is one batch.
 * The one difference is that PyTorch normalizes that batch with the biased variance, which scales each layer's
 * output by about 1 + 1/(2·count). With several batches PyTorch averages per-batch statistics instead.
 */
export async function resetBatchNormStatistics(session: EvaluationSession, weights: WeightValues, train: Dataset, signal: AbortSignal): Promise<WeightValues> {
  let current: WeightValues = weights;
  for (const node of session.graph.batchNorms) {
    const statistics = await session.channelStatistics(current, train, node.activation, signal);
    const channels = (current.get(node.mean) as Float32Array | Float64Array).length;
    if (statistics.mean.length !== channels) {
      throw new CheckpointError(session.graph.path, `BatchNormalization ${node.label} has ${channels} channels but its input "${node.activation}" has ${statistics.mean.length}`);
    }
    current = replaceWeights(session.graph.weights, current, new Map([[node.mean, statistics.mean], [node.variance, statistics.variance]]));
  }
  return current;
}
