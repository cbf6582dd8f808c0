// A small 3T run on FXa (pocket 6 Å, 3 epochs per stage, 2 conformers): energies per term in
// log.jsonl and the SVG plot, PDB/XYZ per conformer, fixed atoms untouched, the reference's
// first-epoch energies reproduced, Ctrl-C keeps finished conformers and resume is bit for bit.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type PosesResult, posesConfig, readPosePositions, runPoses } from '../../src/poses/experiment.js';
import { loadSafetensors } from '../../src/torch/safetensors.js';
import { isInterrupted } from '../../src/train/session.js';

/** Both run folders' checkpoints hold the same tensors, bit for bit. */
function assertSameCheckpoint(a: string, b: string, what: string): void {
  const x = loadSafetensors(join(a, 'checkpoint.safetensors')).tensors;
  const y = loadSafetensors(join(b, 'checkpoint.safetensors')).tensors;
  assert.deepEqual(Object.keys(y).sort(), Object.keys(x).sort());
  for (const k of Object.keys(x)) assert.ok(x[k].equal(y[k]), `${what}${k} differs`);
}

const ROOT = process.env.GENLAB_3T ?? join('..', 'shared', 'data', '3t');
const missing = existsSync(join(ROOT, 'Config_Files')) ? false : `no 3T data at ${ROOT} (set GENLAB_3T)`;
const tmp = mkdtempSync(join(tmpdir(), 'genlab-poses-run-'));
const settings = { ligandEpochs: 3, phase1: 3, phase2: 3, conformers: 2, kickRadius: 6, printFreq: 1 };

test('a small FXa run: outputs, energies, fixed atoms, interruption and bit-for-bit resume', {
  skip: missing,
}, async () => {
  const cfg = posesConfig('FXA', ROOT, settings);
  assert.equal(cfg.steps, 12);
  const whole = join(tmp, 'whole');
  const r = (await runPoses(cfg, whole, { quiet: true })) as PosesResult;
  assert.ok(!isInterrupted(r));
  for (const f of ['ligand.xyz', 'phase1.pdb', 'conformer-0.pdb', 'conformer-1.xyz', 'energy.svg', 'results.json']) {
    assert.ok(existsSync(join(whole, f)), f);
  }
  const log = readFileSync(join(whole, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(log.length, 12);
  // The first epoch of each stage is the reference's energy of the input (its _outE.txt, float32).
  assert.ok(Math.abs(log[0].loss - 929.6118) < 0.01, `ligand start ${log[0].loss}`);
  assert.ok(Math.abs(log[3].loss - 9937.98) < 0.05, `phase-1 start ${log[3].loss}`);
  for (const e of log)
    assert.ok(
      Math.abs(e.bond + e.angle + e.dihedral + e.improper + e.vdw + e.coulomb - e.loss) < 1e-6 * Math.abs(e.loss),
    );
  assert.ok(log[2].loss < log[0].loss, 'the ligand relaxes');
  // Atoms outside the pocket groups never move.
  const start = readPosePositions(join(whole, 'phase1.xyz'), r.start.energies ? 3842 : 0);
  const conf = readPosePositions(join(whole, 'conformer-1.xyz'), 3842);
  let moved = 0;
  for (let a = 0; a < 3842; a++) if ([0, 1, 2].some((c) => conf[3 * a + c] !== start[3 * a + c])) moved++;
  assert.ok(moved > 48 && moved <= r.movableAtoms, `${moved} atoms moved, ${r.movableAtoms} movable`);
  assert.equal(typeof r.conformers[0].ligandRmsd, 'number');

  // Interrupted once conformer 0 is written: it is kept; the resumed run ends where the whole one did.
  const cut = join(tmp, 'cut');
  const timer = setInterval(() => {
    if (existsSync(join(cut, 'conformer-0.pdb'))) {
      clearInterval(timer);
      process.emit('SIGINT');
    }
  }, 1);
  const stopped = await runPoses(cfg, cut, { quiet: true }).finally(() => clearInterval(timer));
  assert.ok(isInterrupted(stopped), 'stopped by the signal');
  assert.ok(existsSync(join(cut, 'conformer-0.pdb')) && !existsSync(join(cut, 'results.json')));
  const resumed = (await runPoses(cfg, cut, { quiet: true, resume: true })) as PosesResult;
  assertSameCheckpoint(whole, cut, 'resume: ');
  for (const f of ['conformer-0.xyz', 'conformer-1.xyz']) {
    assert.equal(readFileSync(join(cut, f), 'utf8'), readFileSync(join(whole, f), 'utf8'), f);
  }
  assert.deepEqual(
    resumed.conformers.map((c) => c.total),
    r.conformers.map((c) => c.total),
  );
});
