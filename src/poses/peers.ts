// Independent peers of the force field: LAMMPS (Debian's `lammps`, binary `lmp`) run on a shipped
// structure with every non-bonded pair inside the cut-off (non-periodic box, no k-space), and the 3T
// reference implementation (Python, python3-torch + python3-ase) on the same coordinates.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ForceField, type ForceFieldOptions, TERMS, type Term } from './forcefield.js';
import { type LammpsSystem, readLammpsData, readLammpsInput } from './lammps.js';

const LAMMPS_BINARIES = ['lmp', 'lmp_serial', 'lammps', 'lmp_mpi'];

/** The LAMMPS binary on PATH (GENLAB_LAMMPS overrides), or undefined. */
export function findLammps(): string | undefined {
  const candidates = process.env.GENLAB_LAMMPS ? [process.env.GENLAB_LAMMPS] : LAMMPS_BINARIES;
  for (const b of candidates) {
    const r = spawnSync(b, ['-h'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (!r.error && (r.stdout ?? '').includes('LAMMPS')) return b;
  }
  return undefined;
}

export interface LammpsResult {
  energies: Record<Term, number>;
  /** LAMMPS's pe. */
  total: number;
  /** Forces in the order of the data file's Atoms section, flat. */
  forces: Float64Array;
  seconds: number;
}

/** The style and special_bonds lines of an input script, kept verbatim (they name the data file's styles). */
function settingLines(input: string): { styles: string[]; pairCoeffs: string[] } {
  const styles: string[] = [];
  const pairCoeffs: string[] = [];
  for (const raw of readFileSync(input, 'utf8').split(/\r?\n/)) {
    const t = raw.replace(/#.*/, '').trim();
    if (/^(bond|angle|dihedral|improper)_style\s/.test(t) || /^special_bonds\s/.test(t)) styles.push(t);
    if (/^pair_coeff\s/.test(t) || /^pair_modify\s+mix\s/.test(t)) pairCoeffs.push(t);
  }
  return { styles, pairCoeffs };
}

/**
 * Runs LAMMPS `run 0` on a data file with the input script's styles and pair coefficients, with
 * lj/cut/coul/cut at a cut-off beyond the system on a non-periodic box: all pairs, no k-space.
 */
export function runLammps(
  lmp: string,
  sys: LammpsSystem,
  input: string,
  opts: { zeroImpropers?: boolean } = {},
): LammpsResult {
  const dir = mkdtempSync(join(tmpdir(), 'genlab-lammps-'));
  try {
    // A copy of the data file whose box encloses the atoms (the shipped boxes are degenerate).
    let lo = [Infinity, Infinity, Infinity];
    let hi = [-Infinity, -Infinity, -Infinity];
    for (let a = 0; a < sys.nAtoms; a++) {
      lo = lo.map((v, k) => Math.min(v, sys.pos[3 * a + k]));
      hi = hi.map((v, k) => Math.max(v, sys.pos[3 * a + k]));
    }
    const extent = Math.max(...hi.map((h, k) => h - lo[k]));
    const cutoff = Math.ceil(2 * extent + 50);
    const text = readFileSync(sys.file, 'utf8')
      .split(/\r?\n/)
      .map((line) => {
        const m = /\s(x|y|z)lo \1hi\s*$/.exec(line);
        if (!m) return line.includes('xy xz yz') ? '' : line;
        const k = 'xyz'.indexOf(m[1]);
        return `${lo[k] - 10} ${hi[k] + 10} ${m[1]}lo ${m[1]}hi`;
      })
      .join('\n');
    writeFileSync(join(dir, 'system.lmp'), text);
    const { styles, pairCoeffs } = settingLines(input);
    const script = [
      'units real',
      'atom_style full',
      'boundary f f f',
      'atom_modify map array',
      ...styles,
      'read_data system.lmp',
      // LAMMPS's improper harmonic clamps sin χ at 0.001 (SMALL in improper_harmonic.cpp), so its forces
      // on near-planar impropers are approximate; this run leaves them out to compare the other forces.
      opts.zeroImpropers && sys.impropers.type.length > 0
        ? `improper_coeff * ${styles.some((l) => /^improper_style\s+hybrid/.test(l)) ? 'harmonic ' : ''}0.0 0.0`
        : '',
      `pair_style lj/cut/coul/cut ${cutoff}`,
      ...pairCoeffs,
      'neighbor 1.0 nsq',
      'neigh_modify one 100000 page 10000000',
      'thermo_style custom ebond eangle edihed eimp evdwl ecoul pe',
      'thermo_modify format float %.16g',
      'dump d all custom 1 forces.dump id fx fy fz',
      'dump_modify d sort id format float %.16g',
      'run 0',
    ].join('\n');
    writeFileSync(join(dir, 'in.check'), script);
    const t0 = performance.now();
    const r = spawnSync(lmp, ['-in', 'in.check', '-log', 'log.lammps', '-screen', 'none'], {
      cwd: dir,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    const seconds = (performance.now() - t0) / 1000;
    const log = existsSync(join(dir, 'log.lammps')) ? readFileSync(join(dir, 'log.lammps'), 'utf8') : '';
    if (r.status !== 0) {
      const err = log.split('\n').find((l) => l.startsWith('ERROR')) ?? r.stderr?.split('\n')[0] ?? String(r.error);
      throw new Error(`LAMMPS failed: ${err}`);
    }
    const lines = log.split('\n');
    const h = lines.findIndex((l) => /^\s*E_bond\s+E_angle/.test(l));
    if (h < 0) throw new Error('LAMMPS log has no thermo header');
    const v = lines[h + 1].trim().split(/\s+/).map(Number);
    const energies = { bond: v[0], angle: v[1], dihedral: v[2], improper: v[3], vdw: v[4], coulomb: v[5] };
    const dump = readFileSync(join(dir, 'forces.dump'), 'utf8').split('\n');
    const start = dump.findIndex((l) => l.startsWith('ITEM: ATOMS')) + 1;
    const byId = new Map<number, number[]>();
    for (const l of dump.slice(start)) {
      const w = l.trim().split(/\s+/).map(Number);
      if (w.length === 4) byId.set(w[0], w.slice(1));
    }
    const forces = new Float64Array(3 * sys.nAtoms);
    sys.ids.forEach((id, a) => {
      const f = byId.get(id);
      if (!f) throw new Error(`LAMMPS dump has no atom ${id}`);
      forces.set(f, 3 * a);
    });
    return { energies, total: v[6], forces, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** LAMMPS's Coulomb constant: qqr2e of units real (what `lmp` multiplies q_i q_j / r by). */
export const LAMMPS_QQR2E = 332.06371;

/** Debian's Python (python3-torch, python3-ase live there); GENLAB_PYTHON overrides it. */
export const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';

/** Why the reference cannot run here, or false. */
export function referenceMissing(refDir: string): string | false {
  if (!existsSync(join(refDir, 'GL_modules', 'GL_potential_model.py'))) return `no 3T reference code in ${refDir}`;
  const r = spawnSync(PYTHON, ['-c', 'import torch, ase, numpy'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${PYTHON} cannot import torch, ase and numpy (python3-torch, python3-ase)`;
  return false;
}

export interface ReferenceResult {
  energies: Record<Term, number>;
  total: number;
  /** Seconds per epoch of the reference's own phase loop, when epochs were asked for. */
  secondsPerEpoch?: number;
}

/**
 * Runs the 3T reference's PotentialModel in float64 on a data file (all atoms as one fixed group) and
 * returns its per-term energies; with `epochs`, also times that many Adam epochs of its complex
 * phase 2 (pocket groups, torsion axes and loop segments as minimize_GL_complex.py builds them).
 */
export function runReference(
  refDir: string,
  data: string,
  input: string,
  opts: { epochs?: number; structDir?: string; center?: number[]; radius?: number; threads?: number } = {},
): ReferenceResult {
  const script = `
import sys, time, json, os
import numpy as np, torch
torch.set_num_threads(${opts.threads ?? 1})
sys.path.insert(0, ${JSON.stringify(resolve(refDir))})
sys.path.insert(0, os.path.join(${JSON.stringify(resolve(refDir))}, 'GL_modules'))
from GL_modules.GL_data import data
from GL_modules.GL_potential_model import PotentialModel
epochs = ${opts.epochs ?? 0}
if epochs == 0:
    torch.set_default_dtype(torch.float64)
d = data(${JSON.stringify(resolve(input))}, ${JSON.stringify(resolve(data))})
out = {}
if epochs == 0:
    m = PotentialModel(d, [[0]])
    m.bonded_only = False
    with torch.no_grad():
        e = m()
    f = lambda t: float(t) if not isinstance(t, (int, float)) else float(t)
    out = dict(bond=f(m.E_bond), angle=f(m.E_angle), dihedral=f(m.E_dihedral), improper=f(m.E_improper),
               vdw=f(m.E_LJ), coulomb=f(m.E_coulomb), total=f(e))
else:
    from GL_modules.GL_data_util import (separate_protein_backbone_sidechain, extract_ligand_idx,
        segmentize_complex_ligand, segmentize_protein_atoms_from_center, generate_special_rotation_axes,
        generate_macro_mode)
    sd = ${JSON.stringify(resolve(opts.structDir ?? dirname(data)))}
    gro = os.path.join(sd, 'complex.gro')
    separate_protein_backbone_sidechain(d, gro)
    lig = extract_ligand_idx(d)
    ld = data(os.path.join(sd, 'LIG_converted.input'), os.path.join(sd, 'LIG_converted.lmp'))
    seg = segmentize_complex_ligand(d, ld, os.path.join(sd, 'LIG_converted.rotbond'))
    prot = segmentize_protein_atoms_from_center(d, lig, np.array(${JSON.stringify(opts.center ?? [0, 0, 0])}), ${opts.radius ?? 20})
    mov = prot.copy() + seg
    sr = generate_special_rotation_axes(d, mov, complex_gro=gro)
    mm = generate_macro_mode(d, mov, gro, os.path.join(sd, 'complex_secondary_fragment.txt'))
    m = PotentialModel(d, mov)
    xyz = torch.Tensor(m.atom_pos.detach().numpy())
    m.attach_init_inputs(xyz, mov, special_rotation=sr, macro_mode=mm)
    m.jolt_movable_atoms(seed=1, max_translation=1.5, max_rotation=0.15)
    params = [p for p in m.movable_pos_list] + [m.translation_list, m.rotation_list, m.special_rotation_list]
    o1 = torch.optim.Adam(params, 1e-1)
    o2 = torch.optim.Adam([m.macro_mode_translation_list, m.macro_mode_rotation_list], 1e-2)
    def epoch():
        e = m()
        o1.zero_grad(); o2.zero_grad()
        e.backward()
        torch.nn.utils.clip_grad_value_(m.parameters(), 1e11)
        o1.step(); o2.step()
        return float(e)
    epoch()
    t0 = time.perf_counter()
    for _ in range(epochs):
        last = epoch()
    out = dict(secondsPerEpoch=(time.perf_counter() - t0) / epochs, total=last, movable=sum(len(g) for g in mov))
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 26, cwd: refDir });
  if (r.status !== 0) throw new Error(`reference failed: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0]}`);
  const o = JSON.parse(r.stdout.trim().split('\n').slice(-1)[0]);
  return {
    energies: {
      bond: o.bond,
      angle: o.angle,
      dihedral: o.dihedral,
      improper: o.improper,
      vdw: o.vdw,
      coulomb: o.coulomb,
    },
    total: o.total,
    secondsPerEpoch: o.secondsPerEpoch,
  };
}

export interface LammpsComparison {
  atoms: number;
  pairs: number;
  genlab: Record<Term, number>;
  lammps: Record<Term, number>;
  /** |genlab − LAMMPS| / |LAMMPS| per term (absolute where LAMMPS gives 0). */
  relative: Record<Term, number>;
  /** max |ΔF| / max |F| over every atom, impropers left out of both sides. */
  forceRelative: number;
  /** The same with impropers, over atoms in no near-planar improper (sin χ < 0.001, LAMMPS's clamp). */
  forceRelativeWithImpropers: number;
  nearPlanarImpropers: number;
  seconds: { genlab: number; lammps: number };
}

/** sin χ of each improper at the data file's coordinates. */
function improperSines(sys: LammpsSystem): number[] {
  const out: number[] = [];
  const p = (a: number) => [0, 1, 2].map((k) => sys.pos[3 * a + k]);
  const sub = (a: number[], b: number[]) => a.map((v, i) => v - b[i]);
  const cross = (a: number[], b: number[]) => [
    a[1] * b[2] - a[2] * b[1],
    a[2] * b[0] - a[0] * b[2],
    a[0] * b[1] - a[1] * b[0],
  ];
  const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const I = sys.impropers.atoms;
  for (let r = 0; r < I.length; r += 4) {
    const [x1, x2, x3, x4] = [0, 1, 2, 3].map((k) => p(I[r + k]));
    const n1 = cross(sub(x2, x1), sub(x3, x2));
    const n2 = cross(sub(x3, x2), sub(x4, x3));
    const c = dot(n1, n2) / Math.sqrt(dot(n1, n1) * dot(n2, n2));
    out.push(Math.sqrt(Math.max(0, 1 - c * c)));
  }
  return out;
}

/** genlab's float64 energies and forces against LAMMPS's on one data file and input script. */
export function compareWithLammps(lmp: string, data: string, input: string): LammpsComparison {
  const sys = readLammpsData(data);
  const pair = readLammpsInput(input, sys.nTypes);
  const t0 = performance.now();
  const ff = new ForceField(sys, pair, { dtype: 'float64' });
  const full = ff.energyAndForces(sys.pos);
  const noImp = ff.energyAndForces(
    sys.pos,
    TERMS.filter((t) => t !== 'improper'),
  );
  const tg = (performance.now() - t0) / 1000;
  const l = runLammps(lmp, sys, input);
  const l0 = runLammps(lmp, sys, input, { zeroImpropers: true });
  const relative = Object.fromEntries(
    TERMS.map((t) => {
      const d = Math.abs(full.energies[t] - l.energies[t]);
      return [t, l.energies[t] === 0 ? d : d / Math.abs(l.energies[t])];
    }),
  ) as Record<Term, number>;
  const near = new Uint8Array(sys.nAtoms);
  const sines = improperSines(sys);
  sines.forEach((s, r) => {
    if (s < 0.001) for (let k = 0; k < 4; k++) near[sys.impropers.atoms[4 * r + k]] = 1;
  });
  const worst = (ours: Float64Array, theirs: Float64Array, skip?: Uint8Array) => {
    let d = 0;
    let scale = 0;
    for (let k = 0; k < ours.length; k++) {
      scale = Math.max(scale, Math.abs(theirs[k]));
      if (skip?.[Math.floor(k / 3)]) continue;
      d = Math.max(d, Math.abs(ours[k] - theirs[k]));
    }
    return d / scale;
  };
  const result: LammpsComparison = {
    atoms: sys.nAtoms,
    pairs: ff.pairCount,
    genlab: full.energies,
    lammps: l.energies,
    relative,
    forceRelative: worst(noImp.forces.toTypedArray() as Float64Array, l0.forces),
    forceRelativeWithImpropers: worst(full.forces.toTypedArray() as Float64Array, l.forces, near),
    nearPlanarImpropers: sines.filter((s) => s < 0.001).length,
    seconds: { genlab: tg, lammps: l.seconds + l0.seconds },
  };
  full.forces.dispose();
  noImp.forces.dispose();
  ff.dispose();
  return result;
}

/** The 3T reference's energy function in genlab's terms (its Coulomb constant, 9 Å LJ, its quirks). */
export const REFERENCE_FLAVOUR: ForceFieldOptions = {
  coulombConstant: 332.33,
  ljCutoff: 9,
  exclusions: 'reference',
  charmmDihedralTimesWeight: true,
  clampCos: 0.999999,
};

export interface ReferenceComparison {
  genlab: Record<Term, number>;
  reference: Record<Term, number>;
  genlabTotal: number;
  referenceTotal: number;
  /** Total with LAMMPS's rules (332.06371, all pairs, topology exclusions, exact angles), for contrast. */
  lammpsRulesTotal: number;
}

/** genlab (reference flavour, float64) against the reference's PotentialModel (float64) on one structure. */
export function compareWithReference(refDir: string, data: string, input: string): ReferenceComparison {
  const sys = readLammpsData(data);
  const pair = readLammpsInput(input, sys.nTypes);
  const ff = new ForceField(sys, pair, { ...REFERENCE_FLAVOUR, dtype: 'float64' });
  const ours = ff.energyAndForces(sys.pos);
  ours.forces.dispose();
  ff.dispose();
  const plain = new ForceField(sys, pair, { dtype: 'float64' });
  const lammpsRules = plain.energyAndForces(sys.pos);
  lammpsRules.forces.dispose();
  plain.dispose();
  const ref = runReference(refDir, data, input);
  return {
    genlab: ours.energies,
    reference: ref.energies,
    genlabTotal: ours.total,
    referenceTotal: ref.total,
    lammpsRulesTotal: lammpsRules.total,
  };
}
