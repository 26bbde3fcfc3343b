// Default output paths beside an input, and the check that an output is never one of the job's inputs.
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CHECKPOINT_SUFFIXES } from './checkpointFiles';

/** Splits `a.safetensors.index.json` into `a` and `.safetensors.index.json`; unknown endings split at the last dot. */
export function splitCheckpointName(path: string): { stem: string; extension: string } {
  const name = basename(path);
  const suffix = CHECKPOINT_SUFFIXES.find((candidate) => name.toLowerCase().endsWith(candidate));
  if (suffix !== undefined) return { stem: name.slice(0, name.length - suffix.length), extension: suffix };
  const dot = name.lastIndexOf('.');
  return dot > 0 ? { stem: name.slice(0, dot), extension: name.slice(dot) } : { stem: name, extension: '' };
}

/**
 * `<dir>/<stem>_<tag><ext>` beside `input`. A sharded index keeps the format of its shards, so its outputs are
 * single `.safetensors` files.
 */
export function siblingOutputPath(input: string, tag: string): string {
  const { stem, extension } = splitCheckpointName(input);
  const outputExtension = extension === '.safetensors.index.json' ? '.safetensors' : extension;
  return join(dirname(input), `${stem}_${tag}${outputExtension}`);
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** True when `output` names the same file as any input, after resolving symbolic links. */
export function isInputPath(output: string, inputs: readonly string[]): boolean {
  const target = canonical(output);
  return inputs.some((input) => canonical(input) === target);
}
