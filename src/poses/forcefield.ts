// The CHARMM36/CGenFF force field of the 3T inputs as differentiable genlab functions (float64 or
// float32): harmonic bonds, CHARMM (harmonic + Urey–Bradley) and harmonic angles, CHARMM and
// multi/harmonic dihedrals, harmonic impropers, Lennard-Jones and Coulomb with special-bonds
// exclusions. Energies in kcal/mol, lengths in Å ("units real"). Forces come from autograd.
import { noGrad } from '../torch/autograd.js';
import { tensor } from '../torch/creation.js';
import type { DType } from '../torch/dtype.js';
import { GenlabError } from '../torch/errors.js';
import * as ops from '../torch/generated/ops.js';
import { atan2 } from '../torch/maths.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import type { Coeff, LammpsSystem, PairSettings, Topology } from './lammps.js';

/** LAMMPS's Coulomb constant in units real (kcal·Å/(mol·e²)); the 3T reference code used 332.33. */
export const COULOMB_LAMMPS = 332.06371;
export const COULOMB_REFERENCE = 332.33;

export const TERMS = ['bond', 'angle', 'dihedral', 'improper', 'vdw', 'coulomb'] as const;
export type Term = (typeof TERMS)[number];
export type Energies = Record<Term, Tensor>;

export interface ForceFieldOptions {
  dtype?: DType;
  /** kcal·Å/(mol·e²); default LAMMPS's 332.06371. */
  coulombConstant?: number;
  /** Hard cut-off of Lennard-Jones (no shift), Å; undefined: all pairs. */
  ljCutoff?: number;
  /** Hard cut-off of Coulomb, Å; undefined: all pairs. */
  coulombCutoff?: number;
  /** Extra distance kept in the neighbour list beyond the largest cut-off, Å. */
  skin?: number;
  /**
   * 'topology' (LAMMPS): 1-2, 1-3, 1-4 neighbours from the bond graph, each pair in its closest class.
   * 'reference' (the 3T code): bond ends and angle ends excluded, then dihedral ends set back to full.
   */
  exclusions?: 'topology' | 'reference';
  /** The 3T code multiplies each CHARMM dihedral by its 1-4 weight w (0 in these files, so it drops them). */
  charmmDihedralTimesWeight?: boolean;
  /** Only terms and pairs touching these atoms (others are constant); default every atom. */
  movable?: Uint8Array;
  /**
   * The 3T code's angles: cosines clamped to ±clampCos (0.999999 there) and angles from acos, which
   * makes dihedral angles unsigned; undefined: exact atan2 angles (LAMMPS).
   */
  clampCos?: number;
  /** With `movable`: the other terms and pairs instead, those touching no movable atom. */
  complement?: boolean;
}

interface Group {
  /** Atom index per slot of the interaction, each [m] long. */
  at: Tensor[];
  count: number;
  coeff: Tensor[]; // each [m]
}

const DEG = Math.PI / 180;

/** Rows of a topology whose type has the given style, with their coefficients as columns. */
function byStyle(top: Topology, k: number, coeffs: Coeff[], style: string, keep: (row: number) => boolean) {
  const rows: number[] = [];
  for (let r = 0; r < top.type.length; r++) {
    const c = coeffs[top.type[r]];
    if (c === undefined) {
      throw new GenlabError('data', `no coefficients for type ${top.type[r] + 1}`, 'check the Coeffs sections');
    }
    if (c.style === style && keep(r)) rows.push(r);
  }
  const idx = new Int32Array(rows.length * k);
  const nc = rows.length ? coeffs[top.type[rows[0]]].values.length : 0;
  const cols = Array.from({ length: nc }, () => new Float64Array(rows.length));
  rows.forEach((r, m) => {
    for (let j = 0; j < k; j++) idx[m * k + j] = top.atoms[r * k + j];
    coeffs[top.type[r]].values.forEach((v, c) => {
      cols[c][m] = v;
    });
  });
  return { idx, cols, n: rows.length };
}

