// Reading an ONNX model's structure from its file in bounded pieces, without reading initializer data.
//
// The scan walks the ModelProto's wire format with protobufjs's `Reader`, reading only field tags and lengths
// where it does not keep a field. It copies every field except the top-level graphs' initializer data, and
// decodes that stripped copy with onnx-proto. Because protobuf merges repeated occurrences of a message and
// appends repeated fields, the stripped copy decodes to the same model, minus raw_data and the large typed fields.
import { Reader } from 'protobufjs/minimal';
import { onnx } from 'onnx-proto';
import { CheckpointError } from '../checkpoint';
import type { RandomAccessFile } from '../fileRange';
import { decodeModel } from './modelFile';
import { lengthDelimitedHeader, type WireField } from './wire';

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
/** float_data, int32_data, string_data, int64_data, double_data, uint64_data. */
const TENSOR_TYPED_FIELDS = new Set([4, 5, 6, 7, 10, 11]);

const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;

/** Bytes that cover any field head: a tag (up to 5 bytes) and a length or varint value (up to 10), or a fixed64 value. */
const MAX_FIELD_HEAD_BYTES = 20;
/** Window sizes: a read after a skip starts small, and sequential reads double it up to the maximum. */
const MIN_WINDOW_BYTES = 4096;
const MAX_WINDOW_BYTES = 1024 * 1024;

/**
 * Typed data fields of one initializer are decoded at open when they take at most this many bytes in the file,
 * and while all such fields decoded so far take at most `MAX_DECODED_TYPED_BYTES`. Larger ones are read on demand.
 */
const MAX_DECODED_TENSOR_TYPED_BYTES = 1024 * 1024;
const MAX_DECODED_TYPED_BYTES = 16 * 1024 * 1024;

/** A byte range of the model file. */
export interface FileSpan {
  readonly start: number;
  readonly end: number;
}

/** One top-level initializer: where its fields lie in the model file (absolute offsets). */
export interface ScannedInitializer {
  /** The whole TensorProto (its value, without the initializer field's tag and length). */
  readonly tensor: WireField;
  /** The raw_data field, when present (the last occurrence wins, as in protobuf decoding). */
  readonly rawData?: WireField;
  /** The first typed data field, when present. */
  readonly typedData?: WireField;
  /** Present when the typed data fields were too large to decode at open. */
  readonly typedOnDemand?: TypedFieldsOnDemand;
}

/** An initializer's typed data fields that were left in the file, and the TensorProto's other fields. */
export interface TypedFieldsOnDemand {
  /** The TensorProto's fields other than raw_data and the typed data fields, tags included. */
  readonly header: Uint8Array;
  /** Byte ranges of the typed data fields' occurrences, tags included, adjacent ones merged. */
  readonly spans: readonly FileSpan[];
}

export interface ScannedModel {
  /** The model without raw_data and without the typed data fields listed in `typedOnDemand`. */
  readonly model: onnx.ModelProto;
  /** Top-level initializers in the order `model.graph.initializer` lists them. */
  readonly initializers: readonly ScannedInitializer[];
}

/** A read window over the file: field heads and small fields come from it, and skipped values are never read. */
class WindowedFile {
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;
  private nextSize = MIN_WINDOW_BYTES;

  constructor(private readonly file: RandomAccessFile) {}

  get size(): number {
    return this.file.size;
  }

  /** Returns a copy of bytes [start, end) of the file. */
  async copy(start: number, end: number): Promise<Uint8Array> {
    if (end - start > MAX_WINDOW_BYTES) return this.file.read(start, end - start, 'an ONNX model field');
    await this.fill(start, end);
    return this.window.slice(start - this.windowStart, end - this.windowStart);
  }

  /** Returns a view of bytes [start, min(end, start + want)) that stays valid until the next call. */
  async view(start: number, end: number, want: number): Promise<Uint8Array> {
    const stop = Math.min(end, start + want);
    await this.fill(start, stop);
    return this.window.subarray(start - this.windowStart, stop - this.windowStart);
  }

  private async fill(start: number, end: number): Promise<void> {
    const windowEnd = this.windowStart + this.window.length;
    if (start >= this.windowStart && end <= windowEnd) return;
    this.nextSize = start === windowEnd ? Math.min(2 * this.nextSize, MAX_WINDOW_BYTES) : MIN_WINDOW_BYTES;
    const length = Math.min(Math.max(end - start, this.nextSize), this.file.size - start);
    this.window = await this.file.read(start, length, 'an ONNX model field');
    this.windowStart = start;
  }
}

/** Reads the head of the field at `start` and returns where the field and its value lie. `end` is its message's end. */
async function readField(file: WindowedFile, start: number, end: number): Promise<WireField> {
  const head = await file.view(start, end, MAX_FIELD_HEAD_BYTES);
  const reader = Reader.create(head);
  const tag = reader.uint32();
  const fieldNumber = tag >>> 3;
  const wireType = tag & 7;
  if (fieldNumber === 0) throw new Error(`invalid protobuf field number 0 at byte ${start}`);

  let valueStart = start + reader.pos;
  let fieldEnd: number;
  if (wireType === LENGTH_DELIMITED) {
    const length = reader.uint32();
    valueStart = start + reader.pos;
    fieldEnd = valueStart + length;
  } else if (wireType === START_GROUP) {
    fieldEnd = await skipGroup(file, valueStart, end, fieldNumber);
  } else {
    // Varints and fixed-width values fit in the head. protobufjs throws here for wire types 4, 6 and 7.
    reader.skipType(wireType);
    fieldEnd = start + reader.pos;
  }
  if (fieldEnd > end) {
    throw new RangeError(`field ${fieldNumber} at byte ${start} ends at byte ${fieldEnd}, past the end of its message at byte ${end}`);
  }
  return { fieldNumber, wireType, start, valueStart, end: fieldEnd };
}

