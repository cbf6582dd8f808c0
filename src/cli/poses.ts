// genlab poses energy|run|rmsd: 3T protein–ligand conformations by tiered tensor transforms over a
// differentiable CHARMM force field (src/poses/).
import { join } from 'node:path';
import {
  type EnergyReport,
  energyOfFile,
  type PoseReport,
  type PosesResult,
  pocketPicture,
  posesConfig,
  runPoses,
  scorePose,
} from '../poses/experiment.js';
import { COULOMB_LAMMPS, TERMS } from '../poses/forcefield.js';
import { choice, flag, float, int, path, text } from './args.js';
import { resume, threads, trainRunOptions } from './common.js';
import { type Family, verb } from './verb.js';

const defaultRoot = () => process.env.GENLAB_3T ?? join('..', 'shared', 'data', '3t');
const root = path('the 3T data folder (Converted_Structures/, Config_Files/, reference/)', {
  defaultText: '$GENLAB_3T or ../shared/data/3t',
});
const cutoff = (what: string) => float(`${what} cut-off in Å (0: all pairs)`, { min: 0, max: 1e6 });
const fmt = (x: number | undefined, d = 3) => (x === undefined ? '–' : x.toFixed(d));
const terms = (e: Record<string, number>) => TERMS.map((t) => `${t} ${e[t].toFixed(4)}`).join(', ');

const energy = verb({
  summary: 'energy per term of a LAMMPS data file',
  usage: '<data-file> [options]',
  description:
    'Energy per term (kcal/mol) of a LAMMPS data file under its input script, float64, all pairs by default.',
  args: [{ name: 'data-file', help: 'LAMMPS data file (atom_style full)' }],
  options: {
    input: path('input script with the pair coefficients', { defaultText: 'the data file with .input' }),
    coulomb: float('Coulomb constant, kcal·Å/(mol·e²) (the 3T code used 332.33)', {
      min: 1,
      max: 1000,
      default: COULOMB_LAMMPS,
    }),
    ljCutoff: cutoff('Lennard-Jones'),
    coulombCutoff: cutoff('Coulomb'),
    exclusions: choice(
      "special-bonds rule: LAMMPS's 'topology' or the 3T code's 'reference'",
      ['topology', 'reference'],
      {
        default: 'topology',
      },
    ),
    dtype: choice('floating type', ['float64', 'float32'], { default: 'float64' }),
    threads,
  },
  run: (o, [data]) =>
    energyOfFile(data, o.input, {
      dtype: o.dtype,
      coulombConstant: o.coulomb,
      ljCutoff: o.ljCutoff || undefined,
      coulombCutoff: o.coulombCutoff || undefined,
      exclusions: o.exclusions,
    }),
  show: (r: EnergyReport) => [
    `${r.file}: ${r.atoms} atoms, ${r.pairs} non-bonded pairs`,
    ...TERMS.map((t) => `  ${t.padEnd(9)} ${r.energies[t].toFixed(6).padStart(16)} kcal/mol`),
    `  ${'total'.padEnd(9)} ${r.total.toFixed(6).padStart(16)} kcal/mol`,
    `  largest force ${r.maxForce.toFixed(4)} kcal/(mol·Å)`,
  ],
});

const configOption = text("a paper config (FXA, HSP90…) or a .json file of the reference's format", { default: 'FXA' });

