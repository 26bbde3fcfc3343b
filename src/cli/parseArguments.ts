// Splits a command's arguments into positionals and flags, checked against the command's option list.
import { UsageError, type CommandDefinition, type FlagValues } from './command';

export interface ParsedArguments {
  readonly positionals: string[];
  readonly flags: FlagValues;
}

/** Flags every command accepts; `main.ts` handles them. */
export const GLOBAL_SWITCHES = ['verbose', 'help'] as const;

/**
 * Parses `--name value`, `--name=value` and switches. `--` ends flag parsing.
 * Throws UsageError for an unknown flag, a missing value, or a wrong number of positionals.
 */
export function parseArguments(command: CommandDefinition, args: readonly string[]): ParsedArguments {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean | string[]> = {};
  let onlyPositionals = false;

  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (onlyPositionals || !arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }

    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    const inlineValue = equals < 0 ? undefined : arg.slice(equals + 1);
    if ((GLOBAL_SWITCHES as readonly string[]).includes(name)) {
      flags[name] = true;
      continue;
    }
    const option = command.options.find((candidate) => candidate.name === name);
    if (!option) throw new UsageError(`unknown option --${name} for "${command.name}"; run "${command.name} --help" for its options`);

    if (option.kind === 'switch') {
      if (inlineValue !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = inlineValue ?? args[++index];
    if (value === undefined) throw new UsageError(`--${name} expects ${option.valueName ?? 'a value'}`);
    if (option.kind === 'repeatable') flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }

  const [minimum, maximum] = command.positionals;
  if (!flags.help && (positionals.length < minimum || positionals.length > maximum)) {
    let expected = `${minimum} to ${maximum}`;
    if (minimum === maximum) expected = `${minimum}`;
    else if (maximum === Infinity) expected = `at least ${minimum}`;
    throw new UsageError(`"${command.name}" expects ${expected} file argument(s), got ${positionals.length}: ${command.name} ${command.usage}`);
  }
  return { positionals, flags };
}
