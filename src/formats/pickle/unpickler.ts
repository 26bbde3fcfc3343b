// A pickle virtual machine that builds symbolic values and never executes anything: globals stay names,
// and REDUCE, NEWOBJ and BUILD record calls instead of making them. It covers protocols 0 to 5.
// The machine is a flat loop over opcodes, so deeply nested input cannot overflow the JavaScript stack.
// Stack size, memo size and nesting depth are bounded, and every length is checked before bytes are read.
import { CheckpointError, type PickleGlobal, type PickleReport } from '../checkpoint';
import { classifyGlobal } from './globals';
import {
  depthOf, isPickleObject,
  type PickleCall, type PickleDict, type PickleFloat, type PickleObject, type PickleSequence, type PickleValue,
} from './values';

/** Maximum values on the stack, marks included. */
export const MAX_STACK = 1_000_000;
/** Maximum memo entries. */
export const MAX_MEMO = 10_000_000;
/**
 * Maximum nesting depth of containers and calls. Checkpoints nest a few levels deep (an estimate from the
 * fixtures' Lightning checkpoints), and the interpretation that follows recurses once per level, so this also
 * keeps it far from the JavaScript stack limit.
 */
export const MAX_NESTING = 256;
/** Maximum size of one integer (LONG1, LONG4), so that converting it stays fast. */
const MAX_INTEGER_BYTES = 1 << 16;
/** Maximum digits of one protocol 0 integer (INT, LONG, PUT, GET), for the same reason. */
const MAX_INTEGER_DIGITS = 1 << 16;

export interface UnpickleOptions {
  /** Path of the file, for error messages. */
  readonly file: string;
  /** Name of the stream inside the file, for error messages, e.g. `archive/data.pkl`. */
  readonly label: string;
  /** Index in `bytes` of the first opcode (default 0). */
  readonly start?: number;
  /** Absolute file offset of `bytes[0]`, added to the byte offset errors report in `detail.offset`. */
  readonly fileOffset?: number;
}

export interface UnpickleResult {
  readonly value: PickleValue;
  /** Index in `bytes` just after the STOP opcode. */
  readonly end: number;
  /** Every distinct global the stream references, in order of first appearance. */
  readonly globals: readonly PickleGlobal[];
}

/** The stream ended before STOP; a caller holding only a prefix of the file can retry with more bytes. */
export class PickleTruncatedError extends CheckpointError {
  override readonly name = 'PickleTruncatedError';
}

/** Parses one pickle from `bytes` starting at `options.start`. Throws CheckpointError on invalid input. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): UnpickleResult {
  return new PickleMachine(bytes, options).run();
}

/** Origin of a pickle, where it changes the verdict. */
export interface PickleSource {
  /**
   * True for a TorchScript archive (one with `code/` records), where torch.jit.load resolves `__torch__.*` classes
   * from those records. Elsewhere no Python module is named `__torch__`, so such a global is `unknown`.
   */
  readonly torchscriptArchive: boolean;
}

/**
 * Combines global verdicts: dangerous if any is, else unknown if any is unknown or a TorchScript class, else
 * safe. TorchScript classes also set `torchscript`, but only in a TorchScript archive. Elsewhere they become
 * `unknown` globals.
 */
export function pickleReport(globals: readonly PickleGlobal[], source: PickleSource = { torchscriptArchive: false }): PickleReport {
  const judged = source.torchscriptArchive
    ? globals
    : globals.map((entry): PickleGlobal => (entry.verdict === 'torchscript-class' ? { ...entry, verdict: 'unknown' } : entry));
  const has = (verdict: PickleGlobal['verdict']) => judged.some((entry) => entry.verdict === verdict);
  const torchscript = has('torchscript-class');
  let verdict: PickleReport['verdict'] = 'safe';
  if (has('dangerous')) verdict = 'dangerous';
  else if (has('unknown') || torchscript) verdict = 'unknown';
  return torchscript ? { verdict, torchscript, globals: judged } : { verdict, globals: judged };
}

/** Most globals of each verdict that `riskyGlobalsNote` names. */
const MAX_NOTED_GLOBALS = 5;

/**
 * Returns a clause naming the dangerous and unknown globals of `report`, to append to an error raised after
 * unpickling, or an empty string when there are none. An error must not hide that the pickle is dangerous.
 */
