// GGUF metadata values: the typed scalars, strings and (nested) arrays of the key-value section.
import type { HeaderCursor } from './headerCursor';

const VALUE_TYPE_NAMES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64'];
const STRING = 8;
const ARRAY = 9;
/** Bytes per element of the fixed-size value types, by type code. */
const FIXED_SIZES: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
/** Smallest encoding of one array element: a string's length prefix, or an array's element type and count. */
const MIN_ELEMENT_BYTES: Readonly<Record<number, number>> = { ...FIXED_SIZES, [STRING]: 8, [ARRAY]: 12 };

/** Arrays longer than this are summarized (length and first items) rather than listed. */
export const MAX_LISTED_ARRAY_ITEMS = 16;
const SUMMARY_ITEMS = 8;
/** Longer strings (long chat templates, embedded files) are replaced by their length. */
const MAX_STRING_BYTES = 1 << 20;
const MAX_ARRAY_DEPTH = 8;

export type MetadataValue = number | string | boolean | MetadataValue[] | ArraySummary;

export interface ArraySummary {
  readonly type: string;
  readonly length: number;
  readonly first: MetadataValue[];
}

export function valueTypeName(code: number): string {
  return VALUE_TYPE_NAMES[code] ?? `type ${code}`;
}

/** Reads one value of type `type`; `what` names it in errors (`metadata "general.name"`). */
export async function readMetadataValue(cursor: HeaderCursor, type: number, what: string, depth = 0): Promise<MetadataValue> {
  const start = cursor.position;
  const fixed = FIXED_SIZES[type];
  if (fixed !== undefined) {
    await cursor.ensure(fixed, what);
    return readFixed(cursor, type);
  }
  if (type === STRING) {
    const text = await cursor.readString(what, MAX_STRING_BYTES);
    return text ?? `<string of ${cursor.position - start - 8} bytes>`;
  }
  if (type !== ARRAY) cursor.fail(`${what} has unknown value type ${type} at byte ${start}; the file is corrupt or newer than this reader`, start);
  if (depth >= MAX_ARRAY_DEPTH) cursor.fail(`${what} nests arrays deeper than ${MAX_ARRAY_DEPTH} levels at byte ${start}; the file is corrupt`, start);

  const elementType = await cursor.readU32(`the element type of ${what}`);
  const minimum = MIN_ELEMENT_BYTES[elementType];
  if (minimum === undefined) cursor.fail(`${what} has arrays of unknown value type ${elementType} at byte ${start}; the file is corrupt`, start);
  const length = await cursor.readU64(`the length of ${what}`);
  if (length * minimum > cursor.remaining) {
    cursor.fail(`${what} declares ${length} ${valueTypeName(elementType)} elements at byte ${start} but only ${cursor.remaining} bytes remain; the file is corrupt`, start);
  }

  const listed = length <= MAX_LISTED_ARRAY_ITEMS ? length : SUMMARY_ITEMS;
  const items: MetadataValue[] = [];
  for (let i = 0; i < listed; i++) items.push(await readMetadataValue(cursor, elementType, `${what}[${i}]`, depth + 1));
  const fixedElement = FIXED_SIZES[elementType];
  if (fixedElement !== undefined) {
    cursor.skip((length - listed) * fixedElement, what);
  } else {
    for (let i = listed; i < length; i++) await skipValue(cursor, elementType, `${what}[${i}]`, depth + 1);
  }
  return length <= MAX_LISTED_ARRAY_ITEMS ? items : { type: valueTypeName(elementType), length, first: items };
}

async function skipValue(cursor: HeaderCursor, type: number, what: string, depth: number): Promise<void> {
  if (type === STRING) {
    await cursor.readString(what, 0);
    return;
  }
  if (type === ARRAY) {
    await readMetadataValue(cursor, type, what, depth);
    return;
  }
  cursor.skip(FIXED_SIZES[type], what);
}

function readFixed(cursor: HeaderCursor, type: number): number | boolean | string {
  switch (type) {
    case 0: return cursor.u8();
    case 1: return cursor.i8();
    case 2: return cursor.u16();
    case 3: return cursor.i16();
    case 4: return cursor.u32();
    case 5: return cursor.i32();
    case 6: return cursor.f32();
    case 7: return cursor.u8() !== 0;
    case 10: return exactNumber(cursor.u64());
    case 11: return exactNumber(cursor.i64());
    default: return cursor.f64();
  }
}

/** 64-bit integers beyond 2^53 would lose digits as numbers, so they stay exact as decimal strings. */
function exactNumber(value: bigint): number | string {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
}
