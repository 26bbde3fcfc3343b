// Element sizes of every storage dtype PyTorch can write, including those `dtype.ts` does not decode.
import { dtypeSize } from '../dtype';

const EXTRA_SIZES: Readonly<Record<string, number>> = {
  C32: 4, C64: 8, C128: 16, QINT8: 1, QUINT8: 1, QINT32: 4, QUINT4X2: 1, QUINT2X4: 1,
};

/** Bytes per element of a storage dtype; throws for a dtype no storage class produces. */
export function storageElementSize(dtype: string): number {
  const size = dtypeSize(dtype) ?? EXTRA_SIZES[dtype];
  if (size === undefined) throw new Error(`no element size for dtype ${dtype}`);
  return size;
}
