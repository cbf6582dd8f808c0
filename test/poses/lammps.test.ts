// The force field against LAMMPS (Debian's `lammps`): per-term energies within 1e-6 relative and
// forces within 1e-5 relative in float64, non-periodic, no k-space, every pair inside the cut-off.
// Both ligands always; both complexes (3,842 and 3,322 atoms, 7.4M and 5.5M pairs) with GENLAB_POSES_FULL=1.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ForceField } from '../../src/poses/forcefield.js';
import { compareWithLammps, findLammps, runLammps } from '../../src/poses/peers.js';
import { EMBEDDED_LIGAND, loadTiny } from './helpers.js';

const lmp = findLammps();
const skipLammps = lmp ? false : 'LAMMPS (lmp) not found: install Debian lammps; LAMMPS comparison skipped';
const ROOT = process.env.GENLAB_3T ?? join('..', 'shared', 'data', '3t');
const STRUCT = {
  FXa: join(ROOT, 'Converted_Structures/1ezq_ENS_dH/FXA_dock/cocry_2d1j_D01_LIG_dock_1ezq_1'),
  HSP90: join(ROOT, 'Converted_Structures/1uyg_ENS/HSP90_dock/cocry_2fwy_H64_LIG_dock_1uyg_1'),
};

function check(data: string, input: string) {
  const c = compareWithLammps(lmp as string, data, input);
  for (const [t, rel] of Object.entries(c.relative))
    assert.ok(rel <= 1e-6, `${t}: ${c.genlab[t as 'bond']} vs ${c.lammps[t as 'bond']}`);
  assert.ok(c.forceRelative <= 1e-5, `forces off by ${c.forceRelative} relative`);
  assert.ok(c.forceRelativeWithImpropers <= 1e-5, `forces with impropers off by ${c.forceRelativeWithImpropers}`);
}

test('FXa ligand (embedded): energies and forces agree with LAMMPS', { skip: skipLammps }, () => {
  check(EMBEDDED_LIGAND.data, EMBEDDED_LIGAND.input);
});

test('HSP90 ligand: energies and forces agree with LAMMPS', {
  skip: skipLammps || (!existsSync(STRUCT.HSP90) && `no 3T data at ${ROOT} (set GENLAB_3T)`),
}, () => {
  check(join(STRUCT.HSP90, 'LIG_converted.lmp'), join(STRUCT.HSP90, 'LIG_converted.input'));
});

const full = process.env.GENLAB_POSES_FULL === '1' ? false : 'complexes take ~10 s each; set GENLAB_POSES_FULL=1';
for (const [name, dir] of Object.entries(STRUCT)) {
  test(`${name} complex: energies and forces agree with LAMMPS`, {
    skip: skipLammps || full || (!existsSync(dir) && `no 3T data at ${ROOT}`),
  }, () => {
    check(join(dir, 'complex_converted.lmp'), join(dir, 'complex_converted.input'));
  });
}

test('the sign of φ in a CHARMM dihedral with d = 90° and a Urey–Bradley angle agree with LAMMPS', {
  skip: skipLammps,
}, () => {
  const DEG = Math.PI / 180;
  const { sys, pair, input } = loadTiny({
    atoms: [
      [1, 0.3, 1, 0.1, 0],
      [1, -0.2, 0, 0, 0.1],
      [2, 0.1, 0, 0.2, 1.5],
      [2, -0.2, Math.cos(70 * DEG), Math.sin(70 * DEG), 1.7],
      [1, 0.0, -3, 2, 1],
    ],
    bonds: [
      [1, 1, 2],
      [1, 2, 3],
      [1, 3, 4],
    ],
    bondCoeffs: ['harmonic 300 1.2'],
    angles: [
      [1, 1, 2, 3],
      [2, 2, 3, 4],
    ],
    angleCoeffs: ['charmm 40 100 25 2.2', 'harmonic 30 115'],
    dihedrals: [
      [1, 1, 2, 3, 4],
      [2, 1, 2, 3, 4],
    ],
    dihedralCoeffs: ['charmm 1.5 1 90 0.0', 'charmm 0.7 3 0 0.0'],
    impropers: [[1, 2, 1, 3, 4]],
    improperCoeffs: ['harmonic 20 10'],
    pairs: ['1 1 0.1 3.0', '2 2 0.2 3.4'],
  });
  const ours = new ForceField(sys, pair).energyAndForces(sys.pos);
  const theirs = runLammps(lmp as string, sys, input);
  for (const [t, v] of Object.entries(theirs.energies)) {
    const o = ours.energies[t as 'bond'];
    assert.ok(Math.abs(o - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${t}: ${o} vs ${v}`);
  }
  const f = ours.forces.toTypedArray() as Float64Array;
  for (let k = 0; k < f.length; k++)
    assert.ok(Math.abs(f[k] - theirs.forces[k]) < 1e-8, `force ${k}: ${f[k]} vs ${theirs.forces[k]}`);
});