/** The pair classes of the bond graph: 1 (bonded), 2 (1-3), 3 (1-4), as LAMMPS's special lists. */
export function specialPairs(n: number, bonds: Int32Array): Map<number, number>[] {
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (let b = 0; b < bonds.length; b += 2) {
    adj[bonds[b]].push(bonds[b + 1]);
    adj[bonds[b + 1]].push(bonds[b]);
  }
  return adj.map((nb, i) => {
    const cls = new Map<number, number>();
    for (const j of nb) cls.set(j, 1);
    for (const j of nb) for (const k of adj[j]) if (k !== i && !cls.has(k)) cls.set(k, 2);
    for (const [j, c] of [...cls]) {
      if (c !== 2) continue;
      for (const k of adj[j]) if (k !== i && !cls.has(k)) cls.set(k, 3);
    }
    return cls;
  });
}

/** Per-pair special class in the 3T reference's way (angle and dihedral lists, later lists win). */
function referencePairs(sys: LammpsSystem): Map<number, number>[] {
  const cls = Array.from({ length: sys.nAtoms }, () => new Map<number, number>());
  const set = (a: number, b: number, c: number) => {
    cls[a].set(b, c);
    cls[b].set(a, c);
  };
  const b = sys.bonds.atoms;
  for (let r = 0; r < b.length; r += 2) set(b[r], b[r + 1], 1);
  const a = sys.angles.atoms;
  for (let r = 0; r < a.length; r += 3) set(a[r], a[r + 2], 2);
  const d = sys.dihedrals.atoms;
  for (let r = 0; r < d.length; r += 4) set(d[r], d[r + 3], 3);
  return cls;
}

/**
 * The force field of one system. `energies(pos)` gives each term as a 0-d tensor of pos ([n, 3], the
 * force field's dtype); `energyAndForces` adds −∂E/∂x from autograd.
 */
export class ForceField {
  readonly n: number;
  readonly dtype: DType;
  readonly coulombConstant: number;
  readonly opts: ForceFieldOptions;
  private bond!: Group;
  private angleHarm!: Group;
  private angleCharmm!: Group;
  private dihMulti!: Group;
  private dihCharmm!: Group;
  private impHarm!: Group;
  /** Non-bonded pair lists: i, j (long) and per-pair A = 4εσ¹², B = 4εσ⁶, C·qi·qj (scaled by special factors). */
  private pairs!: { i: Tensor; j: Tensor; a: Tensor; b: Tensor; qq: Tensor; count: number };
  private special: Map<number, number>[];
  /** Positions at the last neighbour-list build (only when a cut-off is set). */
  private builtAt?: Float64Array;

  constructor(
    readonly sys: LammpsSystem,
    readonly pair: PairSettings,
    opts: ForceFieldOptions = {},
  ) {
    this.n = sys.nAtoms;
    this.opts = opts;
    this.dtype = opts.dtype ?? 'float64';
    this.coulombConstant = opts.coulombConstant ?? COULOMB_LAMMPS;
    if (pair.nTypes < sys.nTypes) {
      throw new GenlabError(
        'data',
        `${pair.file} sets pair coefficients of ${pair.nTypes} atom types, ${sys.file} has ${sys.nTypes}`,
      );
    }
    this.special = opts.exclusions === 'reference' ? referencePairs(sys) : specialPairs(sys.nAtoms, sys.bonds.atoms);
    this.buildBonded();
    this.buildPairs(sys.pos);
  }

