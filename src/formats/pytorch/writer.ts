// Writes a state dict as a PyTorch zip checkpoint that `torch.load(path, weights_only=True)` loads: records
// `archive/data.pkl`, `archive/byteorder`, `archive/data/<n>` and `archive/version`, stored and 64-byte aligned.
import { elementCount, type NamedTensor, type WriteOptions } from '../checkpoint';
import { writeFileAtomically } from '../atomicWrite';
import { dtypeSize } from '../dtype';
import { pickleStateDict, type StateDictEntry } from './statePickle';
import { writeStoredZip, type ZipRecordSource } from './zipWriter';

const STORAGE_CLASSES: Readonly<Record<string, string>> = {
  F64: 'DoubleStorage', F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage',
  I64: 'LongStorage', I32: 'IntStorage', I16: 'ShortStorage', I8: 'CharStorage', U8: 'ByteStorage', BOOL: 'BoolStorage',
};

/** Archive folder name inside the zip; torch.load accepts any. */
const ARCHIVE = 'archive';
/** Serialization format version torch.save writes since 1.6. */
const FORMAT_VERSION = '3';

/**
 * Writes `tensors` as an OrderedDict state dict, each tensor on its own storage. `options.metadata` is not
 * written, because a state dict has no place for it that every torch.load accepts.
 * Throws for dtypes without a PyTorch storage class (F8, quantized) and for data of the wrong length.
 */
export async function writePytorchZip(output: string, tensors: NamedTensor[], options: WriteOptions): Promise<void> {
  const entries: StateDictEntry[] = [];
  const dataRecords: ZipRecordSource[] = [];
  const names = new Set<string>();
  tensors.forEach((tensor, index) => {
    const storageClass = STORAGE_CLASSES[tensor.dtype];
    if (storageClass === undefined) {
      throw new Error(`${output}: tensor "${tensor.name}" has dtype ${tensor.dtype}, which has no PyTorch storage class; write it as safetensors instead`);
    }
    if (names.has(tensor.name)) throw new Error(`${output}: the tensor name "${tensor.name}" appears twice; names in a state dict must be unique`);
    names.add(tensor.name);
    const expected = elementCount(tensor.shape) * (dtypeSize(tensor.dtype) as number);
    if (tensor.data.byteLength !== expected) {
      throw new Error(`${output}: tensor "${tensor.name}" has ${tensor.data.byteLength} bytes of data, but ${tensor.dtype} ${JSON.stringify(tensor.shape)} needs ${expected}`);
    }
    const key = String(index);
    entries.push({ name: tensor.name, storageClass, storageKey: key, shape: tensor.shape });
    dataRecords.push({ name: `${ARCHIVE}/data/${key}`, data: new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength) });
  });

  const text = (value: string): Uint8Array => new TextEncoder().encode(value);
  const records: ZipRecordSource[] = [
    { name: `${ARCHIVE}/data.pkl`, data: pickleStateDict(entries) },
    { name: `${ARCHIVE}/byteorder`, data: text('little') },
    ...dataRecords,
    { name: `${ARCHIVE}/version`, data: text(`${FORMAT_VERSION}\n`) },
  ];
  await writeFileAtomically(output, options.inputs, (handle) => writeStoredZip(handle, records, options.signal), options.signal);
}
