// Helpers shared by the benchmarks: positive numeric options and the bytes this process has read.
import { readFileSync } from 'node:fs';

/**
 * Parses `--name value` pairs into a copy of `defaults`, where `--some-name` sets `someName`. Every value must be
 * a positive number; keys listed in `integers` are rounded. Unknown flags throw.
 */
export function parsePositiveOptions<T extends Record<string, number>>(args: readonly string[], defaults: T, integers: readonly (keyof T)[] = []): T {
  const options: Record<string, number> = { ...defaults };
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i].replace(/^--/, '').replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    if (!args[i].startsWith('--') || !Object.hasOwn(defaults, key)) throw new Error(`unknown option ${args[i]}`);
    const value = Number(args[i + 1]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${args[i]} expects a positive number, got ${args[i + 1]}`);
    options[key] = integers.includes(key) ? Math.round(value) : value;
  }
  return options as T;
}

/** Bytes this process has read so far, from the `rchar` field of /proc/self/io (Linux only); NaN elsewhere. */
export function bytesReadSoFar(): number {
  const match = /rchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
  return match === null ? NaN : Number(match[1]);
}
