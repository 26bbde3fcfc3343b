// Interprets the symbolic value of a PyTorch pickle. Calls to allow-listed globals (tensor rebuild functions,
// OrderedDict, torch.Size, ...) become tensor references and plain containers, and every other call stays
// opaque. Nothing is executed, and an opaque call does not stop the tensors around it from being listed.
import { CheckpointError } from '../checkpoint';
import { STORAGE_DTYPES, TORCH_DTYPES } from '../pickle/globals';
import { MAX_NESTING } from '../pickle/unpickler';
import { calleeName, globalName, isPickleObject, type PickleCall, type PickleObject, type PickleValue } from '../pickle/values';

/** A storage named by a persistent id `('storage', type, key, location, numel[, view_metadata])`. */
export interface StorageRef {
  readonly key: string;
  /** Element type of the storage class (`F32` for FloatStorage, `U8` for UntypedStorage). */
  readonly dtype: string;
  readonly location: string;
  /** Elements the persistent id declares (bytes for UntypedStorage). */
  readonly numel: number;
  /** Legacy storage views: element offset into the root storage `key`. */
  readonly viewOffset: number;
}

export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly dtype: string;
  /** In elements of `dtype`, from the storage's first element. */
  readonly storageOffset: number;
  readonly shape: readonly number[];
  /** In elements. */
  readonly stride: readonly number[];
}

export type PlainValue =
  | null | boolean | number | bigint | string | Uint8Array | TensorRef | PlainList | PlainDict | ScriptObject | Opaque;

export interface PlainList {
  readonly kind: 'list' | 'tuple' | 'set';
  readonly items: PlainValue[];
}

export interface PlainDict {
  readonly kind: 'dict';
  readonly entries: Array<[PlainValue, PlainValue]>;
}

/**
 * An object of a TorchScript class (`__torch__.<module>.<Class>`), such as a scripted module: the attributes its
 * BUILD state dict sets, in stored order. Submodules are nested ScriptObjects.
 */
export interface ScriptObject {
  readonly kind: 'script-object';
  readonly className: string;
  readonly attributes: Array<[string, PlainValue]>;
}

/** A value this reader does not rebuild, described by the call or global that makes it. */
export interface Opaque {
  readonly kind: 'opaque';
  readonly description: string;
}

const DICT_CLASSES = new Set([
  'collections.OrderedDict', 'builtins.dict', '__builtin__.dict',
  'pytorch_lightning.utilities.parsing.AttributeDict', 'lightning_fabric.utilities.data.AttributeDict',
  'lightning.fabric.utilities.data.AttributeDict',
]);

const SET_CLASSES = new Set(['builtins.set', 'builtins.frozenset', '__builtin__.set', '__builtin__.frozenset']);

const TENSOR_REBUILDERS = new Set([
  'torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor_v3',
]);

const PARAMETER_WRAPPERS = new Set([
  'torch._utils._rebuild_parameter', 'torch._utils._rebuild_parameter_with_state', 'torch.nn.parameter.Parameter',
]);

export interface InterpretedPickle {
  readonly value: PlainValue;
  /** Every storage a persistent id names, by key (legacy files need each one's dtype to find the next). */
  readonly storages: ReadonlyMap<string, StorageRef>;
}

/** An invalid value, with the dict keys leading to it collected while the error passes up. */
class InvalidValueError extends Error {
  readonly path: string[] = [];
}

/** Turns a symbolic pickle value into plain values and tensor references. */
export function interpretPickle(root: PickleValue, file: string): InterpretedPickle {
  const interpreter = new Interpreter();
  try {
    const value = interpreter.value(root, 0);
    return { value, storages: interpreter.storages };
  } catch (error) {
    // NOTE: MAX_NESTING keeps the recursion shallow; this catch only covers an unusually small thread stack.
    if (error instanceof RangeError) {
      throw new CheckpointError(file, `the pickle nests values too deeply to interpret (${error.message}); the file is corrupt or crafted`);
    }
    if (!(error instanceof InvalidValueError)) throw error;
    if (error.path.length === 0) throw new CheckpointError(file, error.message);
    const entry = error.path.join('.');
    throw new CheckpointError(file, `entry "${entry}": ${error.message}`, { tensor: entry });
  }
}