export function riskyGlobalsNote(report: PickleReport): string {
  const parts: string[] = [];
  for (const verdict of ['dangerous', 'unknown'] as const) {
    const names = report.globals.filter((entry) => entry.verdict === verdict).map((entry) => `${entry.module}.${entry.name}`);
    if (names.length === 0) continue;
    const shown = names.slice(0, MAX_NOTED_GLOBALS).join(', ');
    const more = names.length > MAX_NOTED_GLOBALS ? ` plus ${names.length - MAX_NOTED_GLOBALS} more` : '';
    parts.push(`${verdict} globals ${shown}${more}`);
  }
  if (parts.length === 0) return '';
  return `; the pickle also references ${parts.join(' and ')} (nothing was executed)`;
}

/**
 * Runs `body`, which interprets or lays out an unpickled value, and appends `riskyGlobalsNote(report)` to any
 * CheckpointError it raises.
 */
export async function withRiskyGlobalsNoted<T>(report: PickleReport, body: () => T | Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const note = riskyGlobalsNote(report);
    if (!(error instanceof CheckpointError) || note === '') throw error;
    const prefix = `${error.file}: `;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    throw new CheckpointError(error.file, `${message}${note}`, error.detail);
  }
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8');

class PickleMachine {
  private pos: number;
  private opStart = 0;
  private opcode = 0;
  private readonly stack: PickleValue[] = [];
  /** Stack lengths at each MARK still open. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly globals = new Map<string, PickleGlobal>();
  /** Index of each dict's scalar keys, so SETITEM replaces a value in constant time. */
  private readonly dictKeys = new WeakMap<PickleDict, Map<string, number>>();

  constructor(private readonly bytes: Uint8Array, private readonly options: UnpickleOptions) {
    this.pos = options.start ?? 0;
  }

  run(): UnpickleResult {
    for (;;) {
      this.opStart = this.pos;
      if (this.pos >= this.bytes.length) {
        throw new PickleTruncatedError(
          this.options.file,
          `${this.options.label} ended at byte ${this.pos} before the pickle's STOP opcode; the file is truncated or corrupt`,
          { offset: this.fileOffset(this.pos) },
        );
      }
      this.opcode = this.bytes[this.pos++];
      if (this.opcode === 0x2e) {
        const value = this.pop();
        return { value, end: this.pos, globals: [...this.globals.values()] };
      }
      this.step(this.opcode);
    }
  }

