// Chooses which tensors of an unpickled checkpoint are the model's weights, and turns everything else into
// plain JSON metadata. Lightning checkpoints keep weights under `state_dict`; training scripts often use
// `model_state_dict` or `model`; a bare state dict is the whole object.
import { elementCount } from '../checkpoint';
import { isPlainDict, isPlainList, isScriptObject, isTensorRef, type PlainDict, type PlainValue, type TensorRef } from './interpret';
import type { PickleSource } from '../pickle/unpickler';
import { layoutScriptModule, type ScriptClassLookup } from './scriptModuleLayout';
import { storageElementSize } from './elementSize';

export interface NamedTensorRef {
  readonly name: string;
  readonly tensor: TensorRef;
}

export interface CheckpointLayout {
  readonly tensors: NamedTensorRef[];
  readonly metadata: Record<string, unknown>;
}

/** Keys that hold the model's state dict inside a training checkpoint, in order of preference. */
const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model'];
/** Top-level keys holding optimizer state, whose tensors are summarized instead of listed. */
const OPTIMIZER_KEY = /optim/i;
/** Bounds on the metadata JSON, so a checkpoint with huge side tables stays readable. */
const MAX_JSON_DEPTH = 16;
const MAX_JSON_ITEMS = 1000;
/**
 * Values converted for the whole metadata. Shared containers are converted once per reference, so without a
 * total a small pickle of nested shared lists could expand into billions of values.
 */
const MAX_JSON_VALUES = 200_000;

/** Values left to convert for one checkpoint's metadata. */
interface JsonBudget {
  remaining: number;
}

/** Name given to the tensor of a file that contains one bare tensor. */
export const BARE_TENSOR_NAME = 'tensor';

/**
 * Splits the unpickled root into named tensors and metadata. `scriptClasses` gives the declared members of
 * TorchScript classes, for archives whose root is a scripted module. A `__torch__.*` root outside a TorchScript
 * archive (`torchscriptArchive` false) is laid out like any other value.
 */
export function layoutCheckpoint(root: PlainValue, scriptClasses: ScriptClassLookup | undefined, source: PickleSource): CheckpointLayout {
  if (isScriptObject(root) && source.torchscriptArchive) return layoutScriptModule(root, scriptClasses);
  const tensors: NamedTensorRef[] = [];
  const metadata: Record<string, unknown> = {};
  const budget: JsonBudget = { remaining: MAX_JSON_VALUES };
  if (isTensorRef(root)) {
    tensors.push({ name: BARE_TENSOR_NAME, tensor: root });
    return { tensors, metadata };
  }
  if (!isPlainDict(root)) {
    if (isPlainList(root)) collectTensors(root, '', tensors, metadata, budget);
    else metadata.root = toJson(root, budget);
    return { tensors, metadata };
  }

  const stateKey = STATE_DICT_KEYS.find((key) => {
    const value = lookup(root, key);
    return value !== undefined && isPlainDict(value) && (value.entries.length === 0 || containsTensor(value));
  });
  if (stateKey !== undefined) {
    metadata.stateDictKey = stateKey;
    const extras: Record<string, unknown> = {};
    collectTensors(lookup(root, stateKey) as PlainValue, '', tensors, extras, budget);
    if (Object.keys(extras).length > 0) metadata[stateKey] = extras;
  }
  for (const [key, value] of root.entries) {
    const name = keyText(key, budget);
    if (name === stateKey) continue;
    if (OPTIMIZER_KEY.test(name)) metadata[name] = summarizeOptimizer(value, budget);
    else if (stateKey !== undefined) metadata[name] = toJson(value, budget);
    else collectTensors(value, name, tensors, metadata, budget);
  }
  return { tensors, metadata };
}

function lookup(dict: PlainDict, key: string): PlainValue | undefined {
  return dict.entries.find(([entryKey]) => entryKey === key)?.[1];
}

function keyText(key: PlainValue, budget: JsonBudget): string {
  return typeof key === 'string' ? key : String(toJson(key, budget));
}

