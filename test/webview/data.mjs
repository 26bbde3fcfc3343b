// Synthetic host messages for the webview tests.
/* global window -- in code that runs in the page */

const bytesPerElement = { F32: 4, F16: 2, BF16: 2, I64: 8, U8: 1 };

function tensor(name, dtype, shape, offset) {
  const length = shape.reduce((product, size) => product * size, 1) * bytesPerElement[dtype];
  return { name, dtype, shape, offset, length };
}

/** Builds a small model: 12 transformer-like layers (names split on `.`), an embedding and a Flax-style `/` path. */
export function smallModelTensors() {
  const names = [['embed.weight', 'F32', [1000, 64]]];
  for (let layer = 0; layer < 12; layer++) {
    names.push([`layers.${layer}.attn.in_proj_weight`, 'F32', [192, 64]]);
    names.push([`layers.${layer}.attn.in_proj_bias`, 'F32', [192]]);
    names.push([`layers.${layer}.mlp.fc1.weight`, layer % 3 === 0 ? 'BF16' : 'F32', [256, 64]]);
    names.push([`layers.${layer}.mlp.fc2.weight`, 'F16', [64, 256]]);
    names.push([`layers.${layer}.norm.num_batches_tracked`, 'I64', []]);
  }
  names.push(['params/head/kernel', 'F32', [64, 10]]);
  names.push(['params/head/bias', 'F32', [10]]);

  let offset = 128;
  return names.map(([name, dtype, shape]) => {
    const entry = tensor(name, dtype, shape, offset);
    offset += entry.length;
    return entry;
  });
}

/** `count` tensors named `model.blocks.I.PART.weight`, ten per block. */
export function manyTensors(count) {
  const parts = ['attn.q', 'attn.k', 'attn.v', 'attn.o', 'mlp.up', 'mlp.gate', 'mlp.down', 'norm1', 'norm2', 'scale'];
  const tensors = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const block = Math.floor(i / parts.length);
    const entry = tensor(`model.blocks.${block}.${parts[i % parts.length]}.weight`, 'F16', [64, 32 + (i % 7)], offset);
    offset += entry.length;
    tensors.push(entry);
  }
  return tensors;
}

export function inspectorData(tensors, extra = {}) {
  return {
    type: 'inspectorData',
    data: {
      fileName: 'model.safetensors',
      format: 'safetensors',
      fileSize: tensors.reduce((sum, entry) => sum + entry.length, 128),
      tensors,
      metadata: { format: 'pt', training: { epoch: 29, optimizer: 'adamw', lr: 0.0003 }, note: 'synthetic fixture' },
      executionProvider: 'cpu',
      ...extra,
    },
  };
}

export const torchscriptPickle = {
  verdict: 'unknown',
  torchscript: true,
  globals: [
    { module: 'torch._utils', name: '_rebuild_tensor_v2', verdict: 'allowed' },
    { module: '__torch__.architectures', name: 'DigitsMLP', verdict: 'torchscript-class' },
    { module: '__torch__.torch.nn.modules.linear', name: 'Linear', verdict: 'torchscript-class' },
  ],
};

export const dangerousPickle = {
  verdict: 'dangerous',
  globals: [
    { module: 'torch._utils', name: '_rebuild_tensor_v2', verdict: 'allowed' },
    { module: 'collections', name: 'OrderedDict', verdict: 'allowed' },
    { module: 'os', name: 'system', verdict: 'dangerous' },
    { module: 'mylib.layers', name: 'CustomLayer', verdict: 'unknown' },
  ],
};

/** Runs in the page: posts `tensorStatistics` for `name` with a 64-bin bell-shaped histogram as Float64Arrays. */
export function postStatisticsInPage(name) {
  const bins = 64;
  const edges = new Float64Array(bins + 1);
  const counts = new Float64Array(bins);
  for (let i = 0; i <= bins; i++) edges[i] = -0.2 + (0.4 * i) / bins;
  for (let i = 0; i < bins; i++) counts[i] = Math.round(1000 * Math.exp(-(((i - 31.5) / 10) ** 2)));
  const count = counts.reduce((sum, value) => sum + value, 0);
  window.postMessage({
    type: 'tensorStatistics',
    name,
    stats: { min: -0.2, max: 0.2, mean: 0.0012, std: 0.051, nan: 0, inf: 0, zeros: 3, count, histogram: { edges, counts } },
  }, '*');
}

