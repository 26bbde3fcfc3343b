// Loss and accuracy along the straight lines from A to B (naive) and from A to π(B) (aligned), with the barriers,
// the functional equivalence of B and π(B), and optionally the same curves after resetting BatchNorm statistics.
import type { Checkpoint } from '../formats/checkpoint';
import { openCheckpoint } from '../formats/open';
import type { ExecutionProviderChoice } from '../compute/executionProvider';
import { alignToReference, DEFAULT_MATCHING, type AlignedPair, type MatchingSettings } from '../merging/alignToReference';
import { accuracyBarrier, evenlySpacedLambdas, lossBarrier } from './barrier';
import { resetBatchNormStatistics } from './batchNormReset';
import { loadDataset, type Dataset } from './dataset';
import { EvaluationSession, evaluationSessionsCreated } from './evaluationSession';
import { interpolateWeights, type WeightEndpoints } from './interpolation';
import { parameterizeGraph, type ParameterizedGraph } from './parameterizedGraph';
import type { TransformerLevel } from '../alignment/specInference';

/** Above this, B and π(B) compute different functions: the spec permutes an axis the network does not allow. */
export const EQUIVALENCE_TOLERANCE = 1e-4;

export interface EvaluationOptions {
  readonly a: string;
  readonly b: string;
  /** ONNX model whose graph runs the checkpoints; defaults to A when A is an ONNX file. */
  readonly graph?: string;
  readonly data: string;
  readonly inputName?: string;
  readonly labelName?: string;
  readonly steps?: number;
  /** `auto` or a `*.permspec.json` path. */
  readonly spec?: string;
  /** Spec inference options for `auto`: transformer level and head count. */
  readonly specInference?: { readonly transformerLevel?: TransformerLevel; readonly heads?: number };
  /** Training data for recomputing BatchNorm statistics at every λ. */
  readonly resetBn?: string;
  readonly executionProvider?: ExecutionProviderChoice;
  readonly matching?: Partial<MatchingSettings>;
  readonly signal?: AbortSignal;
}

export interface Curve {
  readonly loss: number[];
  readonly accuracy: number[];
}

export interface BarrierPair {
  readonly naive: number;
  readonly aligned: number;
}

export interface EvaluationReport {
  readonly a: string;
  readonly b: string;
  readonly graph: string;
  readonly data: string;
  readonly lambdas: number[];
  readonly naive: Curve;
  readonly aligned: Curve;
  /** Loss barriers. */
  readonly barrier: BarrierPair;
  readonly accuracyBarrier: BarrierPair;
  readonly equivalence: { maxAbsLogitDiff: number; specLikelyWrong: boolean; message?: string };
  /** Present with `resetBn`: the curves after recomputing BatchNorm statistics at every λ. */
  readonly trainData?: string;
  readonly naiveResetBn?: Curve;
  readonly alignedResetBn?: Curve;
  readonly barrierResetBn?: BarrierPair;
  readonly accuracyBarrierResetBn?: BarrierPair;
  readonly batchNormLayers: number;
  readonly spec: { source: string; permutations: Record<string, number> };
  readonly executionProvider: string;
  /** Inference sessions created for the whole evaluation; one serves every λ. */
  readonly sessionsCreated: number;
  readonly seconds: { align: number; evaluate: number };
  /** For the user: A or B has a pickle with dangerous or unknown globals; nothing in it was executed. */
  readonly warnings: readonly string[];
}