const run = verb({
  summary: 'run 3T: ligand, phase 1, then kicked conformers (phase 2)',
  usage: '--config FXA [options]',
  description: "Runs 3T with a paper config (the reference's force field and learning rates by default).",
  options: {
    config: configOption,
    root,
    conformers: int('conformers', { min: 0, max: 1e4, defaultText: "the config's" }),
    ligandEpochs: int('epochs of the ligand alone', { min: 0, max: 1e7, defaultText: "the config's" }),
    phase1: int('epochs of phase 1 (ligand in the fixed pocket)', { min: 0, max: 1e7, defaultText: "the config's" }),
    phase2: int('epochs of phase 2 per conformer', { min: 0, max: 1e7, defaultText: "the config's" }),
    radius: float('pocket radius around the kick centre, Å', { min: 0, max: 1e4, defaultText: "the config's" }),
    strength: float('kick strength', { min: 0, max: 1e3, defaultText: "the config's" }),
    seed: int('seed of the kicks', { min: 0, max: 2 ** 31 - 1, defaultText: "the config's" }),
    dtype: choice('floating type', ['float32', 'float64'], { default: 'float32' }),
    coulomb: float('Coulomb constant', { min: 1, max: 1000, defaultText: '332.33 (the reference)' }),
    ljCutoff: cutoff('Lennard-Jones (reference: 9)'),
    coulombCutoff: cutoff('Coulomb (reference: all pairs)'),
    exclusions: choice('special-bonds rule', ['topology', 'reference'], { defaultText: 'reference' }),
    rigid: flag('transforms only: no per-atom displacements (the reference has them)'),
    printFreq: int('epochs between log lines', { min: 1, max: 1e6, defaultText: "the config's" }),
    out: path('run folder', { defaultText: 'runs/poses-<config>' }),
    resume,
    threads,
  },
  run: (o, _args, ctx) => {
    const cfg = posesConfig(o.config, o.root ?? defaultRoot(), {
      conformers: o.conformers,
      ligandEpochs: o.ligandEpochs,
      kickRadius: o.radius,
      kickStrength: o.strength,
      seed: o.seed,
      dtype: o.dtype,
      coulombConstant: o.coulomb,
      ljCutoff: o.ljCutoff === undefined ? undefined : o.ljCutoff || null,
      coulombCutoff: o.coulombCutoff === undefined ? undefined : o.coulombCutoff || null,
      exclusions: o.exclusions,
      freeAtoms: o.rigid ? false : undefined,
      printFreq: o.printFreq,
      phase1: o.phase1,
      phase2: o.phase2,
    });
    return runPoses(cfg, o.out ?? join('runs', `poses-${cfg.target.toLowerCase()}`), trainRunOptions(o, ctx));
  },
  show: (r: PosesResult) => [
    ...[r.start, r.phase1, ...r.conformers].flatMap((p) => (p ? [poseLine(p)] : [])),
    `seconds per epoch: ${Object.entries(r.secondsPerEpoch)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ')}; ${r.movableAtoms} movable atoms`,
    `run: ${r.run}`,
  ],
});

function poseLine(p: PoseReport): string {
  return `${p.name}: E ${p.total.toFixed(1)} kcal/mol, ligand RMSD ${fmt(p.ligandRmsd)} Å, pocket RMSD ${fmt(p.pocketRmsd)} Å`;
}

const rmsd = verb({
  summary: 'pocket and ligand RMSD (and energy) of complex poses against the crystal',
  usage: '<pose.pdb|pose.xyz> [options]',
  description:
    'Ligand RMSD: heavy atoms, receptor frame, symmetry-corrected. Pocket RMSD: backbone N/CA/C/O of the pocket residues after Kabsch superposition.',
  args: [{ name: 'pose', help: 'a complex pose (.pdb from a run, or .xyz in the data file’s atom order)' }],
  options: { config: configOption, root, threads },
  run: (o, [pose]) => scorePose(posesConfig(o.config, o.root ?? defaultRoot()), pose),
  show: (p: PoseReport) => [poseLine(p), `  ${terms(p.energies)}`],
});

const picture = verb({
  summary: 'PNG of the conformers’ ligands over the pocket',
  usage: '<run> [options]',
  description:
    'Projected ball-and-stick drawing: pocket residues grey, phase 1 and each conformer in colour, crystal black.',
  args: [{ name: 'run', help: 'run folder of genlab poses run' }],
  options: { out: path('PNG file', { defaultText: '<run>/pocket.png' }) },
  run: (o, [dir]) => pocketPicture(dir, o.out),
  show: (r: { file: string; poses: number }) => [`${r.poses} poses drawn: ${r.file}`],
});

export const poses: Family = {
  summary: '3T protein–ligand conformations over a differentiable CHARMM force field',
  verbs: { energy, run, rmsd, picture },
};