/** Lists tensors under dotted names (dict keys, list indices); other leaves go to `leaves` as JSON. */
function collectTensors(
  root: PlainValue,
  rootName: string,
  tensors: NamedTensorRef[],
  leaves: Record<string, unknown>,
  budget: JsonBudget,
): void {
  const pending: Array<[string, PlainValue, number]> = [[rootName, root, 0]];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const [name, value, depth] = pending.pop() as [string, PlainValue, number];
    if (isTensorRef(value)) {
      tensors.push({ name, tensor: value });
      continue;
    }
    const children = isPlainDict(value)
      ? value.entries.map(([key, child]) => [keyText(key, budget), child] as const)
      : isPlainList(value) && containsTensor(value) ? value.items.map((child, index) => [String(index), child] as const) : undefined;
    if (children === undefined || seen.has(value as object) || depth > MAX_JSON_DEPTH) {
      if (name !== '') leaves[name] = toJson(value, budget);
      continue;
    }
    seen.add(value as object);
    // Pushed in reverse so names come out in stored order.
    for (let i = children.length - 1; i >= 0; i--) {
      const [key, child] = children[i];
      pending.push([name === '' ? key : `${name}.${key}`, child, depth + 1]);
    }
  }
}

function containsTensor(root: PlainValue): boolean {
  const pending: PlainValue[] = [root];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const value = pending.pop() as PlainValue;
    if (isTensorRef(value)) return true;
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (isPlainDict(value)) for (const [, child] of value.entries) pending.push(child);
    // A loop, not push(...items), which overflows the call stack for about 130 000 items.
    else if (isPlainList(value)) for (const item of value.items) pending.push(item);
  }
  return false;
}

/** Optimizer state as counts: its tensors are per-parameter buffers, not model weights. */
function summarizeOptimizer(root: PlainValue, budget: JsonBudget): Record<string, unknown> {
  let tensorCount = 0;
  let tensorBytes = 0;
  const paramGroups: unknown[] = [];
  const pending: Array<[PlainValue, number]> = [[root, 0]];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const [value, depth] = pending.pop() as [PlainValue, number];
    if (isTensorRef(value)) {
      tensorCount++;
      tensorBytes += tensorByteCount(value);
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (isPlainDict(value)) {
      for (const [key, child] of value.entries) {
        if (key === 'param_groups' && depth <= 2) paramGroups.push(toJson(child, budget));
        else pending.push([child, depth + 1]);
      }
    } else if (isPlainList(value)) {
      for (const child of value.items) pending.push([child, depth + 1]);
    }
  }
  const summary: Record<string, unknown> = { tensorCount, tensorBytes };
  if (paramGroups.length > 0) summary.paramGroups = paramGroups;
  return summary;
}

function tensorByteCount(tensor: TensorRef): number {
  try {
    return elementCount(tensor.shape) * storageElementSize(tensor.dtype);
  } catch {
    return 0;
  }
}

/** Converts a value to JSON-compatible data, with bounded depth, container sizes and total values. */
function toJson(value: PlainValue, budget: JsonBudget, depth = 0): unknown {
  if (budget.remaining <= 0) return '<omitted: the metadata is too large>';
  budget.remaining--;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value.kind === 'tensor') return { tensor: { dtype: value.dtype, shape: [...value.shape] } };
  if (value.kind === 'opaque') return value.description;
  // Only a TorchScript root module is flattened into tensors (scriptModuleLayout.ts); a nested one is named.
  if (value.kind === 'script-object') return `${value.className}(…)`;
  if (depth >= MAX_JSON_DEPTH) return '<nested too deeply>';
  if (value.kind === 'dict') {
    const object: Record<string, unknown> = {};
    for (const [key, child] of value.entries.slice(0, MAX_JSON_ITEMS)) object[keyText(key, budget)] = toJson(child, budget, depth + 1);
    if (value.entries.length > MAX_JSON_ITEMS) object['…'] = `${value.entries.length - MAX_JSON_ITEMS} more entries`;
    return object;
  }
  const items = value.items.slice(0, MAX_JSON_ITEMS).map((child) => toJson(child, budget, depth + 1));
  if (value.items.length > MAX_JSON_ITEMS) items.push(`… ${value.items.length - MAX_JSON_ITEMS} more items`);
  return items;
}
