// Greedy 1:1 nearest-neighbour matching on the propensity score, as R's MatchIt does it for
// `method = "nearest", distance = "glm"`: treated units are taken from the largest propensity score
// down (MatchIt's m.order = "largest"), each gets the control closest in |e_t − e_c|, and without
// replacement that control leaves the pool. A caliper (in standard deviations of the score, as
// MatchIt's std.caliper) leaves a treated unit unmatched when its nearest control is too far.
// Selection is through the neighbours left and right of the unit in score order, as MatchIt's
// nn_matchC_vec (read for this port) walks them.
import { sd } from './stats.js';

export interface MatchOptions {
  replace: boolean;
  /** Caliper in standard deviations of the score over all units; 0 or undefined for none. */
  caliper?: number;
  /** 'nearest' (default), or 'matchit' to reproduce MatchIt 4.5.1's choice (see nearestNeighbour). */
  rule?: 'nearest' | 'matchit';
}

export interface Matches {
  /** For each treated unit (by row), its matched control row, or −1 when unmatched. */
  pairs: Int32Array;
  treatedRows: number[];
  /** How many times each row is used as a match (treated rows: 1 when matched). */
  weight: Float64Array;
}

/**
 * Matches every unit with t = `from` to units with t ≠ `from` on the score. Units are laid out by
 * score (ties in data order), and for each focal unit the nearest available control on its left
 * (lower score) and on its right are found. `rule: 'nearest'` takes the closer of the two (the left
 * one on a tie). `rule: 'matchit'` takes the left one whenever there is one, which is what MatchIt
 * 4.5.1's nn_matchC_vec does in practice: it compares the two distances with C's integer abs(), which
 * truncates both to 0 for scores in [0, 1]. We keep the rule to reproduce MatchIt's pairs exactly.
 */
export function nearestNeighbour(score: Float64Array, t: ArrayLike<number>, opts: MatchOptions, from = 1): Matches {
  const n = score.length;
  const rule = opts.rule ?? 'nearest';
  const treated: number[] = [];
  const controls: number[] = [];
  for (let i = 0; i < n; i++) (t[i] === from ? treated : controls).push(i);
  // Largest score first for the treated (MatchIt's m.order = "largest"); ties keep data order.
  const order = [...treated].sort((a, b) => (from === 1 ? score[b] - score[a] : score[a] - score[b]) || a - b);
  const limit = opts.caliper ? opts.caliper * sd(score) : Infinity;
  const sorted = [...controls].sort((a, b) => score[a] - score[b] || a - b);
  const alive = new Uint8Array(sorted.length).fill(1);
  const pairs = new Int32Array(n).fill(-1);
  const weight = new Float64Array(n);
  const before = (k: number, i: number) =>
    score[sorted[k]] < score[i] || (score[sorted[k]] === score[i] && sorted[k] < i);
  for (const i of order) {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(mid, i)) lo = mid + 1;
      else hi = mid;
    }
    let left = lo - 1;
    while (left >= 0 && !alive[left]) left--;
    let right = lo;
    while (right < sorted.length && !alive[right]) right++;
    const dist = (k: number) => Math.abs(score[sorted[k]] - score[i]);
    // As MatchIt: a side whose nearest available control is outside the caliper offers none.
    if (left >= 0 && dist(left) > limit) left = -1;
    if (right < sorted.length && dist(right) > limit) right = sorted.length;
    const hasLeft = left >= 0;
    const hasRight = right < sorted.length;
    if (!hasLeft && !hasRight) continue;
    let k: number;
    if (hasLeft && hasRight) k = rule === 'matchit' || dist(left) <= dist(right) ? left : right;
    else k = hasLeft ? left : right;
    const c = sorted[k];
    pairs[i] = c;
    weight[i] = 1;
    weight[c] += 1;
    if (!opts.replace) alive[k] = 0;
  }
  return { pairs, treatedRows: treated, weight };
}

/** Mean of y[i] − y[pairs[i]] over matched units with t = from, its paired SE, and the count matched. */
export function matchedDifference(
  m: Matches,
  y: ArrayLike<number>,
  sign = 1,
): { estimate: number; se: number; matched: number } {
  const d: number[] = [];
  for (const i of m.treatedRows) if (m.pairs[i] >= 0) d.push(sign * (y[i] - y[m.pairs[i]]));
  const k = d.length;
  const mean = d.reduce((a, b) => a + b, 0) / Math.max(k, 1);
  const v = d.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(k - 1, 1);
  return { estimate: mean, se: Math.sqrt(v / Math.max(k, 1)), matched: k };
}
