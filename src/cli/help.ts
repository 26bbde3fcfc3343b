// Help text of the command line.
import type { CommandDefinition } from './command';

export function formatOverviewHelp(commands: readonly CommandDefinition[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = [
    'Usage: checkpoint-aligner <command> [arguments] [--verbose]',
    '',
    'Inspect neural-network checkpoints and align and merge them with Git Re-Basin weight matching.',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Run "checkpoint-aligner <command> --help" for a command\'s options.',
    '',
  ];
  return lines.join('\n');
}

export function formatCommandHelp(command: CommandDefinition): string {
  const flags = command.options.map((option) => {
    const value = option.kind === 'switch' ? '' : ` ${option.valueName ?? 'VALUE'}`;
    return { left: `--${option.name}${value}`, right: option.description };
  });
  flags.push({ left: '--verbose', right: 'Print stack traces of errors.' });
  const width = Math.max(...flags.map((flag) => flag.left.length));
  return [
    `Usage: checkpoint-aligner ${command.name} ${command.usage}`,
    '',
    command.summary,
    '',
    'Options:',
    ...flags.map((flag) => `  ${flag.left.padEnd(width)}  ${flag.right}`),
    '',
  ].join('\n');
}
