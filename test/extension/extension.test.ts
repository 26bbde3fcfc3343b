// Runs inside VS Code's extension host, against the extension loaded from the working tree.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { DisposableStore } from '../../src/extension/disposables';

const extensionId = 'checkpoint-aligner.checkpoint-aligner';

interface ContributedCommand {
  command: string;
  title: string;
}

function findExtension(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(extensionId);
  assert.ok(extension, `extension ${extensionId} is not loaded; is extensionDevelopmentPath the repository root?`);
  return extension;
}

suite('extension activation', () => {
  test('activates without error', async () => {
    const extension = findExtension();
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  test('registers Show Log command', async () => {
    await findExtension().activate();
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('checkpointAligner.showLog'), 'checkpointAligner.showLog is not registered');
  });

  test('every contributed command has a handler', async () => {
    const extension = findExtension();
    await extension.activate();
    const contributed = (extension.packageJSON.contributes?.commands ?? []) as ContributedCommand[];
    const registered = new Set(await vscode.commands.getCommands(true));

    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    for (const { command } of contributed) {
      assert.ok(registered.has(command), `package.json contributes ${command}, but no handler is registered`);
    }
  });

  test('Show Log command runs', async () => {
    await findExtension().activate();
    await vscode.commands.executeCommand('checkpointAligner.showLog');
  });
});

suite('DisposableStore', () => {
  test('disposes in reverse order', () => {
    const order: string[] = [];
    const store = new DisposableStore();
    store.add({ dispose: () => order.push('channel') });
    store.add({ dispose: () => order.push('command') });

    store.dispose();

    assert.deepEqual(order, ['command', 'channel']);
    assert.equal(store.isDisposed, true);
  });

  test('disposes all items when one throws', () => {
    const disposed: string[] = [];
    const store = new DisposableStore();
    store.add({ dispose: () => disposed.push('first') });
    store.add({ dispose: () => { throw new Error('listener failed'); } });
    store.add({ dispose: () => disposed.push('third') });

    assert.throws(() => store.dispose(), /listener failed/);
    assert.deepEqual(disposed, ['third', 'first']);
  });

  test('aggregates several dispose errors', () => {
    const store = new DisposableStore();
    store.add({ dispose: () => { throw new Error('first failed'); } });
    store.add({ dispose: () => { throw new Error('second failed'); } });

    assert.throws(() => store.dispose(), (error: unknown) => error instanceof AggregateError && error.errors.length === 2);
  });

  test('disposes an item added after dispose', () => {
    let disposed = 0;
    const store = new DisposableStore();
    store.dispose();

    store.add({ dispose: () => disposed++ });
    store.dispose();

    assert.equal(disposed, 1);
  });

  test('releases a real command registration', async () => {
    const store = new DisposableStore();
    const command = 'checkpointAligner.test.disposableProbe';
    store.add(vscode.commands.registerCommand(command, () => 'registered'));
    assert.equal(await vscode.commands.executeCommand(command), 'registered');

    store.dispose();

    const commands = await vscode.commands.getCommands(true);
    assert.equal(commands.includes(command), false);
  });
});
