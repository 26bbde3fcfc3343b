// Turns the user's `--spec` choice (`auto` or a `*.permspec.json` path) into a spec validated against both
// checkpoints. `align`, `eval`, `merge`, `diff --align` and the VS Code flows share it.
import type { Checkpoint } from '../formats/checkpoint';
import type { PermutationSpec, ResolvedSpec } from './permutationSpec';
import { loadPermutationSpec } from './permutationSpecFile';
import { resolvePermutationSpec } from './resolveSpec';
import { inferPermutationSpec, type TransformerLevel } from './specInference';

export interface SpecChoiceOptions {
  /** ONNX export of the model, for inference from its graph; A itself is used when A is ONNX. */
  readonly graph?: string;
  readonly transformerLevel?: TransformerLevel;
  /** Attention heads per block, when neither the shapes, the checkpoint's metadata nor a config.json give it. */
  readonly heads?: number;
}

export interface ChosenSpec {
  readonly resolved: ResolvedSpec;
  /** The spec as written or inferred, for `--save-spec`. */
  readonly spec: PermutationSpec;
  /** Facts about an inferred spec (tiers skipped, tensors left unpermuted); empty for a spec file. */
  readonly notes: readonly string[];
}

export async function chooseSpec(choice: string, a: Checkpoint, b: Checkpoint, options: SpecChoiceOptions = {}): Promise<ChosenSpec> {
  const tensorsA = { path: a.path, tensors: a.tensors };
  const tensorsB = { path: b.path, tensors: b.tensors };
  if (choice !== 'auto') {
    const spec = await loadPermutationSpec(choice);
    return { resolved: resolvePermutationSpec(spec, choice, tensorsA, tensorsB), spec, notes: [] };
  }
  const inferred = await inferPermutationSpec(a, b, { graph: options.graph, transformerLevel: options.transformerLevel, heads: options.heads });
  return { resolved: resolvePermutationSpec(inferred.spec, inferred.source, tensorsA, tensorsB), spec: inferred.spec, notes: inferred.notes };
}
