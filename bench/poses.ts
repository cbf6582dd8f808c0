// 3T benchmarks and checks, written to results/poses-bench.json and printed as Markdown:
//   lammps     per-term energies and forces against LAMMPS on both complexes and both ligands;
//   reference  energies against the 3T reference's PotentialModel (float64) on the same structures;
//   epoch      seconds per phase-2 epoch (FXa, pocket 20 Å, float32, 1 thread) against the reference's.
// Usage: npx tsx bench/poses.ts [lammps] [reference] [epoch] [--epochs N]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Adam } from '../src/optim/adam.js';
import { loadPosesInputs, posesConfig, stageGroups } from '../src/poses/experiment.js';
import { ForceField, TERMS } from '../src/poses/forcefield.js';
import { compareWithLammps, compareWithReference, findLammps, runReference } from '../src/poses/peers.js';
import { TieredTransform } from '../src/poses/tiers.js';
import { noGrad } from '../src/torch/autograd.js';
import { rand } from '../src/torch/creation.js';
import { Generator } from '../src/torch/random.js';
import { setNumThreads } from '../src/torch/runtime.js';
import { tidy } from '../src/torch/scope.js';

setNumThreads(1);
const ROOT = process.env.GENLAB_3T ?? join('..', 'shared', 'data', '3t');
const REF = join(ROOT, 'reference', '2_structure_generation');
const STRUCT: Record<string, string> = {
  FXa: 'Converted_Structures/1ezq_ENS_dH/FXA_dock/cocry_2d1j_D01_LIG_dock_1ezq_1',
  HSP90: 'Converted_Structures/1uyg_ENS/HSP90_dock/cocry_2fwy_H64_LIG_dock_1uyg_1',
};
const args = process.argv.slice(2);
const want = (k: string) => args.length === 0 || args.includes(k);
const epochsArg = args.indexOf('--epochs');
const EPOCHS = epochsArg >= 0 ? Number(args[epochsArg + 1]) : 20;
const OUT = 'results/poses-bench.json';
const results: Record<string, unknown> = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')) : {};
const save = () => writeFileSync(OUT, `${JSON.stringify(results, null, 1)}\n`);
const cases = Object.entries(STRUCT).flatMap(([name, dir]) =>
  ['LIG', 'complex'].map((w) => ({
    name: `${name} ${w === 'LIG' ? 'ligand' : 'complex'}`,
    data: join(ROOT, dir, `${w}_converted.lmp`),
    input: join(ROOT, dir, `${w}_converted.input`),
  })),
);
const e = (x: number) => x.toExponential(1);

if (want('lammps')) {
  const lmp = findLammps();
  if (!lmp) console.log('LAMMPS not found: skipped');
  else {
    const rows: Record<string, unknown> = {};
    console.log(
      '| structure | atoms | bond | angle | dihedral | improper | vdW | Coulomb | forces (no impropers) | forces (with impropers, planar excluded) |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const c of cases) {
      const r = compareWithLammps(lmp, c.data, c.input);
      rows[c.name] = r;
      console.log(
        `| ${c.name} | ${r.atoms} | ${TERMS.map((t) => `${r.genlab[t].toFixed(4)} (${e(r.relative[t])})`).join(' | ')} | ${e(r.forceRelative)} | ${e(r.forceRelativeWithImpropers)} (${r.nearPlanarImpropers} planar) |`,
      );
      results.lammps = rows;
      save();
    }
  }
}

if (want('reference')) {
  const rows: Record<string, unknown> = {};
  console.log('| structure | genlab total | reference total | |Δ|/|E| | LAMMPS rules total |');
  console.log('|---|---|---|---|---|');
  for (const c of cases) {
    const r = compareWithReference(REF, c.data, c.input);
    rows[c.name] = r;
    const rel = Math.abs(r.genlabTotal - r.referenceTotal) / Math.abs(r.referenceTotal);
    console.log(
      `| ${c.name} | ${r.genlabTotal.toFixed(6)} | ${r.referenceTotal.toFixed(6)} | ${e(rel)} | ${r.lammpsRulesTotal.toFixed(4)} |`,
    );
    results.reference = rows;
    save();
  }
}

if (want('epoch')) {
  // The same phase as the reference's minimize_GL_complex.py phase 2 on FXa: pocket groups of
  // 20 Å around the kick centre plus the ligand fragments, free atoms, torsions, loop segments.
  const cfg = posesConfig('FXA', ROOT);
  const inp = loadPosesInputs(cfg);
  const groups = stageGroups(cfg, inp).phase2;
  const t = new TieredTransform(inp.complex.pos, groups, { dtype: 'float32', freeAtoms: true });
  const ff = new ForceField(inp.complex, inp.complexPair, {
    dtype: 'float32',
    coulombConstant: cfg.coulombConstant,
    ljCutoff: 9,
    exclusions: 'reference',
    charmmDihedralTimesWeight: true,
    clampCos: 0.999999,
    movable: t.movableMask(),
  });
  const g = new Generator(1);
  noGrad(() => {
    t.translation.copy_(rand(t.translation.shape, { generator: g }).mul(1.5));
    t.rotation.copy_(rand(t.rotation.shape, { generator: g }).mul(0.15));
  });
  const { micro, segments } = t.tierParameters();
  const adam = new Adam([
    { params: micro, lr: 0.1 },
    { params: segments, lr: 0.01 },
  ]);
  const epoch = () =>
    tidy(() => {
      adam.zeroGrad();
      const pos = t.positions();
      ff.maybeRebuild(pos.detach().to('float64').contiguous().toTypedArray() as Float64Array);
      const en = ff.energies(pos);
      TERMS.map((k) => en[k])
        .reduce((a, b) => a.add(b))
        .backward();
      adam.step();
    });
  epoch();
  const t0 = performance.now();
  for (let k = 0; k < EPOCHS; k++) epoch();
  const ours = (performance.now() - t0) / 1000 / EPOCHS;
  const ref = runReference(
    REF,
    join(ROOT, STRUCT.FXa, 'complex_converted.lmp'),
    join(ROOT, STRUCT.FXa, 'complex_converted.input'),
    {
      epochs: EPOCHS,
      center: cfg.kickCenter,
      radius: cfg.kickRadius,
      threads: 1,
    },
  );
  const r = {
    epochs: EPOCHS,
    movableAtoms: t.movableCount,
    pairs: ff.pairCount,
    genlabSeconds: ours,
    referenceSeconds: ref.secondsPerEpoch,
    ratio: ours / (ref.secondsPerEpoch as number),
  };
  results.epoch = r;
  save();
  console.log(
    `phase-2 epoch on FXa (${t.movableCount} movable atoms, float32, 1 thread, ${EPOCHS} epochs): genlab ${ours.toFixed(4)} s, reference ${ref.secondsPerEpoch?.toFixed(4)} s, ratio ${r.ratio.toFixed(3)}`,
  );
}
