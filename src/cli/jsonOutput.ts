// Pretty-printed JSON written in pieces, for listings too large for one JavaScript string.
import { once } from 'node:events';

/** Characters collected before each write; large enough that a listing of small tensors needs few writes. */
const WRITE_CHUNK_CHARACTERS = 1 << 20;

/**
 * Writes `JSON.stringify(document, null, 2)` and a line break to `stream`, byte for byte, but never builds the whole
 * text: each element of a top-level array property is stringified on its own. So V8's maximum string length
 * (`buffer.constants.MAX_STRING_LENGTH`, 2^29 - 24 in Node 20) bounds each element's text, not the output.
 * Waits for `drain` whenever `write` returns false.
 */
export async function writePrettyJson(stream: NodeJS.WritableStream, document: Readonly<Record<string, unknown>>): Promise<void> {
  let pending = '';
  for (const piece of prettyJsonPieces(document)) {
    pending += piece;
    if (pending.length >= WRITE_CHUNK_CHARACTERS) {
      await writeWithBackpressure(stream, pending);
      pending = '';
    }
  }
  await writeWithBackpressure(stream, `${pending}\n`);
}

/**
 * Yields the text of `JSON.stringify(document, null, 2)` in pieces. Like `JSON.stringify`, it leaves out properties
 * whose value is undefined, a function or a symbol, and writes such array elements as `null`. It does not call a
 * `toJSON` method on the document itself, only on its property values.
 */
export function* prettyJsonPieces(document: Readonly<Record<string, unknown>>): Generator<string> {
  let empty = true;
  for (const [key, value] of Object.entries(document)) {
    const isArray = Array.isArray(value);
    // JSON.stringify returns undefined for undefined, functions and symbols, although it is typed as returning string.
    const text: string | undefined = isArray ? '' : JSON.stringify(value, null, 2);
    if (!isArray && text === undefined) continue;

    yield `${empty ? '{' : ','}\n  ${JSON.stringify(key)}: `;
    empty = false;
    if (isArray) yield* arrayPieces(value as readonly unknown[]);
    else yield indentNestedLines(text, '  ');
  }
  yield empty ? '{}' : '\n}';
}

/** Yields a top-level property's array, one element at a time, indented as `JSON.stringify(…, null, 2)` does. */
function* arrayPieces(array: readonly unknown[]): Generator<string> {
  if (array.length === 0) {
    yield '[]';
    return;
  }
  for (let index = 0; index < array.length; index++) {
    const text = (JSON.stringify(array[index], null, 2) as string | undefined) ?? 'null';
    yield `${index === 0 ? '[' : ','}\n    ${indentNestedLines(text, '    ')}`;
  }
  yield '\n  ]';
}

/** Indents every line but the first; safe on JSON text because line breaks inside JSON strings are escaped. */
function indentNestedLines(text: string, indent: string): string {
  return text.replaceAll('\n', `\n${indent}`);
}

async function writeWithBackpressure(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