  private step(opcode: number): void {
    switch (opcode) {
      case 0x80: { // PROTO
        const protocol = this.u8();
        if (protocol > 5) this.fail(`uses pickle protocol ${protocol}; only protocols 0 to 5 exist`);
        return;
      }
      case 0x95: this.u64(); return; // FRAME: framing is only a read-ahead hint
      case 0x28: // MARK
        if (this.marks.length + this.stack.length >= MAX_STACK) this.fail(`has more than ${MAX_STACK} values on the stack`);
        this.marks.push(this.stack.length);
        return;
      case 0x30: // POP: with nothing above the last mark, Python discards the mark instead
        if (this.stack.length > this.frameBase()) this.stack.pop();
        else this.popMark();
        return;
      case 0x31: this.popMark(); return; // POP_MARK
      case 0x32: this.push(this.top()); return; // DUP

      case 0x4e: this.push(null); return; // NONE
      case 0x88: this.push(true); return; // NEWTRUE
      case 0x89: this.push(false); return; // NEWFALSE
      case 0x4a: this.push(this.i32()); return; // BININT
      case 0x4b: this.push(this.u8()); return; // BININT1
      case 0x4d: this.push(this.u8() | (this.u8() << 8)); return; // BININT2
      case 0x8a: this.push(this.longBytes(this.u8())); return; // LONG1
      case 0x8b: this.push(this.longBytes(this.u32())); return; // LONG4
      case 0x49: this.push(this.intLine()); return; // INT
      case 0x4c: this.push(integer(this.decimal(this.asciiLine().replace(/L$/, '')))); return; // LONG
      case 0x46: this.push(pickleFloat(parseFloatLine(this.asciiLine()))); return; // FLOAT
      case 0x47: { // BINFLOAT
        const raw = this.take(8);
        this.push(pickleFloat(new DataView(raw.buffer, raw.byteOffset, 8).getFloat64(0, false)));
        return;
      }

      case 0x53: this.push(latin1(decodeEscapes(stripQuotes(this.asciiLine(), this)))); return; // STRING
      case 0x54: this.push(utf8.decode(this.take(this.u32()))); return; // BINSTRING
      case 0x55: this.push(utf8.decode(this.take(this.u8()))); return; // SHORT_BINSTRING
      case 0x56: this.push(decodeRawUnicodeEscape(this.line())); return; // UNICODE
      case 0x58: this.push(utf8.decode(this.take(this.u32()))); return; // BINUNICODE
      case 0x8c: this.push(utf8.decode(this.take(this.u8()))); return; // SHORT_BINUNICODE
      case 0x8d: this.push(utf8.decode(this.take(this.u64()))); return; // BINUNICODE8
      case 0x42: this.push(bytesNode(this.take(this.u32()))); return; // BINBYTES
      case 0x43: this.push(bytesNode(this.take(this.u8()))); return; // SHORT_BINBYTES
      case 0x8e: this.push(bytesNode(this.take(this.u64()))); return; // BINBYTES8
      case 0x96: this.push(bytesNode(this.take(this.u64()))); return; // BYTEARRAY8
      case 0x97:
        return this.fail('uses an out-of-band buffer (NEXT_BUFFER, pickle protocol 5), which a file cannot carry; the file was not written by torch.save');
      case 0x98: return; // READONLY_BUFFER only changes the mutability of the buffer on top of the stack

      case 0x29: this.push(sequence('tuple', [])); return; // EMPTY_TUPLE
      case 0x5d: this.push(sequence('list', [])); return; // EMPTY_LIST
      case 0x7d: this.push(this.newDict()); return; // EMPTY_DICT
      case 0x8f: this.push(sequence('set', [])); return; // EMPTY_SET
      case 0x74: this.push(this.checked(sequence('tuple', this.popMark()))); return; // TUPLE
      case 0x85: this.push(this.checked(sequence('tuple', [this.pop()]))); return; // TUPLE1
      case 0x86: { // TUPLE2
        const second = this.pop();
        this.push(this.checked(sequence('tuple', [this.pop(), second])));
        return;
      }
      case 0x87: { // TUPLE3
        const third = this.pop();
        const second = this.pop();
        this.push(this.checked(sequence('tuple', [this.pop(), second, third])));
        return;
      }
      case 0x6c: this.push(this.checked(sequence('list', this.popMark()))); return; // LIST
      case 0x91: this.push(this.checked(sequence('frozenset', this.popMark()))); return; // FROZENSET
      case 0x64: { // DICT
        const dict = this.newDict();
        this.setItems(dict, this.popMark());
        this.push(dict);
        return;
      }
      case 0x61: this.appendItems([this.pop()]); return; // APPEND
      case 0x65: this.appendItems(this.popMark()); return; // APPENDS
      case 0x73: { // SETITEM
        const value = this.pop();
        const key = this.pop();
        this.setItems(this.top(), [key, value]);
        return;
      }
      case 0x75: { // SETITEMS
        const items = this.popMark();
        this.setItems(this.top(), items);
        return;
      }
      case 0x90: this.addItems(this.popMark()); return; // ADDITEMS

      case 0x63: this.push(this.global(this.asciiLine(), this.asciiLine())); return; // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs a module and a name string');
        this.push(this.global(module as string, name as string));
        return;
      }
      case 0x69: { // INST
        const callee = this.global(this.asciiLine(), this.asciiLine());
        this.push(this.call(callee, this.popMark(), false));
        return;
      }
      case 0x6f: { // OBJ
        const items = this.popMark();
        if (items.length === 0) this.fail('OBJ needs a class on the stack');
        this.push(this.call(items[0], items.slice(1), false));
        return;
      }
      case 0x52: { // REDUCE
        const args = this.pop();
        const callee = this.pop();
        this.push(this.call(callee, this.tupleItems(args, 'REDUCE'), false));
        return;
      }
      case 0x81: { // NEWOBJ
        const args = this.pop();
        const callee = this.pop();
        this.push(this.call(callee, this.tupleItems(args, 'NEWOBJ'), true));
        return;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = this.pop();
        const args = this.pop();
        const callee = this.pop();
        this.push(this.call(callee, this.tupleItems(args, 'NEWOBJ_EX'), true, kwargs));
        return;
      }
      case 0x62: { // BUILD
        const state = this.pop();
        const target = this.top();
        if (!isPickleObject(target)) return this.fail('BUILD needs an object below its state');
        target.state = state;
        this.deepen(target, state);
        return;
      }
      case 0x50: this.push(this.persistent(this.asciiLine())); return; // PERSID
      case 0x51: this.push(this.persistent(this.pop())); return; // BINPERSID
      case 0x82: case 0x83: case 0x84:
        return this.fail(`uses ${OPCODE_NAMES[opcode]}, an index into Python's copyreg extension registry, which a file reader cannot resolve; re-save the checkpoint with torch.save`);

      case 0x70: this.memoPut(Number(this.decimal(this.asciiLine()))); return; // PUT
      case 0x71: this.memoPut(this.u8()); return; // BINPUT
      case 0x72: this.memoPut(this.u32()); return; // LONG_BINPUT
      case 0x94: this.memoPut(this.memo.size); return; // MEMOIZE
      case 0x67: this.push(this.memoGet(Number(this.decimal(this.asciiLine())))); return; // GET
      case 0x68: this.push(this.memoGet(this.u8())); return; // BINGET
      case 0x6a: this.push(this.memoGet(this.u32())); return; // LONG_BINGET
      default:
        this.fail(`contains the unknown opcode 0x${opcode.toString(16).padStart(2, '0')}; the file is not a pickle or is corrupt`);
    }
  }

  // ---- stack and memo

  private frameBase(): number {
    return this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
  }

  private push(value: PickleValue): void {
    if (this.stack.length + this.marks.length >= MAX_STACK) this.fail(`has more than ${MAX_STACK} values on the stack`);
    this.stack.push(value);
  }

  private pop(): PickleValue {
    if (this.stack.length <= this.frameBase()) this.fail('pops from an empty stack (stack underflow)');
    return this.stack.pop() as PickleValue;
  }

  private top(): PickleValue {
    if (this.stack.length <= this.frameBase()) this.fail('reads from an empty stack (stack underflow)');
    return this.stack[this.stack.length - 1];
  }

  private popMark(): PickleValue[] {
    const base = this.marks.pop();
    if (base === undefined) return this.fail('has no MARK to pop to');
    return this.stack.splice(base);
  }

  private memoPut(index: number): void {
    if (this.memo.size >= MAX_MEMO && !this.memo.has(index)) this.fail(`stores more than ${MAX_MEMO} memo entries`);
    this.memo.set(index, this.top());
  }

  private memoGet(index: number): PickleValue {
    const value = this.memo.get(index);
    if (value === undefined) this.fail(`reads memo entry ${index}, which was never stored`);
    return value as PickleValue;
  }

  // ---- containers

  private newDict(): PickleDict {
    const dict: PickleDict = { kind: 'dict', entries: [], depth: 1 };
    this.dictKeys.set(dict, new Map());
    return dict;
  }

  private setItems(target: PickleValue, items: PickleValue[]): void {
    if (items.length % 2 !== 0) this.fail('SETITEMS has an odd number of keys and values');
    if (isPickleObject(target) && target.kind === 'dict') {
      const index = this.dictKeys.get(target) as Map<string, number>;
      for (let i = 0; i < items.length; i += 2) {
        const key = items[i];
        const value = items[i + 1];
        const scalarKey = dictKeyText(key);
        const existing = scalarKey === undefined ? undefined : index.get(scalarKey);
        if (existing !== undefined) target.entries[existing][1] = value;
        else {
          if (scalarKey !== undefined) index.set(scalarKey, target.entries.length);
          target.entries.push([key, value]);
        }
        this.deepen(target, key);
        this.deepen(target, value);
      }
      return;
    }
    if (isPickleObject(target) && target.kind === 'call') {
      target.dictEntries ??= [];
      for (let i = 0; i < items.length; i += 2) {
        target.dictEntries.push([items[i], items[i + 1]]);
        this.deepen(target, items[i]);
        this.deepen(target, items[i + 1]);
      }
      return;
    }
    this.fail('SETITEM needs a dict or an object below its items');
  }

  private appendItems(items: PickleValue[]): void {
    const target = this.top();
    let list: PickleValue[] | undefined;
    if (isPickleObject(target) && target.kind === 'list') list = target.items;
    else if (isPickleObject(target) && target.kind === 'call') list = target.listItems ??= [];
    if (list === undefined) return this.fail('APPEND needs a list or an object below its items');
    for (const item of items) {
      list.push(item);
      this.deepen(target as PickleObject, item);
    }
  }

  private addItems(items: PickleValue[]): void {
    const target = this.top();
    let set: PickleValue[] | undefined;
    if (isPickleObject(target) && target.kind === 'set') set = target.items;
    else if (isPickleObject(target) && target.kind === 'call') set = target.setItems ??= [];
    if (set === undefined) return this.fail('ADDITEMS needs a set below its items');
    for (const item of items) {
      set.push(item);
      this.deepen(target as PickleObject, item);
    }
  }

  private tupleItems(args: PickleValue, opcodeName: string): PickleValue[] {
    if (!isPickleObject(args) || args.kind !== 'tuple') return this.fail(`${opcodeName} needs a tuple of arguments`);
    return args.items;
  }

  private call(callee: PickleValue, args: PickleValue[], newObject: boolean, kwargs?: PickleValue): PickleCall {
    const node: PickleCall = { kind: 'call', callee, args, newObject, depth: 1 };
    if (kwargs !== undefined) (node as { kwargs?: PickleValue }).kwargs = kwargs;
    this.deepen(node, callee);
    for (const arg of args) this.deepen(node, arg);
    if (kwargs !== undefined) this.deepen(node, kwargs);
    return node;
  }

  private persistent(id: PickleValue): PickleObject {
    const node: PickleObject = { kind: 'persistent', id, depth: 1 };
    this.deepen(node, id);
    return node;
  }

  private global(module: string, name: string): PickleObject {
    const key = `${module}.${name}`;
    if (!this.globals.has(key)) this.globals.set(key, { module, name, verdict: classifyGlobal(module, name) });
    return { kind: 'global', module, name, depth: 1 };
  }

  /** Sets a new sequence's depth from its items. */
  private checked(node: PickleSequence): PickleSequence {
    for (const item of node.items) this.deepen(node, item);
    return node;
  }

  /** Raises `node.depth` to hold `child`, and rejects nesting beyond MAX_NESTING. */
  private deepen(node: PickleObject, child: PickleValue): void {
    const depth = depthOf(child) + 1;
    if (depth <= node.depth) return;
    if (depth > MAX_NESTING) {
      this.fail(`nests containers more than ${MAX_NESTING} levels deep; no checkpoint needs that, so the file is corrupt or crafted`);
    }
    node.depth = depth;
  }

  // ---- reading bytes

  private take(length: number): Uint8Array {
    if (length > this.bytes.length - this.pos) this.truncated(`needs ${length} bytes`);
    const slice = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }

  private u8(): number {
    return this.take(1)[0];
  }

  private u32(): number {
    const raw = this.take(4);
    return (raw[0] | (raw[1] << 8) | (raw[2] << 16)) + raw[3] * 0x1000000;
  }

  private i32(): number {
    const raw = this.take(4);
    return raw[0] | (raw[1] << 8) | (raw[2] << 16) | (raw[3] << 24);
  }

  /** Reads an 8-byte length. Values beyond the safe integers exceed any stream, so they read as truncation. */
  private u64(): number {
    const low = this.u32();
    const high = this.u32();
    return high >= 0x200000 ? Number.MAX_SAFE_INTEGER : high * 0x100000000 + low;
  }

  /** Reads a little-endian two's complement integer of `length` bytes (LONG1, LONG4). */
  private longBytes(length: number): number | bigint {
    if (length > MAX_INTEGER_BYTES) this.fail(`contains an integer of ${length} bytes, more than the ${MAX_INTEGER_BYTES} this reader accepts`);
    const raw = this.take(length);
    if (raw.length === 0) return 0;
    // Going through hex keeps the conversion linear in the number of bytes.
    let hex = '';
    for (let i = raw.length - 1; i >= 0; i--) hex += raw[i].toString(16).padStart(2, '0');
    let value = BigInt(`0x${hex}`);
    if (raw[raw.length - 1] & 0x80) value -= 1n << BigInt(8 * raw.length);
    return integer(value);
  }

  /** Bytes up to the next newline, which is consumed. */
  private line(): Uint8Array {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.truncated('needs a line ending with a newline');
    const slice = this.bytes.subarray(this.pos, end);
    this.pos = end + 1;
    return slice;
  }

  private asciiLine(): string {
    return latin1(this.line());
  }

  /** INT: protocol 0 writes True and False as `01` and `00`. */
  private intLine(): number | bigint | boolean {
    const text = this.asciiLine();
    if (text === '01') return true;
    if (text === '00') return false;
    return integer(this.decimal(text));
  }

  private decimal(text: string): bigint {
    const trimmed = text.trim();
    if (trimmed.length > MAX_INTEGER_DIGITS) this.fail(`contains an integer of ${trimmed.length} digits, more than the ${MAX_INTEGER_DIGITS} this reader accepts`);
    if (!/^[+-]?\d+$/.test(trimmed)) this.fail(`contains the invalid integer text ${JSON.stringify(text.slice(0, 40))}`);
    return BigInt(trimmed);
  }

  // ---- errors

  private fileOffset(position: number): number {
    return (this.options.fileOffset ?? 0) + position;
  }

  private truncated(what: string): never {
    throw new PickleTruncatedError(
      this.options.file,
      `${this.options.label} ended at byte ${this.bytes.length}, but opcode ${this.opcodeName()} at byte ${this.opStart} ${what}; the file is truncated or corrupt`,
      { offset: this.fileOffset(this.opStart) },
    );
  }

  fail(message: string): never {
    throw new CheckpointError(
      this.options.file,
      `${this.options.label}: the pickle ${message} (opcode ${this.opcodeName()} at byte ${this.opStart})`,
      { offset: this.fileOffset(this.opStart) },
    );
  }

  private opcodeName(): string {
    return OPCODE_NAMES[this.opcode] ?? `0x${this.opcode.toString(16)}`;
  }
}

