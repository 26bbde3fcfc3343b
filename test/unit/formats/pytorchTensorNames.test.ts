// Tensor name normalization: wrapper prefixes of DataParallel and torch.compile, on strings and on the
// committed fixtures saved with and without those wrappers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPytorch } from '../../../src/formats/pytorch/reader';
import { normalizeTensorName } from '../../../src/formats/tensorNames';

test('normalizeTensorName strips wrappers', () => {
  const cases: Array<[string, string]> = [
    ['fc1.weight', 'fc1.weight'],
    ['module.fc1.weight', 'fc1.weight'],
    ['_orig_mod.fc1.weight', 'fc1.weight'],
    ['module.module.fc1.weight', 'fc1.weight'],
    ['module._orig_mod.fc1.weight', 'fc1.weight'],
    ['_orig_mod.module.fc1.weight', 'fc1.weight'],
    ['model._orig_mod.fc1.weight', 'model.fc1.weight'],
    ['model._orig_mod.encoder._orig_mod.layers.0.bias', 'model.encoder.layers.0.bias'],
    ['encoder.module.weight', 'encoder.module.weight'],
    ['module', 'module'],
    ['module.module', 'module'],
    ['layer._orig_mod', 'layer._orig_mod'],
    ['', ''],
  ];
  for (const [name, normalized] of cases) assert.equal(normalizeTensorName(name), normalized, name);
});

test('wrapped fixtures normalize alike', async () => {
  const models = join(__dirname, '..', '..', 'fixtures', 'models');
  const namesOf = async (file: string): Promise<string[]> => {
    const checkpoint = await openPytorch(join(models, file));
    try {
      return checkpoint.tensors.map((entry) => entry.name);
    } finally {
      await checkpoint.close();
    }
  };
  const plain = await namesOf('mlp_s0.pt');
  for (const file of ['mlp_s0.module.pth', 'mlp_s0.orig_mod.pth']) {
    const wrapped = await namesOf(file);
    assert.notDeepEqual(wrapped, plain, `${file} keeps its stored prefix`);
    assert.deepEqual(wrapped.map(normalizeTensorName), plain, file);
  }
});
