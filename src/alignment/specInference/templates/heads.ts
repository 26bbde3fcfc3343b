// Attention head counts for templates: from the caller, or from a model config stored in the checkpoint's metadata.
import { SpecInferenceError } from '../inferenceError';

const HEAD_KEYS = ['num_attention_heads', 'n_head', 'num_heads', 'nhead'];
const KEY_VALUE_HEAD_KEYS = ['num_key_value_heads', 'n_kv_heads', 'num_kv_heads'];

/** Looks up the first of `keys` in the metadata, one level deep, in objects and in JSON-encoded strings. */
export function configInteger(metadata: Readonly<Record<string, unknown>>, keys: readonly string[]): number | undefined {
  const scopes: Record<string, unknown>[] = [metadata as Record<string, unknown>];
  for (const value of Object.values(metadata)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) scopes.push(value as Record<string, unknown>);
    if (typeof value === 'string' && value.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(value);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) scopes.push(parsed as Record<string, unknown>);
      } catch {
        // Not JSON: an ordinary metadata string.
      }
    }
  }
  for (const scope of scopes) {
    for (const key of keys) {
      const value = Number(scope[key]);
      if (scope[key] !== undefined && Number.isInteger(value) && value > 0) return value;
    }
  }
  return undefined;
}

/**
 * Returns the number of attention heads over `width` channels: the given count, a head count in the metadata, or `width`
 * over the metadata's `head_dim`. Throws asking for a head count or a spec when none is known or the count does not divide `width`.
 */
export function attentionHeads(architecture: string, metadata: Readonly<Record<string, unknown>>, given: number | undefined, width: number): number {
  const headSize = configInteger(metadata, ['head_dim']);
  const count = given ?? configInteger(metadata, HEAD_KEYS) ?? (headSize !== undefined && width % headSize === 0 ? width / headSize : undefined);
  if (count === undefined) {
    throw new SpecInferenceError(`${architecture}: the number of attention heads is not in the checkpoint's metadata (${[...HEAD_KEYS, 'head_dim'].join(', ')}); pass --heads N, put num_attention_heads in a config.json beside the checkpoint, or pass a spec file`);
  }
  if (width % count !== 0) throw new SpecInferenceError(`${architecture}: ${count} attention heads do not divide the width ${width}`);
  return count;
}

export function keyValueHeads(metadata: Readonly<Record<string, unknown>>): number | undefined {
  return configInteger(metadata, KEY_VALUE_HEAD_KEYS);
}