function sequence(kind: PickleSequence['kind'], items: PickleValue[]): PickleSequence {
  return { kind, items, depth: 1 };
}

function bytesNode(data: Uint8Array): PickleObject {
  return { kind: 'bytes', data: data.slice(), depth: 1 };
}

function integer(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return text;
}

function pickleFloat(value: number): PickleFloat {
  return { kind: 'float', value, depth: 0 };
}

/**
 * Index key of a scalar dict key, or undefined for other keys. A float shares the key of the equal int, since
 * Python's dict treats 1 and 1.0 as one key.
 */
function dictKeyText(key: PickleValue): string | undefined {
  if (isPickleObject(key)) return key.kind === 'float' ? `number:${String(key.value)}` : undefined;
  return `${typeof key}:${String(key)}`;
}

function parseFloatLine(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'inf' || trimmed === '+inf') return Infinity;
  if (trimmed === '-inf') return -Infinity;
  if (trimmed === 'nan' || trimmed === '-nan') return NaN;
  return Number(trimmed);
}

function stripQuotes(text: string, machine: PickleMachine): string {
  const quote = text[0];
  if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) {
    machine.fail('STRING argument is not a quoted string');
  }
  return text.slice(1, -1);
}

const SIMPLE_ESCAPES: Record<string, number> = {
  '\\': 0x5c, "'": 0x27, '"': 0x22, n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b,
};

/** Decodes the escapes of a Python bytes literal's body (protocol 0 STRING). */
function decodeEscapes(body: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (char !== '\\' || i + 1 >= body.length) {
      out.push(body.charCodeAt(i) & 0xff);
      continue;
    }
    const next = body[++i];
    if (next in SIMPLE_ESCAPES) out.push(SIMPLE_ESCAPES[next]);
    else if (next === '\n') continue;
    else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 1, i + 3))) {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (/[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out.push(parseInt(octal, 8) & 0xff);
      i += octal.length - 1;
    } else out.push(0x5c, next.charCodeAt(0) & 0xff);
  }
  return Uint8Array.from(out);
}

/** Decodes Python's raw-unicode-escape (protocol 0 UNICODE): `\uXXXX`, `\UXXXXXXXX`, other bytes as Latin-1. */
function decodeRawUnicodeEscape(bytes: Uint8Array): string {
  const text = latin1(bytes);
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_match, short: string, long: string) =>
    codePoint(parseInt(short ?? long, 16)));
}

function codePoint(value: number): string {
  return value <= 0x10ffff ? String.fromCodePoint(value) : '\ufffd';
}