/**
 * Runs in the page: posts an `alignmentReport` with a random permutation perm of `n` units (aligned unit j is
 * B unit perm[j]). In `before`, A unit i is most similar to B unit perm[i]. So `after`, whose columns are
 * reordered by perm, is a noisy identity. `options` is `n`, or `{ n, gaussian: true }` for similarities as
 * in trained MLPs: every cell drawn from N(0, 1) and 3 added to the matched cells (i, perm[i]). Otherwise cells
 * are uniform in [-0.1, 0.2) and matched cells in [0.9, 1). Returns perm.
 */
export function postAlignmentReportInPage(options) {
  const { n, gaussian = false } = typeof options === 'number' ? { n: options } : options;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  // Box–Muller transform; 1 − u keeps the logarithm's argument in (0, 1].
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const before = new Float32Array(n * n);
  if (gaussian) {
    for (let i = 0; i < before.length; i++) before[i] = normal();
    for (let i = 0; i < n; i++) before[i * n + perm[i]] += 3;
  } else {
    for (let i = 0; i < before.length; i++) before[i] = 0.3 * random() - 0.1;
    for (let i = 0; i < n; i++) before[i * n + perm[i]] = 0.9 + 0.1 * random();
  }
  const after = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) after[i * n + j] = before[i * n + perm[j]];

  const second = 24;
  const report = {
    a: '/work/models/mlp_a.safetensors',
    b: '/work/models/mlp_b.safetensors',
    spec: { source: 'auto: chain of 3 linear layers', permutations: { P_fc1: n, P_fc2: second } },
    permutations: { P_fc1: perm, P_fc2: Array.from({ length: second }, (_, i) => (i * 5) % second) },
    objective: { before: 6.26, after: 198.6, perSweep: [150.2, 181.7, 190.4, 196.1, 198.2, 198.6] },
    sweeps: 6,
    distance: { before: 34.81, after: 28.76 },
    layers: [
      { tensor: 'fc1.weight', cosineBefore: 0.01, cosineAfter: 0.43 },
      { tensor: 'fc1.bias', cosineBefore: 0.05, cosineAfter: 0.61 },
      { tensor: 'fc2.weight', cosineBefore: -0.02, cosineAfter: 0.38 },
      { tensor: 'fc2.bias', cosineBefore: 0.11, cosineAfter: 0.52 },
      { tensor: 'fc10.weight', cosineBefore: 0.08, cosineAfter: 0.12 },
      { tensor: 'fc3.weight', cosineBefore: 0.2, cosineAfter: 0.27 },
    ],
    executionProvider: 'cpu',
    seconds: { load: 0.05, match: 0.4, write: 0.12 },
  };
  const small = new Float32Array(second * second).map((_, i) => ((i % second) === Math.floor(i / second) ? 0.8 : 0.1));
  window.postMessage({
    type: 'alignmentReport',
    report,
    heatmaps: [
      { permutation: 'P_fc1', n, size: n, before, after },
      { permutation: 'P_fc2', n: second, size: second, before: small, after: small },
    ],
  }, '*');
  return perm;
}

export function curvesMessage(equivalence) {
  const lambdas = Array.from({ length: 21 }, (_, i) => i / 20);
  const bump = (height) => lambdas.map((lambda) => 0.08 + 0.01 * lambda + height * Math.sin(Math.PI * lambda));
  const accuracy = (drop) => lambdas.map((lambda) => 0.97 - drop * Math.sin(Math.PI * lambda));
  return {
    type: 'curves',
    curves: {
      lambdas,
      naive: { loss: bump(0.9), accuracy: accuracy(0.4) },
      aligned: { loss: bump(0.06), accuracy: accuracy(0.03) },
      barrier: { naive: 0.9, aligned: 0.06 },
      resetBn: { aligned: { loss: bump(0.03), accuracy: accuracy(0.015) } },
      equivalence,
    },
  };
}
