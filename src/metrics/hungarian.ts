// The linear assignment problem (Hungarian algorithm), as scipy.optimize.linear_sum_assignment:
// pick one column per row (for a rectangular matrix, min(rows, cols) pairs) minimising the total cost.

export interface Assignment {
  /** Row indices, increasing. */
  rowInd: number[];
  /** The column assigned to each row of rowInd. */
  colInd: number[];
  /** Sum of the chosen entries of the original matrix. */
  total: number;
}

/**
 * Solves min Σ cost[i][σ(i)] over injective σ with the O(n²m) shortest-augmenting-path form of
 * the Hungarian method (row and column potentials). `maximize` solves the maximisation instead.
 */
export function linearSumAssignment(cost: ArrayLike<number>[], opts: { maximize?: boolean } = {}): Assignment {
  const rows = cost.length;
  const cols = rows === 0 ? 0 : cost[0].length;
  for (const r of cost) {
    if (r.length !== cols) throw new Error('linearSumAssignment: cost matrix rows differ in length');
    for (let j = 0; j < cols; j++) {
      if (!Number.isFinite(r[j])) throw new Error('linearSumAssignment: cost matrix has a non-finite entry');
    }
  }
  if (rows === 0 || cols === 0) return { rowInd: [], colInd: [], total: 0 };
  const sign = opts.maximize ? -1 : 1;
  // The algorithm wants rows ≤ columns; solve the transpose otherwise.
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  const c = (i: number, j: number) => sign * (transposed ? cost[j][i] : cost[i][j]);

  // 1-based arrays; column 0 is a virtual column holding the row being inserted.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const match = new Int32Array(m + 1); // match[j]: row assigned to column j (0 = free)
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    match[0] = i;
    let j0 = 0;
    minv.fill(Number.POSITIVE_INFINITY);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = match[j0];
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = c(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[match[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (match[j0] !== 0);
    // Flip the augmenting path.
    do {
      const j1 = way[j0];
      match[j0] = match[j1];
      j0 = j1;
    } while (j0 !== 0);
  }

  const pairs: [number, number][] = [];
  for (let j = 1; j <= m; j++) {
    if (match[j] === 0) continue;
    const r = match[j] - 1;
    pairs.push(transposed ? [j - 1, r] : [r, j - 1]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const rowInd = pairs.map((p) => p[0]);
  const colInd = pairs.map((p) => p[1]);
  let total = 0;
  for (let k = 0; k < rowInd.length; k++) total += cost[rowInd[k]][colInd[k]];
  return { rowInd, colInd, total };
}
