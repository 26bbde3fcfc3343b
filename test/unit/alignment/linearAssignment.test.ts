import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { solveLinearAssignment, type AssignmentResult } from '../../../src/alignment/linearAssignment';
import { applyWarmStart, reduceFreeRows } from '../../../src/alignment/linearAssignmentInitialization';
import { augmentFromFreeRow } from '../../../src/alignment/linearAssignmentShortestPath';
import { createAssignmentState, listFreeRows } from '../../../src/alignment/linearAssignmentState';

// munkres-js (textbook Hungarian method, min-cost, pads rectangular input itself) ships no types.
const computeMunkres = createRequire(__filename)('munkres-js') as (matrix: number[][]) => [number, number][];

/** Mulberry32: a small seeded PRNG with uniform output in [0, 1). */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPermutation(n: number, random: () => number): Int32Array {
  const permutation = new Int32Array(n);
  for (let i = 0; i < n; i++) permutation[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = permutation[i];
    permutation[i] = permutation[j];
    permutation[j] = swap;
  }
  return permutation;
}

function uniformMatrix(rows: number, columns: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const matrix = new Float64Array(rows * columns);
  for (let k = 0; k < matrix.length; k++) matrix[k] = random();
  return matrix;
}

/** Similarity of two copies of a layer whose units were shuffled: a permuted diagonal plus noise. */
function permutedNearDiagonal(n: number, seed: number, noise: number): { matrix: Float64Array; permutation: Int32Array } {
  const random = createRandom(seed);
  const permutation = randomPermutation(n, random);
  const matrix = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) matrix[i * n + j] = noise * (random() - 0.5);
    matrix[i * n + permutation[i]] += 1;
  }
  return { matrix, permutation };
}

function lowRankMatrix(n: number, rank: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const left = Array.from({ length: n * rank }, () => random() - 0.5);
  const right = Array.from({ length: n * rank }, () => random() - 0.5);
  const matrix = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let r = 0; r < rank; r++) sum += left[i * rank + r] * right[j * rank + r];
      matrix[i * n + j] = sum;
    }
  }
  return matrix;
}

function integerMatrix(rows: number, columns: number, levels: number, seed: number): Float64Array {
  const random = createRandom(seed);
  const matrix = new Float64Array(rows * columns);
  for (let k = 0; k < matrix.length; k++) matrix[k] = Math.floor(random() * levels);
  return matrix;
}

/** Optimal total from munkres-js, negating the matrix to maximize. */
function munkresTotal(cost: Float64Array | Float32Array, rows: number, columns: number, maximize: boolean): number {
  const matrix: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const row: number[] = [];
    for (let j = 0; j < columns; j++) row.push(maximize ? -cost[i * columns + j] : cost[i * columns + j]);
    matrix.push(row);
  }
  let total = 0;
  for (const [i, j] of computeMunkres(matrix)) total += cost[i * columns + j];
  return total;
}

/** Optimal total by trying every injective map of rows to columns (tiny sizes only). */
function bruteForceTotal(cost: Float64Array, rows: number, columns: number, maximize: boolean): number {
  const used = new Uint8Array(columns);
  let best = maximize ? -Infinity : Infinity;
  const visit = (row: number, sum: number): void => {
    if (row === rows) {
      best = maximize ? Math.max(best, sum) : Math.min(best, sum);
      return;
    }
    for (let j = 0; j < columns; j++) {
      if (used[j] === 1) continue;
      used[j] = 1;
      visit(row + 1, sum + cost[row * columns + j]);
      used[j] = 0;
    }
  };
  visit(0, 0);
  return best;
}

function assertCloseTotal(actual: number, expected: number, context: string): void {
  const tolerance = 1e-9 * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tolerance, `${context}: total ${actual}, expected ${expected}`);
}

