// Flags that steer `--spec auto` for transformers, shared by align, eval, merge and diff --align.
import type { TransformerLevel } from '../alignment/specInference';
import { choiceFlag, numberFlag, type FlagValues, type OptionDefinition } from './command';

export const SPEC_INFERENCE_OPTIONS: readonly OptionDefinition[] = [
  { name: 'transformer-level', kind: 'value', valueName: 'local|full', description: 'For transformers with --spec auto: permute MLP units and whole heads per block (local, default), or also the residual stream (full).' },
  { name: 'heads', kind: 'value', valueName: 'N', description: 'Attention heads per block, for --spec auto on transformers whose metadata or config.json does not give it.' },
];

export function specInferenceFlags(flags: FlagValues): { transformerLevel: TransformerLevel; heads?: number } {
  const transformerLevel = choiceFlag(flags, 'transformer-level', ['local', 'full'] as const, 'local');
  if (flags.heads === undefined) return { transformerLevel };
  return { transformerLevel, heads: numberFlag(flags, 'heads', 1, 1, 65536, true) };
}
