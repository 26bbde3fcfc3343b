// The shape of one command-line command. `main.ts` parses flags against `options` and dispatches.

/** Flag values after parsing: strings for valued flags, `true` for switches, arrays for repeatable flags. */
export type FlagValues = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

export interface OptionDefinition {
  /** Flag name without dashes, e.g. `max-sweeps`. */
  readonly name: string;
  /** Takes a value (`--out FILE`) or is a switch (`--json`). */
  readonly kind: 'value' | 'switch' | 'repeatable';
  /** Placeholder for help text, e.g. `FILE`. */
  readonly valueName?: string;
  readonly description: string;
}

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT; long jobs stop and leave no partial output. */
  readonly signal: AbortSignal;
  readonly verbose: boolean;
}

export interface CommandDefinition {
  readonly name: string;
  /** Usage after the command name, e.g. `A B [--out REPORT.json]`. */
  readonly usage: string;
  readonly summary: string;
  /** Positional argument count accepted: [minimum, maximum]. */
  readonly positionals: readonly [number, number];
  readonly options: readonly OptionDefinition[];
  /** Runs the command; returns the exit status (0 success, 1 invalid input or failed job, 3 for `diff` when files differ). */
  run(positionals: readonly string[], flags: FlagValues, io: CommandIo): Promise<number>;
}

/** Bad usage: unknown flag, missing value, wrong argument count. Exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Decimal numbers as users type them (`0.5`, `-1`, `1e-3`); rejects empty text, hexadecimal and `Infinity`. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Reads a numeric flag, throwing UsageError naming the flag when it is not a decimal number in [minimum, maximum],
 * or not an integer where `integer` is set.
 */
export function numberFlag(flags: FlagValues, name: string, fallback: number, minimum = -Infinity, maximum = Infinity, integer = false): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  const kind = integer ? 'an integer' : 'a number';
  if (!Number.isFinite(value) || value < minimum || value > maximum || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} expects ${kind} between ${minimum} and ${maximum}, got "${String(raw)}"`);
  }
  return value;
}

/** Reads a string flag restricted to `choices`. */
export function choiceFlag<T extends string>(flags: FlagValues, name: string, choices: readonly T[], fallback: T): T {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} expects one of ${choices.join(', ')}, got "${String(raw)}"`);
  }
  return raw as T;
}

/** Reads an optional string flag. */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new UsageError(`--${name} expects a value`);
  return raw;
}
