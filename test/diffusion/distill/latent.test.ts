// The latent-space variant: the autoencoder's shapes, scaling and reconstruction after a short
// training, its resume bit for bit, and the teacher → stage 1 → stage 2 pipeline on its latents,
// whose samplers decode to images of the data's shape (tiny nets on 8×8 digits, so 2×2 latents).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ImageDataset } from '../../../src/data/dataset.js';
import { loadDataset } from '../../../src/data/registry.js';
import {
  autoencoderConfig,
  LATENT_FILE,
  loadAutoencoderRun,
  meanSquaredReconstruction,
  trainAutoencoderRun,
} from '../../../src/diffusion/distill/autoencoder.js';
import { studentConfig, teacherConfig } from '../../../src/diffusion/distill/config.js';
import { loadSplit, trainStudentRun, trainTeacherRun } from '../../../src/diffusion/distill/experiment.js';
import {
  cycleLabels,
  drawSamples,
  editImages,
  inpaintImages,
  namedMask,
} from '../../../src/diffusion/distill/quality.js';
import { openRun, sampleRun } from '../../../src/diffusion/distill/use.js';
import { tensor } from '../../../src/torch/creation.js';
import { Generator } from '../../../src/torch/random.js';
import { loadSafetensors } from '../../../src/torch/safetensors.js';
import { tidy } from '../../../src/torch/scope.js';
import { readPng } from '../../../src/train/png.js';
import { isInterrupted } from '../../../src/train/session.js';
import { genlab } from '../../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genlab-distill-latent-'));
const aeDir = join(tmp, 'ae');
after(() => rmSync(tmp, { recursive: true, force: true }));

const aeConfig = (steps: number) => autoencoderConfig('digits', { steps, batchSize: 64, width: 16, lr: 5e-3 });

before(async () => {
  const r = await trainAutoencoderRun(aeConfig(250), aeDir, { quiet: true });
  assert.ok(!isInterrupted(r));
});

test("the autoencoder: 8×8 digits → [4, 2, 2] latents → 8×8 images, a quarter of the mean image's error after 250 steps", () =>
  tidy(() => {
    const { space, run } = loadAutoencoderRun(aeDir);
    assert.deepEqual(space.shape, [4, 2, 2]);
    assert.deepEqual(space.imageShape, [1, 8, 8]);
    const test = loadDataset('digits', { split: 'test' }) as ImageDataset;
    const x = test.images();
    const z = space.toModel(x.narrow(0, 0, 5));
    assert.deepEqual(z.shape, [5, 4, 2, 2]);
    const back = space.toImages(z);
    assert.deepEqual(back.shape, [5, 1, 8, 8]);
    assert.ok(back.min().item() >= 0 && back.max().item() <= 1);
    // Scaling the latents and back is the decoder's own reconstruction.
    const direct = space.ae.forward(x.narrow(0, 0, 5)).sigmoid();
    assert.ok(back.sub(direct).abs().max().item() < 1e-5);
    // Reconstruction error on the test digits against the best constant image (the training mean):
    // the bound is a quarter of the mean image's error.
    const train = (loadDataset('digits', { split: 'train' }) as ImageDataset).images();
    const meanImageMse = x
      .sub(train.mean([0], { keepdim: true }))
      .square()
      .mean()
      .item();
    const mse = meanSquaredReconstruction(space.ae, x);
    assert.ok(mse < meanImageMse / 4, `reconstruction MSE ${mse} vs mean-image MSE ${meanImageMse}`);
    const results = JSON.parse(readFileSync(run.path('results.json'), 'utf8'));
    assert.ok(Math.abs(results.testMse - mse) < 1e-6, 'results.json reports the test MSE');
  }));

test('the scaled latents of the images the statistics came from have mean 0 and std 1 per channel', () =>
  tidy(() => {
    const { space, run } = loadAutoencoderRun(aeDir);
    const stats = JSON.parse(readFileSync(run.path(LATENT_FILE), 'utf8'));
    const train = (loadDataset('digits', { split: 'train' }) as ImageDataset).images();
    assert.equal(stats.images, train.shape[0]);
    const z = space.toModel(train).transpose(0, 1).flatten(1);
    for (const v of z.mean([1]).toTypedArray() as Float32Array) assert.ok(Math.abs(v) < 1e-4, `mean ${v}`);
    for (const v of z.std([1]).toTypedArray() as Float32Array) assert.ok(Math.abs(v - 1) < 1e-4, `std ${v}`);
  }));

