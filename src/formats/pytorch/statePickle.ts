// Writes the data.pkl of a state dict as torch.save does with pickle protocol 2: an OrderedDict whose values are
// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks)` calls, with
// storages as persistent ids `('storage', torch.<Type>Storage, key, 'cpu', numel)`. Only opcodes that the
// `weights_only` loader of torch 1.13 accepts are used (no floats, no MEMOIZE, no FRAME).

export interface StateDictEntry {
  readonly name: string;
  /** Storage class name in module `torch`, e.g. `FloatStorage`. */
  readonly storageClass: string;
  readonly storageKey: string;
  readonly shape: readonly number[];
}

const PROTO = 0x80, EMPTY_TUPLE = 0x29, MARK = 0x28, REDUCE = 0x52, TUPLE = 0x74, TUPLE1 = 0x85, TUPLE2 = 0x86,
  TUPLE3 = 0x87, BINPERSID = 0x51, NEWFALSE = 0x89, SETITEMS = 0x75, STOP = 0x2e, BINUNICODE = 0x58, GLOBAL = 0x63,
  BININT = 0x4a, BININT1 = 0x4b, BININT2 = 0x4d, LONG1 = 0x8a, BINPUT = 0x71, LONG_BINPUT = 0x72, BINGET = 0x68,
  LONG_BINGET = 0x6a;

/** SETITEMS batch size, as Python's pickler uses. */
const BATCH_SIZE = 1000;

/** A growing byte buffer with the opcode encoders the state dict needs. */
class PickleBuilder {
  private buffer = new Uint8Array(1 << 16);
  private length = 0;
  private readonly memo = new Map<string, number>();
  private readonly encoder = new TextEncoder();

  private reserve(count: number): void {
    if (this.length + count <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + count) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  byte(...values: number[]): void {
    this.reserve(values.length);
    for (const value of values) this.buffer[this.length++] = value;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  uint32(value: number): void {
    this.byte(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
  }

  int(value: number): void {
    if (value >= 0 && value < 0x100) this.byte(BININT1, value);
    else if (value >= 0 && value < 0x10000) this.byte(BININT2, value & 0xff, value >> 8);
    else if (value >= -0x80000000 && value < 0x80000000) {
      this.byte(BININT);
      this.uint32(value >>> 0);
    } else {
      // LONG1: little-endian two's complement with a sign byte to spare.
      const raw: number[] = [];
      let rest = BigInt(value);
      do {
        raw.push(Number(rest & 0xffn));
        rest >>= 8n;
      } while (rest !== 0n && rest !== -1n);
      if ((raw[raw.length - 1] & 0x80) !== (value < 0 ? 0x80 : 0)) raw.push(value < 0 ? 0xff : 0);
      this.byte(LONG1, raw.length, ...raw);
    }
  }

  text(value: string): void {
    const encoded = this.encoder.encode(value);
    this.byte(BINUNICODE);
    this.uint32(encoded.length);
    this.bytes(encoded);
  }

  /** Writes a GLOBAL, memoized so that later uses of the same global are a BINGET. */
  global(module: string, name: string): void {
    const key = `${module}\n${name}\n`;
    const index = this.memo.get(key);
    if (index !== undefined) {
      this.get(index);
      return;
    }
    this.byte(GLOBAL);
    this.bytes(this.encoder.encode(key));
    this.put(key);
  }

  tuple(write: Array<() => void>): void {
    if (write.length === 0) return this.byte(EMPTY_TUPLE);
    if (write.length > 3) this.byte(MARK);
    for (const item of write) item();
    this.byte(write.length > 3 ? TUPLE : [TUPLE1, TUPLE2, TUPLE3][write.length - 1]);
  }

  private put(key: string): void {
    const index = this.memo.size;
    this.memo.set(key, index);
    if (index < 0x100) this.byte(BINPUT, index);
    else {
      this.byte(LONG_BINPUT);
      this.uint32(index);
    }
  }

  private get(index: number): void {
    if (index < 0x100) this.byte(BINGET, index);
    else {
      this.byte(LONG_BINGET);
      this.uint32(index);
    }
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** C-order strides in elements. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = step;
    step *= shape[axis];
  }
  return strides;
}

/** Pickles an OrderedDict of tensors, each on its own storage at offset 0 with C-order strides. */
export function pickleStateDict(entries: readonly StateDictEntry[]): Uint8Array {
  const out = new PickleBuilder();
  out.byte(PROTO, 2);
  out.global('collections', 'OrderedDict');
  out.byte(EMPTY_TUPLE, REDUCE);
  for (let first = 0; first < entries.length; first += BATCH_SIZE) {
    out.byte(MARK);
    for (const entry of entries.slice(first, first + BATCH_SIZE)) writeEntry(out, entry);
    out.byte(SETITEMS);
  }
  out.byte(STOP);
  return out.finish();
}

function writeEntry(out: PickleBuilder, entry: StateDictEntry): void {
  const numel = entry.shape.reduce((product, size) => product * size, 1);
  out.text(entry.name);
  out.global('torch._utils', '_rebuild_tensor_v2');
  out.tuple([
    () => {
      out.tuple([
        () => out.text('storage'),
        () => out.global('torch', entry.storageClass),
        () => out.text(entry.storageKey),
        () => out.text('cpu'),
        () => out.int(numel),
      ]);
      out.byte(BINPERSID);
    },
    () => out.int(0),
    () => out.tuple(entry.shape.map((size) => () => out.int(size))),
    () => out.tuple(contiguousStrides(entry.shape).map((stride) => () => out.int(stride))),
    () => out.byte(NEWFALSE),
    () => {
      out.global('collections', 'OrderedDict');
      out.byte(EMPTY_TUPLE, REDUCE);
    },
  ]);
  out.byte(REDUCE);
}
