// A 3T run from one of the paper's configs, inside a run folder: the ligand alone (ligand epochs),
// then the complex with only the ligand moving (phase 1), then per conformer a seeded kick of the
// pocket and ligand groups and a relaxation (phase 2). Each epoch is one Adam step over the tiers'
// parameters on the force-field energy. Steps of the run = ligand + phase 1 + conformers × phase 2
// epochs, so Ctrl-C keeps every finished conformer and resume continues bit for bit.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Module } from '../nn/module.js';
import { Adam } from '../optim/adam.js';
import { noGrad } from '../torch/autograd.js';
import { rand, tensor, zeros } from '../torch/creation.js';
import { GenlabError } from '../torch/errors.js';
import { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import type { Stateful } from '../train/checkpoint.js';
import { checkSettings, familyConfig } from '../train/config.js';
import { plotRunLog } from '../train/plot.js';
import { type Json, Run } from '../train/run.js';
import { finishRun, type Interrupted, openTrainingRun, type TrainOptions, trainParts } from '../train/session.js';
import { COULOMB_REFERENCE, ForceField, type ForceFieldOptions, TERMS, type Term } from './forcefield.js';
import {
  type GroAtoms,
  type LammpsSystem,
  type PairSettings,
  readGro,
  readLammpsData,
  readLammpsInput,
  readRotbond,
  readSecondaryFragments,
} from './lammps.js';
import { drawPoses, type Pose, poseColour } from './picture.js';
import { elementOfMass, kabsch, readPdb, symmetricRmsd, writePdb, writeXyz } from './structure.js';
import {
  addTorsionAxes,
  type Group,
  loopSegments,
  pocketGroups,
  residueGroups,
  splitAtRotatableBonds,
  TieredTransform,
} from './tiers.js';

/** The shipped targets: their structure folder under Converted_Structures and the crystal reference. */
export const TARGETS: Record<
  string,
  { structure: string; crystal?: { ligand: string; receptor: string; pocket: string } }
> = {
  FXA: {
    structure: 'Converted_Structures/1ezq_ENS_dH/FXA_dock/cocry_2d1j_D01_LIG_dock_1ezq_1',
    crystal: {
      ligand: 'reference/3_rmsd_analyses/FXA/cocry_dataset/2d1j_D01_LIG.pdb',
      receptor: 'reference/3_rmsd_analyses/FXA/pdb_processed/2d1j.pdb',
      pocket: '41-46+76-90+159-168+171-186+205-216',
    },
  },
  HSP90: { structure: 'Converted_Structures/1uyg_ENS/HSP90_dock/cocry_2fwy_H64_LIG_dock_1uyg_1' },
};

const count = z.int().min(0);
export const posesRunConfig = z.strictObject({
  family: z.literal('poses'),
  target: z.string(),
  root: z.string(),
  structure: z.string(),
  ligandEpochs: count,
  complexEpochs: z.tuple([count, count]),
  kickCenter: z.tuple([z.number(), z.number(), z.number()]),
  kickRadius: z.number().positive(),
  kickStrength: z.number().min(0),
  conformers: count,
  seed: z.int().min(0),
  printFreq: z.int().min(1),
  dtype: z.enum(['float32', 'float64']),
  coulombConstant: z.number().positive(),
  /** Non-bonded cut-offs in Å; null: all pairs. */
  ljCutoff: z.number().positive().nullable(),
  coulombCutoff: z.number().positive().nullable(),
  exclusions: z.enum(['topology', 'reference']),
  charmmDihedralTimesWeight: z.boolean(),
  /** The reference's clamp of angle cosines (0.999999); null: exact angles. */
  clampCos: z.number().positive().max(1).nullable(),
  /** Also optimise a displacement per movable atom, as the reference does. */
  freeAtoms: z.boolean(),
  lr: z.strictObject({
    ligand: z.number().positive(),
    phase1: z.number().positive(),
    phase2: z.number().positive(),
    segments: z.number().positive(),
  }),
  lrDecayAt: count,
  lrDecay: z.number().positive(),
  crystal: z.strictObject({ ligand: z.string(), receptor: z.string(), pocket: z.string() }).nullable(),
  steps: count,
});
export type PosesRunConfig = z.infer<typeof posesRunConfig>;
export const parsePosesConfig = familyConfig('poses', posesRunConfig);

/** The paper's config file of a target (FXA, HSP90…) under the 3T data folder, or a JSON path. */
function paperConfig(root: string, name: string): Record<string, unknown> {
  const file = name.endsWith('.json') ? name : join(root, 'Config_Files', 'Paper_Configs', `${name}.json`);
  if (!existsSync(file)) {
    throw new GenlabError(
      'usage',
      `no 3T config ${file}`,
      'give {config} as FXA, HSP90 or a .json file, and {root} as the 3T data folder',
    );
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new GenlabError('data', `${file}: ${(e as Error).message}`);
  }
}

export type PosesSettings = Partial<Omit<PosesRunConfig, 'family' | 'target' | 'root' | 'steps'>> & {
  /** Overrides of one entry of complexEpochs. */
  phase1?: number;
  phase2?: number;
};

/** A run config from a paper config (the reference's settings by default), with overrides. */
export function posesConfig(name: string, root: string, s: PosesSettings = {}): PosesRunConfig {
  const paper = paperConfig(root, name);
  const target =
    name
      .replace(/\.json$/, '')
      .split('/')
      .pop()
      ?.toUpperCase() ?? name;
  const known = TARGETS[target];
  const def = (k: string) =>
    (s as Record<string, unknown>)[k] ?? paper[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
  const cfg = {
    family: 'poses' as const,
    target,
    root,
    structure: s.structure ?? known?.structure ?? '',
    ligandEpochs: s.ligandEpochs ?? paper.ligand_epoch,
    complexEpochs: [
      s.phase1 ?? s.complexEpochs?.[0] ?? (paper.complex_epochs as number[])?.[0],
      s.phase2 ?? s.complexEpochs?.[1] ?? (paper.complex_epochs as number[])?.[1],
    ],
    kickCenter: def('kickCenter'),
    kickRadius: def('kickRadius'),
    kickStrength: def('kickStrength'),
    conformers: def('conformers'),
    seed: s.seed ?? paper.init_random_seed,
    printFreq: s.printFreq ?? paper.print_freq ?? 10,
    dtype: s.dtype ?? 'float32',
    coulombConstant: s.coulombConstant ?? COULOMB_REFERENCE,
    ljCutoff: s.ljCutoff === undefined ? 9 : s.ljCutoff,
    coulombCutoff: s.coulombCutoff === undefined ? null : s.coulombCutoff,
    exclusions: s.exclusions ?? 'reference',
    charmmDihedralTimesWeight: s.charmmDihedralTimesWeight ?? true,
    clampCos: s.clampCos === undefined ? 0.999999 : s.clampCos,
    freeAtoms: s.freeAtoms ?? true,
    lr: s.lr ?? { ligand: 1e-2, phase1: 1e-3, phase2: 1e-1, segments: 1e-2 },
    lrDecayAt: s.lrDecayAt ?? 1000,
    lrDecay: s.lrDecay ?? 0.7,
    crystal: s.crystal === undefined ? (known?.crystal ?? null) : s.crystal,
    steps: 0,
  };
  if (!cfg.structure)
    throw new GenlabError('usage', `no structure folder known for target ${target}`, 'give {structure}');
  const c = checkSettings(posesRunConfig, cfg);
  c.steps = c.ligandEpochs + c.complexEpochs[0] + c.conformers * c.complexEpochs[1];
  return c;
}

/** The inputs of a target, read once. */
export interface PosesInputs {
  complex: LammpsSystem;
  complexPair: PairSettings;
  ligand: LammpsSystem;
  ligandPair: PairSettings;
  gro: GroAtoms;
  /** Complex atom index of each ligand atom (the ligand is the last molecule, in the same order). */
  ligandAtoms: number[];
  ligandFragments: number[][];
  loops: ReturnType<typeof readSecondaryFragments>;
}

export function loadPosesInputs(cfg: PosesRunConfig): PosesInputs {
  const dir = join(cfg.root, cfg.structure);
  const complex = readLammpsData(join(dir, 'complex_converted.lmp'));
  const ligand = readLammpsData(join(dir, 'LIG_converted.lmp'));
  const gro = readGro(join(dir, 'complex.gro'));
  if (gro.resid.length !== complex.nAtoms) {
    throw new GenlabError(
      'data',
      `${join(dir, 'complex.gro')} has ${gro.resid.length} atoms, the data file ${complex.nAtoms}`,
    );
  }
  let maxMol = 0;
  for (const m of complex.mol) maxMol = Math.max(maxMol, m);
  const ligandAtoms = Array.from(complex.mol.keys()).filter((a) => complex.mol[a] === maxMol);
  if (ligandAtoms.length !== ligand.nAtoms) {
    throw new GenlabError(
      'data',
      `the complex's last molecule has ${ligandAtoms.length} atoms, ${ligand.file} ${ligand.nAtoms}`,
    );
  }
  const rot = readRotbond(join(dir, 'LIG_converted.rotbond'), ligand);
  return {
    complex,
    complexPair: readLammpsInput(join(dir, 'complex_converted.input'), complex.nTypes),
    ligand,
    ligandPair: readLammpsInput(join(dir, 'LIG_converted.input'), ligand.nTypes),
    gro,
    ligandAtoms,
    ligandFragments: splitAtRotatableBonds(ligand.nAtoms, ligand.bonds.atoms, rot),
    loops: readSecondaryFragments(join(dir, 'complex_secondary_fragment.txt')),
  };
}

type Stage = { kind: 'ligand' | 'phase1' | 'phase2'; conformer: number; epoch: number; epochs: number };

/** Which stage step s (1-based) belongs to. */
export function stageOf(cfg: PosesRunConfig, s: number): Stage {
  const L = cfg.ligandEpochs;
  const [P1, P2] = cfg.complexEpochs;
  if (s <= L) return { kind: 'ligand', conformer: -1, epoch: s - 1, epochs: L };
  if (s <= L + P1) return { kind: 'phase1', conformer: -1, epoch: s - L - 1, epochs: P1 };
  const k = s - L - P1 - 1;
  return { kind: 'phase2', conformer: Math.floor(k / P2), epoch: k % P2, epochs: P2 };
}

/** The kick seed of conformer c. */
export const kickSeed = (cfg: PosesRunConfig, c: number) => (cfg.seed * 7919 + 104729 * (c + 1)) % 2 ** 31;

/** Everything a run checkpoints: the three tiered transforms and the finished structures. */
class PosesState extends Module<[], Tensor> {
  constructor(
    readonly ligand: TieredTransform,
    readonly phase1: TieredTransform,
    readonly phase2: TieredTransform,
    conformers: number,
    n: number,
    dtype: 'float32' | 'float64',
  ) {
    super();
    this.registerModule('ligand', ligand);
    this.registerModule('phase1', phase1);
    this.registerModule('phase2', phase2);
    this.registerBuffer('done', zeros([Math.max(conformers, 1), n, 3], { dtype }).keep());
  }
  forward(): Tensor {
    return this.phase2.positions();
  }
}

/** The current stage's Adam, saved and restored with the stage it belongs to. */
class StageOptimizer implements Stateful {
  key = '';
  adam?: Adam;
  pending?: { tensors: Record<string, Tensor>; meta: { [key: string]: Json } };
  stateDict() {
    const sd = this.adam?.stateDict() ?? { tensors: {}, meta: {} };
    return { tensors: sd.tensors, meta: { stage: this.key, adam: sd.meta as Json } };
  }
  loadStateDict(sd: { tensors: Record<string, Tensor>; meta: { [key: string]: Json } }) {
    this.pending = sd;
  }
  /** Makes the optimizer of stage `key`; under resume, restores its saved state. */
  open(key: string, adam: Adam) {
    this.adam?.disposeState();
    this.key = key;
    this.adam = adam;
    if (this.pending && this.pending.meta.stage === key) {
      adam.loadStateDict({ tensors: this.pending.tensors, meta: this.pending.meta.adam as { [key: string]: Json } });
    }
    this.pending = undefined;
  }
}

export interface PoseReport {
  name: string;
  energies: Record<Term, number>;
  total: number;
  ligandRmsd?: number;
  pocketRmsd?: number;
}

export interface PosesResult {
  run: string;
  target: string;
  steps: number;
  ligand?: PoseReport;
  start: PoseReport;
  phase1?: PoseReport;
  conformers: (PoseReport & { seed: number })[];
  movableAtoms: number;
  secondsPerEpoch: Record<string, number>;
}

function ffOptions(cfg: PosesRunConfig, extra: ForceFieldOptions = {}): ForceFieldOptions {
  return {
    dtype: cfg.dtype,
    coulombConstant: cfg.coulombConstant,
    ljCutoff: cfg.ljCutoff ?? undefined,
    coulombCutoff: cfg.coulombCutoff ?? undefined,
    exclusions: cfg.exclusions,
    charmmDihedralTimesWeight: cfg.charmmDihedralTimesWeight,
    clampCos: cfg.clampCos ?? undefined,
    ...extra,
  };
}

/** The tier groups of each stage. */
export function stageGroups(cfg: PosesRunConfig, inp: PosesInputs) {
  const lig = addTorsionAxes(
    inp.ligandFragments.map((atoms) => ({ atoms, resid: -1 })),
    inp.ligand.nAtoms,
    inp.ligand.bonds.atoms,
  );
  const inComplex: Group[] = inp.ligandFragments.map((f) => ({ atoms: f.map((a) => inp.ligandAtoms[a]), resid: -1 }));
  const isLig = new Set(inp.ligandAtoms);
  const p1 = addTorsionAxes(inComplex, inp.complex.nAtoms, inp.complex.bonds.atoms);
  const pocket = pocketGroups(
    residueGroups(inp.gro, (a) => isLig.has(a)),
    inp.complex.pos,
    cfg.kickCenter,
    cfg.kickRadius,
  );
  const p2 = addTorsionAxes([...pocket, ...inComplex], inp.complex.nAtoms, inp.complex.bonds.atoms);
  return {
    ligand: { groups: lig, segments: [] },
    phase1: { groups: p1, segments: loopSegments(p1, inp.loops) },
    phase2: { groups: p2, segments: loopSegments(p2, inp.loops) },
  };
}

/** Energy per term of complex positions under the run's force field (all atoms). */
function fullEnergies(ff: ForceField, pos: Tensor): { energies: Record<Term, number>; total: number } {
  return tidy(() => {
    const e = noGrad(() => ff.energies(pos.to(ff.dtype)));
    const energies = Object.fromEntries(TERMS.map((t) => [t, e[t].item()])) as Record<Term, number>;
    return { energies, total: TERMS.reduce((s, t) => s + energies[t], 0) };
  });
}

/** energy.svg: the total against the step (log scale); terms.svg: each term (linear). */
export function plotEnergies(log: string, dir: string, target: string): void {
  plotRunLog(log, ['loss'], join(dir, 'energy.svg'), { title: `3T ${target}: total energy (kcal/mol)`, logY: true });
  plotRunLog(log, [...TERMS], join(dir, 'terms.svg'), { title: `3T ${target}: energy per term (kcal/mol)` });
}

const CONSTANTS = new Map<string, Record<Term, number>>();

/** Runs 3T in `dir`, or continues it under `resume`. */
export async function runPoses(
  cfg: PosesRunConfig,
  dir: string,
  opts: TrainOptions = {},
): Promise<PosesResult | Interrupted> {
  if (opts.resume) cfg = Run.load(dir, parsePosesConfig).config;
  const inp = loadPosesInputs(cfg);
  const groups = stageGroups(cfg, inp);
  const dtype = cfg.dtype;
  const ligT = new TieredTransform(inp.ligand.pos, groups.ligand, { dtype, freeAtoms: cfg.freeAtoms });
  const p1T = new TieredTransform(inp.complex.pos, groups.phase1, { dtype, freeAtoms: cfg.freeAtoms });
  const p2T = new TieredTransform(inp.complex.pos, groups.phase2, { dtype, freeAtoms: cfg.freeAtoms });
  const state = new PosesState(ligT, p1T, p2T, cfg.conformers, inp.complex.nAtoms, dtype);
  const optimizer = new StageOptimizer();
  const run = openTrainingRun(dir, cfg, parsePosesConfig, opts, {
    label: `3T ${cfg.target}`,
    extra: { movableAtoms: p2T.movableCount, ligandFragments: groups.ligand.groups.length },
  });
  const atoms = {
    element: Array.from(inp.complex.type, (t) => elementOfMass(inp.complex.masses[t])),
    name: inp.gro.name,
    resname: inp.gro.resname,
    resid: inp.gro.resid,
  };
  // Force fields per stage, built when first needed: the terms touching movable atoms, plus the
  // constant energy of the rest (so logged energies are whole-system energies).
  const ffs = new Map<string, { ff: ForceField; constant: Record<Term, number> }>();
  const forceField = (kind: Stage['kind']) => {
    let f = ffs.get(kind);
    if (f) return f;
    const t = kind === 'ligand' ? ligT : kind === 'phase1' ? p1T : p2T;
    const sys = kind === 'ligand' ? inp.ligand : inp.complex;
    const pair = kind === 'ligand' ? inp.ligandPair : inp.complexPair;
    const movable = t.movableMask();
    const ff = new ForceField(sys, pair, ffOptions(cfg, { movable }));
    const key = JSON.stringify([sys.file, ffOptions(cfg), kind === 'phase2' ? cfg.kickCenter : 0, cfg.kickRadius]);
    let constant = CONSTANTS.get(key);
    if (!constant) {
      // The fixed atoms' own energy never changes (their positions are the input's); once per process.
      const rest = new ForceField(sys, pair, ffOptions(cfg, { movable, complement: true }));
      constant = fullEnergies(rest, tensor(sys.pos, { dtype, shape: [sys.nAtoms, 3] })).energies;
      rest.dispose();
      CONSTANTS.set(key, constant);
    }
    f = { ff, constant };
    ffs.set(kind, f);
    return f;
  };
  const times: Record<string, number[]> = { ligand: [], phase1: [], phase2: [] };
  const write = (name: string, pos: Tensor, ligandOnly = false) => {
    const flat = pos.detach().to('float64').contiguous().toTypedArray() as Float64Array;
    if (ligandOnly) {
      const el = Array.from(inp.ligand.type, (t) => elementOfMass(inp.ligand.masses[t]));
      writeXyz(run.path(`${name}.xyz`), { pos: flat, element: el }, `${cfg.target} ${name}`);
      return;
    }
    writePdb(run.path(`${name}.pdb`), { pos: flat, ...atoms }, `${cfg.target} ${name}`);
    writeXyz(run.path(`${name}.xyz`), { pos: flat, element: atoms.element }, `${cfg.target} ${name}`);
  };
  const step = (s: number): Record<string, number> => {
    const st = stageOf(cfg, s);
    const key = st.kind === 'phase2' ? `phase2.${st.conformer}` : st.kind;
    const t = st.kind === 'ligand' ? ligT : st.kind === 'phase1' ? p1T : p2T;
    if (optimizer.key !== key) {
      if (st.epoch === 0) noGrad(() => startStage(st, t));
      const { micro, segments } = t.tierParameters();
      const lr = st.kind === 'ligand' ? cfg.lr.ligand : st.kind === 'phase1' ? cfg.lr.phase1 : cfg.lr.phase2;
      const segLr = st.kind === 'phase2' ? cfg.lr.segments : lr;
      optimizer.open(
        key,
        new Adam([
          { params: micro, lr },
          { params: segments, lr: segLr },
        ]),
      );
    }
    const adam = optimizer.adam as Adam;
    if (st.kind === 'phase2') {
      const decay = cfg.lrDecayAt > 0 && st.epoch >= cfg.lrDecayAt ? cfg.lrDecay : 1;
      adam.paramGroups[0].lr = cfg.lr.phase2 * decay;
      adam.paramGroups[1].lr = cfg.lr.segments * decay;
    }
    const { ff, constant } = forceField(st.kind);
    const t0 = performance.now();
    const metrics = tidy(() => {
      adam.zeroGrad();
      const pos = t.positions();
      if (ff.opts.ljCutoff !== undefined || ff.opts.coulombCutoff !== undefined) {
        ff.maybeRebuild(pos.detach().to('float64').contiguous().toTypedArray() as Float64Array);
      }
      const e = ff.energies(pos);
      const total = TERMS.map((k) => e[k]).reduce((a, b) => a.add(b));
      total.backward();
      adam.step();
      const out: Record<string, number> = {};
      let sum = 0;
      for (const k of TERMS) {
        out[k] = e[k].item() + constant[k];
        sum += out[k];
      }
      return { loss: sum, ...out, stage: ['ligand', 'phase1', 'phase2'].indexOf(st.kind), conformer: st.conformer };
    });
    times[st.kind].push((performance.now() - t0) / 1000);
    if (st.epoch === st.epochs - 1) noGrad(() => endStage(st, t));
    return metrics;
  };
  const startStage = (st: Stage, t: TieredTransform) => {
    if (st.kind === 'phase2') {
      // Each conformer starts from phase 1's result, kicked: per group a translation in
      // [0, 0.3·strength) Å and rotation in [0, 0.03·strength) rad, torsions in ±0.03·strength.
      const p1 = p1T.positions();
      t.rebase(p1);
      const g = new Generator(kickSeed(cfg, st.conformer));
      const tr = 0.3 * cfg.kickStrength;
      const rot = 0.03 * cfg.kickStrength;
      t.translation.copy_(rand(t.translation.shape, { generator: g, dtype: cfg.dtype }).mul(tr));
      t.rotation.copy_(rand(t.rotation.shape, { generator: g, dtype: cfg.dtype }).mul(rot));
      t.torsion.copy_(
        rand(t.torsion.shape, { generator: g, dtype: cfg.dtype })
          .sub(0.5)
          .mul(2 * rot),
      );
    }
  };
  const endStage = (st: Stage, t: TieredTransform) => {
    const pos = t.positions();
    if (st.kind === 'ligand') write('ligand', pos, true);
    else if (st.kind === 'phase1') write('phase1', pos);
    else {
      (state.getBuffer('done') as Tensor).select(0, st.conformer).copy_(pos);
      write(`conformer-${st.conformer}`, pos);
    }
  };
  const loop = await trainParts(
    run,
    { model: state, stateful: { optimizer } },
    {
      steps: cfg.steps,
      step,
      logEvery: cfg.printFreq,
      checkpointEvery: Math.max(1, Math.min(cfg.complexEpochs[1] || cfg.steps, 200)),
      label: `3T ${cfg.target}`,
      afterCheckpoint: () => plotEnergies(run.path('log.jsonl'), run.dir, cfg.target),
    },
    opts,
  );
  const result = () => {
    plotEnergies(run.path('log.jsonl'), run.dir, cfg.target);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    // Whole-system energies: the stage's terms touching movable atoms plus the fixed atoms' constant.
    const report = (name: string, pos: Tensor, kind: 'phase1' | 'phase2' = 'phase2'): PoseReport => {
      const { ff, constant } = forceField(kind);
      const e = fullEnergies(ff, pos).energies;
      const energies = Object.fromEntries(TERMS.map((k) => [k, e[k] + constant[k]])) as Record<Term, number>;
      return {
        name,
        energies,
        total: TERMS.reduce((s, k) => s + energies[k], 0),
        ...poseRmsd(cfg, inp, pos.detach().to('float64').contiguous().toTypedArray() as Float64Array),
      };
    };
    const done = state.getBuffer('done') as Tensor;
    const r: PosesResult = {
      run: dir,
      target: cfg.target,
      steps: cfg.steps,
      start: report('docked start', p1T.base, 'phase1'),
      phase1: cfg.complexEpochs[0] > 0 ? report('phase 1', p1T.positions().detach(), 'phase1') : undefined,
      conformers: Array.from({ length: cfg.conformers }, (_, c) => ({
        ...report(`conformer ${c}`, done.select(0, c)),
        seed: kickSeed(cfg, c),
      })),
      movableAtoms: p2T.movableCount,
      secondsPerEpoch: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, mean(v)])),
    };
    if (cfg.ligandEpochs > 0) {
      const lf = new ForceField(inp.ligand, inp.ligandPair, ffOptions(cfg));
      r.ligand = { name: 'ligand alone', ...fullEnergies(lf, ligT.positions().detach()) };
      lf.dispose();
    }
    return r;
  };
  try {
    return finishRun(run, loop, result);
  } finally {
    run.close();
    for (const { ff } of ffs.values()) ff.dispose();
  }
}

