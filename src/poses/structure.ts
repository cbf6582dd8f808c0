// Structures out and poses compared: PDB and XYZ writers, a PDB reader (ATOM/HETATM), elements from
// masses, and the two RMSDs of the 3T paper:
// - pocket RMSD: backbone N, CA, C, O of the pocket residues after a Kabsch superposition onto the
//   crystal receptor (this reproduces the paper's 0.3258 Å for FXa's docked start);
// - ligand RMSD: heavy atoms carried along by that pocket superposition (no fitting of the ligand
//   itself), minimised over the element- and bond-preserving matchings (symmetry-corrected).
import { readFileSync, writeFileSync } from 'node:fs';
import { GenlabError } from '../torch/errors.js';

const ELEMENTS: [number, string][] = [
  [1.008, 'H'],
  [12.011, 'C'],
  [14.007, 'N'],
  [15.999, 'O'],
  [18.998, 'F'],
  [30.974, 'P'],
  [32.06, 'S'],
  [35.45, 'Cl'],
  [79.904, 'Br'],
  [126.9, 'I'],
];

/** The element whose standard mass is nearest (within 0.6 u), else 'X'. */
export function elementOfMass(m: number): string {
  let best = 'X';
  let d = 0.6;
  for (const [mass, el] of ELEMENTS) {
    if (Math.abs(mass - m) < d) {
      d = Math.abs(mass - m);
      best = el;
    }
  }
  return best;
}

export interface Atoms {
  /** x, y, z per atom, flat. */
  pos: ArrayLike<number>;
  element: string[];
  name?: string[];
  resname?: string[];
  resid?: ArrayLike<number>;
}

