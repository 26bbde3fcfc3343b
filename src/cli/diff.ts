// `diff A B [--json] [--stats] [--align]`: structural and statistical comparison of two checkpoints.
// Exit status 0 when structure, metadata and values are identical, 3 when they differ, 1 on invalid input.
import { diffAfterAlignment, type AlignedDifferences } from '../comparison/alignedDifference';
import { diffCheckpoints, type CheckpointDiff } from '../comparison/checkpointDiff';
import type { TensorDifference } from '../comparison/tensorDifference';
import { openCheckpoint } from '../formats/open';
import { stringFlag, type CommandDefinition } from './command';
import { writePrettyJson } from './jsonOutput';
import { SPEC_INFERENCE_OPTIONS, specInferenceFlags } from './specFlags';
import { formatTable, printableLines, pushEach } from './textFormat';

export const EXIT_DIFFERENT = 3;

export const diffCommand: CommandDefinition = {
  name: 'diff',
  usage: 'A B [--json] [--stats] [--align [--spec auto|FILE] [--graph MODEL.onnx]]',
  summary: 'Compare two checkpoints: tensors added, removed or changed, metadata, and how far each shared tensor moved.',
  positionals: [2, 2],
  options: [
    { name: 'json', kind: 'switch', description: 'Write the comparison as JSON to standard output.' },
    { name: 'stats', kind: 'switch', description: 'Add, per shared tensor, relative L2 difference, cosine similarity, max absolute difference, and each side\'s mean and standard deviation.' },
    { name: 'align', kind: 'switch', description: 'Also give the numbers after weight matching B onto A (implies --stats; reads both models into memory).' },
    { name: 'spec', kind: 'value', valueName: 'auto|FILE', description: 'Permutation spec for --align (default auto).' },
    { name: 'graph', kind: 'value', valueName: 'MODEL.onnx', description: 'ONNX export of the model, to infer the spec for --align.' },
    ...SPEC_INFERENCE_OPTIONS,
  ],
  async run([pathA, pathB], flags, io) {
    const a = await openCheckpoint(pathA);
    try {
      const b = await openCheckpoint(pathB);
      try {
        const withStats = Boolean(flags.stats || flags.align);
        const diff = await diffCheckpoints(a, b, { statistics: withStats, signal: io.signal });
        const aligned = flags.align
          ? await diffAfterAlignment(a, b, diff.structure.shared, { spec: stringFlag(flags, 'spec') ?? 'auto', graph: stringFlag(flags, 'graph'), specInference: specInferenceFlags(flags), signal: io.signal })
          : undefined;
        if (flags.json) await writePrettyJson(io.stdout, diffJson(pathA, pathB, diff, aligned));
        else io.stdout.write(diffText(pathA, pathB, diff, withStats, aligned));
        return diff.identical ? 0 : EXIT_DIFFERENT;
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  },
};

function diffJson(pathA: string, pathB: string, diff: CheckpointDiff, aligned?: AlignedDifferences): Record<string, unknown> {
  const { structure } = diff;
  return {
    a: pathA,
    b: pathB,
    identical: diff.identical,
    ...(diff.firstValueDifference === undefined ? {} : { firstValueDifference: diff.firstValueDifference }),
    ...(aligned ? { alignment: { spec: aligned.specSource } } : {}),
    onlyInA: structure.onlyInA,
    onlyInB: structure.onlyInB,
    changed: structure.shared.filter((tensor) => !tensor.sameShape || !tensor.sameDtype),
    shared: structure.shared.filter((tensor) => tensor.sameShape).map((tensor) => ({
      ...tensor,
      ...(diff.values.has(tensor.name) ? { stats: finiteJson(diff.values.get(tensor.name)!) } : {}),
      ...(aligned?.values.has(tensor.name) ? { alignedStats: finiteJson(aligned.values.get(tensor.name)!) } : {}),
    })),
    metadata: structure.metadata,
  };
}

/** JSON has no Infinity or NaN; they are written as strings so the file stays valid JSON. */
function finiteJson(difference: TensorDifference): Record<string, unknown> {
  return Object.fromEntries(Object.entries(difference).map(([key, value]) =>
    [key, typeof value === 'number' && !Number.isFinite(value) ? String(value) : value]));
}

function diffText(pathA: string, pathB: string, diff: CheckpointDiff, withStats: boolean, aligned?: AlignedDifferences): string {
  const { structure } = diff;
  const lines = [`A: ${pathA}`, `B: ${pathB}`, diff.identical ? 'identical' : 'different', ''];
  if (!withStats && diff.firstValueDifference !== undefined) {
    lines.push(`values differ, first in ${diff.firstValueDifference} (--stats compares every tensor)`, '');
  }
  const describe = (side: { rawName: string; dtype: string; shape: readonly number[] }) => `${side.rawName} ${side.dtype} [${side.shape.join(', ')}]`;

  // Lists are appended with pushEach, not `push(...list)`, which overflows the call stack for about 130 000 items.
  if (structure.onlyInA.length > 0) {
    lines.push(`only in A (${structure.onlyInA.length}):`);
    pushEach(lines, structure.onlyInA.map((t) => `  - ${describe(t)}`));
    lines.push('');
  }
  if (structure.onlyInB.length > 0) {
    lines.push(`only in B (${structure.onlyInB.length}):`);
    pushEach(lines, structure.onlyInB.map((t) => `  + ${describe(t)}`));
    lines.push('');
  }
  const changed = structure.shared.filter((tensor) => !tensor.sameShape || !tensor.sameDtype);
  if (changed.length > 0) {
    lines.push(`changed shape or dtype (${changed.length}):`);
    pushEach(lines, changed.map((t) => `  ~ ${describe(t.a)} -> ${describe(t.b)}`));
    lines.push('');
  }

  const { added, removed, changed: changedKeys } = structure.metadata;
  if (added.length + removed.length + changedKeys.length > 0) {
    lines.push('metadata:');
    pushEach(lines, added.map((key) => `  + ${key}`));
    pushEach(lines, removed.map((key) => `  - ${key}`));
    pushEach(lines, changedKeys.map((key) => `  ~ ${key}`));
    lines.push('');
  }

  const shared = structure.shared.filter((tensor) => tensor.sameShape);
  lines.push(`shared tensors: ${shared.length}`);
  if (withStats) {
    const format = (value: number | null | undefined) => (value === null || value === undefined ? '' : value.toPrecision(4));
    const rows = shared.map((tensor) => {
      const stats = diff.values.get(tensor.name)!;
      // Quantized tensors are compared by their stored bytes only, so they have no numeric measures to show.
      const row = stats.comparedBy === 'stored-bytes'
        ? [tensor.name, stats.identical ? 'same bytes' : 'bytes differ', '', '', '', '', '', '']
        : [tensor.name, format(stats.relativeL2), format(stats.cosine), format(stats.maxAbsDifference),
            format(stats.meanA), format(stats.stdA), format(stats.meanB), format(stats.stdB)];
      if (!aligned) return row;
      const after = aligned.values.get(tensor.name);
      return [...row, format(after?.relativeL2), format(after?.cosine)];
    });
    const header = ['tensor', 'rel. L2', 'cosine', 'max |A-B|', 'mean A', 'std A', 'mean B', 'std B'];
    if (aligned) {
      lines.push(`aligned with spec: ${aligned.specSource}`);
      header.push('rel. L2 aligned', 'cosine aligned');
    }
    lines.push(formatTable(header, rows));
  }
  return `${printableLines(lines.join('\n'))}\n`;
}
