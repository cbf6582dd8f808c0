// 3T's tiered tensor transforms: the atoms that may move are split into groups (ligand fragments
// between rotatable bonds; per-residue backbone and side chain in the pocket). Tiers, applied in order:
//   1. free atoms: a displacement per atom (the reference optimises atom positions too; optional);
//   2. torsion: a group bonded to the rest through one atom turns about that bond (anchor → pivot);
//   3. rigid body: each group rotates about its centroid (Euler angles z·y·x) and translates;
//   4. segments: whole secondary-structure loops (and the whole ligand) rotate about their centroid
//      and translate as one rigid body.
// Adam then minimises the force field over these parameters. Atoms in no group never move.
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { tensor, zeros } from '../torch/creation.js';
import type { DType } from '../torch/dtype.js';
import { GenlabError } from '../torch/errors.js';
import { stack } from '../torch/functions.js';
import * as ops from '../torch/generated/ops.js';
import type { Tensor } from '../torch/tensor.js';
import type { GroAtoms, RotBond, Segment } from './lammps.js';

/** One rigid group; `torsion` when it hangs off the rest by a single bond (anchor outside, pivot inside). */
export interface Group {
  atoms: number[];
  torsion?: { anchor: number; pivot: number };
  /** Residue number (protein) or -1 (ligand). */
  resid: number;
}

export interface TierSpec {
  groups: Group[];
  /** Segments as lists of group indices. */
  segments: number[][];
}

/** Connected pieces of a molecule once its rotatable bonds are cut, smallest atom first. */
export function splitAtRotatableBonds(nAtoms: number, bonds: Int32Array, rot: RotBond[]): number[][] {
  const cut = new Set(rot.flatMap(({ a, b }) => [`${a},${b}`, `${b},${a}`]));
  const adj: number[][] = Array.from({ length: nAtoms }, () => []);
  for (let k = 0; k < bonds.length; k += 2) {
    const [a, b] = [bonds[k], bonds[k + 1]];
    if (cut.has(`${a},${b}`)) continue;
    adj[a].push(b);
    adj[b].push(a);
  }
  const seen = new Uint8Array(nAtoms);
  const out: number[][] = [];
  for (let s = 0; s < nAtoms; s++) {
    if (seen[s]) continue;
    const comp = [s];
    seen[s] = 1;
    for (let q = 0; q < comp.length; q++) {
      for (const b of adj[comp[q]]) {
        if (!seen[b]) {
          seen[b] = 1;
          comp.push(b);
        }
      }
    }
    out.push(comp.sort((x, y) => x - y));
  }
  return out;
}

/** Atom names of the backbone group of a residue (the 3T reference's list). */
export const BACKBONE = new Set(['N', 'C', 'O', 'CA', 'HN', 'H1', 'H2', 'H3', 'OT1', 'OT2', 'HA', 'HA1', 'HA2']);

/** Per residue of a .gro file (ligand residues skipped): the backbone group and the side-chain group. */
export function residueGroups(gro: GroAtoms, isLigand: (a: number) => boolean): Group[] {
  const out: Group[] = [];
  let a = 0;
  const n = gro.resid.length;
  while (a < n) {
    let b = a;
    while (b < n && gro.resid[b] === gro.resid[a] && gro.resname[b] === gro.resname[a]) b++;
    if (!isLigand(a)) {
      const back: number[] = [];
      const side: number[] = [];
      for (let k = a; k < b; k++) (BACKBONE.has(gro.name[k]) ? back : side).push(k);
      if (back.length) out.push({ atoms: back, resid: gro.resid[a] });
      if (side.length) out.push({ atoms: side, resid: gro.resid[a] });
    }
    a = b;
  }
  return out;
}

/** Groups with at least one atom within `radius` of `center` (the pocket). */
export function pocketGroups(groups: Group[], pos: Float64Array, center: number[], radius: number): Group[] {
  const r2 = radius * radius;
  return groups.filter((g) =>
    g.atoms.some((a) => {
      const dx = pos[3 * a] - center[0];
      const dy = pos[3 * a + 1] - center[1];
      const dz = pos[3 * a + 2] - center[2];
      return dx * dx + dy * dy + dz * dz < r2;
    }),
  );
}

/** Marks each group bonded to the rest through exactly one outside atom with its torsion axis. */
export function addTorsionAxes(groups: Group[], nAtoms: number, bonds: Int32Array): Group[] {
  const adj: number[][] = Array.from({ length: nAtoms }, () => []);
  for (let k = 0; k < bonds.length; k += 2) {
    adj[bonds[k]].push(bonds[k + 1]);
    adj[bonds[k + 1]].push(bonds[k]);
  }
  return groups.map((g) => {
    const inside = new Set(g.atoms);
    const outside = new Set<number>();
    for (const a of g.atoms) for (const b of adj[a]) if (!inside.has(b)) outside.add(b);
    if (outside.size !== 1) return { ...g, torsion: undefined };
    const anchor = [...outside][0];
    const pivots = adj[anchor].filter((b) => inside.has(b));
    if (pivots.length !== 1) return { ...g, torsion: undefined };
    return { ...g, torsion: { anchor, pivot: pivots[0] } };
  });
}

