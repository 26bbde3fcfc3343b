// A JSON parser for hand-written configuration files. Unlike `JSON.parse`, it reports errors as line and column
// and rejects duplicate object keys, which `JSON.parse` silently resolves to the last one.

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'JsonSyntaxError';
  }
}

/** Parses `text` as JSON (RFC 8259). Throws JsonSyntaxError with a 1-based line and column. */
export function parseStrictJson(text: string): unknown {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.parseValue();
  parser.skipWhitespace();
  if (parser.position < text.length) parser.fail('unexpected text after the JSON value');
  return value;
}

class Parser {
  position = 0;

  constructor(private readonly text: string) {}

  fail(reason: string, at = this.position): never {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    throw new JsonSyntaxError(reason, line, at - lineStart + 1);
  }

  skipWhitespace(): void {
    while (this.position < this.text.length && ' \t\r\n'.includes(this.text[this.position])) this.position++;
  }

  parseValue(): unknown {
    const character = this.text[this.position];
    if (character === '{') return this.parseObject();
    if (character === '[') return this.parseArray();
    if (character === '"') return this.parseString();
    if (character === '-' || (character >= '0' && character <= '9')) return this.parseNumber();
    for (const [literal, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(literal, this.position)) {
        this.position += literal.length;
        return value;
      }
    }
    return this.fail(character === undefined ? 'unexpected end of file' : `unexpected character ${JSON.stringify(character)}`);
  }

  private parseObject(): Record<string, unknown> {
    const result: Record<string, unknown> = Object.create(null);
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position++;
      return result;
    }
    while (true) {
      this.skipWhitespace();
      const keyPosition = this.position;
      if (this.text[this.position] !== '"') this.fail('expected a string key');
      const key = this.parseString();
      if (Object.prototype.hasOwnProperty.call(result, key)) this.fail(`duplicate key ${JSON.stringify(key)}`, keyPosition);
      this.skipWhitespace();
      if (this.text[this.position] !== ':') this.fail('expected ":" after the key');
      this.position++;
      this.skipWhitespace();
      result[key] = this.parseValue();
      this.skipWhitespace();
      const separator = this.text[this.position++];
      if (separator === '}') return result;
      if (separator !== ',') this.fail('expected "," or "}"', this.position - 1);
    }
  }

  private parseArray(): unknown[] {
    const result: unknown[] = [];
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position++;
      return result;
    }
    while (true) {
      this.skipWhitespace();
      result.push(this.parseValue());
      this.skipWhitespace();
      const separator = this.text[this.position++];
      if (separator === ']') return result;
      if (separator !== ',') this.fail('expected "," or "]"', this.position - 1);
    }
  }

  private parseString(): string {
    const start = this.position;
    this.position++;
    while (this.position < this.text.length) {
      const character = this.text[this.position];
      if (character === '"') {
        this.position++;
        // The JSON grammar of strings is a subset of what JSON.parse accepts for a lone string literal.
        try {
          return JSON.parse(this.text.slice(start, this.position)) as string;
        } catch {
          this.fail('invalid string escape or control character', start);
        }
      }
      if (character === '\\') this.position++;
      else if (character < ' ') this.fail('unescaped control character in a string');
      this.position++;
    }
    return this.fail('unterminated string', start);
  }

  private parseNumber(): number {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.position, this.position + 400));
    if (!match) this.fail('invalid number');
    this.position += match[0].length;
    return Number(match[0]);
  }
}
