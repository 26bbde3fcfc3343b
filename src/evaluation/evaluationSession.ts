// One onnxruntime session over the parameterized graph, fed with new weights on every run.
import * as ort from 'onnxruntime-node';
import { CheckpointError } from '../formats/checkpoint';
import { createSession, OnnxRuntimeError, type ExecutionProviderChoice, type ExecutionProviderUsed } from '../compute/executionProvider';
import { scoreLogits } from './crossEntropy';
import { checkLabels, type Dataset } from './dataset';
import type { ParameterizedGraph } from './parameterizedGraph';

/** Weight input name → values in the input's element type. */
export type WeightValues = ReadonlyMap<string, Float32Array | Float64Array>;

export interface PointScore {
  /** Mean cross-entropy, natural log. */
  readonly loss: number;
  readonly accuracy: number;
  /** Logits `[samples, classes]`, when requested. */
  readonly logits?: Float32Array | Float64Array;
}

/** Per-channel statistics of one activation over a data set: axis 1 is the channel axis, as BatchNorm reads it. */
export interface ChannelStatistics {
  readonly mean: Float64Array;
  /** Unbiased variance (divided by count − 1), as PyTorch stores in `running_var`. */
  readonly variance: Float64Array;
  /** Values per channel: samples times the spatial size. */
  readonly count: number;
}

/** Samples per run when the graph's batch axis is dynamic. */
const DEFAULT_BATCH = 256;

let sessionsCreated = 0;

/** Number of evaluation sessions created in this process; each costs a graph optimization pass. */
export function evaluationSessionsCreated(): number {
  return sessionsCreated;
}