/** Writes an XYZ file (one frame). */
export function writeXyz(file: string, a: Atoms, comment = ''): void {
  const n = a.element.length;
  const lines = [String(n), comment.replace(/\n/g, ' ')];
  for (let k = 0; k < n; k++) {
    const p = [0, 1, 2].map((c) => a.pos[3 * k + c].toFixed(6));
    lines.push(`${a.element[k]} ${p.join(' ')}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Writes a PDB file: ATOM records for residues, HETATM for the ligand (resname LIG), then END. */
export function writePdb(file: string, a: Atoms, title = ''): void {
  const n = a.element.length;
  const out = title ? [`REMARK   1 ${title}`.slice(0, 80)] : [];
  for (let k = 0; k < n; k++) {
    const res = (a.resname?.[k] ?? 'UNK').slice(0, 3);
    const record = res === 'LIG' ? 'HETATM' : 'ATOM  ';
    const name = (a.name?.[k] ?? a.element[k]).slice(0, 4);
    const padded = name.length < 4 && a.element[k].length === 1 ? ` ${name}`.padEnd(4) : name.padEnd(4);
    const [x, y, z] = [0, 1, 2].map((c) => a.pos[3 * k + c].toFixed(3).padStart(8));
    const serial = String((k + 1) % 100000).padStart(5);
    const resid = String((a.resid?.[k] ?? 1) % 10000).padStart(4);
    out.push(
      `${record}${serial} ${padded} ${res.padStart(3)} A${resid}    ${x}${y}${z}  1.00  0.00          ${a.element[k].padStart(2)}`,
    );
  }
  out.push('END');
  writeFileSync(file, `${out.join('\n')}\n`);
}

export interface PdbAtom {
  name: string;
  resname: string;
  resid: number;
  element: string;
  x: number;
  y: number;
  z: number;
}

/** Reads the ATOM and HETATM records of a PDB file. */
export function readPdb(file: string): PdbAtom[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new GenlabError('data', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const out: PdbAtom[] = [];
  text.split(/\r?\n/).forEach((l, k) => {
    if (!l.startsWith('ATOM') && !l.startsWith('HETATM')) return;
    const [x, y, z] = [l.slice(30, 38), l.slice(38, 46), l.slice(46, 54)].map(Number);
    const resid = Number(l.slice(22, 26));
    if (![x, y, z, resid].every(Number.isFinite) || l.length < 54) {
      throw new GenlabError('data', `${file}:${k + 1}: malformed ${l.slice(0, 6).trim()} record`, 'check the file');
    }
    const name = l.slice(12, 16).trim();
    const el = l.slice(76, 78).trim() || name.replace(/[^A-Za-z]/g, '').slice(0, 1);
    out.push({
      name,
      resname: l.slice(17, 20).trim(),
      resid,
      element: el.charAt(0).toUpperCase() + el.slice(1).toLowerCase(),
      x,
      y,
      z,
    });
  });
  return out;
}

/**
 * The optimal rotation and translation of P onto Q (Horn's quaternion method): the RMSD after it and
 * the map that applies it to other points (e.g. a ligand carried along with its pocket).
 */
export function kabsch(P: number[][], Q: number[][]): { rmsd: number; apply: (x: number[]) => number[] } {
  const n = P.length;
  const mean = (X: number[][]) => [0, 1, 2].map((c) => X.reduce((s, p) => s + p[c], 0) / n);
  const mp = mean(P);
  const mq = mean(Q);
  const Pc = P.map((p) => p.map((v, c) => v - mp[c]));
  const Qc = Q.map((q) => q.map((v, c) => v - mq[c]));
  const S = [0, 1, 2].map((i) => [0, 1, 2].map((j) => Pc.reduce((s, p, k) => s + p[i] * Qc[k][j], 0)));
  const [[xx, xy, xz], [yx, yy, yz], [zx, zy, zz]] = S;
  const N = [
    [xx + yy + zz, yz - zy, zx - xz, xy - yx],
    [yz - zy, xx - yy - zz, xy + yx, zx + xz],
    [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
    [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
  ];
  const { values, vectors } = symmetricEigen(N);
  const top = values.indexOf(Math.max(...values));
  const [q0, q1, q2, q3] = vectors.map((row) => row[top]);
  // The rotation matrix of the unit quaternion q.
  const R = [
    [q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3, 2 * (q1 * q2 - q0 * q3), 2 * (q1 * q3 + q0 * q2)],
    [2 * (q1 * q2 + q0 * q3), q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3, 2 * (q2 * q3 - q0 * q1)],
    [2 * (q1 * q3 - q0 * q2), 2 * (q2 * q3 + q0 * q1), q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3],
  ];
  const g = [...Pc, ...Qc].reduce((s, p) => s + p[0] ** 2 + p[1] ** 2 + p[2] ** 2, 0);
  return {
    rmsd: Math.sqrt(Math.max(0, (g - 2 * values[top]) / n)),
    apply: (x) => {
      const d = x.map((v, c) => v - mp[c]);
      return R.map((r, i) => r[0] * d[0] + r[1] * d[1] + r[2] * d[2] + mq[i]);
    },
  };
}

/** RMSD after the optimal superposition of P onto Q. */
export function kabschRmsd(P: number[][], Q: number[][]): number {
  return kabsch(P, Q).rmsd;
}

/** Eigenvalues and eigenvectors (columns) of a small symmetric matrix by cyclic Jacobi rotations. */
function symmetricEigen(M: number[][]): { values: number[]; vectors: number[][] } {
  const A = M.map((r) => [...r]);
  const n = A.length;
  const V: number[][] = A.map((_, i) => A.map((__, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p][q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(A[p][q]) < 1e-300) continue;
        const theta = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k][p];
          const akq = A[k][q];
          A[k][p] = c * akp - s * akq;
          A[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p][k];
          const aqk = A[q][k];
          A[p][k] = c * apk - s * aqk;
          A[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k][p];
          const vkq = V[k][q];
          V[k][p] = c * vkp - s * vkq;
          V[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: A.map((r, i) => r[i]), vectors: V };
}

/** Bonds guessed from distances (heavy atoms: 0.5–1.9 Å), as adjacency lists. */
function guessBonds(X: number[][]): number[][] {
  return X.map((p, i) =>
    X.flatMap((q, j) => {
      const d = Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
      return i !== j && d > 0.5 && d < 1.9 ? [j] : [];
    }),
  );
}

/**
 * Heavy-atom RMSD without fitting, minimised over the element- and bond-preserving matchings of
 * pose P onto reference Q. P's bonds are given (its topology) or guessed, Q's guessed from distances.
 */
export function symmetricRmsd(P: number[][], pel: string[], Q: number[][], qel: string[], bondsP?: number[][]): number {
  const n = P.length;
  if (Q.length !== n) throw new GenlabError('data', `ligand has ${n} heavy atoms, the reference pose ${Q.length}`);
  const A = bondsP ?? guessBonds(P);
  const B = guessBonds(Q);
  const bondedA = A.map((nb) => new Set(nb));
  const bondedB = B.map((nb) => new Set(nb));
  // Breadth-first order, so each new atom is bonded to one already matched.
  const order: number[] = [];
  const seen = new Uint8Array(n);
  for (let s = 0; s < n; s++) {
    if (seen[s]) continue;
    seen[s] = 1;
    order.push(s);
    for (let q = order.length - 1; q < order.length; q++) {
      for (const j of A[order[q]]) {
        if (!seen[j]) {
          seen[j] = 1;
          order.push(j);
        }
      }
    }
  }
  const match = new Int32Array(n).fill(-1);
  const used = new Uint8Array(n);
  let best = Number.POSITIVE_INFINITY;
  let found = 0;
  const d2 = (i: number, j: number) => (P[i][0] - Q[j][0]) ** 2 + (P[i][1] - Q[j][1]) ** 2 + (P[i][2] - Q[j][2]) ** 2;
  const rec = (k: number, sum: number) => {
    if (found > 100000) return;
    if (k === n) {
      found++;
      best = Math.min(best, sum);
      return;
    }
    const i = order[k];
    for (let j = 0; j < n; j++) {
      if (used[j] || qel[j] !== pel[i] || A[i].length !== B[j].length) continue;
      let ok = true;
      for (let k2 = 0; k2 < k && ok; k2++) {
        const i2 = order[k2];
        if (bondedA[i].has(i2) !== bondedB[j].has(match[i2])) ok = false;
      }
      if (!ok) continue;
      match[i] = j;
      used[j] = 1;
      rec(k + 1, sum + d2(i, j));
      used[j] = 0;
      match[i] = -1;
    }
  };
  rec(0, 0);
  if (found === 0)
    throw new GenlabError('data', 'the two ligands have different bond graphs; cannot match their atoms');
  return Math.sqrt(best / n);
}
