// Decides which evaluation inputs (an ONNX graph and a data file) are known for a pair of checkpoints.
import type { AlignOptions } from './alignOptions';
import type { EvaluationSettings } from './settings';

export interface EvaluationInputs {
  /** Undefined when A is an ONNX model, which evaluation then runs itself. */
  readonly graph?: string;
  readonly data?: string;
  readonly missingGraph: boolean;
  readonly missingData: boolean;
}

/** Chooses the inputs: the `evaluation.dataFile` setting wins over data chosen in the panel, and A's own graph over a remembered one. */
export function evaluationInputs(pathA: string, remembered: AlignOptions, settings: EvaluationSettings): EvaluationInputs {
  const aIsOnnx = pathA.toLowerCase().endsWith('.onnx');
  const graph = aIsOnnx ? undefined : remembered.graph;
  const data = settings.dataFile ?? remembered.data;
  return { graph, data, missingGraph: !aIsOnnx && graph === undefined, missingData: data === undefined };
}
