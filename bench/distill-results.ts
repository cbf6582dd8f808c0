// npx tsx bench/distill-results.ts <teacher run> <student run> <teacher|student|floor|tables> [--n 250]
//   [--name fm] [--steps 1,2,4,8,16,64] [--ws 0,0.3,1,2,4] [--more-steps 4,32 --more-ws 0.3,2]
//   [--stochastic 1] [--edits 1] —
// the tables of results/distillation.md: FID/IS (the shipped classifier of the run's data), network
// evaluations and images/s of the guided teacher (part teacher: --steps × --ws, then --more-steps ×
// --more-ws) and of the distilled students (part student: each round × --ws, the stochastic sampler
// when --stochastic is 1, sample grids per w, and, with --edits 1, edit / inpaint strips). Each part
// writes its rows to results/distillation/<name->part.json (no prefix without --name: the digits
// runs); `floor` scores n real training images (and their autoencoder reconstructions); `tables`
// prints the Markdown. Latent runs are scored on their decoded images.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { ImageDataset } from '../src/data/dataset.js';
import { loadSplit } from '../src/diffusion/distill/experiment.js';
import type { QualityRow } from '../src/diffusion/distill/quality.js';
import { editRun, evaluateRun, inpaintRun, openRun, sampleRun } from '../src/diffusion/distill/use.js';
import { extractBatched } from '../src/metrics/extractor.js';
import { classifierExtractor, loadFeatureNet } from '../src/metrics/featureNet.js';
import { fidFromFeatures } from '../src/metrics/fid.js';
import { inceptionScore } from '../src/metrics/inception.js';
import * as torch from '../src/torch/index.js';
import { imageGrid } from '../src/train/images.js';
import { writePng } from '../src/train/png.js';
import { argValue } from './common.js';

const [teacherDir, studentDir, part] = process.argv.slice(2, 5);
const n = Number(argValue('n', '250'));
const name = argValue('name', '');
const numbers = (flag: string, fallback: string) =>
  argValue(flag, fallback)
    .split(',')
    .filter((v) => v.length > 0)
    .map(Number);
const out = 'results/distillation';
mkdirSync(out, { recursive: true });
torch.setNumThreads(1);
const ws = numbers('ws', '0,0.3,1,2,4');
const prefix = name ? `${name}-` : '';
const log = (m: string) => process.stderr.write(`${m}\n`);
const load = loadavg()[0];