/** Checks that the result is an injective assignment whose total is the sum of its entries. */
function assertValidAssignment(result: AssignmentResult, cost: Float64Array | Float32Array, rows: number, columns: number, context: string): void {
  assert.equal(result.rowToColumn.length, rows, `${context}: rowToColumn length`);
  assert.equal(result.columnDual.length, columns, `${context}: columnDual length`);
  const used = new Uint8Array(columns);
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const column = result.rowToColumn[i];
    assert.ok(column >= 0, `${context}: row ${i} has column ${column}`);
    assert.ok(column < columns, `${context}: row ${i} has column ${column} of ${columns}`);
    assert.equal(used[column], 0, `${context}: column ${column} assigned twice`);
    used[column] = 1;
    sum += cost[i * columns + column];
  }
  assertCloseTotal(result.total, sum, `${context} (sum of chosen entries)`);
}

/**
 * Checks the returned column duals certify optimality: with row duals taken as row minima of the
 * reduced costs, every assigned pair is tight, and in rectangular problems free columns carry the
 * largest dual (complementary slackness).
 */
function assertDualCertificate(result: AssignmentResult, cost: Float64Array | Float32Array, rows: number, columns: number, maximize: boolean, context: string): void {
  const sign = maximize ? -1 : 1;
  let largestMagnitude = 0;
  for (let k = 0; k < cost.length; k++) largestMagnitude = Math.max(largestMagnitude, Math.abs(cost[k]));
  const tolerance = 1e-9 * (1 + largestMagnitude);
  let maximumDual = -Infinity;
  for (let j = 0; j < columns; j++) maximumDual = Math.max(maximumDual, sign * result.columnDual[j]);

  for (let i = 0; i < rows; i++) {
    let rowMinimum = Infinity;
    for (let j = 0; j < columns; j++) rowMinimum = Math.min(rowMinimum, sign * cost[i * columns + j] - sign * result.columnDual[j]);
    const column = result.rowToColumn[i];
    const slack = sign * cost[i * columns + column] - sign * result.columnDual[column] - rowMinimum;
    assert.ok(slack <= tolerance, `${context}: row ${i} has slack ${slack} on its column ${column}`);
  }

  const used = new Uint8Array(columns);
  for (let i = 0; i < rows; i++) used[result.rowToColumn[i]] = 1;
  for (let j = 0; j < columns; j++) {
    if (used[j] === 1) continue;
    const gap = maximumDual - sign * result.columnDual[j];
    assert.ok(gap <= tolerance, `${context}: free column ${j} has dual ${gap} below the largest`);
    assert.equal(result.columnDual[j], 0, `${context}: free column ${j} dual`);
  }
}

function checkAgainstMunkres(cost: Float64Array | Float32Array, rows: number, columns: number, maximize: boolean, context: string): AssignmentResult {
  const result = solveLinearAssignment(cost, rows, columns, { maximize });
  assertValidAssignment(result, cost, rows, columns, context);
  assertCloseTotal(result.total, munkresTotal(cost, rows, columns, maximize), context);
  assertDualCertificate(result, cost, rows, columns, maximize, context);
  return result;
}

test('random matrices match munkres', () => {
  for (const n of [1, 2, 3, 4, 5, 7, 8, 16, 31, 64, 100]) {
    for (const seed of [1, 2, 3]) {
      const cost = uniformMatrix(n, n, 1000 * n + seed);
      checkAgainstMunkres(cost, n, n, false, `minimize n=${n} seed=${seed}`);
      checkAgainstMunkres(cost, n, n, true, `maximize n=${n} seed=${seed}`);
    }
  }
});

test('random matrices of size 256 match munkres', () => {
  checkAgainstMunkres(uniformMatrix(256, 256, 256), 256, 256, true, 'maximize n=256');
});

test('Float32 input matches munkres on the same values', () => {
  const cost = Float32Array.from(uniformMatrix(48, 48, 4848), (value) => value * 10 - 5);
  checkAgainstMunkres(cost, 48, 48, true, 'Float32 n=48');
});

