// The second `--spec auto` tier: architectures recognized from their tensor names.
import { SpecInferenceError } from '../inferenceError';
import type { InferredSpec } from '../index';
import type { TransformerLevel, TemplateInput } from './builder';
import { inferGpt2 } from './gpt2';
import { inferLlama } from './llama';
import { inferResnet } from './resnet';
import { inferMlpStack, inferVgg } from './sequential';
import { inferTransformerEncoder } from './transformerEncoder';
import { inferVit } from './vit';

export type { TransformerLevel } from './builder';

export interface TemplateOptions {
  readonly level: TransformerLevel;
  readonly heads?: number;
}

/**
 * Returns the spec of the first template whose names `a` has. Throws SpecInferenceError when no template applies,
 * or when the recognized one cannot place every tensor (it names them).
 */
export function inferFromTemplates(a: TemplateInput, options: TemplateOptions): InferredSpec {
  const templates: (() => InferredSpec | undefined)[] = [
    () => inferGpt2(a, options.level, options.heads),
    () => inferLlama(a, options.level, options.heads),
    () => inferVit(a, options.level, options.heads),
    () => inferTransformerEncoder(a, options.level, options.heads),
    () => inferResnet(a),
    () => inferVgg(a),
    () => inferMlpStack(a),
  ];
  for (const template of templates) {
    const inferred = template();
    if (inferred !== undefined) return inferred;
  }
  throw new SpecInferenceError('no known architecture (GPT-2, Llama-style decoder, ViT, nn.TransformerEncoderLayer, ResNet, VGG, MLP stack) matches the tensor names');
}
