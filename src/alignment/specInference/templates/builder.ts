// Shared pieces of the known-architecture templates: a spec under construction, checked against the checkpoint.
import type { Checkpoint, TensorEntry } from '../../../formats/checkpoint';
import type { AxisEntry, GroupedAxis } from '../../permutationSpec';
import { SpecInferenceError } from '../inferenceError';
import { isLayerTensor } from '../layerTensors';
import type { InferredSpec } from '../index';

export type TransformerLevel = 'local' | 'full';

/** The parts of a checkpoint that templates read: tensor names and shapes, and metadata for head counts. */
export type TemplateInput = Pick<Checkpoint, 'tensors' | 'metadata'>;

/** Heads as a grouped entry: `outer` packed projections (3 for q, k, v), heads of `inner` dimensions each. */
export function heads(perm: string, outer: number, inner: number): GroupedAxis {
  return { perm, outer, inner };
}

export class SpecBuilder {
  readonly axes: Record<string, AxisEntry[]> = {};
  private readonly entries: Map<string, TensorEntry>;

  constructor(
    readonly architecture: string,
    readonly tensors: readonly TensorEntry[],
  ) {
    this.entries = new Map(tensors.map((entry) => [entry.name, entry]));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  shape(name: string): readonly number[] {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new SpecInferenceError(`${this.architecture}: expected tensor "${name}" is missing`, [name]);
    return entry.shape;
  }

  /** Sets a tensor's axis entries; the tensor must exist and have one axis per entry. */
  set(name: string, entries: AxisEntry[]): void {
    const shape = this.shape(name);
    if (shape.length !== entries.length) {
      throw new SpecInferenceError(`${this.architecture}: tensor "${name}" has shape [${shape.join(', ')}], expected ${entries.length} axes`, [name]);
    }
    this.axes[name] = entries;
  }

  /** Sets a tensor's entries when the checkpoint has it (biases, tied output heads). */
  setOptional(name: string, entries: AxisEntry[]): void {
    if (this.has(name)) this.set(name, entries);
  }

  /** Layer tensors (any dtype) no entry covers, except those `ignored` accepts (attention mask buffers). */
  unplaced(ignored?: (name: string) => boolean): string[] {
    return this.tensors
      .filter((entry) => isLayerTensor(entry) && !(entry.name in this.axes) && !(ignored?.(entry.name) ?? false))
      .map((entry) => entry.name);
  }

  /** Returns the spec, or throws naming the tensors the template does not know. */
  finish(source: string, notes: string[], ignored?: (name: string) => boolean): InferredSpec {
    const unplaced = this.unplaced(ignored);
    if (unplaced.length > 0) {
      const shown = unplaced.slice(0, 8).map((name) => `"${name}"`).join(', ');
      throw new SpecInferenceError(`${this.architecture}: the template does not know ${unplaced.length} tensor(s): ${shown}${unplaced.length > 8 ? ', …' : ''}`, unplaced);
    }
    return { spec: { axes: this.axes }, source, notes };
  }
}

/** Block indices N of tensors named `<base><N>.<rest>`, sorted. */
export function blockIndices(tensors: readonly TensorEntry[], base: string, rest: string): number[] {
  const indices = new Set<number>();
  for (const entry of tensors) {
    if (!entry.name.startsWith(base) || !entry.name.endsWith(rest)) continue;
    const middle = entry.name.slice(base.length, entry.name.length - rest.length);
    if (/^\d+\.$/.test(middle)) indices.add(Number(middle.slice(0, -1)));
  }
  return [...indices].sort((x, y) => x - y);
}

/** Returns the first capture group of `pattern` on the first tensor name it matches, such as the `transformer.` of GPT-2. */
export function findBase(tensors: readonly TensorEntry[], pattern: RegExp): string | undefined {
  for (const entry of tensors) {
    const match = pattern.exec(entry.name);
    if (match !== null) return match[1];
  }
  return undefined;
}
