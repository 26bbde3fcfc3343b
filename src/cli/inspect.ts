// `inspect FILE [--json] [--stats]`: lists a checkpoint's tensors, metadata and pickle safety report.
import { CheckpointError, elementCount, type Checkpoint, type TensorEntry } from '../formats/checkpoint';
import { openCheckpoint } from '../formats/open';
import { computeTensorStatistics, type TensorStatistics } from '../formats/statistics';
import type { CommandDefinition, CommandIo } from './command';
import { writePrettyJson } from './jsonOutput';
import { formatBytes, formatTable, printable } from './textFormat';

interface InspectedTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly length: number;
  readonly file?: string;
  stats?: TensorStatistics;
}

export const inspectCommand: CommandDefinition = {
  name: 'inspect',
  usage: 'FILE [--json] [--stats]',
  summary: 'List tensors (name, dtype, shape, byte offset, byte length), metadata and pickle safety of a checkpoint.',
  positionals: [1, 1],
  options: [
    { name: 'json', kind: 'switch', description: 'Write the listing as JSON to standard output.' },
    { name: 'stats', kind: 'switch', description: 'Add min, max, mean, standard deviation, NaN, Inf and zero counts and a 64-bin histogram per tensor (reads every tensor).' },
  ],
  async run([path], flags, io) {
    const checkpoint = await openCheckpoint(path);
    try {
      const tensors: InspectedTensor[] = checkpoint.tensors.map(describeEntry);
      if (flags.stats) await addStatistics(checkpoint, tensors, io);
      try {
        if (flags.json) await writePrettyJson(io.stdout, inspectionJson(checkpoint, tensors));
        else io.stdout.write(inspectionText(checkpoint, tensors, Boolean(flags.stats)));
      } catch (error) {
        throw new CheckpointError(checkpoint.path, `writing the listing to standard output failed: ${(error as Error).message}`);
      }
      return 0;
    } finally {
      await checkpoint.close();
    }
  },
};

function describeEntry(entry: TensorEntry): InspectedTensor {
  const { name, dtype, shape, offset, length, file } = entry;
  return file === undefined ? { name, dtype, shape, offset, length } : { name, dtype, shape, offset, length, file };
}

async function addStatistics(checkpoint: Checkpoint, tensors: InspectedTensor[], io: CommandIo): Promise<void> {
  for (const tensor of tensors) {
    io.signal.throwIfAborted();
    // Quantized GGUF tensors have no float values to summarize.
    if (!/^(F|BF|I|U|BOOL)/.test(tensor.dtype) || tensor.dtype.startsWith('IQ')) continue;
    try {
      tensor.stats = await computeTensorStatistics(checkpoint, tensor.name);
    } catch (error) {
      if (error instanceof CheckpointError || io.signal.aborted) throw error;
      // Errors that are not about the file's content (out of memory, a bug) still name the file and the tensor.
      throw new CheckpointError(checkpoint.path, `computing statistics of tensor "${tensor.name}" failed: ${(error as Error).message}`, { tensor: tensor.name });
    }
  }
}

function inspectionJson(checkpoint: Checkpoint, tensors: readonly InspectedTensor[]): Record<string, unknown> {
  return {
    file: checkpoint.path,
    format: checkpoint.format,
    tensors,
    metadata: checkpoint.metadata,
    ...(checkpoint.pickle ? { pickle: checkpoint.pickle } : {}),
  };
}

function inspectionText(checkpoint: Checkpoint, tensors: readonly InspectedTensor[], withStats: boolean): string {
  const parameters = tensors.reduce((sum, tensor) => sum + elementCount(tensor.shape), 0);
  const bytes = tensors.reduce((sum, tensor) => sum + tensor.length, 0);
  const lines = [
    printable(checkpoint.path),
    `format: ${checkpoint.format}, ${tensors.length} tensors, ${parameters.toLocaleString('en-US')} parameters, ${formatBytes(bytes)}`,
  ];

  if (checkpoint.pickle) {
    lines.push(`pickle: ${checkpoint.pickle.verdict} (nothing was executed)`);
    if (checkpoint.pickle.torchscript) {
      lines.push('  a TorchScript archive: torch.jit.load would compile and run the code/ records that define its __torch__ classes');
    }
    for (const global of checkpoint.pickle.globals) {
      lines.push(`  ${global.verdict}: ${printable(`${global.module}.${global.name}`)}`);
    }
  }
  lines.push('');

  const header = withStats
    ? ['name', 'dtype', 'shape', 'offset', 'bytes', 'min', 'max', 'mean', 'std', 'nan', 'inf', 'zeros']
    : ['name', 'dtype', 'shape', 'offset', 'bytes'];
  const rows = tensors.map((tensor) => {
    const shape = `[${tensor.shape.join(', ')}]`;
    if (!withStats) return [tensor.name, tensor.dtype, shape, String(tensor.offset), String(tensor.length)];
    const stats = tensor.stats;
    const number = (value: number | undefined) => (value === undefined ? '' : value.toPrecision(4));
    return [tensor.name, tensor.dtype, shape, String(tensor.offset), String(tensor.length), number(stats?.min), number(stats?.max),
      number(stats?.mean), number(stats?.std), String(stats?.nan ?? ''), String(stats?.inf ?? ''), String(stats?.zeros ?? '')];
  });
  lines.push(formatTable(header, rows));

  const metadataKeys = Object.keys(checkpoint.metadata);
  if (metadataKeys.length > 0) {
    lines.push('', 'metadata:');
    for (const key of metadataKeys) lines.push(`  ${printable(key)}: ${printable(summarizeValue(checkpoint.metadata[key]))}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Formats a metadata value on one line, cut at 120 characters so the listing stays readable (`--json` has it whole). */
function summarizeValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