/** Segments: each loop (L) of the secondary-fragment file over the given groups, then the ligand groups. */
export function loopSegments(groups: Group[], fragments: Segment[], kinds: readonly string[] = ['L']): number[][] {
  const out: number[][] = [];
  for (const f of fragments) {
    if (!kinds.includes(f.kind)) continue;
    const members = groups.flatMap((g, k) => (g.resid >= f.start && g.resid <= f.end ? [k] : []));
    if (members.length) out.push(members);
  }
  const ligand = groups.flatMap((g, k) => (g.resid < 0 ? [k] : []));
  if (ligand.length) out.push(ligand);
  return out;
}

const long = (v: number[]) => tensor(Int32Array.from(v), { dtype: 'int64' }).keep();

/** Rotation matrices R = Rz(a)·Ry(b)·Rx(c) of angles [G, 3]: [G, 3, 3]. */
export function eulerMatrices(angles: Tensor): Tensor {
  const [a, b, c] = angles.unbind(1);
  const [sa, ca, sb, cb, sc, cc] = [a.sin(), a.cos(), b.sin(), b.cos(), c.sin(), c.cos()];
  const rows = [
    [ca.mul(cb), ca.mul(sb).mul(sc).sub(sa.mul(cc)), ca.mul(sb).mul(cc).add(sa.mul(sc))],
    [sa.mul(cb), sa.mul(sb).mul(sc).add(ca.mul(cc)), sa.mul(sb).mul(cc).sub(ca.mul(sc))],
    [sb.neg(), cb.mul(sc), cb.mul(cc)],
  ];
  return stack(
    rows.map((r) => stack(r, 1)),
    1,
  );
}

/** Rotates rows x about per-row centres by per-row matrices and adds per-row shifts. */
function rigid(x: Tensor, centre: Tensor, R: Tensor, shift: Tensor): Tensor {
  return ops
    .einsum('mij,mj->mi', [R, x.sub(centre)])
    .add(centre)
    .add(shift);
}

/** Per-group centroids of rows x, grouped by `of` (long [m]) into `count` groups of sizes `sizes`. */
function centroids(x: Tensor, of: Tensor, sizes: Tensor): Tensor {
  return ops.indexAdd(zeros([sizes.shape[0], 3], { dtype: x.dtype }), 0, of, x).div(sizes.unsqueeze(1));
}

/**
 * The tiered transform of one system as a Module: its parameters are the tiers' and `positions()`
 * gives every atom's position ([n, 3]) from the base positions (a buffer, so checkpoints carry it).
 */
export class TieredTransform extends Module<[], Tensor> {
  readonly n: number;
  readonly spec: TierSpec;
  readonly free: boolean;
  base: Tensor;
  delta?: Parameter;
  translation: Parameter;
  rotation: Parameter;
  torsion: Parameter;
  segmentTranslation: Parameter;
  segmentRotation: Parameter;
  private movIdx: Tensor;
  private groupOf: Tensor;
  private groupSize: Tensor;
  private tRows: Tensor;
  private tOf: Tensor;
  private anchor: Tensor;
  private pivot: Tensor;
  private sRows: Tensor;
  private sOf: Tensor;
  private sSize: Tensor;

