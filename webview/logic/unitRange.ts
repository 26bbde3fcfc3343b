// Which units of a permutation one cell of a downsampled heatmap covers.

/**
 * Returns the first and last unit u in [0, n) with ⌊u·shown/n⌋ = cell, the rule `downsampleBlockMax` uses;
 * for shown ≥ n every cell is one unit.
 */
export function unitsOfCell(cell: number, shown: number, n: number): [number, number] {
  if (shown >= n) return [cell, cell];
  const first = Math.ceil((cell * n) / shown);
  const last = Math.min(n, Math.ceil(((cell + 1) * n) / shown)) - 1;
  return [first, last];
}