  private buildBonded(): void {
    const mv = this.opts.movable;
    const inverse = this.opts.complement ?? false;
    const touches = (top: Topology, k: number) => (r: number) => {
      if (!mv) return true;
      for (let j = 0; j < k; j++) if (mv[top.atoms[r * k + j]]) return !inverse;
      return inverse;
    };
    const s = this.sys;
    const make = (top: Topology, k: number, coeffs: Coeff[], style: string): Group => {
      const { idx, cols, n } = byStyle(top, k, coeffs, style, touches(top, k));
      const at = Array.from({ length: k }, (_, j) =>
        tensor(
          Int32Array.from({ length: n }, (_, m) => idx[m * k + j]),
          { dtype: 'int64' },
        ).keep(),
      );
      return {
        at,
        count: n,
        coeff: cols.map((c) => tensor(c, { dtype: this.dtype }).keep()),
      };
    };
    this.bond = make(s.bonds, 2, s.bondCoeffs, 'harmonic');
    this.angleHarm = make(s.angles, 3, s.angleCoeffs, 'harmonic');
    this.angleCharmm = make(s.angles, 3, s.angleCoeffs, 'charmm');
    this.dihMulti = make(s.dihedrals, 4, s.dihedralCoeffs, 'multi/harmonic');
    this.dihCharmm = make(s.dihedrals, 4, s.dihedralCoeffs, 'charmm');
    this.impHarm = make(s.impropers, 4, s.improperCoeffs, 'harmonic');
    for (const [coeffs, what, known] of [
      [s.bondCoeffs, 'bond', ['harmonic']],
      [s.angleCoeffs, 'angle', ['harmonic', 'charmm']],
      [s.dihedralCoeffs, 'dihedral', ['multi/harmonic', 'charmm']],
      [s.improperCoeffs, 'improper', ['harmonic']],
    ] as const) {
      const other = coeffs.find((c) => c && !(known as readonly string[]).includes(c.style));
      if (other) throw new GenlabError('data', `${s.file}: ${what} style ${other.style} is not supported`);
    }
    if (
      !this.opts.charmmDihedralTimesWeight &&
      s.dihedralCoeffs.some((c) => c?.style === 'charmm' && c.values[3] !== 0)
    ) {
      throw new GenlabError(
        'data',
        `${s.file}: CHARMM dihedrals with a 1-4 weight w ≠ 0 are not supported (the 1-4 pairs come from special_bonds)`,
      );
    }
  }

