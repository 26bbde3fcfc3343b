import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { UsageError, numberFlag, choiceFlag, type CommandDefinition } from '../../../src/cli/command';
import { parseArguments } from '../../../src/cli/parseArguments';
import { VERSION } from '../../../src/version';

const command: CommandDefinition = {
  name: 'align',
  usage: 'A B',
  summary: 'test command',
  positionals: [2, 2],
  options: [
    { name: 'seed', kind: 'value', valueName: 'N', description: 'seed' },
    { name: 'json', kind: 'switch', description: 'json' },
    { name: 'weights', kind: 'repeatable', description: 'weights' },
  ],
  run: async () => 0,
};

test('parseArguments splits flags and positionals', () => {
  const parsed = parseArguments(command, ['a.pt', '--seed', '7', 'b.pt', '--json', '--weights=1', '--weights', '2']);
  assert.deepEqual(parsed.positionals, ['a.pt', 'b.pt']);
  assert.equal(parsed.flags.seed, '7');
  assert.equal(parsed.flags.json, true);
  assert.deepEqual(parsed.flags.weights, ['1', '2']);
});

test('parseArguments rejects unknown flag', () => {
  assert.throws(() => parseArguments(command, ['a', 'b', '--sed', '1']), (error: unknown) =>
    error instanceof UsageError && /unknown option --sed/.test(error.message));
});

test('parseArguments rejects missing value', () => {
  assert.throws(() => parseArguments(command, ['a', 'b', '--seed']), /--seed expects N/);
});

test('parseArguments rejects wrong positional count', () => {
  assert.throws(() => parseArguments(command, ['a']), /expects 2 file argument\(s\), got 1/);
});

test('parseArguments treats arguments after -- as files', () => {
  const parsed = parseArguments(command, ['--', '--odd-name.pt', 'b.pt']);
  assert.deepEqual(parsed.positionals, ['--odd-name.pt', 'b.pt']);
});

test('numberFlag and choiceFlag validate ranges and choices', () => {
  assert.equal(numberFlag({ seed: '3' }, 'seed', 0, 0), 3);
  assert.equal(numberFlag({}, 'seed', 5), 5);
  assert.throws(() => numberFlag({ seed: 'x' }, 'seed', 0), UsageError);
  assert.throws(() => numberFlag({ seed: '-1' }, 'seed', 0, 0), UsageError);
  assert.throws(() => numberFlag({ lambda: '' }, 'lambda', 0.5, 0, 1), UsageError);
  assert.throws(() => numberFlag({ lambda: '0x1' }, 'lambda', 0.5, 0, 1), UsageError);
  assert.throws(() => numberFlag({ seed: '1.5' }, 'seed', 0, 0, 10, true), /expects an integer/);
  assert.equal(numberFlag({ lambda: '.25' }, 'lambda', 0.5, 0, 1), 0.25);
  assert.equal(numberFlag({ rate: '1e-3' }, 'rate', 0), 0.001);
  assert.equal(choiceFlag({ order: 'sorted' }, 'order', ['random', 'sorted'] as const, 'random'), 'sorted');
  assert.throws(() => choiceFlag({ order: 'shuffled' }, 'order', ['random', 'sorted'] as const, 'random'), UsageError);
});

test('VERSION matches package.json', () => {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  assert.equal(VERSION, manifest.version);
});