  constructor(base: Float64Array, spec: TierSpec, opts: { dtype?: DType; freeAtoms?: boolean } = {}) {
    super();
    const dtype = opts.dtype ?? 'float64';
    this.n = base.length / 3;
    this.spec = spec;
    this.free = opts.freeAtoms ?? false;
    const seen = new Set<number>();
    const mov: number[] = [];
    const of: number[] = [];
    spec.groups.forEach((g, k) => {
      for (const a of g.atoms) {
        if (seen.has(a)) throw new GenlabError('data', `atom ${a} is in two movable groups`);
        seen.add(a);
        mov.push(a);
        of.push(k);
      }
    });
    const G = spec.groups.length;
    const rowOf = new Map(mov.map((a, r) => [a, r]));
    const tRows: number[] = [];
    const tOf: number[] = [];
    const anchors: number[] = [];
    const pivots: number[] = [];
    for (const g of spec.groups) {
      if (!g.torsion) continue;
      for (const a of g.atoms) {
        tRows.push(rowOf.get(a) as number);
        tOf.push(anchors.length);
      }
      anchors.push(g.torsion.anchor);
      pivots.push(g.torsion.pivot);
    }
    const sRows: number[] = [];
    const sOf: number[] = [];
    const sSize: number[] = [];
    spec.segments.forEach((members, k) => {
      let size = 0;
      for (const gi of members) {
        for (const a of spec.groups[gi].atoms) {
          sRows.push(rowOf.get(a) as number);
          sOf.push(k);
          size++;
        }
      }
      sSize.push(size);
    });
    this.movIdx = long(mov);
    this.groupOf = long(of);
    this.groupSize = tensor(
      spec.groups.map((g) => g.atoms.length),
      { dtype },
    ).keep();
    this.tRows = long(tRows);
    this.tOf = long(tOf);
    this.anchor = long(anchors);
    this.pivot = long(pivots);
    this.sRows = long(sRows);
    this.sOf = long(sOf);
    this.sSize = tensor(sSize, { dtype }).keep();
    this.base = this.registerBuffer('base', tensor(base, { dtype, shape: [this.n, 3] }).keep());
    if (this.free) this.delta = this.registerParameter('delta', new Parameter(zeros([mov.length, 3], { dtype })));
    this.translation = this.registerParameter('translation', new Parameter(zeros([G, 3], { dtype })));
    this.rotation = this.registerParameter('rotation', new Parameter(zeros([G, 3], { dtype })));
    this.torsion = this.registerParameter('torsion', new Parameter(zeros([anchors.length], { dtype })));
    const S = spec.segments.length;
    this.segmentTranslation = this.registerParameter('segmentTranslation', new Parameter(zeros([S, 3], { dtype })));
    this.segmentRotation = this.registerParameter('segmentRotation', new Parameter(zeros([S, 3], { dtype })));
  }

  /** Number of atoms that may move. */
  get movableCount(): number {
    return this.movIdx.shape[0];
  }

  /** 1 for each atom that may move. */
  movableMask(): Uint8Array {
    const m = new Uint8Array(this.n);
    for (const g of this.spec.groups) for (const a of g.atoms) m[a] = 1;
    return m;
  }

  /** The micro-tier parameters (free atoms, torsions, rigid groups) and the segment-tier ones. */
  tierParameters(): { micro: Parameter[]; segments: Parameter[] } {
    const micro = [this.translation, this.rotation, this.torsion];
    if (this.delta) micro.unshift(this.delta);
    return { micro, segments: [this.segmentTranslation, this.segmentRotation] };
  }

  forward(): Tensor {
    return this.positions();
  }

  /** Every atom's position after the tiers. */
  positions(): Tensor {
    if (this.movableCount === 0) return this.base;
    let x = this.base.indexSelect(0, this.movIdx);
    if (this.delta) x = x.add(this.delta);
    // Tier 2: torsions about anchor → pivot (Rodrigues), with the anchors where tier 1 left them.
    if (this.anchor.shape[0] > 0) {
      const all = this.delta ? ops.indexCopy(this.base, 0, this.movIdx, x) : this.base;
      const A = all.indexSelect(0, this.anchor).indexSelect(0, this.tOf);
      const B = all.indexSelect(0, this.pivot).indexSelect(0, this.tOf);
      const u = B.sub(A);
      const unit = u.div(u.norm(2, 1, { keepdim: true }));
      const rows = x.indexSelect(0, this.tRows);
      const R = rows.sub(A);
      const along = unit.mul(R.mul(unit).sum(1, { keepdim: true }));
      const perp = R.sub(along);
      const theta = this.torsion.indexSelect(0, this.tOf).unsqueeze(1);
      const turned = A.add(along)
        .add(perp.mul(theta.cos()))
        .add(ops.linalgCross(unit, perp, { dim: 1 }).mul(theta.sin()));
      x = ops.indexCopy(x, 0, this.tRows, turned);
    }
    // Tier 3: each group about its centroid.
    const com = centroids(x, this.groupOf, this.groupSize).indexSelect(0, this.groupOf);
    const R = eulerMatrices(this.rotation).indexSelect(0, this.groupOf);
    x = rigid(x, com, R, this.translation.indexSelect(0, this.groupOf));
    // Tier 4: whole segments about their centroids.
    if (this.sRows.shape[0] > 0) {
      const rows = x.indexSelect(0, this.sRows);
      const c = centroids(rows, this.sOf, this.sSize).indexSelect(0, this.sOf);
      const Rs = eulerMatrices(this.segmentRotation).indexSelect(0, this.sOf);
      x = ops.indexCopy(x, 0, this.sRows, rigid(rows, c, Rs, this.segmentTranslation.indexSelect(0, this.sOf)));
    }
    return ops.indexCopy(this.base, 0, this.movIdx, x);
  }

  /** Makes the current positions the new base and zeroes every parameter. */
  rebase(pos: Tensor): void {
    this.base.copy_(pos.detach());
    for (const p of this.parameters()) p.zero_();
  }
}

/** Every group of a spec is a list of atoms; their union as a sorted list. */
export function movableAtoms(spec: TierSpec): number[] {
  return spec.groups.flatMap((g) => g.atoms).sort((a, b) => a - b);
}