class Interpreter {
  readonly storages = new Map<string, StorageRef>();
  private readonly done = new Map<PickleObject, PlainValue>();
  private readonly inProgress = new Set<PickleObject>();

  value(node: PickleValue, depth: number): PlainValue {
    if (!isPickleObject(node)) return node;
    // Mutating a memoized container after nesting it can hide depth from the unpickler's count; check again here.
    if (depth > MAX_NESTING) {
      throw this.error(`the pickle nests values more than ${MAX_NESTING} levels deep; the file is corrupt or crafted`);
    }
    const cached = this.done.get(node);
    if (cached !== undefined) return cached;
    if (this.inProgress.has(node)) return { kind: 'opaque', description: '<recursive reference>' };
    this.inProgress.add(node);
    try {
      const result = this.build(node, depth + 1);
      this.done.set(node, result);
      return result;
    } finally {
      this.inProgress.delete(node);
    }
  }

  /** Interprets a dict entry's value, adding the key to the path of any error raised inside it. */
  private entryValue(key: PlainValue, value: PickleValue, depth: number): PlainValue {
    try {
      return this.value(value, depth);
    } catch (error) {
      if (error instanceof InvalidValueError) error.path.unshift(typeof key === 'string' ? key : String(key));
      throw error;
    }
  }

  private build(node: PickleObject, depth: number): PlainValue {
    switch (node.kind) {
      case 'bytes': return node.data;
      case 'float': return node.value;
      case 'tuple': case 'list': return { kind: node.kind, items: node.items.map((item) => this.value(item, depth)) };
      case 'set': case 'frozenset': return { kind: 'set', items: node.items.map((item) => this.value(item, depth)) };
      case 'dict': {
        const entries = node.entries.map(([key, value]): [PlainValue, PlainValue] => {
          const plainKey = this.value(key, depth);
          return [plainKey, this.entryValue(plainKey, value, depth)];
        });
        return { kind: 'dict', entries };
      }
      case 'global': {
        if (node.module === 'torch' && Object.hasOwn(TORCH_DTYPES, node.name)) return `torch.${node.name}`;
        return { kind: 'opaque', description: globalName(node) };
      }
      case 'persistent': {
        const storage = this.storage(node.id);
        return { kind: 'opaque', description: `storage ${storage.key}` };
      }
      case 'call': return this.call(node, depth);
    }
  }

  private call(node: PickleCall, depth: number): PlainValue {
    const name = calleeName(node) ?? '<computed callable>';
    const args = node.args;

    // Containers and tensors.
    if (DICT_CLASSES.has(name)) return this.dictFromCall(node, depth);
    if (name === 'argparse.Namespace') {
      const state = this.value(node.state ?? null, depth);
      return isPlainDict(state) ? state : { kind: 'dict', entries: [] };
    }
    if (TENSOR_REBUILDERS.has(name)) return this.tensor(node, name);
    if (name.startsWith('__torch__.')) {
      const object = this.scriptObject(node, name, depth);
      if (object !== undefined) return object;
    }
    if (PARAMETER_WRAPPERS.has(name) && args.length > 0) return this.value(args[0], depth);

    // Tensor subclasses: `_rebuild_from_type_v2(func, type, args, state)` rebuilds `func(*args)` as `type`.
    if ((name === 'torch._tensor._rebuild_from_type_v2' || name === 'torch._tensor._rebuild_from_type') && args.length >= 3) {
      const inner = args[2];
      if (isPickleObject(inner) && inner.kind === 'tuple') {
        return this.call({ kind: 'call', callee: args[0], args: inner.items, newObject: false, depth: node.depth }, depth);
      }
    }
    if (name === 'torch.Size' && args.length === 1) {
      const dims = this.value(args[0], depth);
      if (isPlainList(dims)) return { kind: 'tuple', items: dims.items };
    }

    // Plain values that protocols 0 to 2 build through calls.
    if (name === '_codecs.encode' && typeof args[0] === 'string') return encodeText(args[0], args[1]);
    if (SET_CLASSES.has(name) && args.length <= 1) {
      const items = args.length === 0 ? null : this.value(args[0], depth);
      return { kind: 'set', items: isPlainList(items) ? items.items : [] };
    }
    if ((name === 'builtins.bytearray' || name === '__builtin__.bytearray') && args.length <= 2) {
      if (args.length === 0) return new Uint8Array(0);
      const source = this.value(args[0], depth);
      if (source instanceof Uint8Array) return source;
      if (typeof source === 'string') return encodeText(source, args[1] ?? 'latin1');
    }
    if (name === 'torch.device' && typeof args[0] === 'string') {
      return typeof args[1] === 'number' ? `${args[0]}:${args[1]}` : args[0];
    }

    this.visitArguments(node, depth);
    return { kind: 'opaque', description: `${name}(…)` };
  }

