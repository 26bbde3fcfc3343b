import { applyWarmStart, reduceFreeRows, reduceRowsAndColumns } from './linearAssignmentInitialization';
import { augmentFromFreeRow } from './linearAssignmentShortestPath';
import { createAssignmentState, listFreeRows, resetAssignment } from './linearAssignmentState';

/**
 * Passes of augmenting row reduction before the shortest path phase, as Jonker and Volgenant use.
 * From 2 to 8 passes, each extra pass saved about as many shortest path row scans as it cost
 * (random and similarity-like matrices, n = 1024 to 4096).
 */
const AUGMENTING_ROW_REDUCTION_PASSES = 2;

/**
 * Largest fraction of rows a warm start may leave free before the solver starts cold instead. Past
 * about half, the previous duals left more rows for the shortest path phase than a cold start did
 * (random and similarity-like matrices, n = 2048, perturbations from 1e-9 to 0.1 of the entry range).
 */
const WARM_START_MAX_FREE_FRACTION = 0.5;

export interface AssignmentOptions {
  /** Maximize the total instead of minimizing it (weight matching maximizes). Default false. */
  maximize?: boolean;
  /**
   * Previous solution and its column duals, to warm-start a nearly identical problem. The result
   * is as exact as a cold solve. Pairs of the previous solution that are still row minima under
   * the previous duals are kept and only the other rows are solved again. When more than half of
   * the rows lose their pair, the solver discards the warm start and solves cold.
   */
  warmStart?: { rowToColumn: Int32Array; columnDual: Float64Array };
}

export interface AssignmentResult {
  /** rowToColumn[i] is the column assigned to row i. */
  rowToColumn: Int32Array;
  total: number;
  /**
   * Column duals v of an optimal dual solution, with row duals u such that
   * cost[i][j] - u[i] - v[j] >= 0 (minimize) or u[i] + v[j] - cost[i][j] >= 0 (maximize), with
   * equality on assigned pairs. When rows < columns, unassigned columns have dual 0 and the others
   * <= 0 (minimize) or >= 0 (maximize). Pass them back through `warmStart`.
   */
  columnDual: Float64Array;
}

/**
 * Solves the dense linear assignment problem exactly with the Jonker–Volgenant shortest augmenting
 * path method: row and column reduction, augmenting row reduction, then one Dijkstra-like shortest
 * path per remaining free row. Worst case O(rows² · columns) time. Extra memory is O(columns), plus a
 * Float64 copy of the matrix for Float32 input.
 *
 * cost is row-major rows×columns, rows <= columns (rectangular allowed; every row is assigned).
 * Throws when an entry is NaN, infinite or above 1e300 in magnitude, when rows > columns, or when
 * the sizes or the warm start do not match the matrix.
 */
export function solveLinearAssignment(
  cost: Float64Array | Float32Array,
  rows: number,
  columns: number,
  options: AssignmentOptions = {},
): AssignmentResult {
  validateShape(cost, rows, columns);
  rejectNonFiniteEntries(cost, columns);
  const sign = options.maximize === true ? -1 : 1;
  // Float64 input is read in place, so the solver's hot loops see a single array type.
  const matrix = cost instanceof Float64Array ? cost : Float64Array.from(cost);
  const state = createAssignmentState(matrix, sign, rows, columns);

  if (rows > 0) {
    let warmStarted = false;
    if (options.warmStart !== undefined) {
      validateWarmStart(options.warmStart, rows, columns);
      applyWarmStart(state, options.warmStart.rowToColumn, options.warmStart.columnDual);
      warmStarted = countFreeRows(state.rowToColumn) <= WARM_START_MAX_FREE_FRACTION * rows;
      if (!warmStarted) resetAssignment(state);
    }
    if (!warmStarted && rows === columns) reduceRowsAndColumns(state);
    // Otherwise (rectangular, cold) column duals start at 0, as the invariant needs, and all rows are free.
    const freeRows = reduceFreeRows(state, listFreeRows(state), AUGMENTING_ROW_REDUCTION_PASSES);
    for (let k = 0; k < freeRows.length; k++) augmentFromFreeRow(state, freeRows[k]);
  }

  let total = 0;
  for (let i = 0; i < rows; i++) total += cost[i * columns + state.rowToColumn[i]];
  const columnDual = state.columnDual;
  if (sign < 0) {
    // 0 - v rather than -v, so a dual of 0 stays +0.
    for (let j = 0; j < columns; j++) columnDual[j] = 0 - columnDual[j];
  }
  return { rowToColumn: state.rowToColumn, total, columnDual };
}

function countFreeRows(rowToColumn: Int32Array): number {
  let count = 0;
  for (let i = 0; i < rowToColumn.length; i++) {
    if (rowToColumn[i] < 0) count++;
  }
  return count;
}

function validateShape(cost: Float64Array | Float32Array, rows: number, columns: number): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(columns) || columns < 0) {
    throw new Error(`Invalid linear assignment size ${rows}×${columns}: rows and columns must be non-negative integers.`);
  }
  if (rows > columns) {
    throw new Error(
      `Linear assignment needs rows <= columns, got ${rows} rows and ${columns} columns: transpose the matrix and swap the roles of rows and columns.`,
    );
  }
  if (cost.length !== rows * columns) {
    throw new Error(`Invalid linear assignment matrix: expected ${rows}×${columns} = ${rows * columns} entries, got ${cost.length}.`);
  }
}

/**
 * Largest entry magnitude accepted. Duals and path lengths stay within a small multiple of
 * rows · max |entry|, so this bound keeps them finite in float64 (max about 1.8e308) for any matrix
 * that fits in memory.
 */
const MAX_ENTRY_MAGNITUDE = 1e300;

/** Throws on the first NaN, infinite or overly large entry in row-major order. */
function rejectNonFiniteEntries(cost: Float64Array | Float32Array, columns: number): void {
  for (let k = 0; k < cost.length; k++) {
    const value = cost[k];
    // The negated test is also true for NaN, where every comparison is false.
    if (!(Math.abs(value) <= MAX_ENTRY_MAGNITUDE)) {
      const row = Math.floor(k / columns);
      const column = k - row * columns;
      const problem = Number.isFinite(value) ? `${value}, larger in magnitude than ${MAX_ENTRY_MAGNITUDE}` : String(value);
      throw new Error(
        `Invalid similarity matrix: entry at row ${row}, column ${column} is ${problem}; linear assignment needs finite values. Check the tensors that produced this matrix for NaN or overflow.`,
      );
    }
  }
}

function validateWarmStart(warmStart: { rowToColumn: Int32Array; columnDual: Float64Array }, rows: number, columns: number): void {
  const { rowToColumn, columnDual } = warmStart;
  if (rowToColumn.length !== rows || columnDual.length !== columns) {
    throw new Error(
      `Invalid warm start: expected rowToColumn of length ${rows} and columnDual of length ${columns}, got ${rowToColumn.length} and ${columnDual.length}. Pass the result of a solve of the same size.`,
    );
  }
  const seen = new Uint8Array(columns);
  for (let i = 0; i < rows; i++) {
    const column = rowToColumn[i];
    if (column < 0 || column >= columns || seen[column] === 1) {
      throw new Error(
        `Invalid warm start: rowToColumn[${i}] = ${column} is out of range 0..${columns - 1} or repeats a column. Pass the rowToColumn of a previous result.`,
      );
    }
    seen[column] = 1;
  }
  for (let j = 0; j < columns; j++) {
    if (!Number.isFinite(columnDual[j])) {
      throw new Error(`Invalid warm start: columnDual[${j}] is ${columnDual[j]}, expected a finite number.`);
    }
  }
}