test('permuted near-diagonal recovers the permutation', () => {
  for (const [n, seed] of [
    [10, 1],
    [64, 2],
    [256, 3],
  ]) {
    const { matrix, permutation } = permutedNearDiagonal(n, seed, 0.2);
    const result = solveLinearAssignment(matrix, n, n, { maximize: true });
    assertValidAssignment(result, matrix, n, n, `n=${n}`);
    assertDualCertificate(result, matrix, n, n, true, `n=${n}`);
    // Noise within ±0.1 cannot beat a diagonal of 1, so the planted permutation is the unique optimum.
    assert.deepEqual(Array.from(result.rowToColumn), Array.from(permutation), `n=${n}: planted permutation`);
  }
});

test('noisy permuted near-diagonal matches munkres', () => {
  for (const [n, seed] of [
    [40, 4],
    [128, 5],
  ]) {
    // Noise of width 3 makes many rows prefer another column, so the solver must trade off.
    const { matrix } = permutedNearDiagonal(n, seed, 3);
    checkAgainstMunkres(matrix, n, n, true, `noisy n=${n}`);
  }
});

test('low-rank matrices match munkres', () => {
  for (const [n, rank] of [
    [30, 1],
    [60, 2],
    [120, 3],
  ]) {
    const matrix = lowRankMatrix(n, rank, n + rank);
    checkAgainstMunkres(matrix, n, n, true, `maximize n=${n} rank=${rank}`);
    checkAgainstMunkres(matrix, n, n, false, `minimize n=${n} rank=${rank}`);
  }
});

test('integer matrices with many ties match munkres', () => {
  for (const n of [2, 5, 17, 50, 128]) {
    for (const levels of [2, 4]) {
      const matrix = integerMatrix(n, n, levels, 31 * n + levels);
      checkAgainstMunkres(matrix, n, n, true, `maximize n=${n} levels=${levels}`);
      checkAgainstMunkres(matrix, n, n, false, `minimize n=${n} levels=${levels}`);
    }
  }
});

test('all-equal and all-zero matrices', () => {
  for (const n of [1, 2, 3, 10, 64]) {
    for (const value of [0, 2.5, -7]) {
      const matrix = new Float64Array(n * n).fill(value);
      for (const maximize of [false, true]) {
        const result = solveLinearAssignment(matrix, n, n, { maximize });
        assertValidAssignment(result, matrix, n, n, `n=${n} value=${value}`);
        assertDualCertificate(result, matrix, n, n, maximize, `n=${n} value=${value}`);
        assert.equal(result.total, n * value, `n=${n} value=${value}: total`);
      }
    }
  }
});

test('identity and permuted identity', () => {
  const n = 50;
  const permutation = randomPermutation(n, createRandom(50));
  const matrix = new Float64Array(n * n);
  for (let i = 0; i < n; i++) matrix[i * n + permutation[i]] = 1;

  const maximized = solveLinearAssignment(matrix, n, n, { maximize: true });
  assert.deepEqual(Array.from(maximized.rowToColumn), Array.from(permutation));
  assert.equal(maximized.total, n);

  const minimized = solveLinearAssignment(matrix, n, n);
  assertValidAssignment(minimized, matrix, n, n, 'minimize permuted identity');
  assert.equal(minimized.total, 0);
});

test('rectangular matches brute force', () => {
  for (const [rows, columns] of [
    [0, 3],
    [1, 1],
    [1, 4],
    [2, 5],
    [3, 6],
    [4, 7],
  ]) {
    for (const seed of [1, 2]) {
      for (const matrix of [uniformMatrix(rows, columns, seed + 10 * columns), integerMatrix(rows, columns, 3, seed)]) {
        for (const maximize of [false, true]) {
          const context = `${rows}×${columns} seed=${seed} maximize=${maximize}`;
          const result = solveLinearAssignment(matrix, rows, columns, { maximize });
          assertValidAssignment(result, matrix, rows, columns, context);
          assertDualCertificate(result, matrix, rows, columns, maximize, context);
          if (rows > 0) assertCloseTotal(result.total, bruteForceTotal(matrix, rows, columns, maximize), context);
        }
      }
    }
  }
});

