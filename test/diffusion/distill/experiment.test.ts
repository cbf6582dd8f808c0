// Guided distillation through its run folders: a tiny teacher (v and x), a student through stage 1
// and two rounds, resume bit for bit mid-round and between rounds, samplers, edit, inpaint and the CLI.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseTeacherConfig, studentConfig, teacherConfig } from '../../../src/diffusion/distill/config.js';
import {
  loadStudentNet,
  loadStudentRun,
  loadTeacherRun,
  studentFile,
  trainStudentRun,
  trainTeacherRun,
} from '../../../src/diffusion/distill/experiment.js';
import { editImages, inpaintImages, namedMask } from '../../../src/diffusion/distill/quality.js';
import { randn, tensor } from '../../../src/torch/creation.js';
import { loadSafetensors } from '../../../src/torch/safetensors.js';
import { tidy } from '../../../src/torch/scope.js';
import { readPng, writePng } from '../../../src/train/png.js';
import { isInterrupted, type TrainOptions } from '../../../src/train/session.js';
import { genlab } from '../../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-distill-'));
const teacherDir = join(tmp, 'teacher');
after(() => rmSync(tmp, { recursive: true, force: true }));

// The v teacher, and the students distilled from it, run channels-last; the x teacher row-major.
const tinyTeacher = (param: 'v' | 'x') =>
  teacherConfig('digits', {
    steps: 6,
    batchSize: 16,
    width: 8,
    sampleSteps: 2,
    emaDecay: 0.9,
    param,
    memoryFormat: param === 'v' ? 'channelsLast' : 'contiguous',
  });
// Stage 1: steps 1–3; round 1 (2 steps): 4–6; round 2 (1 step): 7–9.
const tinyStudent = () =>
  studentConfig(teacherDir, { stage1Steps: 3, roundSteps: 3, startSteps: 4, batchSize: 16, sampleW: 1 });

before(async () => {
  const r = await trainTeacherRun(tinyTeacher('v'), teacherDir, { quiet: true });
  assert.ok(!isInterrupted(r) && Number.isFinite(r.loss));
});

test('the x-parameterised teacher trains to a finite loss', async () => {
  const r = await trainTeacherRun(tinyTeacher('x'), join(tmp, 'teacher-x'), { quiet: true });
  assert.ok(!isInterrupted(r) && Number.isFinite(r.loss), JSON.stringify(r));
});

/** Trains the tiny student into `dir`, stopped by a signal after step `stopAt` (if given). */
function student(dir: string, stopAt?: number, resume = false) {
  const opts: TrainOptions = { quiet: true, resume };
  if (stopAt !== undefined) opts.onStep = (s) => s === stopAt && void process.emit('SIGINT');
  return trainStudentRun(tinyStudent(), dir, opts);
}

/** Two run folders' checkpoints hold the same tensors, bit for bit. */
function assertSameCheckpoint(a: string, b: string, what: string): void {
  const x = loadSafetensors(join(a, 'checkpoint.safetensors')).tensors;
  const y = loadSafetensors(join(b, 'checkpoint.safetensors')).tensors;
  assert.deepEqual(Object.keys(y).sort(), Object.keys(x).sort());
  for (const k of Object.keys(x)) assert.ok(x[k].equal(y[k]), `${what}${k} differs after resume`);
}

const pngSize = (file: string) => {
  const { width, height } = readPng(file);
  return { width, height };
};

const bytes = (dir: string, n: number) => readFileSync(join(dir, studentFile(n)));

test('a student run resumes bit for bit mid-round and between rounds, and saves every round', async () => {
  const whole = join(tmp, 'whole');
  const r = await student(whole);
  assert.ok(!isInterrupted(r));
  assert.deepEqual(
    r.phases.map((p) => [p.round, p.n]),
    [
      [0, 4],
      [1, 2],
      [2, 1],
    ],
  );
  // Step 5 is inside round 1; step 6 ends it, so the resumed run starts round 2 (prev ← student, fresh Adam).
  for (const stopAt of [5, 6]) {
    const cut = join(tmp, `cut-${stopAt}`);
    const stopped = await student(cut, stopAt);
    assert.ok(isInterrupted(stopped) && stopped.step === stopAt, JSON.stringify(stopped));
    const resumed = await student(cut, undefined, true);
    assert.ok(!isInterrupted(resumed));
    assertSameCheckpoint(whole, cut, `stopped at ${stopAt}: `);
    for (const n of [4, 2, 1])
      assert.ok(bytes(whole, n).equals(bytes(cut, n)), `stopped at ${stopAt}: ${studentFile(n)}`);
  }
});

test('a teacher config from before memoryFormat loads row-major; students inherit the teacher’s layout', () => {
  const { memoryFormat: _dropped, ...older } = tinyTeacher('x');
  assert.equal(parseTeacherConfig(older, 'config.json').memoryFormat, 'contiguous');
  assert.throws(() => parseTeacherConfig({ ...older, memoryFormat: 'nhwc' }, 'config.json'), /memoryFormat/);
  const model = loadStudentNet(join(tmp, 'whole'), loadTeacherRun(teacherDir), 1);
  assert.equal(model.net.unet.config.memoryFormat, 'channelsLast');
  model.net.dispose();
});

