// Readers for the 3T inputs: LAMMPS data files (atom_style full), the coefficient lines of their input
// scripts (pair_coeff, special_bonds, pair_modify mix, *_coeff), .rotbond files, secondary-fragment
// files and GROMACS .gro files. Every malformed line is a one-line error naming file, line and problem.
import { readFileSync } from 'node:fs';
import { GenlabError } from '../torch/errors.js';

/** Coefficients of one interaction type: its style name and its numbers, as LAMMPS reads them. */
export interface Coeff {
  style: string;
  values: number[];
}

/** Bonded interactions of one kind: atom indices (0-based, k per row, flat) and type (0-based). */
export interface Topology {
  atoms: Int32Array;
  type: Int32Array;
}

/** A LAMMPS data file in atom_style full, plus (optionally) the input script's settings. */
export interface LammpsSystem {
  file: string;
  nAtoms: number;
  nTypes: number;
  /** LAMMPS atom ids in the order of the Atoms section (the order of every array here). */
  ids: Int32Array;
  mol: Int32Array;
  /** 0-based atom type. */
  type: Int32Array;
  charge: Float64Array;
  /** x, y, z per atom, flat. */
  pos: Float64Array;
  masses: Float64Array;
  bonds: Topology;
  angles: Topology;
  dihedrals: Topology;
  impropers: Topology;
  bondCoeffs: Coeff[];
  angleCoeffs: Coeff[];
  dihedralCoeffs: Coeff[];
  improperCoeffs: Coeff[];
}

/** Non-bonded settings of a LAMMPS input script. */
export interface PairSettings {
  file: string;
  /** ε and σ per type pair, nTypes × nTypes, after the mixing rule. */
  epsilon: Float64Array;
  sigma: Float64Array;
  nTypes: number;
  mix: 'arithmetic' | 'geometric';
  /** special_bonds factors for 1-2, 1-3, 1-4 pairs. */
  specialLj: [number, number, number];
  specialCoul: [number, number, number];
  /** Styles named by bond_style etc. ('hybrid' dropped). */
  styles: Record<'bond' | 'angle' | 'dihedral' | 'improper', string[]>;
  /** *_coeff lines of the script, by type (1-based index into an array, undefined where unset). */
  coeffs: Record<'bond' | 'angle' | 'dihedral' | 'improper', (Coeff | undefined)[]>;
}

const bad = (file: string, line: number, problem: string) =>
  new GenlabError('data', `${file}:${line}: ${problem}`, 'check the file');

