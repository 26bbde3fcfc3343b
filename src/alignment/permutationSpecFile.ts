// Reading `*.permspec.json` files and checking their structure (before any checkpoint is involved).
import { readFile, stat } from 'node:fs/promises';
import type { AxisEntry, PermutationSpec } from './permutationSpec';
import { JsonSyntaxError, parseStrictJson } from './strictJson';

/** An invalid permutation spec. The message names the spec source and, where known, the tensor and axis. */
export class PermutationSpecError extends Error {
  constructor(
    readonly source: string,
    message: string,
    readonly detail: { readonly tensor?: string; readonly axis?: number } = {},
  ) {
    const where = detail.tensor === undefined ? '' : detail.axis === undefined ? ` tensor "${detail.tensor}":` : ` tensor "${detail.tensor}" axis ${detail.axis}:`;
    super(`${source}:${where} ${message}`);
    this.name = 'PermutationSpecError';
  }
}

/** Reads and structurally checks a permutation spec file. Throws PermutationSpecError naming the file. */
export async function loadPermutationSpec(path: string): Promise<PermutationSpec> {
  let text: string;
  try {
    // A FIFO would block the read until a writer appears, and a directory gives a bare EISDIR.
    const info = await stat(path);
    if (!info.isFile()) throw new Error('it is not a regular file; pass a permutation spec .json file');
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PermutationSpecError(path, `cannot read the permutation spec: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new PermutationSpecError(path, `invalid JSON at ${error.message}`);
    throw error;
  }
  return parsePermutationSpec(value, path);
}

/** Checks that `value` has the permutation spec's structure; `source` names it in errors. */
export function parsePermutationSpec(value: unknown, source: string): PermutationSpec {
  if (!isPlainObject(value)) throw new PermutationSpecError(source, 'expected a JSON object with an "axes" object');
  for (const key of Object.keys(value)) {
    if (key !== 'axes' && key !== 'cost') throw new PermutationSpecError(source, `unknown top-level key "${key}"; expected "axes" and optionally "cost"`);
  }
  if (!isPlainObject(value.axes)) throw new PermutationSpecError(source, '"axes" must be an object mapping tensor names to arrays of axis entries');

  const axes: Record<string, AxisEntry[]> = {};
  for (const [tensor, entries] of Object.entries(value.axes)) {
    if (!Array.isArray(entries)) {
      throw new PermutationSpecError(source, 'expected an array with one entry per axis (permutation name, null or {perm, outer, inner})', { tensor });
    }
    axes[tensor] = entries.map((entry, axis) => parseAxisEntry(entry, source, tensor, axis));
  }

  if (value.cost === undefined) return { axes };
  if (!Array.isArray(value.cost) || value.cost.some((name) => typeof name !== 'string')) {
    throw new PermutationSpecError(source, '"cost" must be an array of tensor names');
  }
  for (const tensor of value.cost as string[]) {
    if (!Object.prototype.hasOwnProperty.call(axes, tensor)) {
      throw new PermutationSpecError(source, '"cost" lists a tensor that "axes" does not map; add its axes or remove it from "cost"', { tensor });
    }
  }
  return { axes, cost: value.cost as string[] };
}

function parseAxisEntry(entry: unknown, source: string, tensor: string, axis: number): AxisEntry {
  if (entry === null) return null;
  if (typeof entry === 'string') {
    if (entry === '') throw new PermutationSpecError(source, 'permutation name must not be empty', { tensor, axis });
    return entry;
  }
  if (isPlainObject(entry)) {
    const { perm, outer, inner } = entry;
    const extra = Object.keys(entry).filter((key) => key !== 'perm' && key !== 'outer' && key !== 'inner');
    if (typeof perm !== 'string' || perm === '' || !isPositiveInteger(outer) || !isPositiveInteger(inner) || extra.length > 0) {
      throw new PermutationSpecError(
        source,
        'a grouped entry must be {"perm": NAME, "outer": positive integer, "inner": positive integer} and nothing else',
        { tensor, axis },
      );
    }
    return { perm, outer, inner };
  }
  throw new PermutationSpecError(source, `expected a permutation name, null or {perm, outer, inner}, got ${JSON.stringify(entry)}`, { tensor, axis });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