const table = (title: string, rows: QualityRow[]) => [
  `| ${title} | steps | w | evaluations / image | FID | IS | images/s |`,
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| | ${r.steps} | ${r.w} | ${r.evaluations} | ${r.fid.toFixed(2)} | ${r.inceptionScore.toFixed(2)} | ${r.imagesPerSecond.toFixed(0)} |`,
  ),
];

const save = (what: string, v: unknown) =>
  writeFileSync(join(out, `${prefix}${what}.json`), `${JSON.stringify(v, null, 1)}\n`);
const read = (what: string) => JSON.parse(readFileSync(join(out, `${prefix}${what}.json`), 'utf8'));
const t0 = performance.now();
const minutes = () => ((performance.now() - t0) / 60000).toFixed(1);

if (part === 'teacher') {
  const onRow = (r: QualityRow) => log(`teacher ${JSON.stringify(r)}`);
  const teacher = evaluateRun(teacherDir, { steps: numbers('steps', '1,2,4,8,16,64'), ws, n, onRow });
  const moreSteps = numbers('more-steps', '');
  const more = moreSteps.length
    ? evaluateRun(teacherDir, { steps: moreSteps, ws: numbers('more-ws', ''), n, onRow }).rows
    : [];
  save('teacher', { load, minutes: minutes(), n, rows: [...teacher.rows, ...more] });
}

if (part === 'student') {
  const student = evaluateRun(studentDir, {
    steps: [16, 8, 4, 2, 1],
    ws,
    n,
    onRow: (r) => log(`student ${JSON.stringify(r)}`),
  });
  const stochastic =
    argValue('stochastic', '1') === '1'
      ? evaluateRun(studentDir, {
          steps: [8, 4, 2],
          ws: [0.3, 1],
          n,
          sampler: 'stochastic',
          onRow: (r) => log(`stochastic ${JSON.stringify(r)}`),
        }).rows
      : [];
  // Sample grids per w (4-step student) and of the teacher at its full count (w = 1).
  const grids: string[] = [];
  const s4 = openRun(studentDir, 4);
  for (const w of ws) grids.push(sampleRun(s4, { w, file: join(out, `${prefix}student4-w${w}.png`), rows: 4 }).file);
  const full = openRun(teacherDir);
  grids.push(sampleRun(full, { w: 1, file: join(out, `${prefix}teacher${full.steps}-w1.png`), rows: 4 }).file);
  if (argValue('edits', name ? '0' : '1') !== '1') {
    save('student', { load, minutes: minutes(), n, rows: student.rows, stochastic, grids });
    process.exit(0);
  }
  // Edit and inpaint: eight test digits written as PNGs, then the CLI's functions on them.
  const test = loadSplit(openRun(teacherDir).teacher.cfg, 'test');
  const files: string[] = [];
  const picks = [0, 7, 14, 21, 28, 35, 42, 49];
  torch.tidy(() => {
    picks.forEach((i, k) => {
      const file = join(out, `input-${k}.png`);
      writePng(file, imageGrid(test.batch(torch.tensor([i], { dtype: 'int64' })).x, { padding: 0 }));
      files.push(file);
    });
  });
  const labels = torch.tidy(() =>
    Array.from(test.batch(torch.tensor(picks, { dtype: 'int64' })).y.toTypedArray() as BigInt64Array, Number),
  );
  const s2 = openRun(studentDir, 2);
  const edit = editRun(s4, files, { target: 3, levels: [0.4, 0.6, 0.8], w: 2, file: join(out, 'edit-to-3.png') });
  const inpaint = [
    inpaintRun(s2, files.slice(0, 4), {
      labels: labels.slice(0, 4),
      mask: 'centre',
      samples: 4,
      w: 1,
      file: join(out, 'inpaint-centre-2step.png'),
    }),
    inpaintRun(s4, files.slice(4, 8), {
      labels: labels.slice(4, 8),
      mask: 'right',
      samples: 4,
      w: 1,
      file: join(out, 'inpaint-right-4step.png'),
    }),
  ];
  save('student', {
    load,
    minutes: minutes(),
    n,
    rows: student.rows,
    stochastic,
    grids,
    labels,
    edit: edit.file,
    inpaint: inpaint.map((r) => r.file),
  });
}

// The floor of these FIDs: n real training images, and (for a latent teacher) the autoencoder's
// reconstructions of the same images, each scored against the test set like a row of samples.
if (part === 'floor') {
  const t = openRun(teacherDir).teacher;
  const data = t.cfg.data;
  const net = loadFeatureNet(data);
  const extractor = classifierExtractor(net);
  const score = (x: torch.Tensor) => ({
    fid: fidFromFeatures(extractBatched(extractor, x, 'features'), real),
    inceptionScore: inceptionScore(extractBatched(extractor, x, 'probs')).mean,
  });
  const images = (split: 'train' | 'test') => (loadSplit(t.cfg, split) as ImageDataset).images();
  const real = extractBatched(extractor, images('test'), 'features');
  const train = images('train').narrow(0, 0, n);
  const floor = torch.tidy(() => ({
    real: score(train),
    reconstructed: t.cfg.latent ? score(t.space.toImages(t.space.toModel(train))) : null,
  }));
  log(JSON.stringify(floor));
  save('floor', { n, ...floor });
}

if (part === 'tables') {
  const t = read('teacher');
  const s = read('student');
  console.log(
    [
      `Teacher part: ${t.n} samples per row, load average ${t.load.toFixed(1)} at its start, ${t.minutes} min. Student part: load ${s.load.toFixed(1)}, ${s.minutes} min.`,
      s.labels ? `Test labels of the edit/inpaint inputs: ${s.labels.join(', ')}.` : '',
      '',
      ...table('guided teacher (DDIM)', t.rows),
      '',
      ...table('distilled student (DDIM)', s.rows),
      '',
      ...table('distilled student (stochastic sampler)', s.stochastic),
    ].join('\n'),
  );
}