function readText(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/);
  } catch (e) {
    throw new GenlabError('data', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Numbers of fields [from, to) of a line, each one checked. */
function numbers(file: string, line: number, words: string[], from: number, to: number, what: string): number[] {
  if (words.length < to) throw bad(file, line, `${what} needs ${to} fields, found ${words.length}`);
  const out: number[] = [];
  for (let k = from; k < to; k++) {
    const v = Number(words[k]);
    if (!Number.isFinite(v)) throw bad(file, line, `${what}: field ${k + 1} '${words[k]}' is not a number`);
    out.push(v);
  }
  return out;
}

function integer(file: string, line: number, word: string | undefined, what: string, min: number, max: number): number {
  const v = Number(word);
  if (word === undefined || !Number.isInteger(v) || v < min || v > max) {
    throw bad(file, line, `${what} '${word ?? ''}' is not an integer in ${min}..${max}`);
  }
  return v;
}

const SECTIONS = [
  'Masses',
  'Atoms',
  'Velocities',
  'Bonds',
  'Angles',
  'Dihedrals',
  'Impropers',
  'Bond Coeffs',
  'Angle Coeffs',
  'Dihedral Coeffs',
  'Improper Coeffs',
  'Pair Coeffs',
] as const;
type Section = (typeof SECTIONS)[number];
const HEADER_COUNTS = ['atoms', 'bonds', 'angles', 'dihedrals', 'impropers'] as const;
const HEADER_TYPES = ['atom', 'bond', 'angle', 'dihedral', 'improper'] as const;

/** Reads a LAMMPS data file (atom_style full). */
export function readLammpsData(file: string): LammpsSystem {
  const lines = readText(file);
  const counts: Record<string, number> = {};
  const types: Record<string, number> = {};
  const body: Partial<Record<Section, { line: number; words: string[] }[]>> = {};
  let i = 1; // the first line is a title
  let section: Section | undefined;
  for (; i < lines.length; i++) {
    const text = lines[i].replace(/#.*/, '').trim();
    if (text === '') continue;
    if ((SECTIONS as readonly string[]).includes(text)) {
      section = text as Section;
      if (body[section]) throw bad(file, i + 1, `section '${text}' appears twice`);
      body[section] = [];
      continue;
    }
    const words = text.split(/\s+/);
    if (section === undefined) {
      const m = /^(\d+)\s+(atoms|bonds|angles|dihedrals|impropers)$/.exec(text);
      const t = /^(\d+)\s+(atom|bond|angle|dihedral|improper)\s+types$/.exec(text);
      if (m) counts[m[2]] = Number(m[1]);
      else if (t) types[t[2]] = Number(t[1]);
      else if (/\s(xlo xhi|ylo yhi|zlo zhi|xy xz yz)$/.test(text)) numbers(file, i + 1, words, 0, 2, 'box line');
      else if (/^\d+\s+(extra|ellipsoids|lines|triangles|bodies)/.test(text)) continue;
      else throw bad(file, i + 1, `unrecognised header line '${text}'`);
      continue;
    }
    if (/^[A-Za-z]/.test(text)) throw bad(file, i + 1, `unknown section '${text}'`);
    body[section]?.push({ line: i + 1, words });
  }
  for (const c of HEADER_COUNTS) counts[c] ??= 0;
  for (const t of HEADER_TYPES) types[t] ??= 0;
  if (counts.atoms === 0) throw bad(file, 2, "no 'N atoms' header line");
  const n = counts.atoms;
  const nTypes = types.atom;
  const expect = (s: Section, want: number) => {
    const got = body[s]?.length ?? 0;
    if (got !== want) {
      throw bad(file, body[s]?.[0]?.line ?? lines.length, `section '${s}' has ${got} lines, the header says ${want}`);
    }
    return body[s] ?? [];
  };
  const masses = new Float64Array(nTypes);
  for (const { line, words } of expect('Masses', nTypes)) {
    const t = integer(file, line, words[0], 'atom type', 1, nTypes);
    masses[t - 1] = numbers(file, line, words, 1, 2, 'Masses line')[0];
  }
  const ids = new Int32Array(n);
  const mol = new Int32Array(n);
  const type = new Int32Array(n);
  const charge = new Float64Array(n);
  const pos = new Float64Array(3 * n);
  const index = new Map<number, number>();
  expect('Atoms', n).forEach(({ line, words }, a) => {
    if (words.length !== 7 && words.length !== 10) {
      throw bad(file, line, `Atoms line (atom_style full) needs 7 or 10 fields, found ${words.length}`);
    }
    ids[a] = integer(file, line, words[0], 'atom id', 1, 2 ** 31 - 1);
    if (index.has(ids[a])) throw bad(file, line, `atom id ${ids[a]} appears twice`);
    index.set(ids[a], a);
    mol[a] = integer(file, line, words[1], 'molecule id', 0, 2 ** 31 - 1);
    type[a] = integer(file, line, words[2], 'atom type', 1, nTypes) - 1;
    const v = numbers(file, line, words, 3, 7, 'Atoms line');
    charge[a] = v[0];
    pos.set(v.slice(1), 3 * a);
  });
  const topology = (s: Section, k: number, count: number, nt: number): Topology => {
    const atoms = new Int32Array(k * count);
    const t = new Int32Array(count);
    expect(s, count).forEach(({ line, words }, r) => {
      if (words.length !== k + 2) throw bad(file, line, `${s} line needs ${k + 2} fields, found ${words.length}`);
      t[r] = integer(file, line, words[1], `${s} type`, 1, nt) - 1;
      for (let j = 0; j < k; j++) {
        const id = integer(file, line, words[2 + j], 'atom id', 1, 2 ** 31 - 1);
        const a = index.get(id);
        if (a === undefined) throw bad(file, line, `atom id ${id} is not in the Atoms section`);
        atoms[k * r + j] = a;
      }
    });
    return { atoms, type: t };
  };
  const coeffs = (s: Section, nt: number): Coeff[] => {
    const out: Coeff[] = new Array(nt);
    for (const { line, words } of body[s] ?? []) {
      const t = integer(file, line, words[0], `${s} type`, 1, nt);
      out[t - 1] = coeffOf(file, line, words.slice(1), s);
    }
    return out;
  };
  return {
    file,
    nAtoms: n,
    nTypes,
    ids,
    mol,
    type,
    charge,
    pos,
    masses,
    bonds: topology('Bonds', 2, counts.bonds, types.bond),
    angles: topology('Angles', 3, counts.angles, types.angle),
    dihedrals: topology('Dihedrals', 4, counts.dihedrals, types.dihedral),
    impropers: topology('Impropers', 4, counts.impropers, types.improper),
    bondCoeffs: coeffs('Bond Coeffs', types.bond),
    angleCoeffs: coeffs('Angle Coeffs', types.angle),
    dihedralCoeffs: coeffs('Dihedral Coeffs', types.dihedral),
    improperCoeffs: coeffs('Improper Coeffs', types.improper),
  };
}

/** How many numbers each supported style takes. */
export const STYLE_ARITY: Record<string, Record<string, number>> = {
  bond: { harmonic: 2 },
  angle: { harmonic: 2, charmm: 4 },
  dihedral: { charmm: 4, 'multi/harmonic': 5 },
  improper: { harmonic: 2 },
};

const KIND_OF: Record<string, keyof typeof STYLE_ARITY> = {
  'Bond Coeffs': 'bond',
  'Angle Coeffs': 'angle',
  'Dihedral Coeffs': 'dihedral',
  'Improper Coeffs': 'improper',
  bond_coeff: 'bond',
  angle_coeff: 'angle',
  dihedral_coeff: 'dihedral',
  improper_coeff: 'improper',
};

/** One coefficient line after its type: `style v1 v2 …` (or just numbers, taken as the lone style). */
function coeffOf(file: string, line: number, words: string[], where: string): Coeff {
  const kind = KIND_OF[where];
  const styles = STYLE_ARITY[kind];
  let style = words[0];
  let rest = words.slice(1);
  if (!(style in styles)) {
    if (Number.isFinite(Number(style)) && Object.keys(styles).length === 1) {
      style = Object.keys(styles)[0];
      rest = words;
    } else throw bad(file, line, `${kind} style '${style ?? ''}' is not supported (${Object.keys(styles).join(', ')})`);
  }
  const k = styles[style];
  if (rest.length !== k) throw bad(file, line, `${kind} style ${style} takes ${k} coefficients, found ${rest.length}`);
  return { style, values: numbers(file, line, rest, 0, k, `${style} coefficients`) };
}

/** Reads the settings of a LAMMPS input script that the force field needs. */
export function readLammpsInput(file: string, nTypes?: number): PairSettings {
  const lines = readText(file);
  const pairs: { line: number; i: number; j: number; eps: number; sig: number }[] = [];
  let mix = 'geometric' as 'arithmetic' | 'geometric'; // LAMMPS's default for lj/cut
  let specialLj: [number, number, number] = [0, 0, 0];
  let specialCoul: [number, number, number] = [0, 0, 0];
  const styles: PairSettings['styles'] = { bond: [], angle: [], dihedral: [], improper: [] };
  const coeffs: PairSettings['coeffs'] = { bond: [], angle: [], dihedral: [], improper: [] };
  let maxType = 0;
  lines.forEach((raw, k) => {
    const line = k + 1;
    const text = raw.replace(/#.*/, '').trim();
    if (text === '') return;
    const w = text.split(/\s+/);
    switch (w[0]) {
      case 'pair_coeff': {
        const i = integer(file, line, w[1], 'pair_coeff type', 1, 1e6);
        const j = integer(file, line, w[2], 'pair_coeff type', 1, 1e6);
        const [eps, sig] = numbers(file, line, w, 3, 5, 'pair_coeff line');
        pairs.push({ line, i: Math.min(i, j), j: Math.max(i, j), eps, sig });
        maxType = Math.max(maxType, i, j);
        break;
      }
      case 'pair_modify':
        if (w[1] === 'mix') {
          if (w[2] !== 'arithmetic' && w[2] !== 'geometric') {
            throw bad(file, line, `pair_modify mix '${w[2] ?? ''}' is not supported (arithmetic, geometric)`);
          }
          mix = w[2];
        }
        break;
      case 'special_bonds':
        for (let m = 1; m < w.length; m++) {
          if (w[m] === 'lj' || w[m] === 'coul' || w[m] === 'lj/coul') {
            const f = numbers(file, line, w, m + 1, m + 4, `special_bonds ${w[m]}`) as [number, number, number];
            if (w[m] !== 'coul') specialLj = f;
            if (w[m] !== 'lj') specialCoul = f;
            m += 3;
          } else if (w[m] === 'charmm' || w[m] === 'amber') {
            const preset: [number, number, number] = w[m] === 'charmm' ? [0, 0, 0] : [0, 0, 0.5];
            specialLj = preset;
            specialCoul = w[m] === 'charmm' ? [0, 0, 0] : [0, 0, 5 / 6];
          } else throw bad(file, line, `special_bonds keyword '${w[m]}' is not supported (lj, coul, lj/coul)`);
        }
        break;
      case 'bond_style':
      case 'angle_style':
      case 'dihedral_style':
      case 'improper_style': {
        const kind = w[0].replace('_style', '') as keyof PairSettings['styles'];
        const names = w.slice(1).filter((s) => s !== 'hybrid');
        for (const s of names) {
          if (!(s in STYLE_ARITY[kind])) throw bad(file, line, `${w[0]} ${s} is not supported`);
        }
        styles[kind] = names;
        break;
      }
      case 'bond_coeff':
      case 'angle_coeff':
      case 'dihedral_coeff':
      case 'improper_coeff': {
        const kind = KIND_OF[w[0]] as keyof PairSettings['coeffs'];
        const t = integer(file, line, w[1], `${w[0]} type`, 1, 1e7);
        coeffs[kind][t - 1] = coeffOf(file, line, w.slice(2), w[0]);
        break;
      }
      default:
    }
  });
  const nt = nTypes ?? maxType;
  if (maxType > nt) {
    const p = pairs.find((q) => q.j > nt);
    throw bad(file, p?.line ?? 1, `pair_coeff type ${p?.j} exceeds the data file's ${nt} atom types`);
  }
  const epsilon = new Float64Array(nt * nt).fill(Number.NaN);
  const sigma = new Float64Array(nt * nt).fill(Number.NaN);
  const explicit = new Uint8Array(nt * nt);
  // As LAMMPS does: later lines override earlier ones; unset i≠j pairs mix the final i-i and j-j values.
  for (const p of pairs) {
    for (const [a, b] of [
      [p.i - 1, p.j - 1],
      [p.j - 1, p.i - 1],
    ]) {
      epsilon[a * nt + b] = p.eps;
      sigma[a * nt + b] = p.sig;
      explicit[a * nt + b] = 1;
    }
  }
  for (let a = 0; a < nt; a++) {
    if (!explicit[a * nt + a]) {
      const p = pairs[0];
      throw bad(file, p?.line ?? lines.length, `no pair_coeff ${a + 1} ${a + 1} line for atom type ${a + 1}`);
    }
  }
  for (let a = 0; a < nt; a++) {
    for (let b = 0; b < nt; b++) {
      if (explicit[a * nt + b]) continue;
      const ea = epsilon[a * nt + a];
      const eb = epsilon[b * nt + b];
      const sa = sigma[a * nt + a];
      const sb = sigma[b * nt + b];
      epsilon[a * nt + b] = Math.sqrt(ea * eb);
      sigma[a * nt + b] = mix === 'arithmetic' ? 0.5 * (sa + sb) : Math.sqrt(sa * sb);
    }
  }
  return { file, epsilon, sigma, nTypes: nt, mix, specialLj, specialCoul, styles, coeffs };
}

/** A rotatable bond of a .rotbond file, as 0-based atom indices of the ligand data file. */
export interface RotBond {
  a: number;
  b: number;
}

/** Reads a .rotbond file: a header `id,atom1,atom2,type`, then one rotatable bond per line (atom ids). */
export function readRotbond(file: string, sys?: LammpsSystem): RotBond[] {
  const lines = readText(file);
  const head = lines[0]?.trim().split(',');
  if (head?.[1] !== 'atom1' || head[2] !== 'atom2') {
    throw bad(file, 1, "header must be 'id,atom1,atom2,type'");
  }
  const index = sys ? new Map(Array.from(sys.ids, (id, a) => [id, a])) : undefined;
  const out: RotBond[] = [];
  lines.slice(1).forEach((raw, k) => {
    const line = k + 2;
    if (raw.trim() === '') return;
    const w = raw.trim().split(',');
    if (w.length < 3) throw bad(file, line, `needs at least 3 comma-separated fields, found ${w.length}`);
    const [a, b] = [w[1], w[2]].map((x) => {
      const id = integer(file, line, x, 'atom id', 1, 2 ** 31 - 1);
      if (!index) return id - 1;
      const i = index.get(id);
      if (i === undefined) throw bad(file, line, `atom id ${id} is not in ${sys?.file}`);
      return i;
    });
    out.push({ a, b });
  });
  return out;
}

/** A secondary-structure segment: L loop, S strand, H helix; residues start..end inclusive. */
export interface Segment {
  kind: 'L' | 'S' | 'H';
  start: number;
  end: number;
}

/** Reads a secondary-fragment file: a header `type,start,end`, then `L|S|H,start,end` per line. */
export function readSecondaryFragments(file: string): Segment[] {
  const lines = readText(file);
  if (lines[0]?.trim() !== 'type,start,end') throw bad(file, 1, "header must be 'type,start,end'");
  const out: Segment[] = [];
  lines.slice(1).forEach((raw, k) => {
    const line = k + 2;
    if (raw.trim() === '') return;
    const w = raw.trim().split(',');
    if (w.length !== 3) throw bad(file, line, `needs 3 comma-separated fields, found ${w.length}`);
    if (w[0] !== 'L' && w[0] !== 'S' && w[0] !== 'H') throw bad(file, line, `type '${w[0]}' is not L, S or H`);
    const start = integer(file, line, w[1], 'start residue', 0, 1e7);
    const end = integer(file, line, w[2], 'end residue', start, 1e7);
    out.push({ kind: w[0], start, end });
  });
  return out;
}

/** Residue number, residue name and atom name per atom of a GROMACS .gro file. */
export interface GroAtoms {
  resid: Int32Array;
  resname: string[];
  name: string[];
}

/** Reads the atom lines of a .gro file (fixed columns: resid 1-5, resname 6-10, atom name 11-15). */
export function readGro(file: string): GroAtoms {
  const lines = readText(file);
  const n = integer(file, 2, lines[1]?.trim(), 'atom count', 0, 1e8);
  const resid = new Int32Array(n);
  const resname: string[] = [];
  const name: string[] = [];
  for (let a = 0; a < n; a++) {
    const raw = lines[a + 2];
    if (raw === undefined || raw.length < 20) throw bad(file, a + 3, `atom line ${a + 1} of ${n} is missing or short`);
    resid[a] = integer(file, a + 3, raw.slice(0, 5).trim(), 'residue number', 0, 1e7);
    resname.push(raw.slice(5, 10).trim());
    name.push(raw.slice(10, 15).trim());
  }
  return { resid, resname, name };
}