/** Pocket and ligand RMSD of complex positions to the target's crystal pose (see structure.ts). */
export function poseRmsd(
  cfg: PosesRunConfig,
  inp: PosesInputs,
  pos: Float64Array,
): { ligandRmsd?: number; pocketRmsd?: number } {
  if (!cfg.crystal) return {};
  const ligFile = join(cfg.root, cfg.crystal.ligand);
  const recFile = join(cfg.root, cfg.crystal.receptor);
  if (!existsSync(ligFile) || !existsSync(recFile)) return {};
  const el = (a: number) => elementOfMass(inp.complex.masses[inp.complex.type[a]]);
  const heavy = inp.ligandAtoms.filter((a) => el(a) !== 'H');
  const xyz = (a: number) => [pos[3 * a], pos[3 * a + 1], pos[3 * a + 2]];
  const crystal = readPdb(ligFile).filter((a) => a.element !== 'H');
  const local = new Map(heavy.map((a, k) => [a, k]));
  const adj: number[][] = heavy.map(() => []);
  const b = inp.complex.bonds.atoms;
  for (let k = 0; k < b.length; k += 2) {
    const [i, j] = [local.get(b[k]), local.get(b[k + 1])];
    if (i === undefined || j === undefined) continue;
    adj[i].push(j);
    adj[j].push(i);
  }
  const residues = new Set(
    cfg.crystal.pocket.split('+').flatMap((r) => {
      const [a, b] = r.split('-').map(Number);
      return Array.from({ length: (b ?? a) - a + 1 }, (_, k) => a + k);
    }),
  );
  const rec = new Map(readPdb(recFile).map((a) => [`${a.resid}:${a.name}`, a]));
  const P: number[][] = [];
  const Q: number[][] = [];
  inp.gro.resid.forEach((r, a) => {
    const name = inp.gro.name[a];
    if (!residues.has(r) || !['N', 'CA', 'C', 'O'].includes(name)) return;
    const q = rec.get(`${r}:${name}`);
    if (!q) return;
    P.push(xyz(a));
    Q.push([q.x, q.y, q.z]);
  });
  // The ligand goes along with the pocket's superposition onto the crystal receptor.
  const fit = kabsch(P, Q);
  const ligandRmsd = symmetricRmsd(
    heavy.map((a) => fit.apply(xyz(a))),
    heavy.map(el),
    crystal.map((a) => [a.x, a.y, a.z]),
    crystal.map((a) => a.element),
    adj,
  );
  return { ligandRmsd, pocketRmsd: fit.rmsd };
}