export class EvaluationSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly graph: ParameterizedGraph,
    readonly provider: ExecutionProviderUsed,
  ) {}

  /** Runs the graph on one batch, fetching one output; onnxruntime's errors gain a sentence naming the graph. */
  private async runBatch(feeds: ort.InferenceSession.FeedsType, output: string): Promise<ort.InferenceSession.ReturnType> {
    try {
      return await this.session.run(feeds, [output]);
    } catch (error) {
      throw new OnnxRuntimeError(`${this.graph.path}: evaluating output "${output}" on a batch failed`, error);
    }
  }

  static async create(graph: ParameterizedGraph, executionProvider: ExecutionProviderChoice): Promise<EvaluationSession> {
    const { session, provider } = await createSession(graph.bytes, executionProvider, `the evaluation of ${graph.path}`);
    sessionsCreated++;
    return new EvaluationSession(session, graph, provider);
  }

  /**
   * Throws CheckpointError naming the data file when its input shape does not fit the graph's data input.
   * Call once before the runs, so the mismatch is reported in the user's terms instead of onnxruntime's.
   */
  checkDataset(dataset: Dataset, inputName: string): void {
    const { dims, name } = this.graph.dataInput;
    const shown = dims.map((dim) => dim ?? '?').join(', ');
    const fits = dims.length === dataset.shape.length && dims.every((dim, axis) => axis === 0 || typeof dim !== 'number' || dim === dataset.shape[axis]);
    if (!fits) {
      throw new CheckpointError(
        dataset.path,
        `input array "${inputName}" has shape [${dataset.shape.join(', ')}] but graph input "${name}" of ${this.graph.path} expects [${shown}]; pass the data layout this model was trained on`,
      );
    }
  }

  /** Scores the network with `weights` on every sample of `dataset`, in batches. */
  async score(weights: WeightValues, dataset: Dataset, labelName: string, keepLogits: boolean, signal: AbortSignal): Promise<PointScore> {
    const feeds = this.weightFeeds(weights);
    let lossSum = 0;
    let correct = 0;
    let logits: Float32Array | Float64Array | undefined;
    for (const batch of this.batches(dataset)) {
      signal.throwIfAborted();
      const result = await this.runBatch({ ...feeds, [this.graph.dataInput.name]: batch.input }, this.graph.output);
      const output = result[this.graph.output];
      if (output.dims.length !== 2) {
        throw new CheckpointError(this.graph.path, `output "${this.graph.output}" has shape [${output.dims.join(', ')}]; evaluation expects logits of shape [batch, classes]`);
      }
      const classes = output.dims[1];
      const values = output.data as Float32Array | Float64Array;
      if (batch.start === 0) checkLabels(dataset, labelName, classes);
      const labels = dataset.labels.subarray(batch.start, batch.start + batch.count);
      const scored = scoreLogits(values, classes, labels, batch.count, lossSum);
      lossSum = scored.lossSum;
      correct += scored.correct;
      if (keepLogits) {
        logits ??= new (values.constructor as new (length: number) => Float32Array | Float64Array)(dataset.labels.length * classes);
        logits.set(values.subarray(0, batch.count * classes), batch.start * classes);
      }
    }
    const samples = dataset.labels.length;
    return { loss: lossSum / samples, accuracy: correct / samples, logits };
  }

  /** Measures the per-channel mean and unbiased variance of `activation` over `dataset` with `weights`. */
  async channelStatistics(weights: WeightValues, dataset: Dataset, activation: string, signal: AbortSignal): Promise<ChannelStatistics> {
    const feeds = this.weightFeeds(weights);
    let sums: Float64Array | undefined;
    let squares: Float64Array | undefined;
    let count = 0;
    for (const batch of this.batches(dataset)) {
      signal.throwIfAborted();
      const result = await this.runBatch({ ...feeds, [this.graph.dataInput.name]: batch.input }, activation);
      const output = result[activation];
      const [, channels, ...spatial] = output.dims;
      if (channels === undefined) throw new CheckpointError(this.graph.path, `BatchNormalization input "${activation}" has shape [${output.dims.join(', ')}]; it needs a channel axis`);
      const inner = spatial.reduce((product, size) => product * size, 1);
      sums ??= new Float64Array(channels);
      squares ??= new Float64Array(channels);
      const values = output.data as Float32Array | Float64Array;
      // Only the first `batch.count` samples are real; the rest pads a fixed-size batch.
      for (let sample = 0; sample < batch.count; sample++) {
        for (let channel = 0; channel < channels; channel++) {
          const base = (sample * channels + channel) * inner;
          let sum = 0;
          let square = 0;
          for (let i = 0; i < inner; i++) {
            const value = values[base + i];
            sum += value;
            square += value * value;
          }
          sums[channel] += sum;
          squares[channel] += square;
        }
      }
      count += batch.count * inner;
    }
    const channels = (sums as Float64Array).length;
    const mean = new Float64Array(channels);
    const variance = new Float64Array(channels);
    for (let channel = 0; channel < channels; channel++) {
      mean[channel] = (sums as Float64Array)[channel] / count;
      const centered = (squares as Float64Array)[channel] - count * mean[channel] * mean[channel];
      variance[channel] = Math.max(centered, 0) / Math.max(count - 1, 1);
    }
    return { mean, variance, count };
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private weightFeeds(weights: WeightValues): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const weight of this.graph.weights) {
      const values = weights.get(weight.input);
      if (values === undefined) throw new Error(`no values for weight input "${weight.input}"`);
      feeds[weight.input] = new ort.Tensor(weight.type, values, weight.shape as number[]);
    }
    return feeds;
  }

  /** Splits the data set into runs; a graph with a fixed batch size gets its last batch padded with zeros. */
  private *batches(dataset: Dataset): Generator<{ start: number; count: number; input: ort.Tensor }> {
    const samples = dataset.shape[0];
    const sampleSize = dataset.inputs.length / samples;
    const fixed = typeof this.graph.dataInput.dims[0] === 'number' ? (this.graph.dataInput.dims[0] as number) : undefined;
    const size = fixed ?? DEFAULT_BATCH;
    const float64 = this.graph.dataInput.type === 'float64';
    for (let start = 0; start < samples; start += size) {
      const count = Math.min(size, samples - start);
      const rows = fixed ?? count;
      const values = float64 ? new Float64Array(rows * sampleSize) : new Float32Array(rows * sampleSize);
      values.set(dataset.inputs.subarray(start * sampleSize, (start + count) * sampleSize));
      yield { start, count, input: new ort.Tensor(this.graph.dataInput.type, values, [rows, ...dataset.shape.slice(1)]) };
    }
  }
}
