import type { AssignmentState } from './linearAssignmentState';

/**
 * Assigns `freeRow` by one shortest augmenting path, keeping the state's invariant.
 *
 * Dijkstra-like search over columns with reduced costs as edge lengths (Jonker and Volgenant 1987,
 * in the single-loop form of Crouse 2016): each step scans one row against the columns not yet
 * reached, then settles the closest column. It stops at the first settled free column, preferring a
 * free column among equally close ones. Column duals of settled columns then move by their slack so
 * the new path is tight, and the path is flipped. Cost: O(columns) per settled column.
 */
export function augmentFromFreeRow(state: AssignmentState, freeRow: number): void {
  const cost = state.cost;
  const columns = state.columns;
  const columnDual = state.columnDual;
  const columnToRow = state.columnToRow;
  const distance = state.distance;
  const predecessor = state.predecessor;
  const order = state.columnOrder;

  // First step from the free row: its row dual is taken as 0, so distances start at cost - v.
  let base = freeRow * columns;
  let lowest = Infinity;
  let lowestIndex = -1;
  for (let j = 0; j < columns; j++) {
    const reduced = cost[base + j] - columnDual[j];
    distance[j] = reduced;
    predecessor[j] = freeRow;
    order[j] = j;
    if (reduced < lowest || (reduced === lowest && columnToRow[j] < 0)) {
      lowest = reduced;
      lowestIndex = j;
    }
  }

  // order[0, settled) holds settled columns and order[settled, columns) the columns still open.
  // Rows <= columns guarantees a free column is settled before the open ones run out.
  let settled = 0;
  let pathLength = 0;
  let sink = -1;
  while (true) {
    const column = order[lowestIndex];
    order[lowestIndex] = order[settled];
    order[settled] = column;
    settled++;
    pathLength = lowest;

    const row = columnToRow[column];
    if (row < 0) {
      sink = column;
      break;
    }

    // Row `row` is tight on `column`, so its implicit dual is cost - v there; offset shifts its
    // reduced costs to path lengths from the free row.
    base = row * columns;
    const offset = pathLength - (cost[base + column] - columnDual[column]);
    lowest = Infinity;
    lowestIndex = -1;
    for (let k = settled; k < columns; k++) {
      const j = order[k];
      let length = offset + cost[base + j] - columnDual[j];
      const known = distance[j];
      if (length < known) {
        distance[j] = length;
        predecessor[j] = row;
      } else {
        length = known;
      }
      if (length < lowest || (length === lowest && columnToRow[j] < 0)) {
        lowest = length;
        lowestIndex = k;
      }
    }
  }

  // Settled columns sit at distance <= pathLength. Lowering their duals by the slack makes every
  // edge on the shortest path tree up to the sink tight and keeps all reduced costs >= 0.
  for (let k = 0; k < settled; k++) {
    const j = order[k];
    columnDual[j] += distance[j] - pathLength;
  }

  const rowToColumn = state.rowToColumn;
  let column = sink;
  while (true) {
    const row = predecessor[column];
    columnToRow[column] = row;
    const previousColumn = rowToColumn[row];
    rowToColumn[row] = column;
    if (row === freeRow) break;
    column = previousColumn;
  }
}