test('rectangular matches munkres on padded square', () => {
  for (const [rows, columns, seed] of [
    [30, 50, 1],
    [90, 100, 2],
    [5, 120, 3],
  ]) {
    const matrix = uniformMatrix(rows, columns, seed);
    // Extra rows of zeros add 0 to every assignment, so the padded square problem has the same optimum.
    const padded = new Float64Array(columns * columns);
    padded.set(matrix);
    for (const maximize of [false, true]) {
      const context = `${rows}×${columns} maximize=${maximize}`;
      const result = solveLinearAssignment(matrix, rows, columns, { maximize });
      assertValidAssignment(result, matrix, rows, columns, context);
      assertDualCertificate(result, matrix, rows, columns, maximize, context);
      assertCloseTotal(result.total, munkresTotal(padded, columns, columns, maximize), context);
    }
  }
});

test('warm start on perturbed matrix equals cold solve', () => {
  for (const [n, noise] of [
    [64, 1e-3],
    [200, 1e-2],
    [200, 0.5],
  ]) {
    const { matrix } = permutedNearDiagonal(n, n, 2);
    const previous = solveLinearAssignment(matrix, n, n, { maximize: true });
    const random = createRandom(n + 1);
    const perturbed = matrix.map((value) => value + noise * (random() - 0.5));

    const cold = solveLinearAssignment(perturbed, n, n, { maximize: true });
    const warm = solveLinearAssignment(perturbed, n, n, { maximize: true, warmStart: previous });
    const context = `n=${n} noise=${noise}`;
    assertValidAssignment(warm, perturbed, n, n, context);
    assertDualCertificate(warm, perturbed, n, n, true, context);
    assertCloseTotal(warm.total, cold.total, context);
  }
});

test('warm start from unrelated solution stays exact', () => {
  const n = 80;
  const previous = solveLinearAssignment(uniformMatrix(n, n, 1), n, n);
  const matrix = integerMatrix(n, n, 5, 2);
  const warm = solveLinearAssignment(matrix, n, n, { warmStart: previous });
  assertValidAssignment(warm, matrix, n, n, 'unrelated warm start');
  assertDualCertificate(warm, matrix, n, n, false, 'unrelated warm start');
  assertCloseTotal(warm.total, munkresTotal(matrix, n, n, false), 'unrelated warm start');
});

test('warm start on rectangular matrix', () => {
  for (const [rows, columns] of [
    [3, 7],
    [40, 60],
  ]) {
    const matrix = uniformMatrix(rows, columns, rows);
    const previous = solveLinearAssignment(matrix, rows, columns, { maximize: true });
    const random = createRandom(columns);
    const perturbed = matrix.map((value) => value + 0.3 * (random() - 0.5));

    const cold = solveLinearAssignment(perturbed, rows, columns, { maximize: true });
    const warm = solveLinearAssignment(perturbed, rows, columns, { maximize: true, warmStart: previous });
    const context = `${rows}×${columns}`;
    assertValidAssignment(warm, perturbed, rows, columns, context);
    assertDualCertificate(warm, perturbed, rows, columns, true, context);
    assertCloseTotal(warm.total, cold.total, context);
  }
});

/** Solves from a warm start without the cold fallback that solveLinearAssignment applies when most rows are free. */
function solveFromWarmStart(cost: Float64Array, rows: number, columns: number, maximize: boolean, previous: AssignmentResult): AssignmentResult {
  const sign = maximize ? -1 : 1;
  const state = createAssignmentState(cost, sign, rows, columns);
  applyWarmStart(state, previous.rowToColumn, previous.columnDual);
  const freeRows = reduceFreeRows(state, listFreeRows(state), 2);
  for (const row of freeRows) augmentFromFreeRow(state, row);
  let total = 0;
  for (let i = 0; i < rows; i++) total += cost[i * columns + state.rowToColumn[i]];
  const columnDual = state.columnDual.map((value) => (maximize ? 0 - value : value));
  return { rowToColumn: state.rowToColumn, total, columnDual };
}

