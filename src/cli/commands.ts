// Every command of the command line, in the order help lists them.
import type { CommandDefinition } from './command';
import { alignCommand } from './align';
import { diffCommand } from './diff';
import { evalCommand } from './eval';
import { inspectCommand } from './inspect';
import { mergeCommand } from './merge';

export const COMMANDS: readonly CommandDefinition[] = [inspectCommand, alignCommand, evalCommand, mergeCommand, diffCommand];
