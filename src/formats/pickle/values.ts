// Symbolic values an unpickled stream is made of. Nothing here refers to live Python objects: a global is only
// its dotted name, and a call is only the callee and its arguments, so building these values executes nothing.

/** Python ints become numbers while they are safe integers and bigints beyond that; floats become PickleFloat. */
export type PickleValue = null | boolean | number | bigint | string | PickleObject;

export type PickleObject =
  | PickleBytes
  | PickleFloat
  | PickleSequence
  | PickleDict
  | PickleGlobalRef
  | PickleCall
  | PicklePersistentRef;

/** Fields every container node has; `depth` is its nesting depth, kept current by the unpickler. */
interface PickleNode {
  depth: number;
  /** Argument of a BUILD opcode applied to this object (instance state, e.g. an OrderedDict's `_metadata`). */
  state?: PickleValue;
}

export interface PickleBytes extends PickleNode {
  readonly kind: 'bytes';
  readonly data: Uint8Array;
}

/**
 * A Python float. It stays apart from ints, which are plain numbers, so that an integral float such as 10.0 is
 * not taken for an int where Python rejects floats (a tensor's size, stride or storage offset).
 */
export interface PickleFloat extends PickleNode {
  readonly kind: 'float';
  readonly value: number;
}

export interface PickleSequence extends PickleNode {
  readonly kind: 'tuple' | 'list' | 'set' | 'frozenset';
  readonly items: PickleValue[];
}

export interface PickleDict extends PickleNode {
  readonly kind: 'dict';
  /** Entries in insertion order; a key set twice keeps its first position and its last value. */
  readonly entries: Array<[PickleValue, PickleValue]>;
}

/** A reference to `module.name`, recorded by GLOBAL, STACK_GLOBAL or INST. */
export interface PickleGlobalRef extends PickleNode {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
}

/**
 * A call that Python would make while loading: REDUCE, NEWOBJ, NEWOBJ_EX, INST or OBJ. `listItems` and
 * `dictEntries` collect APPEND(S) and SETITEM(S) applied to the call's result (a list or dict subclass).
 */
export interface PickleCall extends PickleNode {
  readonly kind: 'call';
  readonly callee: PickleValue;
  readonly args: PickleValue[];
  readonly kwargs?: PickleValue;
  /** True for NEWOBJ and NEWOBJ_EX (`cls.__new__(cls, *args)`). */
  readonly newObject: boolean;
  listItems?: PickleValue[];
  dictEntries?: Array<[PickleValue, PickleValue]>;
  setItems?: PickleValue[];
}

/** A persistent id (PERSID or BINPERSID): PyTorch uses them for storages stored outside the pickle. */
export interface PicklePersistentRef extends PickleNode {
  readonly kind: 'persistent';
  readonly id: PickleValue;
}

export function isPickleObject(value: PickleValue): value is PickleObject {
  return typeof value === 'object' && value !== null;
}

/** Nesting depth of a value: 0 for scalars. */
export function depthOf(value: PickleValue): number {
  return isPickleObject(value) ? value.depth : 0;
}

export function globalName(ref: PickleGlobalRef): string {
  return `${ref.module}.${ref.name}`;
}

/** Returns the callee's dotted name when it is a global, else undefined. */
export function calleeName(call: PickleCall): string | undefined {
  return isPickleObject(call.callee) && call.callee.kind === 'global' ? globalName(call.callee) : undefined;
}
