import type { AssignmentState } from './linearAssignmentState';

/**
 * Initial phases of the Jonker–Volgenant method (Jonker and Volgenant 1987, "A shortest augmenting
 * path algorithm for dense and sparse linear assignment problems"). They are heuristics that assign
 * most rows cheaply while keeping the state's invariant, so the exact shortest path phase has few
 * rows left. None of them changes which assignments are optimal.
 */

/**
 * Sets the column duals by row reduction then column reduction, and assigns each row to the column
 * of its smallest reduced cost when that column is still free (square problems only, because
 * columns left free end with nonzero duals).
 *
 * Jonker and Volgenant start with column reduction alone. On a permuted diagonal plus noise, as
 * similarity matrices are, that left about 3.5 times more shortest path row scans than row then
 * column reduction (n = 4096, matrices as in bench/linearAssignment.ts). Random matrices came out even.
 */
export function reduceRowsAndColumns(state: AssignmentState): void {
  const { cost, sign, rows, columns, columnDual, rowToColumn, columnToRow } = state;
  columnDual.fill(Infinity);

  // Each row is scanned twice while it is in cache: once for its minimum, once for the column minima.
  for (let i = 0; i < rows; i++) {
    const base = i * columns;
    let rowMinimum = Infinity;
    for (let j = 0; j < columns; j++) {
      const value = sign * cost[base + j];
      if (value < rowMinimum) rowMinimum = value;
    }
    for (let j = 0; j < columns; j++) {
      const reduced = sign * cost[base + j] - rowMinimum;
      if (reduced < columnDual[j]) columnDual[j] = reduced;
    }
  }

  for (let i = 0; i < rows; i++) {
    const base = i * columns;
    let lowest = Infinity;
    let lowestColumn = -1;
    for (let j = 0; j < columns; j++) {
      const reduced = sign * cost[base + j] - columnDual[j];
      if (reduced < lowest || (reduced === lowest && columnToRow[j] < 0)) {
        lowest = reduced;
        lowestColumn = j;
      }
    }
    if (columnToRow[lowestColumn] < 0) {
      rowToColumn[i] = lowestColumn;
      columnToRow[lowestColumn] = i;
    }
  }
}

/**
 * Runs `passes` passes of augmenting row reduction over `freeRows` and returns the rows still free.
 *
 * A free row takes the column of its smallest reduced cost. When that minimum is strictly below the
 * second smallest, the column dual drops by the gap, so both columns become minima of the row and
 * the evicted row tends to move elsewhere. An evicted row is retried at once only after such a
 * strict drop, otherwise in the next pass. The row scans per pass are capped, because in floating
 * point two rows can evict each other back and forth with gaps near rounding error.
 */
export function reduceFreeRows(state: AssignmentState, freeRows: Int32Array, passes: number): Int32Array {
  const { cost, sign, columns, columnDual, rowToColumn, columnToRow } = state;
  if (columns < 2) return freeRows;
  const queue = Int32Array.from(freeRows);
  let freeCount = queue.length;

  for (let pass = 0; pass < passes && freeCount > 0; pass++) {
    const passCount = freeCount;
    let scanBudget = 4 * passCount + columns;
    freeCount = 0;
    let k = 0;
    while (k < passCount) {
      if (scanBudget-- <= 0) {
        // Carry the rows not reached to the free list unchanged.
        while (k < passCount) queue[freeCount++] = queue[k++];
        break;
      }
      const row = queue[k++];
      const base = row * columns;

      let lowest = sign * cost[base] - columnDual[0];
      let lowestColumn = 0;
      let secondLowest = Infinity;
      let secondColumn = -1;
      for (let j = 1; j < columns; j++) {
        const reduced = sign * cost[base + j] - columnDual[j];
        if (reduced < secondLowest) {
          if (reduced >= lowest) {
            secondLowest = reduced;
            secondColumn = j;
          } else {
            secondLowest = lowest;
            secondColumn = lowestColumn;
            lowest = reduced;
            lowestColumn = j;
          }
        }
      }

      let target = lowestColumn;
      let evicted = columnToRow[target];
      let droppedDual = false;
      if (lowest < secondLowest) {
        const lowered = columnDual[target] - (secondLowest - lowest);
        if (lowered < columnDual[target]) {
          columnDual[target] = lowered;
          droppedDual = true;
        }
      } else if (evicted >= 0) {
        // A tie: take the free or other minimum column instead of evicting.
        target = secondColumn;
        evicted = columnToRow[target];
      }

      rowToColumn[row] = target;
      columnToRow[target] = row;
      if (evicted >= 0) {
        rowToColumn[evicted] = -1;
        if (droppedDual) queue[--k] = evicted;
        else queue[freeCount++] = evicted;
      }
    }
  }
  return queue.subarray(0, freeCount);
}

/**
 * Restores a previous solution as a starting point. It keeps the previous column duals and takes
 * each row dual as the row minimum of the reduced costs, which makes the duals feasible for any
 * matrix. Only the previous pairs that are still minima of their row are kept, and the other rows
 * stay free for the later phases.
 *
 * For rectangular problems the duals are first shifted so their maximum is 0, and every column left
 * free gets dual 0 as the invariant requires. Raising a dual can make another kept pair non-minimal,
 * so the check repeats until no pair is dropped.
 */
export function applyWarmStart(state: AssignmentState, previousRowToColumn: Int32Array, previousColumnDual: Float64Array): void {
  const { cost, sign, rows, columns, columnDual, rowToColumn, columnToRow } = state;
  const rectangular = rows < columns;
  for (let j = 0; j < columns; j++) columnDual[j] = sign * previousColumnDual[j];
  for (let i = 0; i < rows; i++) {
    rowToColumn[i] = previousRowToColumn[i];
    columnToRow[previousRowToColumn[i]] = i;
  }

  if (rectangular) {
    let maximum = -Infinity;
    for (let j = 0; j < columns; j++) maximum = Math.max(maximum, columnDual[j]);
    for (let j = 0; j < columns; j++) columnDual[j] = columnToRow[j] >= 0 ? columnDual[j] - maximum : 0;
  }

  let dropped = true;
  while (dropped) {
    dropped = false;
    for (let i = 0; i < rows; i++) {
      const assigned = rowToColumn[i];
      if (assigned < 0) continue;
      const base = i * columns;
      let lowest = Infinity;
      for (let j = 0; j < columns; j++) {
        const reduced = sign * cost[base + j] - columnDual[j];
        if (reduced < lowest) lowest = reduced;
      }
      // Same expression as in the loop, so an exact comparison finds the rows still tight.
      if (sign * cost[base + assigned] - columnDual[assigned] === lowest) continue;
      rowToColumn[i] = -1;
      columnToRow[assigned] = -1;
      if (rectangular) {
        columnDual[assigned] = 0;
        dropped = true;
      }
    }
  }
}
