// The format-independent view of a checkpoint file that every reader returns.
// Core module: it must not import `vscode`, because the command line and the worker use it too.

/** Element types, named as safetensors names them, for every format. GGUF quantized types keep their GGUF names. */
export type SafetensorsDType =
  | 'F64' | 'F32' | 'F16' | 'BF16' | 'F8_E4M3' | 'F8_E5M2'
  | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export type DType = SafetensorsDType | (string & {});

export type CheckpointFormat =
  | 'safetensors' | 'safetensors-sharded'
  | 'pytorch-zip' | 'pytorch-legacy'
  | 'onnx' | 'npy' | 'npz' | 'flax-msgpack' | 'gguf';

/** One tensor as listed by a reader, before any tensor bytes are read. */
export interface TensorEntry {
  /** Name as stored in the file (a `module.` prefix stays). */
  readonly name: string;
  readonly dtype: DType;
  /** Row-major (C order) logical shape; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** Absolute byte offset of the tensor's first stored byte in `file`. */
  readonly offset: number;
  /** Number of stored bytes, for a view the bytes of the span it reads. */
  readonly length: number;
  /** File holding the bytes when it is not the checkpoint's main file (shards, ONNX external data, zip-free paths). */
  readonly file?: string;
}

/**
 * Verdict on one global referenced by a pickle stream. `torchscript-class` is a `__torch__.*` name: a class that
 * `torch.jit.load` compiles from the archive's own `code/` records instead of importing a Python module.
 */
export type GlobalVerdict = 'allowed' | 'unknown' | 'dangerous' | 'torchscript-class';

export interface PickleGlobal {
  readonly module: string;
  readonly name: string;
  readonly verdict: GlobalVerdict;
}

/** Safety report of a pickle-based file. Nothing in a pickle is ever executed to build it. */
export interface PickleReport {
  /**
   * `dangerous` when any global is dangerous, else `unknown` when any is unknown or a TorchScript class, else
   * `safe`. These three values are the public JSON contract, so TorchScript archives get `unknown` plus
   * `torchscript`.
   */
  readonly verdict: 'safe' | 'unknown' | 'dangerous';
  /**
   * True when the pickle references `__torch__.*` classes: a TorchScript archive, whose code/ records
   * `torch.jit.load` would compile and run. Absent otherwise.
   */
  readonly torchscript?: true;
  readonly globals: readonly PickleGlobal[];
}

/** Tensor values in their stored element type, row-major and contiguous. */
export interface StoredTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /**
   * F64 → Float64Array, F32 → Float32Array, F16 and BF16 → Uint16Array of raw bit patterns,
   * I64 → BigInt64Array, I32 → Int32Array, I16 → Int16Array, I8 → Int8Array, U64 → BigUint64Array,
   * U32 → Uint32Array, U16 → Uint16Array, U8, BOOL, F8_E4M3, F8_E5M2 → Uint8Array, quantized GGUF types →
   * Uint8Array of raw blocks.
   * Always little-endian host order, whatever the file's byte order.
   */
  readonly data: ArrayBufferView;
}

/** A named tensor to write; `data` follows the `StoredTensor` conventions for `dtype`. */
export interface NamedTensor extends StoredTensor {
  readonly name: string;
}

/** Options every writer takes. */
export interface WriteOptions {
  /** Paths of the job's inputs: the writer refuses to write over any of them. */
  readonly inputs: readonly string[];
  /** Text metadata recorded in the file where the format has a place for it (tool, version, inputs, λ). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Aborting removes the temporary file and leaves no output. */
  readonly signal?: AbortSignal;
}

export type FloatTensorData = Float32Array | Float64Array;

/** A real-valued tensor in memory, row-major and contiguous. */
export interface FloatTensor {
  readonly shape: readonly number[];
  readonly data: FloatTensorData;
}

export type ReadAs = 'stored' | 'float32' | 'float64';

/** Floating type of the chunks `readTensorChunks` yields. */
export type ChunkType = 'float32' | 'float64';

/**
 * An opened checkpoint. Opening reads headers only; tensor bytes are read by `readTensor`, one tensor at a time.
 * Readers throw `CheckpointError` for any invalid input.
 */
export interface Checkpoint {
  /** Path the checkpoint was opened from. */
  readonly path: string;
  readonly format: CheckpointFormat;
  /** Model weights under the names alignment uses: a Lightning checkpoint's `state_dict` entries, ONNX initializers. */
  readonly tensors: readonly TensorEntry[];
  /** Everything else the file carries: safetensors `__metadata__`, Lightning entries, ONNX graph summary. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Present for pickle-based files. */
  readonly pickle?: PickleReport;

  /** Reads one tensor. Float conversion is exact for every stored floating type; integers convert by value. */
  readTensor(name: string, as: 'float32'): Promise<Float32Array>;
  readTensor(name: string, as: 'float64'): Promise<Float64Array>;
  readTensor(name: string, as?: 'stored'): Promise<StoredTensor>;

  /**
   * Reads one tensor as float32 (the default) or float64 in row-major chunks of at most `maxChunkBytes` bytes of
   * output, so statistics and diffs of multi-GB tensors run in bounded memory. Chunks arrive in order and cover
   * the tensor once. A reader may reuse a chunk's memory once the consumer has asked for the next chunk, so a
   * consumer that keeps values past that point copies them. Float64 chunks hold F64, I32 and U32 values, and
   * I64 and U64 values up to 2^53, exactly.
   */
  readTensorChunks(name: string, maxChunkBytes: number, as?: 'float32'): AsyncIterable<Float32Array>;
  readTensorChunks(name: string, maxChunkBytes: number, as: 'float64'): AsyncIterable<Float64Array>;
  readTensorChunks(name: string, maxChunkBytes: number, as?: ChunkType): AsyncIterable<Float32Array | Float64Array>;

  /** Releases file handles. The checkpoint is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * Invalid or unsupported input. The message names the file and, where known, the tensor or byte offset,
 * and tells the user what to do.
 */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly detail: { readonly tensor?: string; readonly offset?: number } = {},
  ) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** Number of elements of a shape; 1 for a scalar. */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const size of shape) count *= size;
  return count;
}
