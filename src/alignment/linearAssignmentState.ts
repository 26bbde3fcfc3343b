/**
 * Working state of the shortest augmenting path solver, which minimizes sign · cost.
 *
 * Invariant kept by every phase: each assigned row i has reduced cost
 * sign · cost[i][j] - columnDual[j] at j = rowToColumn[i] equal to its row minimum over all columns.
 * The row dual is therefore implicit (that row minimum) and never stored. For rectangular
 * problems every column that was never assigned keeps columnDual 0, and all column duals are <= 0.
 */
export interface AssignmentState {
  /** Row-major rows×columns matrix, read only. */
  readonly cost: Float64Array;
  /** 1 to minimize the total of `cost`, -1 to maximize it. */
  readonly sign: number;
  readonly rows: number;
  readonly columns: number;
  readonly columnDual: Float64Array;
  /** Column of each row, or -1 while the row is free. */
  readonly rowToColumn: Int32Array;
  /** Row of each column, or -1 while the column is free. */
  readonly columnToRow: Int32Array;
  /** Shortest path scratch per column: path length from the free row and the row before it on the path. */
  readonly distance: Float64Array;
  readonly predecessor: Int32Array;
  /** Shortest path scratch per settled column, in settling order: the column, its dual and its distance. */
  readonly settledColumns: Int32Array;
  readonly settledDuals: Float64Array;
  readonly settledDistances: Float64Array;
}

export function createAssignmentState(cost: Float64Array, sign: number, rows: number, columns: number): AssignmentState {
  return {
    cost,
    sign,
    rows,
    columns,
    columnDual: new Float64Array(columns),
    rowToColumn: new Int32Array(rows).fill(-1),
    columnToRow: new Int32Array(columns).fill(-1),
    distance: new Float64Array(columns),
    predecessor: new Int32Array(columns),
    settledColumns: new Int32Array(columns),
    settledDuals: new Float64Array(columns),
    settledDistances: new Float64Array(columns),
  };
}

/** Clears the assignment and sets every column dual to 0, as for a cold start. */
export function resetAssignment(state: AssignmentState): void {
  state.rowToColumn.fill(-1);
  state.columnToRow.fill(-1);
  state.columnDual.fill(0);
}

/** Lists the rows that have no column yet, in increasing order. */
export function listFreeRows(state: AssignmentState): Int32Array {
  let count = 0;
  for (let i = 0; i < state.rows; i++) {
    if (state.rowToColumn[i] < 0) count++;
  }
  const freeRows = new Int32Array(count);
  let next = 0;
  for (let i = 0; i < state.rows; i++) {
    if (state.rowToColumn[i] < 0) freeRows[next++] = i;
  }
  return freeRows;
}
