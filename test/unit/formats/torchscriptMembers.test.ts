// TorchScript archives whose modules hold tensors that state_dict() leaves out or reorders: a plain tensor
// attribute, a None parameter, a buffer registered before a parameter, a non-persistent buffer and a ModuleList.
// Debian's torch scripts and saves the module, and the scripted module's own state_dict() is the reference. The
// unit tests of parseScriptClassMembers run on hand-written code/ text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPytorch } from '../../../src/formats/pytorch/reader';
import { parseScriptClassMembers, scriptClassSource } from '../../../src/formats/pytorch/scriptClassMembers';

let folder = '';
let archive = '';
let reference: { name: string; shape: number[]; sha256: string }[] = [];

// torch.jit.script reads the module's source, so the classes live in a file of their own.
const moduleSource = `
import json, sys, hashlib, torch

class Block(torch.nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.register_buffer('stats', torch.arange(4.0) * scale)
        self.weight = torch.nn.Parameter(torch.randn(2, 3))
        self.register_parameter('unused', None)
        self.register_buffer('hidden', torch.full((2,), scale), persistent=False)
        self.plain = torch.ones(3) * scale
        self.lin = torch.nn.Linear(3, 2)

    def forward(self, x):
        extra = self.weight.sum() + self.plain.sum() + self.stats.sum() + self.hidden.sum()
        return self.lin(x) + extra

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = torch.nn.ModuleList([Block(1.0), Block(2.0)])
        self.head = torch.nn.Linear(2, 1)

    def forward(self, x):
        total = torch.zeros(x.shape[0], 2)
        for block in self.blocks:
            total = total + block(x)
        return self.head(total)

torch.manual_seed(0)
scripted = torch.jit.script(Net())
scripted.save(sys.argv[1])
state = torch.jit.load(sys.argv[1]).state_dict()
print(json.dumps([{'name': name, 'shape': list(t.shape),
                   'sha256': hashlib.sha256(t.float().contiguous().numpy().tobytes()).hexdigest()}
                  for name, t in state.items()]))
`;

before(() => {
  folder = mkdtempSync(join(tmpdir(), 'torchscript-members-'));
  archive = join(folder, 'net.pt');
  const script = join(folder, 'make_net.py');
  writeFileSync(script, moduleSource);
  reference = JSON.parse(execFileSync('/usr/bin/python3', [script, archive], { encoding: 'utf8', cwd: folder })) as typeof reference;
});
after(() => rmSync(folder, { recursive: true, force: true }));

test('torchscript names follow state_dict', async () => {
  const checkpoint = await openPytorch(archive);
  try {
    assert.deepEqual(checkpoint.tensors.map((entry) => entry.name), reference.map((entry) => entry.name));
    for (const expected of reference) {
      const entry = checkpoint.tensors.find((tensor) => tensor.name === expected.name);
      assert.deepEqual(entry?.shape, expected.shape, `${expected.name} shape`);
      const values = await checkpoint.readTensor(expected.name, 'float32');
      const hash = createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
      assert.equal(hash, expected.sha256, `${expected.name} values`);
    }
  } finally {
    await checkpoint.close();
  }
});

test('torchscript reference leaves out plain tensors', () => {
  // The cases above only test something if torch itself leaves these attributes out.
  const names = reference.map((entry) => entry.name);
  assert.ok(!names.some((name) => name.endsWith('.plain')), names.join(', '));
  // torch 1.13 keeps non-persistent buffers in a scripted module's __buffers__ and state_dict(), so they stay.
  assert.ok(names.includes('blocks.0.hidden'), names.join(', '));
  assert.ok(names.indexOf('blocks.0.weight') < names.indexOf('blocks.0.stats'), 'parameters before buffers');
});

test('script class source paths', () => {
  assert.deepEqual(scriptClassSource('__torch__.torch.nn.modules.linear.___torch_mangle_0.Linear'), {
    record: 'code/__torch__/torch/nn/modules/linear/___torch_mangle_0.py',
    name: 'Linear',
  });
  assert.deepEqual(scriptClassSource('__torch__.Net'), { record: 'code/__torch__.py', name: 'Net' });
  assert.equal(scriptClassSource('builtins.eval'), undefined);
  assert.equal(scriptClassSource('__torch__'), undefined);
});

test('parse class member declarations', () => {
  const classes = parseScriptClassMembers([
    'class Block(Module):',
    '  __parameters__ = ["weight", "unused", ]',
    '  __buffers__ = ["stats", ]',
    '  weight : Tensor',
    '  def forward(self: __torch__.Block) -> Tensor:',
    '    __parameters__ = ["not", "a", "declaration"]',
    '    return self.weight',
    'class Partial(Module):',
    '  __parameters__ = []',
    'class Quoted(Module):',
    "  __parameters__ = ['0', \"1\"]",
    '  __buffers__ = []',
  ].join('\n'));
  assert.deepEqual(classes.get('Block'), { parameters: ['weight', 'unused'], buffers: ['stats'] });
  assert.equal(classes.get('Partial'), undefined, 'a class without __buffers__ keeps the fallback');
  assert.deepEqual(classes.get('Quoted'), { parameters: ['0', '1'], buffers: [] });
});