  /**
   * Interprets the parts of an opaque call only to register the storages they name, because a legacy file
   * needs every storage's dtype to find the next one. Invalid parts are ignored, since the call is not rebuilt.
   */
  private visitArguments(node: PickleCall, depth: number): void {
    const parts: PickleValue[] = [node.callee, ...node.args, node.kwargs ?? null, node.state ?? null, ...(node.listItems ?? []), ...(node.setItems ?? [])];
    for (const [key, value] of node.dictEntries ?? []) parts.push(key, value);
    for (const part of parts) {
      try {
        this.value(part, depth);
      } catch (error) {
        if (!(error instanceof InvalidValueError)) throw error;
      }
    }
  }

  private dictFromCall(node: PickleCall, depth: number): PlainDict {
    const entries: Array<[PlainValue, PlainValue]> = [];
    const initial = node.args.length > 0 ? this.value(node.args[0], depth) : null;
    if (isPlainDict(initial)) for (const entry of initial.entries) entries.push(entry);
    else if (isPlainList(initial)) {
      for (const pair of initial.items) {
        if (isPlainList(pair) && pair.items.length === 2) entries.push([pair.items[0], pair.items[1]]);
      }
    }
    for (const [key, value] of node.dictEntries ?? []) {
      const plainKey = this.value(key, depth);
      entries.push([plainKey, this.entryValue(plainKey, value, depth)]);
    }
    return { kind: 'dict', entries };
  }

  /**
   * Builds a TorchScript object from `cls.__new__(cls)` followed by BUILD with a dict of string keys, as
   * ScriptModule.save writes it. A class with its own `__getstate__` may store any other state, which stays opaque.
   */
  private scriptObject(node: PickleCall, className: string, depth: number): ScriptObject | undefined {
    const pickled = node.state ?? null;
    if (!node.newObject || node.args.length > 0 || !isPickleObject(pickled) || pickled.kind !== 'dict') return undefined;
    const state = this.value(pickled, depth);
    if (!isPlainDict(state) || !state.entries.every(([key]) => typeof key === 'string')) return undefined;
    return { kind: 'script-object', className, attributes: state.entries as Array<[string, PlainValue]> };
  }

  /** `_rebuild_tensor(storage, offset, size, stride)`, `_v2(…, requires_grad, hooks[, metadata])`, `_v3(…, dtype)`. */
  private tensor(node: PickleCall, name: string): TensorRef {
    const [storageArg, offsetArg, sizeArg, strideArg] = node.args;
    if (!isPickleObject(storageArg) || storageArg.kind !== 'persistent') {
      throw this.error(`${name} is called without a persistent storage reference; the file was not written by torch.save`);
    }
    const storage = this.storage(storageArg.id);
    const shape = this.dims(sizeArg, 'size');
    const stride = this.dims(strideArg, 'stride');
    if (shape.length !== stride.length) {
      throw this.error(`a tensor's size (${shape.length} dims) and stride (${stride.length} dims) disagree; the file is corrupt`);
    }
    if (typeof offsetArg !== 'number' || !Number.isSafeInteger(offsetArg) || offsetArg < 0) {
      throw this.error(`a tensor's storage offset is ${describeScalar(offsetArg)}, where torch.load requires a non-negative integer; the file is corrupt`);
    }
    let dtype = storage.dtype;
    const dtypeArg = name.endsWith('_v3') ? node.args[6] ?? null : null;
    if (isPickleObject(dtypeArg) && dtypeArg.kind === 'global' && Object.hasOwn(TORCH_DTYPES, dtypeArg.name)) {
      dtype = TORCH_DTYPES[dtypeArg.name];
    }
    return { kind: 'tensor', storage, dtype, storageOffset: offsetArg, shape, stride };
  }

