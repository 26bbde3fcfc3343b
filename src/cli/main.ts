// Command-line entry point: `checkpoint-aligner <command> [arguments]`, also `npm run cli -- <command>`.
// Exit status: 0 success, 1 invalid input or failed job, 2 bad usage. A failed job prints one error line, with a
// stack trace only under --verbose. Commands may define other statuses: `diff` exits 3 when the files differ.
import { UsageError, type CommandDefinition, type CommandIo } from './command';
import { COMMANDS } from './commands';
import { formatCommandHelp, formatOverviewHelp } from './help';
import { parseArguments } from './parseArguments';
import { printable } from './textFormat';
import { VERSION } from '../version';

async function main(argv: readonly string[]): Promise<number> {
  const [commandName, ...rest] = argv;
  const verbose = rest.includes('--verbose');

  if (commandName === undefined || commandName === '--help' || commandName === 'help') {
    process.stdout.write(formatOverviewHelp(COMMANDS));
    return commandName === undefined ? 2 : 0;
  }
  if (commandName === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }

  const command: CommandDefinition | undefined = COMMANDS.find((candidate) => candidate.name === commandName);
  if (!command) {
    process.stderr.write(`error: unknown command "${commandName}"; available: ${COMMANDS.map((c) => c.name).join(', ')}\n`);
    return 2;
  }

  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new Error('cancelled by SIGINT')));
  const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, signal: abort.signal, verbose };

  try {
    const { positionals, flags } = parseArguments(command, rest);
    if (flags.help) {
      process.stdout.write(formatCommandHelp(command));
      return 0;
    }
    return await command.run(positionals, flags, io);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    // Messages quote names and values read from the file, which may carry terminal control characters.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${printable(message)}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
