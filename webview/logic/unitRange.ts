// Range of permutation units that one cell of a downsampled heatmap covers.

/**
 * Returns the first and last unit u in [0, n) with ⌊u·cellCount/n⌋ = cell, the rule `downsampleBlockMax` uses.
 * When cellCount ≥ n, every cell is one unit.
 */
export function unitsOfCell(cell: number, cellCount: number, n: number): [number, number] {
  if (cellCount >= n) return [cell, cell];
  const first = Math.ceil((cell * n) / cellCount);
  const last = Math.min(n, Math.ceil(((cell + 1) * n) / cellCount)) - 1;
  return [first, last];
}