/** Positions of a complex from a PDB or XYZ file with its atoms in the data file's order. */
export function readPosePositions(file: string, nAtoms: number): Float64Array {
  if (file.endsWith('.pdb')) {
    const atoms = readPdb(file);
    if (atoms.length !== nAtoms)
      throw new GenlabError('data', `${file} has ${atoms.length} atoms, the complex ${nAtoms}`);
    return Float64Array.from(atoms.flatMap((a) => [a.x, a.y, a.z]));
  }
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split(/\r?\n/);
  } catch (e) {
    throw new GenlabError('data', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // The last frame of an XYZ file (the reference appends frames).
  let start = -1;
  for (let k = 0; k < lines.length; k++) if (lines[k].trim() === String(nAtoms)) start = k;
  if (start < 0) throw new GenlabError('data', `${file}: no frame of ${nAtoms} atoms`, 'check the file');
  const out = new Float64Array(3 * nAtoms);
  for (let a = 0; a < nAtoms; a++) {
    const w = (lines[start + 2 + a] ?? '').trim().split(/\s+/);
    const v = w.slice(1, 4).map(Number);
    if (v.length !== 3 || !v.every(Number.isFinite)) {
      throw new GenlabError('data', `${file}:${start + 3 + a}: expected 'element x y z'`, 'check the file');
    }
    out.set(v, 3 * a);
  }
  return out;
}

/** Energy per term and pocket/ligand RMSD of a complex pose file under a run config's settings. */
export function scorePose(cfg: PosesRunConfig, file: string, inp = loadPosesInputs(cfg)): PoseReport {
  const pos = readPosePositions(file, inp.complex.nAtoms);
  const ff = new ForceField(inp.complex, inp.complexPair, ffOptions(cfg));
  try {
    const e = ff.energyAndForces(pos);
    e.forces.dispose();
    return { name: file, energies: e.energies, total: e.total, ...poseRmsd(cfg, inp, pos) };
  } finally {
    ff.dispose();
  }
}

export interface EnergyReport {
  file: string;
  atoms: number;
  pairs: number;
  energies: Record<Term, number>;
  total: number;
  /** Largest force on an atom, kcal/(mol·Å). */
  maxForce: number;
}

/** `genlab poses energy`: the energy per term of a data file under its input script. */
export function energyOfFile(data: string, input: string | undefined, opts: ForceFieldOptions = {}): EnergyReport {
  const sys = readLammpsData(data);
  const script = input ?? data.replace(/\.[^./]+$/, '.input');
  if (!existsSync(script)) throw new GenlabError('usage', `no input script ${script} beside ${data}`, 'give {input}');
  const ff = new ForceField(sys, readLammpsInput(script, sys.nTypes), opts);
  try {
    const r = ff.energyAndForces(sys.pos);
    const f = r.forces.toTypedArray() as Float64Array;
    r.forces.dispose();
    let maxForce = 0;
    for (let a = 0; a < sys.nAtoms; a++)
      maxForce = Math.max(maxForce, Math.hypot(f[3 * a], f[3 * a + 1], f[3 * a + 2]));
    return { file: data, atoms: sys.nAtoms, pairs: ff.pairCount, energies: r.energies, total: r.total, maxForce };
  } finally {
    ff.dispose();
  }
}

/**
 * `genlab poses picture`: the ligand of each finished conformer (and phase 1) of a run, over the
 * pocket residues within 6 Å of the docked ligand, with the crystal ligand in black.
 */
export function pocketPicture(dir: string, out = join(dir, 'pocket.png')): { file: string; poses: number } {
  const cfg = Run.load(dir, parsePosesConfig).config;
  const inp = loadPosesInputs(cfg);
  const el = (a: number) => elementOfMass(inp.complex.masses[inp.complex.type[a]]);
  const heavyLig = inp.ligandAtoms.filter((a) => el(a) !== 'H');
  const p0 = inp.complex.pos;
  const at = (pos: ArrayLike<number>, a: number) => [pos[3 * a], pos[3 * a + 1], pos[3 * a + 2]];
  const near = new Set<number>();
  const isLig = new Set(inp.ligandAtoms);
  for (let a = 0; a < inp.complex.nAtoms; a++) {
    if (isLig.has(a) || el(a) === 'H') continue;
    const x = at(p0, a);
    if (heavyLig.some((l) => Math.hypot(...at(p0, l).map((v, c) => v - x[c])) < 6)) near.add(inp.gro.resid[a]);
  }
  const pocketAtoms = Array.from({ length: inp.complex.nAtoms }, (_, a) => a).filter(
    (a) => !isLig.has(a) && el(a) !== 'H' && near.has(inp.gro.resid[a]),
  );
  const bondsOf = (atoms: number[]) => {
    const local = new Map(atoms.map((a, k) => [a, k]));
    const out: [number, number][] = [];
    const b = inp.complex.bonds.atoms;
    for (let k = 0; k < b.length; k += 2) {
      const [i, j] = [local.get(b[k]), local.get(b[k + 1])];
      if (i !== undefined && j !== undefined) out.push([i, j]);
    }
    return out;
  };
  const ligBonds = bondsOf(heavyLig);
  const poses: Pose[] = [
    { pos: pocketAtoms.map((a) => at(p0, a)), bonds: bondsOf(pocketAtoms), colour: [170, 170, 170], radius: 0.25 },
  ];
  const files = [
    join(dir, 'phase1.xyz'),
    ...Array.from({ length: cfg.conformers }, (_, c) => join(dir, `conformer-${c}.xyz`)),
  ];
  files.forEach((f, k) => {
    if (!existsSync(f)) return;
    const pos = readPosePositions(f, inp.complex.nAtoms);
    poses.push({ pos: heavyLig.map((a) => at(pos, a)), bonds: ligBonds, colour: poseColour(k), radius: 0.3 });
  });
  if (cfg.crystal && existsSync(join(cfg.root, cfg.crystal.ligand))) {
    const c = readPdb(join(cfg.root, cfg.crystal.ligand)).filter((a) => a.element !== 'H');
    const pos = c.map((a) => [a.x, a.y, a.z]);
    const bonds: [number, number][] = [];
    pos.forEach((p, i) => {
      pos.forEach((q, j) => {
        if (i < j && Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) < 1.9) bonds.push([i, j]);
      });
    });
    poses.push({ pos, bonds, colour: [0, 0, 0], radius: 0.3 });
  }
  drawPoses(
    out,
    poses,
    heavyLig.map((a) => at(p0, a)),
  );
  return { file: out, poses: poses.length - 1 };
}