  /** (Re)builds the non-bonded pair list; with a cut-off, only pairs closer than cut-off + skin. */
  buildPairs(pos: Float64Array | Float32Array): void {
    const n = this.n;
    const { sys, pair } = this;
    const mv = this.opts.movable;
    const cut = Math.max(
      this.opts.ljCutoff ?? Number.POSITIVE_INFINITY,
      this.opts.coulombCutoff ?? Number.POSITIVE_INFINITY,
    );
    const reach = cut + (this.opts.skin ?? 2);
    const reach2 = Number.isFinite(reach) ? reach * reach : Number.POSITIVE_INFINITY;
    const nt = pair.nTypes;
    const lj = [1, pair.specialLj[0], pair.specialLj[1], pair.specialLj[2]];
    const cl = [1, pair.specialCoul[0], pair.specialCoul[1], pair.specialCoul[2]];
    // Upper bound on the count, so the lists are typed arrays filled once.
    const inverse = this.opts.complement ?? false;
    let bound = 0;
    if (mv) {
      let m = 0;
      for (let a = 0; a < n; a++) m += mv[a];
      bound = inverse ? ((n - m) * (n - m - 1)) / 2 : m * (n - m) + (m * (m - 1)) / 2;
    } else bound = (n * (n - 1)) / 2;
    const I = new Int32Array(bound);
    const J = new Int32Array(bound);
    const A = new Float64Array(bound);
    const B = new Float64Array(bound);
    const Q = new Float64Array(bound);
    const C = this.coulombConstant;
    // Special partners of i above i, as a dense row: class per j (0 = ordinary pair).
    const cls = new Uint8Array(n);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const sp = this.special[i];
      for (const [j, c] of sp) cls[j] = c;
      const xi = pos[3 * i];
      const yi = pos[3 * i + 1];
      const zi = pos[3 * i + 2];
      const ti = sys.type[i] * nt;
      const qi = C * sys.charge[i];
      const mi = mv ? mv[i] : 1;
      if (inverse && mi) {
        for (const j of sp.keys()) cls[j] = 0;
        continue;
      }
      for (let j = i + 1; j < n; j++) {
        if (mv && (inverse ? mv[j] : !mi && !mv[j])) continue;
        const c = cls[j];
        const fl = lj[c];
        const fc = cl[c];
        if (fl === 0 && fc === 0) continue;
        if (reach2 !== Number.POSITIVE_INFINITY) {
          const dx = pos[3 * j] - xi;
          const dy = pos[3 * j + 1] - yi;
          const dz = pos[3 * j + 2] - zi;
          if (dx * dx + dy * dy + dz * dz > reach2) continue;
        }
        const t = ti + sys.type[j];
        const e = pair.epsilon[t];
        const s6 = pair.sigma[t] ** 6;
        I[count] = i;
        J[count] = j;
        A[count] = 4 * e * s6 * s6 * fl;
        B[count] = 4 * e * s6 * fl;
        Q[count] = qi * sys.charge[j] * fc;
        count++;
      }
      for (const j of sp.keys()) cls[j] = 0;
    }
    if (this.pairs)
      for (const t of [this.pairs.i, this.pairs.j, this.pairs.a, this.pairs.b, this.pairs.qq]) t.dispose();
    const long = (v: Int32Array) => tensor(v.subarray(0, count), { dtype: 'int64' }).keep();
    const real = (v: Float64Array) => tensor(v.subarray(0, count), { dtype: this.dtype }).keep();
    this.pairs = { i: long(I), j: long(J), a: real(A), b: real(B), qq: real(Q), count };
    if (Number.isFinite(reach)) this.builtAt = Float64Array.from(pos);
  }

  /** Frees the tensors this force field holds. */
  dispose(): void {
    const groups = [this.bond, this.angleHarm, this.angleCharmm, this.dihMulti, this.dihCharmm, this.impHarm];
    for (const g of groups) for (const t of [...g.at, ...g.coeff]) t.dispose();
    for (const t of [this.pairs.i, this.pairs.j, this.pairs.a, this.pairs.b, this.pairs.qq]) t.dispose();
  }

  /** Number of non-bonded pairs in the current list. */
  get pairCount(): number {
    return this.pairs.count;
  }

  /** Rebuilds the neighbour list when an atom moved more than half the skin since the last build. */
  maybeRebuild(pos: Float64Array | Float32Array): boolean {
    if (!this.builtAt) return false;
    const half = ((this.opts.skin ?? 2) / 2) ** 2;
    for (let a = 0; a < this.n; a++) {
      const dx = pos[3 * a] - this.builtAt[3 * a];
      const dy = pos[3 * a + 1] - this.builtAt[3 * a + 1];
      const dz = pos[3 * a + 2] - this.builtAt[3 * a + 2];
      if (dx * dx + dy * dy + dz * dz > half) {
        this.buildPairs(pos);
        return true;
      }
    }
    return false;
  }

  /** Every term at positions pos ([n, 3]); differentiable. */
  energies(pos: Tensor): Energies {
    const row = (g: Group, k: number) => pos.indexSelect(0, g.at[k]);
    const zero = () => tensor(0, { dtype: this.dtype });
    const sum = (t: Tensor | undefined) => t?.sum() ?? zero();
    // Bonds: K (r − r0)².
    let bond: Tensor | undefined;
    if (this.bond.count > 0) {
      const r = row(this.bond, 0).sub(row(this.bond, 1)).norm(2, 1);
      bond = this.bond.coeff[0].mul(r.sub(this.bond.coeff[1]).square());
    }
    // Angles: K (θ − θ0)², plus K_UB (r13 − r_UB)² for charmm. θ = atan2(|u×v|, u·v) keeps the gradient finite.
    const clampCos = this.opts.clampCos;
    const angleOf = (g: Group) => {
      const c = row(g, 1);
      const u = row(g, 0).sub(c);
      const v = row(g, 2).sub(c);
      if (clampCos !== undefined) {
        const cos = u
          .mul(v)
          .sum(1)
          .div(u.norm(2, 1).mul(v.norm(2, 1)));
        return ops.acos(cos.clamp(-clampCos, clampCos));
      }
      return atan2(ops.linalgCross(u, v, { dim: 1 }).norm(2, 1), u.mul(v).sum(1));
    };
    const parts: Tensor[] = [];
    if (this.angleHarm.count > 0) {
      const [k, t0] = this.angleHarm.coeff;
      parts.push(k.mul(angleOf(this.angleHarm).sub(t0.mul(DEG)).square()).sum());
    }
    if (this.angleCharmm.count > 0) {
      const g = this.angleCharmm;
      const [k, t0, kub, rub] = g.coeff;
      const r13 = row(g, 0).sub(row(g, 2)).norm(2, 1);
      parts.push(
        k
          .mul(angleOf(g).sub(t0.mul(DEG)).square())
          .add(kub.mul(r13.sub(rub).square()))
          .sum(),
      );
    }
    const angle = parts.length ? parts.reduce((a, b) => a.add(b)) : zero();
    // Dihedral φ of atoms 1-2-3-4 (IUPAC sign), from atan2 of the two plane normals.
    const phiOf = (g: Group) => {
      const x1 = row(g, 0);
      const x2 = row(g, 1);
      const x3 = row(g, 2);
      const x4 = row(g, 3);
      const b1 = x2.sub(x1);
      const b2 = x3.sub(x2);
      const b3 = x4.sub(x3);
      const n1 = ops.linalgCross(b1, b2, { dim: 1 });
      const n2 = ops.linalgCross(b2, b3, { dim: 1 });
      const x = n1.mul(n2).sum(1);
      if (clampCos !== undefined) {
        return ops.acos(x.div(n1.norm(2, 1).mul(n2.norm(2, 1))).clamp(-clampCos, clampCos));
      }
      const y = b2.norm(2, 1).mul(b1.mul(n2).sum(1));
      return atan2(y, x);
    };
    const dparts: Tensor[] = [];
    if (this.dihMulti.count > 0) {
      // multi/harmonic: Σ_{n=1..5} A_n cos^{n−1} φ.
      const c = phiOf(this.dihMulti).cos();
      const A = this.dihMulti.coeff;
      let e = A[4];
      for (let m = 3; m >= 0; m--) e = e.mul(c).add(A[m]);
      dparts.push(e.sum());
    }
    if (this.dihCharmm.count > 0) {
      // charmm: K [1 + cos(nφ − d)].
      const [k, nn, d, w] = this.dihCharmm.coeff;
      let e = k.mul(nn.mul(phiOf(this.dihCharmm)).sub(d.mul(DEG)).cos().add(1));
      if (this.opts.charmmDihedralTimesWeight) e = e.mul(w);
      dparts.push(e.sum());
    }
    const dihedral = dparts.length ? dparts.reduce((a, b) => a.add(b)) : zero();
    // Impropers: K (χ − χ0)², χ = |φ| in [0, π] as LAMMPS's acos.
    let improper: Tensor | undefined;
    if (this.impHarm.count > 0) {
      const [k, chi0] = this.impHarm.coeff;
      improper = k.mul(phiOf(this.impHarm).abs().sub(chi0.mul(DEG)).square());
    }
    const { vdw, coulomb } = this.nonBonded(pos);
    return { bond: sum(bond), angle, dihedral, improper: sum(improper), vdw, coulomb };
  }

  private nonBonded(pos: Tensor): { vdw: Tensor; coulomb: Tensor } {
    const p = this.pairs;
    if (p.count === 0) return { vdw: tensor(0, { dtype: this.dtype }), coulomb: tensor(0, { dtype: this.dtype }) };
    const d = pos.indexSelect(0, p.i).sub(pos.indexSelect(0, p.j));
    const r2 = d.square().sum(1);
    const inv2 = r2.reciprocal();
    const inv6 = inv2.mul(inv2).mul(inv2);
    let lj = p.a.mul(inv6).sub(p.b).mul(inv6);
    let cl = p.qq.mul(inv2.sqrt());
    const masked = (e: Tensor, cut: number | undefined) => {
      if (cut === undefined) return e;
      const inside = noGrad(() => r2.detach().lt(cut * cut));
      return e.mul(inside.to(this.dtype));
    };
    lj = masked(lj, this.opts.ljCutoff);
    cl = masked(cl, this.opts.coulombCutoff);
    return { vdw: lj.sum(), coulomb: cl.sum() };
  }

  /** Energies and forces (−∂E/∂x, [n, 3]) at positions given as a flat array or tensor. */
  energyAndForces(
    x: Tensor | Float64Array,
    terms: readonly Term[] = TERMS,
  ): { energies: Record<Term, number>; total: number; forces: Tensor } {
    // The temporaries of the (possibly millions of) pairs are freed when this returns.
    return tidy(() => {
      const pos = (
        x instanceof Float64Array ? tensor(x, { dtype: this.dtype, shape: [this.n, 3] }) : x.detach().to(this.dtype)
      )
        .clone()
        .requiresGrad_();
      const e = this.energies(pos);
      const total = terms.map((t) => e[t]).reduce((a, b) => a.add(b));
      total.backward();
      const g = pos.grad;
      if (!g) throw new Error('no gradient');
      const energies = Object.fromEntries(TERMS.map((t) => [t, e[t].item()])) as Record<Term, number>;
      return { energies, total: total.item(), forces: g.neg().keep() };
    });
  }
}

/** Sum of the terms. */
export function totalOf(e: Energies): Tensor {
  return TERMS.map((t) => e[t]).reduce((a, b) => a.add(b));
}
