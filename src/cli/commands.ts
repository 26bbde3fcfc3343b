// Every command of the command line, in the order help lists them.
import type { CommandDefinition } from './command';
import { diffCommand } from './diff';
import { inspectCommand } from './inspect';

export const COMMANDS: readonly CommandDefinition[] = [inspectCommand, diffCommand];
