// ONNX models as checkpoints: the graph's initializers are the tensors.
//
// Memory: opening reads the model file in bounded pieces (modelScan.ts). It skips the initializers' raw_data and
// large typed data fields, recording where they lie, and decodes the rest of the model with onnx-proto. The reader
// keeps only the tensor entries (byte offsets into the file), the graph summary and the small typed fields decoded
// at open. Tensor reads then go straight to each tensor's bytes on disk. External data files are never read at
// open: only their sizes are checked.
import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, sep, win32 } from 'node:path';
import { onnx } from 'onnx-proto';
import type { Checkpoint, TensorEntry } from '../checkpoint';
import { CheckpointError, elementCount } from '../checkpoint';
import { isSafetensorsDType } from '../dtype';
import { RandomAccessFile } from '../fileRange';
import { dtypeOfOnnxType, onnxElementSize, onnxTypeName } from './dataTypes';
import { metadataProps, summarizeGraph } from './graphSummary';
import { scanModel, type ScannedInitializer, type TypedFieldsOnDemand } from './modelScan';
import { createTensorCheckpoint } from './tensorCheckpoint';
import { checkFileHolds, hasTypedData, tensorShape, typedDataBytes } from './tensorProto';
import { withTypedFieldsOnDemand } from './typedOnDemand';

export { loadOnnxModel } from './modelFile';
export { readTensorProtoFile } from './tensorProto';

export async function openOnnx(path: string): Promise<Checkpoint> {
  const main = await RandomAccessFile.open(path);
  try {
    const { model, initializers: located } = await scanModel(path, main);
    // Decoded messages are class instances whose scalar fields hold defaults, unlike the optional I* interfaces.
    const initializers = (model.graph?.initializer ?? []) as onnx.TensorProto[];
    if (located.length !== initializers.length) {
      throw new CheckpointError(path, `found ${located.length} initializer fields but decoded ${initializers.length}; the file is corrupt`);
    }

    const tensors: TensorEntry[] = [];
    const inMemory = new Map<string, Uint8Array>();
    const onDemand = new Map<string, TypedFieldsOnDemand>();
    const seen = new Set<string>();
    for (let index = 0; index < initializers.length; index++) {
      const tensor = initializers[index];
      if (seen.has(tensor.name)) {
        throw new CheckpointError(path, `initializer "${tensor.name}" appears twice; the model is invalid`, { tensor: tensor.name });
      }
      seen.add(tensor.name);
      const entry = await initializerEntry(path, tensor, located[index], inMemory, onDemand);
      tensors.push(entry);
    }

    const metadata = { graph: summarizeGraph(model), metadataProps: metadataProps(model) };
    const checkpoint = createTensorCheckpoint({ path, format: 'onnx', tensors, metadata, inMemory, checkReadable: checkReadable(path) }, main);
    return onDemand.size === 0 ? checkpoint : withTypedFieldsOnDemand(checkpoint, main, onDemand, checkReadable(path));
  } catch (error) {
    await main.close();
    throw error;
  }
}

function checkReadable(path: string) {
  return (entry: TensorEntry): void => {
    if (!isSafetensorsDType(entry.dtype)) {
      throw new CheckpointError(path, `initializer "${entry.name}" has ONNX type ${entry.dtype}, which this reader cannot convert; only the types with a safetensors dtype are supported`, { tensor: entry.name });
    }
  };
}