/** Aligns B onto A, then evaluates both interpolation lines at `steps` evenly spaced λ in [0, 1]. */
export async function evaluateInterpolation(options: EvaluationOptions): Promise<EvaluationReport> {
  const signal = options.signal ?? new AbortController().signal;
  const inputName = options.inputName ?? 'x';
  const labelName = options.labelName ?? 'y';
  const lambdas = evenlySpacedLambdas(options.steps ?? 21);

  const a = await openCheckpoint(options.a);
  try {
    const b = await openCheckpoint(options.b);
    try {
      const graphPath = options.graph ?? (a.format === 'onnx' ? options.a : undefined);
      if (graphPath === undefined) throw new Error(`${options.a}: evaluation runs the model's ONNX graph; pass --graph MODEL.onnx, exported from the same architecture`);
      const graph = await parameterizeGraph(graphPath, a);
      const test = await loadDataset(options.data, inputName, labelName);
      const train = options.resetBn === undefined ? undefined : await loadDataset(options.resetBn, inputName, labelName);

      const alignStart = performance.now();
      const executionProvider = options.executionProvider ?? 'auto';
      const aligned = await alignToReference(a, b, options.spec ?? 'auto', { ...DEFAULT_MATCHING, executionProvider, ...options.matching }, signal, { graph: graphPath, ...options.specInference });
      const alignSeconds = (performance.now() - alignStart) / 1000;
      const naiveEnds = endpoints(graph, aligned, b, 'floatsB');
      const alignedEnds = endpoints(graph, aligned, b, 'alignedB');

      const evaluateStart = performance.now();
      const sessionsBefore = evaluationSessionsCreated();
      const session = await EvaluationSession.create(graph, executionProvider);
      try {
        session.checkDataset(test, inputName);
        if (train !== undefined) session.checkDataset(train, inputName);
        const curves = await evaluateCurves(session, lambdas, naiveEnds, alignedEnds, test, train, labelName, signal);
        const report: EvaluationReport = {
          a: options.a,
          b: options.b,
          graph: graphPath,
          data: options.data,
          lambdas,
          ...curves,
          batchNormLayers: graph.batchNorms.length,
          spec: { source: aligned.spec.source, permutations: Object.fromEntries(aligned.spec.permutations) },
          executionProvider: session.provider.reason,
          sessionsCreated: evaluationSessionsCreated() - sessionsBefore,
          seconds: { align: alignSeconds, evaluate: (performance.now() - evaluateStart) / 1000 },
          warnings: aligned.warnings,
          ...(train === undefined ? {} : { trainData: options.resetBn }),
        };
        return report;
      } finally {
        await session.release();
      }
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

type CurveResults = Pick<
  EvaluationReport,
  'naive' | 'aligned' | 'barrier' | 'accuracyBarrier' | 'equivalence' | 'naiveResetBn' | 'alignedResetBn' | 'barrierResetBn' | 'accuracyBarrierResetBn'
>;

async function evaluateCurves(
  session: EvaluationSession,
  lambdas: readonly number[],
  naiveEnds: WeightEndpoints,
  alignedEnds: WeightEndpoints,
  test: Dataset,
  train: Dataset | undefined,
  labelName: string,
  signal: AbortSignal,
): Promise<CurveResults> {
  const naive: Curve = { loss: [], accuracy: [] };
  const aligned: Curve = { loss: [], accuracy: [] };
  const naiveReset: Curve = { loss: [], accuracy: [] };
  const alignedReset: Curve = { loss: [], accuracy: [] };
  const weightInputs = session.graph.weights;
  let logitsB: Float32Array | Float64Array | undefined;
  let logitsAlignedB: Float32Array | Float64Array | undefined;

  for (const lambda of lambdas) {
    for (const [ends, curve, resetCurve] of [[naiveEnds, naive, naiveReset], [alignedEnds, aligned, alignedReset]] as const) {
      const weights = interpolateWeights(weightInputs, ends, lambda);
      // At λ = 1 the naive line is B and the aligned line is π(B): their logits give the equivalence check.
      const score = await session.score(weights, test, labelName, lambda === 1, signal);
      curve.loss.push(score.loss);
      curve.accuracy.push(score.accuracy);
      if (lambda === 1) {
        if (ends === naiveEnds) logitsB = score.logits;
        else logitsAlignedB = score.logits;
      }
      if (train !== undefined) {
        const reset = await resetBatchNormStatistics(session, weights, train, signal);
        const resetScore = await session.score(reset, test, labelName, false, signal);
        resetCurve.loss.push(resetScore.loss);
        resetCurve.accuracy.push(resetScore.accuracy);
      }
    }
  }

  const maxAbsLogitDiff = maxAbsDifference(logitsB as Float32Array | Float64Array, logitsAlignedB as Float32Array | Float64Array);
  const specLikelyWrong = !(maxAbsLogitDiff <= EQUIVALENCE_TOLERANCE);
  const equivalence = {
    maxAbsLogitDiff,
    specLikelyWrong,
    ...(specLikelyWrong
      ? { message: `B and π(B) differ by up to ${maxAbsLogitDiff} in the logits (tolerance ${EQUIVALENCE_TOLERANCE}): the permutation spec likely permutes axes that must stay together or misses some; check it against the network` }
      : {}),
  };
  const results: CurveResults = {
    naive,
    aligned,
    barrier: { naive: lossBarrier(lambdas, naive.loss), aligned: lossBarrier(lambdas, aligned.loss) },
    accuracyBarrier: { naive: accuracyBarrier(lambdas, naive.accuracy), aligned: accuracyBarrier(lambdas, aligned.accuracy) },
    equivalence,
  };
  if (train === undefined) return results;
  return {
    ...results,
    naiveResetBn: naiveReset,
    alignedResetBn: alignedReset,
    barrierResetBn: { naive: lossBarrier(lambdas, naiveReset.loss), aligned: lossBarrier(lambdas, alignedReset.loss) },
    accuracyBarrierResetBn: { naive: accuracyBarrier(lambdas, naiveReset.accuracy), aligned: accuracyBarrier(lambdas, alignedReset.accuracy) },
  };
}

/** End points of one line for every weight input: A, and B or π(B). Throws when B lacks a tensor of the graph. */
function endpoints(graph: ParameterizedGraph, aligned: AlignedPair, b: Checkpoint, which: 'floatsB' | 'alignedB'): WeightEndpoints {
  const nameB = new Map(aligned.pairs.map((pair) => [pair.nameA, pair.nameB]));
  const ends = { a: new Map<string, Float64Array>(), b: new Map<string, Float64Array>() };
  for (const weight of graph.weights) {
    const name = nameB.get(weight.nameA);
    if (name === undefined) {
      throw new Error(`${b.path}: no floating tensor of shape [${weight.shape.join(', ')}] matches "${weight.nameA}" of A; B must be the same architecture as A`);
    }
    ends.a.set(weight.input, aligned.floatsA.get(weight.nameA) as Float64Array);
    ends.b.set(weight.input, aligned[which].get(name) as Float64Array);
  }
  return ends;
}

function maxAbsDifference(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const difference = Math.abs(x[i] - y[i]);
    // A NaN difference must not hide behind Math.max.
    if (!(difference <= max)) max = difference;
  }
  return max;
}