test('an autoencoder run stopped by Ctrl-C resumes bit for bit', async () => {
  const whole = join(tmp, 'ae-whole');
  const cut = join(tmp, 'ae-cut');
  assert.ok(!isInterrupted(await trainAutoencoderRun(aeConfig(6), whole, { quiet: true })));
  // A signal after step 3: the loop checkpoints and stops.
  const onStep = (step: number) => step === 3 && void process.emit('SIGINT');
  const stopped = await trainAutoencoderRun(aeConfig(6), cut, { quiet: true, onStep });
  assert.ok(isInterrupted(stopped), JSON.stringify(stopped));
  assert.ok(!isInterrupted(await trainAutoencoderRun(aeConfig(6), cut, { quiet: true, resume: true })));
  const a = loadSafetensors(join(whole, 'checkpoint.safetensors')).tensors;
  const b = loadSafetensors(join(cut, 'checkpoint.safetensors')).tensors;
  for (const k of Object.keys(a)) assert.ok(a[k].equal(b[k]), `${k} differs after resume`);
  assert.equal(readFileSync(join(whole, LATENT_FILE), 'utf8'), readFileSync(join(cut, LATENT_FILE), 'utf8'));
});

test('the latent pipeline: teacher, stage 1 and two rounds on the latents; every sampler decodes to 8×8 images', async () => {
  const teacherDir = join(tmp, 'teacher');
  const t = await trainTeacherRun(
    teacherConfig('digits', { latent: aeDir, steps: 4, batchSize: 16, width: 8, sampleSteps: 2, emaDecay: 0.9 }),
    teacherDir,
    { quiet: true },
  );
  assert.ok(!isInterrupted(t) && Number.isFinite(t.loss));
  assert.deepEqual(pngSize(t.samples), { width: 10 * 34 + 2, height: 10 * 34 + 2 }, 'a 10 × 10 grid of 8×8 images');
  const studentDir = join(tmp, 'student');
  const s = await trainStudentRun(
    studentConfig(teacherDir, { stage1Steps: 2, roundSteps: 2, startSteps: 4, batchSize: 16 }),
    studentDir,
    { quiet: true },
  );
  assert.ok(!isInterrupted(s));
  assert.deepEqual(
    s.phases.map((p) => p.n),
    [4, 2, 1],
  );
  for (const [dir, steps] of [
    [teacherDir, 3],
    [studentDir, 2],
    [studentDir, 1],
  ] as const)
    tidy(() => {
      const r = openRun(dir, steps);
      assert.deepEqual(r.teacher.shape, [4, 2, 2], 'the model diffuses 2×2 latents');
      for (const sampler of ['ddim', 'stochastic'] as const) {
        const x = drawSamples(r.source, r.teacher.shape, cycleLabels(6, 10), {
          steps,
          w: 1,
          sampler,
          generator: new Generator(0),
        });
        assert.deepEqual(x.shape, [6, 1, 8, 8]);
        assert.ok(x.min().item() >= 0 && x.max().item() <= 1 && Number.isFinite(x.sum().item()));
      }
      const file = sampleRun(r, { rows: 2, file: join(tmp, `s-${steps}.png`) }).file;
      assert.deepEqual(pngSize(file), { width: 10 * 34 + 2, height: 2 * 34 + 2 });
    });
  // Editing encodes the images; inpainting generates the latent cells under the hole and keeps the rest of the image.
  tidy(() => {
    const r = openRun(studentDir, 2);
    const images = (loadSplit(r.teacher.cfg, 'test') as ImageDataset).images().narrow(0, 0, 2);
    const edited = editImages(r.source, images, { target: 3, levels: [0.5], steps: 2, w: 1, seed: 0 });
    assert.deepEqual(edited.shape, [4, 1, 8, 8]);
    const mask = namedMask('right', 8, 8);
    const filled = inpaintImages(r.source, images, mask, {
      labels: tensor([0, 1], { dtype: 'int64' }),
      samples: 1,
      steps: 2,
      w: 1,
      seed: 0,
    });
    const completion = filled.reshape([2, 3, 1, 8, 8]).select(1, 2);
    const keep = mask.rsub(1);
    assert.equal(completion.mul(keep).sub(images.mul(keep)).abs().max().item(), 0);
  });
});

test('the command line: distill autoencoder, then teacher --latent takes the data set from the autoencoder', () => {
  const ae = join(tmp, 'ae-cli');
  const a = genlab([
    'distill',
    'autoencoder',
    '--data',
    'digits',
    '--steps',
    '2',
    '--width',
    '4',
    '--out',
    ae,
    '--json',
  ]);
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(JSON.parse(a.stdout).latentShape, [4, 2, 2]);
  const t = join(tmp, 'teacher-cli');
  const r = genlab([
    'distill',
    'teacher',
    '--latent',
    ae,
    '--steps',
    '2',
    '--width',
    '8',
    '--sample-steps',
    '1',
    '--out',
    t,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const cfg = JSON.parse(readFileSync(join(t, 'config.json'), 'utf8'));
  assert.equal(cfg.data, 'digits');
  assert.equal(cfg.latent, ae);
  const bad = genlab(['distill', 'teacher', '--latent', join(tmp, 'nowhere'), '--steps', '1']);
  assert.equal(bad.status, 1);
});

function pngSize(file: string) {
  const { width, height } = readPng(file);
  return { width, height };
}