  private storage(id: PickleValue): StorageRef {
    const fields = isPickleObject(id) && id.kind === 'tuple' ? id.items : [];
    const [tag, type, key, location, numel, view] = fields;
    if (fields.length < 5 || tag !== 'storage') {
      throw this.error('a persistent id is not a (\'storage\', type, key, location, numel) tuple; the file was not written by torch.save');
    }
    if (typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
      throw this.error(`storage ${String(key)} has an invalid key or element count; the file is corrupt`);
    }
    let dtype: string | undefined;
    if (isPickleObject(type) && type.kind === 'global') {
      if (type.module === 'torch.storage' && type.name === 'UntypedStorage') dtype = 'U8';
      else if (type.module === 'torch' || type.module === 'torch.cuda') dtype = STORAGE_DTYPES[type.name];
    }
    if (dtype === undefined) {
      const described = isPickleObject(type) && type.kind === 'global' ? globalName(type) : 'a non-class value';
      throw this.error(`storage ${key} has the storage type ${described}, which this reader does not know`);
    }
    // Legacy files may point at a view of the root storage `key`: (view_key, element offset, view size).
    let viewOffset = 0;
    if (isPickleObject(view) && view.kind === 'tuple' && view.items.length === 3) {
      const offset = view.items[1];
      if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) viewOffset = offset;
    }
    const storage = { key, dtype, location: typeof location === 'string' ? location : String(location), numel, viewOffset };
    if (!this.storages.has(key)) this.storages.set(key, storage);
    return storage;
  }

  private dims(value: PickleValue, what: string): number[] {
    let items: PickleValue[] | undefined;
    if (isPickleObject(value) && value.kind === 'tuple') items = value.items;
    else if (isPickleObject(value) && value.kind === 'call' && calleeName(value) === 'torch.Size') {
      const inner = value.args[0];
      if (isPickleObject(inner) && inner.kind === 'tuple') items = inner.items;
    }
    if (items === undefined) throw this.error(`a tensor's ${what} is not a tuple of non-negative integers; the file is corrupt`);
    const invalid = items.findIndex((item) => typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0);
    if (invalid >= 0) {
      // Python floats reach here as PickleFloat objects, so an integral float such as 10.0 is rejected as well.
      throw this.error(`a tensor's ${what} has ${describeScalar(items[invalid])} at index ${invalid}, where torch.load requires a non-negative integer; the file is corrupt`);
    }
    return items as number[];
  }

  private error(message: string): InvalidValueError {
    return new InvalidValueError(message);
  }
}

export function isPlainDict(value: PlainValue): value is PlainDict {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && value.kind === 'dict';
}

export function isPlainList(value: PlainValue): value is PlainList {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array)
    && (value.kind === 'list' || value.kind === 'tuple' || value.kind === 'set');
}

export function isScriptObject(value: PlainValue): value is ScriptObject {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && value.kind === 'script-object';
}

export function isTensorRef(value: PlainValue): value is TensorRef {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && value.kind === 'tensor';
}

/** Describes a size, stride or offset value for an error message, e.g. "the float 10.0". */
function describeScalar(value: PickleValue | undefined): string {
  if (value !== undefined && isPickleObject(value) && value.kind === 'float') {
    const text = Number.isInteger(value.value) ? value.value.toFixed(1) : String(value.value);
    return `the float ${text}`;
  }
  if (value !== undefined && isPickleObject(value)) return `a ${value.kind}`;
  return value === undefined ? 'nothing' : String(value);
}

/** `_codecs.encode(text, encoding)`: protocol 2 writes bytes as their Latin-1 text. */
function encodeText(text: string, encoding: PickleValue): Uint8Array {
  if (encoding === 'utf-8' || encoding === 'utf8') return new TextEncoder().encode(text);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}