test('edit and inpaint with the 2-step student give strips of the expected size', () =>
  tidy(() => {
    const s = loadStudentRun(join(tmp, 'whole'));
    assert.deepEqual(s.available, [4, 2, 1]);
    const model = loadStudentNet(s.run.dir, s.teacher, 2);
    const images = randn([3, 1, 8, 8]).mul(0.2).add(0.5).clamp(0, 1);
    const src = { kind: 'student' as const, model };
    const edited = editImages(src, images, { target: 7, levels: [0.3, 0.6], steps: 2, w: 1, seed: 0 });
    assert.deepEqual(edited.shape, [9, 1, 8, 8]);
    assert.equal(
      edited
        .narrow(0, 0, 1)
        .sub(images.narrow(0, 0, 1))
        .abs()
        .max()
        .item(),
      0,
      'each strip starts with its image',
    );
    const mask = namedMask('centre', 8, 8);
    assert.equal(mask.sum().item(), 16);
    const filled = inpaintImages(src, images, mask, {
      labels: tensor([1, 2, 3], { dtype: 'int64' }),
      samples: 2,
      steps: 2,
      w: 1,
      seed: 0,
    });
    assert.deepEqual(filled.shape, [12, 1, 8, 8]);
    // Outside the hole, every completion is the given image.
    const keep = mask.rsub(1);
    const completion = filled.reshape([3, 4, 1, 8, 8]).select(1, 3);
    assert.equal(completion.mul(keep).sub(images.mul(keep)).abs().max().item(), 0);
  }));

test('the command line: sample --json reports evaluations; a missing round is a one-line error', () => {
  const dir = join(tmp, 'whole');
  const r = genlab(['distill', 'sample', dir, '--steps', '2', '--w', '2', '--json', '--out', join(tmp, 's.png')]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.evaluations, 2);
  assert.equal(out.file, join(tmp, 's.png'));
  const t = genlab(['distill', 'sample', teacherDir, '--steps', '3', '--json', '--out', join(tmp, 't.png')]);
  assert.equal(t.status, 0, t.stderr);
  assert.equal(JSON.parse(t.stdout).evaluations, 6, 'the guided teacher takes two evaluations a step');
  const bad = genlab(['distill', 'sample', dir, '--steps', '8']);
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /^genlab: .* has no 8-step student .*--steps/);
});

test('the command line: edit and inpaint read PNGs (a PNG mask too) and write strips', () => {
  const dir = join(tmp, 'whole');
  const img = (v: number) => ({
    width: 8,
    height: 8,
    channels: 1 as const,
    data: new Uint8Array(64).map((_, i) => (i * v) % 256),
  });
  writePng(join(tmp, 'a.png'), img(3));
  writePng(join(tmp, 'b.png'), img(5));
  // The mask fills the left two columns.
  writePng(join(tmp, 'm.png'), {
    width: 8,
    height: 8,
    channels: 1,
    data: new Uint8Array(64).map((_, i) => (i % 8 < 2 ? 255 : 0)),
  });
  const images = `${join(tmp, 'a.png')},${join(tmp, 'b.png')}`;
  const e = genlab([
    'distill',
    'edit',
    dir,
    '--images',
    images,
    '--target',
    '3',
    '--steps',
    '2',
    '--levels',
    '0.5',
    '--json',
    '--out',
    join(tmp, 'e.png'),
  ]);
  assert.equal(e.status, 0, e.stderr);
  assert.deepEqual(pngSize(join(tmp, 'e.png')), { width: 2 * 34 + 2, height: 2 * 34 + 2 });
  const p = genlab([
    'distill',
    'inpaint',
    dir,
    '--images',
    images,
    '--class',
    '1,2',
    '--mask',
    join(tmp, 'm.png'),
    '--samples',
    '1',
    '--steps',
    '1',
    '--out',
    join(tmp, 'p.png'),
  ]);
  assert.equal(p.status, 0, p.stderr);
  const strip = readPng(join(tmp, 'p.png'));
  assert.deepEqual([strip.width, strip.height], [3 * 34 + 2, 2 * 34 + 2]);
  // Right of the mask, the completion (third tile of the first strip) shows the input's pixels.
  const px = (x: number, y: number) => strip.data[y * strip.width + x];
  const tile = (k: number, col: number, row: number) => px(2 + k * 34 + col * 4, 2 + row * 4);
  for (const [c, r] of [
    [3, 1],
    [7, 6],
  ])
    assert.equal(tile(2, c, r), tile(0, c, r));
  const bad = genlab(['distill', 'inpaint', dir, '--images', images, '--class', '1,2,3', '--steps', '1']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /2 images but 3 classes; give one --class for all/);
});