test('warm start phases stay exact without fallback', () => {
  const cases: { name: string; rows: number; columns: number; previousMatrix: Float64Array; matrix: Float64Array }[] = [
    { name: 'unrelated square', rows: 60, columns: 60, previousMatrix: uniformMatrix(60, 60, 1), matrix: integerMatrix(60, 60, 4, 2) },
    { name: 'unrelated rectangular', rows: 25, columns: 40, previousMatrix: uniformMatrix(25, 40, 3), matrix: uniformMatrix(25, 40, 4) },
    { name: 'strongly perturbed', rows: 100, columns: 100, previousMatrix: permutedNearDiagonal(100, 5, 2).matrix, matrix: permutedNearDiagonal(100, 5, 2).matrix.map((value, k) => value + ((k * 7919) % 13) / 13) },
  ];
  for (const { name, rows, columns, previousMatrix, matrix } of cases) {
    for (const maximize of [false, true]) {
      const context = `${name} maximize=${maximize}`;
      const previous = solveLinearAssignment(previousMatrix, rows, columns, { maximize });
      const warm = solveFromWarmStart(matrix, rows, columns, maximize, previous);
      assertValidAssignment(warm, matrix, rows, columns, context);
      assertDualCertificate(warm, matrix, rows, columns, maximize, context);
      const padded = new Float64Array(columns * columns);
      padded.set(matrix);
      assertCloseTotal(warm.total, munkresTotal(padded, columns, columns, maximize), context);
    }
  }
});

test('non-finite entries throw with position', () => {
  for (const bad of [NaN, Infinity, -Infinity, 1e305]) {
    for (const ArrayType of [Float64Array, Float32Array]) {
      // Float32 cannot hold 1e305 (it rounds to Infinity), which the check rejects as well.
      const matrix = new ArrayType(4 * 5).fill(1);
      matrix[2 * 5 + 3] = bad;
      matrix[3 * 5 + 4] = bad;
      assert.throws(
        () => solveLinearAssignment(matrix, 4, 5),
        (error: Error) => /row 2, column 3/.test(error.message) && /similarity matrix/i.test(error.message) && /invalid/i.test(error.message),
        `${ArrayType.name} with ${bad}`,
      );
    }
  }
});

test('invalid shapes throw', () => {
  assert.throws(() => solveLinearAssignment(new Float64Array(6), 3, 2), /rows <= columns/);
  assert.throws(() => solveLinearAssignment(new Float64Array(5), 2, 3), /expected 2×3 = 6 entries, got 5/);
  assert.throws(() => solveLinearAssignment(new Float64Array(0), -1, 0), /non-negative integers/);
});

test('invalid warm start throws', () => {
  const matrix = uniformMatrix(3, 3, 3);
  const columnDual = new Float64Array(3);
  assert.throws(() => solveLinearAssignment(matrix, 3, 3, { warmStart: { rowToColumn: Int32Array.of(0, 1), columnDual } }), /length 3/);
  assert.throws(() => solveLinearAssignment(matrix, 3, 3, { warmStart: { rowToColumn: Int32Array.of(0, 1, 1), columnDual } }), /rowToColumn\[2\]/);
  assert.throws(() => solveLinearAssignment(matrix, 3, 3, { warmStart: { rowToColumn: Int32Array.of(0, 1, 2), columnDual: Float64Array.of(0, NaN, 0) } }), /columnDual\[1\]/);
});

test('empty and single-entry problems', () => {
  const empty = solveLinearAssignment(new Float64Array(0), 0, 0);
  assert.equal(empty.rowToColumn.length, 0);
  assert.equal(empty.total, 0);

  const single = solveLinearAssignment(Float64Array.of(-3.5), 1, 1, { maximize: true });
  assert.deepEqual(Array.from(single.rowToColumn), [0]);
  assert.equal(single.total, -3.5);
});

test('input matrix is left unchanged', () => {
  const matrix = uniformMatrix(20, 20, 20);
  const before = Float64Array.from(matrix);
  solveLinearAssignment(matrix, 20, 20, { maximize: true });
  assert.deepEqual(matrix, before);
});
