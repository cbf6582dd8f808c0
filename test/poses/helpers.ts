// Tiny LAMMPS systems written as real data files and input scripts, so tests go through the readers.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLammpsData, readLammpsInput } from '../../src/poses/lammps.js';

export interface Tiny {
  /** [type (1-based), charge, x, y, z] per atom. */
  atoms: [number, number, number, number, number][];
  bonds?: [number, number, number][]; // type, a, b (1-based ids)
  angles?: [number, number, number, number][];
  dihedrals?: [number, number, number, number, number][];
  impropers?: [number, number, number, number, number][];
  bondCoeffs?: string[];
  angleCoeffs?: string[];
  dihedralCoeffs?: string[];
  improperCoeffs?: string[];
  /** pair_coeff lines' "i j eps sigma". */
  pairs: string[];
  mix?: 'arithmetic' | 'geometric';
  special?: string;
}

export const tmp = mkdtempSync(join(tmpdir(), 'genlab-poses-'));
let serial = 0;

/** Writes the system's data file and input script; returns their paths. */
export function writeTiny(t: Tiny): { data: string; input: string } {
  const nTypes = Math.max(...t.atoms.map((a) => a[0]));
  const sec = (title: string, rows: (string | number)[][] | undefined) =>
    rows?.length ? [``, title, ``, ...rows.map((r, k) => `${k + 1} ${r.join(' ')}`)] : [];
  const coeffs = (title: string, rows: string[] | undefined) =>
    rows?.length ? [``, title, ``, ...rows.map((r, k) => `${k + 1} ${r}`)] : [];
  const nt = (rows: unknown[] | undefined) => Math.max(1, rows?.length ?? 0);
  const lines = [
    'tiny',
    '',
    `${t.atoms.length} atoms`,
    `${t.bonds?.length ?? 0} bonds`,
    `${t.angles?.length ?? 0} angles`,
    `${t.dihedrals?.length ?? 0} dihedrals`,
    `${t.impropers?.length ?? 0} impropers`,
    '',
    `${nTypes} atom types`,
    `${nt(t.bondCoeffs)} bond types`,
    `${nt(t.angleCoeffs)} angle types`,
    `${nt(t.dihedralCoeffs)} dihedral types`,
    `${nt(t.improperCoeffs)} improper types`,
    '',
    '-10 10 xlo xhi',
    '-10 10 ylo yhi',
    '-10 10 zlo zhi',
    '',
    'Masses',
    '',
    ...Array.from({ length: nTypes }, (_, k) => `${k + 1} 12.011`),
    ...coeffs('Bond Coeffs', t.bondCoeffs),
    ...coeffs('Angle Coeffs', t.angleCoeffs),
    ...coeffs('Dihedral Coeffs', t.dihedralCoeffs),
    ...coeffs('Improper Coeffs', t.improperCoeffs),
    '',
    'Atoms',
    '',
    ...t.atoms.map((a, k) => `${k + 1} 1 ${a.join(' ')}`),
    ...sec('Bonds', t.bonds),
    ...sec('Angles', t.angles),
    ...sec('Dihedrals', t.dihedrals),
    ...sec('Impropers', t.impropers),
    '',
  ];
  const n = serial++;
  const data = join(tmp, `tiny${n}.lmp`);
  const input = join(tmp, `tiny${n}.input`);
  writeFileSync(data, lines.join('\n'));
  writeFileSync(
    input,
    [
      'units real',
      'atom_style full',
      'bond_style hybrid harmonic',
      'angle_style hybrid harmonic charmm',
      'dihedral_style hybrid charmm multi/harmonic',
      'improper_style hybrid harmonic',
      t.special ?? 'special_bonds lj 0.0 0.0 1.0 coul 0.0 0.0 1.0',
      `read_data tiny${n}.lmp`,
      'pair_style lj/cut/coul/cut 100.0',
      ...t.pairs.map((p) => `pair_coeff ${p}`),
      `pair_modify mix ${t.mix ?? 'arithmetic'}`,
      'run 0',
    ].join('\n'),
  );
  return { data, input };
}

export function loadTiny(t: Tiny) {
  const { data, input } = writeTiny(t);
  const sys = readLammpsData(data);
  return { sys, pair: readLammpsInput(input, sys.nTypes), data, input };
}

export const EMBEDDED_LIGAND = {
  data: 'data/poses/fxa-ligand/LIG_converted.lmp',
  input: 'data/poses/fxa-ligand/LIG_converted.input',
  rotbond: 'data/poses/fxa-ligand/LIG_converted.rotbond',
};
