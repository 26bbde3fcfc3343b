// Rows of the Compare table from a `diff` job's result: added, removed and changed tensors first, then every
// shared tensor with its statistics.
import type { TensorDifference } from '../../comparison/tensorDifference';
import type { DiffResult } from '../../protocol/workerMessages';

export type RowStatus = 'added' | 'removed' | 'changed' | 'shared';

/** One table row; numbers are null where they do not apply (a tensor on one side only) or are undefined. */
export interface CompareRow {
  readonly status: RowStatus;
  readonly tensor: string;
  /** Shapes and dtypes as text, `A → B` for a changed tensor. */
  readonly shape: string;
  readonly dtype: string;
  readonly relativeL2: number | null;
  readonly cosine: number | null;
  readonly maxAbsDifference: number | null;
  readonly meanA: number | null;
  readonly stdA: number | null;
  readonly meanB: number | null;
  readonly stdB: number | null;
  /** Presence of the tensor in each file, so the row can open their inspectors. */
  readonly inA: boolean;
  readonly inB: boolean;
}

type CompareNumbers = Pick<CompareRow, 'relativeL2' | 'cosine' | 'maxAbsDifference' | 'meanA' | 'stdA' | 'meanB' | 'stdB'>;

const noNumbers: CompareNumbers = { relativeL2: null, cosine: null, maxAbsDifference: null, meanA: null, stdA: null, meanB: null, stdB: null };

/** Infinity and NaN become null, because the rows travel as JSON. */
function finite(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

export function compareRows(diff: DiffResult): CompareRow[] {
  const { structure } = diff;
  const values = new Map(diff.values);
  const shape = (dims: readonly number[]) => `[${dims.join(', ')}]`;
  const rows: CompareRow[] = [];

  for (const tensor of structure.onlyInB) rows.push({ status: 'added', tensor: tensor.name, shape: shape(tensor.shape), dtype: tensor.dtype, ...noNumbers, inA: false, inB: true });
  for (const tensor of structure.onlyInA) rows.push({ status: 'removed', tensor: tensor.name, shape: shape(tensor.shape), dtype: tensor.dtype, ...noNumbers, inA: true, inB: false });
  for (const tensor of structure.shared.filter((shared) => !shared.sameShape || !shared.sameDtype)) {
    const stats = values.get(tensor.name);
    rows.push({
      status: 'changed',
      tensor: tensor.name,
      shape: tensor.sameShape ? shape(tensor.a.shape) : `${shape(tensor.a.shape)} → ${shape(tensor.b.shape)}`,
      dtype: tensor.sameDtype ? tensor.a.dtype : `${tensor.a.dtype} → ${tensor.b.dtype}`,
      ...(stats ? numbers(stats) : noNumbers),
      inA: true,
      inB: true,
    });
  }
  for (const tensor of structure.shared.filter((shared) => shared.sameShape && shared.sameDtype)) {
    const stats = values.get(tensor.name);
    rows.push({ status: 'shared', tensor: tensor.name, shape: shape(tensor.a.shape), dtype: tensor.a.dtype, ...(stats ? numbers(stats) : noNumbers), inA: true, inB: true });
  }
  return rows;
}

function numbers(stats: TensorDifference): CompareNumbers {
  return {
    relativeL2: finite(stats.relativeL2),
    cosine: finite(stats.cosine),
    maxAbsDifference: finite(stats.maxAbsDifference),
    meanA: finite(stats.meanA),
    stdA: finite(stats.stdA),
    meanB: finite(stats.meanB),
    stdB: finite(stats.stdB),
  };
}
