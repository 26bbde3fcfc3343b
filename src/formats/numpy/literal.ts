// A parser for the Python literal in a .npy header, such as `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
// It accepts only dicts, lists, tuples, strings, integers, True, False and None, and never evaluates anything.

export type PythonLiteral = string | number | boolean | null | PythonLiteral[] | { [key: string]: PythonLiteral };

/** Deepest nesting accepted; real headers nest at most a few levels (structured dtypes). */
const MAX_DEPTH = 32;

export class LiteralSyntaxError extends Error {}

/** Parses `text` as one Python literal, allowing surrounding whitespace. Throws LiteralSyntaxError otherwise. */
export function parsePythonLiteral(text: string): PythonLiteral {
  const parser = new LiteralParser(text);
  const value = parser.value(0);
  parser.skipWhitespace();
  if (!parser.atEnd()) parser.fail('unexpected text after the literal');
  return value;
}

class LiteralParser {
  private position = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.position >= this.text.length;
  }

  fail(message: string): never {
    throw new LiteralSyntaxError(`${message} at character ${this.position}`);
  }

  skipWhitespace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.position])) this.position++;
  }

  value(depth: number): PythonLiteral {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    this.skipWhitespace();
    const char = this.text[this.position];
    if (char === '{') return this.dict(depth);
    if (char === '(') return this.sequence(')', depth);
    if (char === '[') return this.sequence(']', depth);
    if (char === "'" || char === '"') return this.string();
    if (char !== undefined && /[-+0-9]/.test(char)) return this.integer();
    for (const [word, result] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.text.startsWith(word, this.position)) {
        this.position += word.length;
        return result;
      }
    }
    return this.fail(char === undefined ? 'unexpected end of text' : `unexpected character ${JSON.stringify(char)}`);
  }

  private expect(char: string): void {
    this.skipWhitespace();
    if (this.text[this.position] !== char) this.fail(`expected ${JSON.stringify(char)}`);
    this.position++;
  }

  /** Reads items separated by commas up to `close`; a trailing comma is allowed, as in Python. */
  private items(close: string, readItem: () => void): void {
    this.position++;
    while (true) {
      this.skipWhitespace();
      if (this.text[this.position] === close) break;
      readItem();
      this.skipWhitespace();
      if (this.text[this.position] === ',') this.position++;
      else if (this.text[this.position] !== close) this.fail(`expected "," or ${JSON.stringify(close)}`);
    }
    this.position++;
  }

  private dict(depth: number): { [key: string]: PythonLiteral } {
    const result: { [key: string]: PythonLiteral } = Object.create(null);
    this.items('}', () => {
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.fail('dict keys must be strings');
      this.expect(':');
      result[key] = this.value(depth + 1);
    });
    return result;
  }

  private sequence(close: string, depth: number): PythonLiteral[] {
    const result: PythonLiteral[] = [];
    this.items(close, () => result.push(this.value(depth + 1)));
    return result;
  }

  private string(): string {
    const quote = this.text[this.position++];
    let result = '';
    while (true) {
      const char = this.text[this.position++];
      if (char === undefined) this.fail('unterminated string');
      if (char === quote) return result;
      if (char === '\\') {
        const escaped = this.text[this.position++];
        if (escaped === undefined) this.fail('unterminated string');
        result += escaped;
      } else {
        result += char;
      }
    }
  }

  private integer(): number {
    const match = /^[-+]?[0-9]+L?/.exec(this.text.slice(this.position, this.position + 40));
    if (match === null) return this.fail('expected an integer');
    this.position += match[0].length;
    const value = Number(match[0].replace('L', ''));
    if (!Number.isSafeInteger(value)) this.fail(`integer ${match[0]} is too large`);
    return value;
  }
}
