// Every force-field term on tiny hand-computed systems, the special-bonds rules, float64 gradients
// against finite differences, float32 against float64, and the readers' one-line errors.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COULOMB_LAMMPS, ForceField, TERMS, totalOf } from '../../src/poses/forcefield.js';
import { readLammpsData, readLammpsInput, readRotbond, readSecondaryFragments } from '../../src/poses/lammps.js';
import { tensor } from '../../src/torch/creation.js';
import { gradcheck } from '../../src/torch/gradcheck.js';
import { EMBEDDED_LIGAND, loadTiny, type Tiny, tmp } from './helpers.js';

const DEG = Math.PI / 180;
const close = (a: number, b: number, rel = 1e-12, what = '') =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what} ${a} vs ${b}`);

function energies(t: Tiny, opts = {}) {
  const { sys, pair } = loadTiny(t);
  const ff = new ForceField(sys, pair, opts);
  return ff.energyAndForces(sys.pos).energies;
}

const NO_LJ = ['1 1 0.0 3.0'];

test('harmonic bond: K (r − r0)²', () => {
  const e = energies({
    atoms: [
      [1, 0, 0, 0, 0],
      [1, 0, 1.5, 0, 0],
    ],
    bonds: [[1, 1, 2]],
    bondCoeffs: ['harmonic 100 1.0'],
    pairs: NO_LJ,
  });
  close(e.bond, 100 * 0.5 ** 2);
  for (const t of TERMS) if (t !== 'bond') assert.equal(e[t], 0);
});

test('harmonic and CHARMM angles: K (θ − θ0)² (+ K_UB (r13 − r_UB)²)', () => {
  const e = energies({
    atoms: [
      [1, 0, 1, 0, 0],
      [1, 0, 0, 0, 0],
      [1, 0, 0, 1, 0],
    ],
    bonds: [
      [1, 1, 2],
      [1, 2, 3],
    ],
    bondCoeffs: ['harmonic 0 1.0'],
    angles: [
      [1, 1, 2, 3],
      [2, 1, 2, 3],
    ],
    angleCoeffs: ['harmonic 50 109.5', 'charmm 30 100 20 1.5'],
    pairs: NO_LJ,
  });
  const want =
    50 * (Math.PI / 2 - 109.5 * DEG) ** 2 + 30 * (Math.PI / 2 - 100 * DEG) ** 2 + 20 * (Math.SQRT2 - 1.5) ** 2;
  close(e.angle, want);
});

// x1-x2 along −x, x2-x3 along z, x4 rotated by `deg` about z: dihedral φ = +deg (IUPAC).
const dihedralAtoms = (deg: number): Tiny['atoms'] => [
  [1, 0, 1, 0, 0],
  [1, 0, 0, 0, 0],
  [1, 0, 0, 0, 1.5],
  [1, 0, Math.cos(deg * DEG), Math.sin(deg * DEG), 1.5],
];

test('multi/harmonic and CHARMM dihedrals at φ = 60°, with the sign of φ', () => {
  const e = energies({
    atoms: dihedralAtoms(60),
    dihedrals: [
      [1, 1, 2, 3, 4],
      [2, 1, 2, 3, 4],
      [3, 1, 2, 3, 4],
    ],
    dihedralCoeffs: ['multi/harmonic 1 2 3 4 5', 'charmm 2.0 2 180 0.0', 'charmm 1.0 1 90 0.0'],
    pairs: NO_LJ,
  });
  const c = 0.5;
  const multi = 1 + 2 * c + 3 * c ** 2 + 4 * c ** 3 + 5 * c ** 4;
  const charmm = 2 * (1 + Math.cos(2 * 60 * DEG - Math.PI)) + 1 * (1 + Math.cos(60 * DEG - 90 * DEG));
  close(e.dihedral, multi + charmm);
  // Atoms 1 and 4 are a 1-4 pair at full strength; nothing else is non-bonded (no bonds listed).
});

test('harmonic improper: K (χ − χ0)² with χ the unsigned angle between the planes', () => {
  const e = energies({
    atoms: dihedralAtoms(-10),
    impropers: [
      [1, 1, 2, 3, 4],
      [2, 1, 2, 3, 4],
    ],
    improperCoeffs: ['harmonic 40 0', 'harmonic 7 25'],
    pairs: NO_LJ,
  });
  close(e.improper, 40 * (10 * DEG) ** 2 + 7 * (15 * DEG) ** 2);
});

test('Lennard-Jones with explicit, overridden and mixed pair coefficients; Coulomb', () => {
  const atoms: Tiny['atoms'] = [
    [1, 0.5, 0, 0, 0],
    [2, -0.3, 4, 0, 0],
    [3, 0.2, 0, 5, 0],
  ];
  const lj = (eps: number, sig: number, r: number) => 4 * eps * ((sig / r) ** 12 - (sig / r) ** 6);
  const pairs = ['1 1 0.9 9.0', '1 1 0.2 3.0', '2 2 0.1 4.0', '3 3 0.3 3.5', '3 1 0.05 2.0'];
  const r23 = Math.sqrt(41);
  const arith = energies({ atoms, pairs });
  close(arith.vdw, lj(Math.sqrt(0.02), 3.5, 4) + lj(0.05, 2.0, 5) + lj(Math.sqrt(0.03), 3.75, r23));
  const coul = COULOMB_LAMMPS * ((0.5 * -0.3) / 4 + (0.5 * 0.2) / 5 + (-0.3 * 0.2) / r23);
  close(arith.coulomb, coul);
  const geo = energies({ atoms, pairs, mix: 'geometric' });
  close(geo.vdw, lj(Math.sqrt(0.02), Math.sqrt(12), 4) + lj(0.05, 2.0, 5) + lj(Math.sqrt(0.03), Math.sqrt(14), r23));
  // The Coulomb constant is an option (the 3T code used 332.33).
  const ref = energies({ atoms, pairs }, { coulombConstant: 332.33 });
  close(ref.coulomb, (coul * 332.33) / COULOMB_LAMMPS);
  // Hard cut-offs: only the pair at 4 Å is inside 4.5 Å.
  const cut = energies({ atoms, pairs }, { ljCutoff: 4.5, coulombCutoff: 4.5 });
  close(cut.vdw, lj(Math.sqrt(0.02), 3.5, 4));
  close(cut.coulomb, (COULOMB_LAMMPS * 0.5 * -0.3) / 4);
});

test('special bonds: 1-2 and 1-3 excluded, 1-4 scaled by the special_bonds factors', () => {
  // A planar zigzag chain 1-2-3-4: the only non-bonded pair is 1-4.
  const atoms: Tiny['atoms'] = [
    [1, 0.4, 0, 0, 0],
    [1, -0.1, 1, 1, 0],
    [1, 0.1, 2, 0, 0],
    [1, -0.2, 3, 1, 0],
  ];
  const base = {
    atoms,
    bonds: [
      [1, 1, 2],
      [1, 2, 3],
      [1, 3, 4],
    ] as [number, number, number][],
    bondCoeffs: ['harmonic 0 1.0'],
    pairs: ['1 1 0.2 3.0'],
  };
  const r14 = Math.sqrt(10);
  const lj14 = 4 * 0.2 * ((3 / r14) ** 12 - (3 / r14) ** 6);
  const full = energies(base);
  close(full.vdw, lj14);
  close(full.coulomb, (COULOMB_LAMMPS * 0.4 * -0.2) / r14);
  const scaled = energies({ ...base, special: 'special_bonds lj 0.0 0.0 0.5 coul 0.0 0.0 0.25' });
  close(scaled.vdw, 0.5 * lj14);
  close(scaled.coulomb, (0.25 * COULOMB_LAMMPS * 0.4 * -0.2) / r14);
});

test("a 5-ring: LAMMPS's rule excludes every pair; the 3T code's dihedral-list rule restores the diagonals", () => {
  const atoms = Array.from({ length: 5 }, (_, k): [number, number, number, number, number] => [
    1,
    0,
    Math.cos((2 * Math.PI * k) / 5),
    Math.sin((2 * Math.PI * k) / 5),
    0,
  ]);
  const ring = [0, 1, 2, 3, 4];
  const t: Tiny = {
    atoms,
    bonds: ring.map((k) => [1, k + 1, ((k + 1) % 5) + 1]),
    angles: ring.map((k) => [1, k + 1, ((k + 1) % 5) + 1, ((k + 2) % 5) + 1]),
    dihedrals: ring.map((k) => [1, k + 1, ((k + 1) % 5) + 1, ((k + 2) % 5) + 1, ((k + 3) % 5) + 1]),
    bondCoeffs: ['harmonic 0 1.0'],
    angleCoeffs: ['harmonic 0 108'],
    dihedralCoeffs: ['multi/harmonic 0 0 0 0 0'],
    pairs: ['1 1 0.2 1.0'],
  };
  assert.equal(energies(t).vdw, 0);
  const diag = 2 * Math.sin((72 * Math.PI) / 180);
  const lj = 4 * 0.2 * ((1 / diag) ** 12 - (1 / diag) ** 6);
  close(energies(t, { exclusions: 'reference' }).vdw, 5 * lj);
});

function embeddedLigand(opts = {}) {
  const sys = readLammpsData(EMBEDDED_LIGAND.data);
  const pair = readLammpsInput(EMBEDDED_LIGAND.input, sys.nTypes);
  return { sys, ff: new ForceField(sys, pair, opts) };
}

test('float64 forces of the FXa ligand (every term) match central finite differences', () => {
  const { sys, ff } = embeddedLigand();
  const pos = tensor(sys.pos, { dtype: 'float64', shape: [sys.nAtoms, 3] }).requiresGrad_();
  const r = gradcheck((p) => totalOf(ff.energies(p)), [pos], { eps: 1e-6, atol: 1e-5, rtol: 1e-5 });
  assert.ok(r.ok, `max abs error ${r.maxAbsError}, rel ${r.maxRelError}`);
  assert.ok(r.maxRelError < 1e-7, `relative error ${r.maxRelError}`);
});

test('float32 energies and forces agree with float64 on the FXa ligand', () => {
  const { sys, ff } = embeddedLigand();
  const f32 = embeddedLigand({ dtype: 'float32' }).ff;
  const a = ff.energyAndForces(sys.pos);
  const b = f32.energyAndForces(sys.pos);
  for (const t of TERMS) close(b.energies[t], a.energies[t], 1e-4, t);
  const fa = a.forces.toTypedArray() as Float64Array;
  const fb = b.forces.toTypedArray() as Float64Array;
  let worst = 0;
  let scale = 0;
  for (let k = 0; k < fa.length; k++) {
    worst = Math.max(worst, Math.abs(fa[k] - fb[k]));
    scale = Math.max(scale, Math.abs(fa[k]));
  }
  assert.ok(worst / scale < 1e-4, `float32 forces off by ${worst / scale} relative`);
});

test('a cut-off with a neighbour list gives the all-pairs energy when the cut-off exceeds the system', () => {
  const { sys, ff } = embeddedLigand();
  const cut = embeddedLigand({ ljCutoff: 9, coulombCutoff: 9, skin: 2 }).ff;
  const big = embeddedLigand({ ljCutoff: 60, coulombCutoff: 60 }).ff;
  assert.ok(cut.pairCount < ff.pairCount);
  close(big.energyAndForces(sys.pos).total, ff.energyAndForces(sys.pos).total);
  // Moving one atom by more than half the skin rebuilds the list.
  const moved = Float64Array.from(sys.pos);
  moved[0] += 1.5;
  assert.equal(cut.maybeRebuild(moved), true);
  assert.equal(cut.maybeRebuild(moved), false);
});

function fails(text: string, name: string, read: (f: string) => unknown, pattern: RegExp) {
  const f = join(tmp, name);
  writeFileSync(f, text);
  assert.throws(
    () => read(f),
    (e: Error) => {
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.ok(e.message.includes(f), `names the file: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('malformed inputs give a one-line error naming the file, the line and the problem', () => {
  const good = 'x\n\n1 atoms\n1 atom types\n\nMasses\n\n1 12.0\n\nAtoms\n\n1 1 1 0.0 0.0 0.0 0.0\n';
  writeFileSync(join(tmp, 'ok.lmp'), good);
  assert.equal(readLammpsData(join(tmp, 'ok.lmp')).nAtoms, 1);
  fails(good.replace('0.0 0.0 0.0 0.0', '0.0 zz 0.0 0.0'), 'a.lmp', readLammpsData, /:12: Atoms line: field 5 'zz'/);
  fails(good.replace('1 1 1 0.0', '1 1 0.0'), 'b.lmp', readLammpsData, /:12: .*needs 7 or 10 fields, found 6/);
  fails(good.replace('1 1 1 0.0', '1 1 2 0.0'), 'c.lmp', readLammpsData, /:12: atom type '2'/);
  fails(
    good.replace('1 atoms', '2 atoms'),
    'd.lmp',
    readLammpsData,
    /:12: section 'Atoms' has 1 lines, the header says 2/,
  );
  fails(
    `${good.replace('1 atom types', '1 atom types\n1 bond types')}\nBond Coeffs\n\n1 morse 1 2 3\n`,
    'e.lmp',
    readLammpsData,
    /:17: bond style 'morse' is not supported/,
  );
  fails('pair_coeff 1 1 0.1\n', 'f.input', (f) => readLammpsInput(f), /:1: pair_coeff line needs 5 fields/);
  fails('pair_coeff 2 2 0.1 3\n', 'g.input', (f) => readLammpsInput(f), /no pair_coeff 1 1 line/);
  fails('angle_style hybrid cosine\n', 'h.input', (f) => readLammpsInput(f), /:1: angle_style cosine is not supported/);
  fails('id,atom1,atom2,type\n1,2,x,1\n', 'i.rotbond', (f) => readRotbond(f), /:2: atom id 'x'/);
  fails('type,start,end\nQ,1,4\n', 'j.txt', readSecondaryFragments, /:2: type 'Q' is not L, S or H/);
  fails('type,start,end\nL,5,4\n', 'k.txt', readSecondaryFragments, /:2: end residue '4'/);
});