async function initializerEntry(
  path: string,
  tensor: onnx.TensorProto,
  fields: ScannedInitializer,
  inMemory: Map<string, Uint8Array>,
  onDemand: Map<string, TypedFieldsOnDemand>,
): Promise<TensorEntry> {
  const name = tensor.name;
  const shape = tensorShape(tensor, path);
  const dtype = dtypeOfOnnxType(tensor.dataType);
  const size = onnxElementSize(tensor.dataType);
  const expected = size === undefined ? undefined : elementCount(shape) * size;
  const describe = `${onnxTypeName(tensor.dataType)} ${JSON.stringify(shape)}`;

  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const external = externalData(path, tensor, expected);
    await checkFileHolds(external.file, external.offset + external.length, `external data file "${external.location}"`, path, name);
    return { name, dtype, shape, offset: external.offset, length: external.length, file: external.file };
  }

  if (fields.rawData !== undefined) {
    const length = fields.rawData.end - fields.rawData.valueStart;
    if (expected !== undefined && length !== expected) {
      throw new CheckpointError(path, `initializer "${name}": raw_data holds ${length} bytes but ${describe} needs ${expected}; the file is corrupt`, {
        tensor: name,
        offset: fields.rawData.valueStart,
      });
    }
    return { name, dtype, shape, offset: fields.rawData.valueStart, length };
  }

  // Typed fields (float_data, int64_data, …) are varint or fixed-width lists, not the stored layout. Small ones are
  // converted at open and kept in memory, and larger ones are converted on each read. Exporters use them only for
  // small tensors. The entry's offset and length span the first encoded field.
  if (fields.typedOnDemand !== undefined && isSafetensorsDType(dtype)) {
    onDemand.set(name, fields.typedOnDemand);
  } else if (hasTypedData(tensor) && isSafetensorsDType(dtype)) {
    inMemory.set(name, typedDataBytes(tensor, path));
  } else if (expected !== 0 && isSafetensorsDType(dtype)) {
    throw new CheckpointError(path, `initializer "${name}" (${describe}) has no data; the model is invalid`, { tensor: name });
  }
  const field = fields.typedData ?? fields.tensor;
  return { name, dtype, shape, offset: field.valueStart, length: field.end - field.valueStart };
}

interface ExternalLocation {
  readonly location: string;
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

/** Resolves a tensor's external_data entries; the location must stay inside the model's folder. */
function externalData(path: string, tensor: onnx.TensorProto, expected: number | undefined): ExternalLocation {
  const name = tensor.name;
  const entries = new Map(tensor.externalData.map((entry) => [entry.key ?? '', entry.value ?? '']));
  const location = entries.get('location');
  if (location === undefined || location === '') {
    throw new CheckpointError(path, `initializer "${name}" is stored externally but has no location; the model is invalid`, { tensor: name });
  }
  if (isAbsolute(location) || posix.isAbsolute(location) || win32.isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
    throw new CheckpointError(
      path,
      `initializer "${name}": external data location "${location}" leaves the model's folder; only relative paths inside the model's folder are accepted`,
      { tensor: name },
    );
  }

  const integer = (key: string): number | undefined => {
    const text = entries.get(key);
    if (text === undefined) return undefined;
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value)) {
      throw new CheckpointError(path, `initializer "${name}": external data ${key} "${text}" is not a non-negative integer; the model is invalid`, { tensor: name });
    }
    return value;
  };
  const offset = integer('offset') ?? 0;
  const length = integer('length') ?? expected;
  if (length === undefined) {
    throw new CheckpointError(path, `initializer "${name}" has ONNX type ${onnxTypeName(tensor.dataType)} and no external data length; the model is invalid`, { tensor: name });
  }
  if (expected !== undefined && length !== expected) {
    throw new CheckpointError(
      path,
      `initializer "${name}": external data length ${length} does not match the ${expected} bytes its type and shape need; the model is invalid`,
      { tensor: name },
    );
  }
  const file = join(dirname(path), location);
  if (isFolder(file)) {
    throw new CheckpointError(
      path,
      `initializer "${name}": external data location "${location}" names a folder, not a file; set it to the data file's path relative to the model's folder`,
      { tensor: name },
    );
  }
  assertInsideModelFolder(path, name, location, file);
  return { location, file, offset, length };
}

function isFolder(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Rejects an external data file that a symbolic link places outside the model's folder: the location text passed
 * the `..` check, but following links must not reach other files either. A missing file is reported when read.
 */
function assertInsideModelFolder(path: string, name: string, location: string, file: string): void {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return;
  }
  const folder = realpathSync(dirname(path));
  if (!real.startsWith(folder + sep)) {
    throw new CheckpointError(
      path,
      `initializer "${name}": external data location "${location}" is a link to ${real}, outside the model's folder; copy the data file into the folder instead`,
      { tensor: name },
    );
  }
}