/** Skips the fields of a group up to its end-group tag and returns the offset just past that tag. */
async function skipGroup(file: WindowedFile, start: number, end: number, fieldNumber: number): Promise<number> {
  let position = start;
  while (position < end) {
    const head = await file.view(position, end, MAX_FIELD_HEAD_BYTES);
    const reader = Reader.create(head);
    const tag = reader.uint32();
    if ((tag & 7) === END_GROUP) {
      if (tag >>> 3 !== fieldNumber) throw new Error(`invalid end group tag for field ${tag >>> 3} at byte ${position}`);
      return position + reader.pos;
    }
    position = (await readField(file, position, end)).end;
  }
  throw new RangeError(`group of field ${fieldNumber} at byte ${start} has no end before byte ${end}`);
}

/** Lists the fields of the message in [start, end) of the file, reading only their heads. */
async function* fieldsOf(file: WindowedFile, start: number, end: number): AsyncGenerator<WireField> {
  let position = start;
  while (position < end) {
    const field = await readField(file, position, end);
    yield field;
    position = field.end;
  }
}

const concat = (pieces: readonly Uint8Array[]): Uint8Array => Buffer.concat(pieces);
const withHeader = (fieldNumber: number, value: Uint8Array): Uint8Array[] => [lengthDelimitedHeader(fieldNumber, value.length), value];

/**
 * Reads the model in `file` (opened from `path`) without its initializers' raw_data, and locates each top-level
 * initializer's data fields. Memory stays near the size of the model without that data.
 * NOTE: initializers of subgraphs (If, Loop and Scan bodies), Constant node values, sparse initializers and
 * training_info are read whole, as parts of the graph.
 */
export async function scanModel(path: string, file: RandomAccessFile): Promise<ScannedModel> {
  const windowed = new WindowedFile(file);
  const initializers: ScannedInitializer[] = [];
  const budget = { decodedTypedBytes: 0 };
  const pieces: Uint8Array[] = [];
  try {
    for await (const field of fieldsOf(windowed, 0, windowed.size)) {
      if (field.fieldNumber === MODEL_GRAPH && field.wireType === LENGTH_DELIMITED) {
        pieces.push(...withHeader(MODEL_GRAPH, await scanGraph(windowed, field, initializers, budget)));
      } else {
        pieces.push(await windowed.copy(field.start, field.end));
      }
    }
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(
      path,
      `not a valid ONNX model: protobuf decoding failed (${(error as Error).message}); the file is truncated or is not an ONNX model`,
    );
  }
  return { model: decodeModel(path, concat(pieces)), initializers };
}

/** Returns the graph's fields with its initializers stripped of data, and appends the initializers' locations. */
async function scanGraph(
  file: WindowedFile,
  graph: WireField,
  initializers: ScannedInitializer[],
  budget: { decodedTypedBytes: number },
): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for await (const field of fieldsOf(file, graph.valueStart, graph.end)) {
    if (field.fieldNumber === GRAPH_INITIALIZER && field.wireType === LENGTH_DELIMITED) {
      const { kept, located } = await scanTensor(file, field, budget);
      pieces.push(...withHeader(GRAPH_INITIALIZER, kept));
      initializers.push(located);
    } else {
      pieces.push(await file.copy(field.start, field.end));
    }
  }
  return concat(pieces);
}

/** Returns the TensorProto's fields to decode at open, and where its data fields lie. */
async function scanTensor(
  file: WindowedFile,
  tensor: WireField,
  budget: { decodedTypedBytes: number },
): Promise<{ kept: Uint8Array; located: ScannedInitializer }> {
  const header: Uint8Array[] = [];
  const spans: { start: number; end: number }[] = [];
  let rawData: WireField | undefined;
  let typedData: WireField | undefined;
  for await (const field of fieldsOf(file, tensor.valueStart, tensor.end)) {
    if (field.fieldNumber === TENSOR_RAW_DATA && field.wireType === LENGTH_DELIMITED) {
      rawData = field;
    } else if (TENSOR_TYPED_FIELDS.has(field.fieldNumber)) {
      typedData ??= field;
      const last = spans.at(-1);
      if (last !== undefined && last.end === field.start) last.end = field.end;
      else spans.push({ start: field.start, end: field.end });
    } else {
      header.push(await file.copy(field.start, field.end));
    }
  }

  const typedBytes = spans.reduce((sum, span) => sum + span.end - span.start, 0);
  const decodeNow = typedBytes <= MAX_DECODED_TENSOR_TYPED_BYTES && budget.decodedTypedBytes + typedBytes <= MAX_DECODED_TYPED_BYTES;
  const headerBytes = concat(header);
  if (decodeNow) {
    budget.decodedTypedBytes += typedBytes;
    const typed: Uint8Array[] = [headerBytes];
    for (const span of spans) typed.push(await file.copy(span.start, span.end));
    return { kept: concat(typed), located: { tensor, rawData, typedData } };
  }
  return { kept: headerBytes, located: { tensor, rawData, typedData, typedOnDemand: { header: headerBytes, spans } } };
}
