// npx tsx bench/distill-results.ts <teacher run> <student run> <teacher|student|tables> [--n 250] —
// the tables of results/distillation.md: FID/IS (shipped digits classifier), network evaluations and
// images/s of the guided teacher and of the distilled students at each step count and guidance
// weight, sample grids per w, and edit / inpaint strips. The two evaluation parts can run at the same
// time; each writes its rows to results/distillation/<part>.json; `tables` prints the Markdown.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadSplit } from '../src/diffusion/distill/experiment.js';
import type { QualityRow } from '../src/diffusion/distill/quality.js';
import { editRun, evaluateRun, inpaintRun, openRun, sampleRun } from '../src/diffusion/distill/use.js';
import * as torch from '../src/torch/index.js';
import { imageGrid } from '../src/train/images.js';
import { writePng } from '../src/train/png.js';
import { argValue } from './common.js';

const [teacherDir, studentDir, part] = process.argv.slice(2, 5);
const n = Number(argValue('n', '250'));
const out = 'results/distillation';
mkdirSync(out, { recursive: true });
torch.setNumThreads(1);
const ws = [0, 0.3, 1, 2, 4];
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

const save = (name: string, v: unknown) => writeFileSync(join(out, `${name}.json`), `${JSON.stringify(v, null, 1)}\n`);
const read = (name: string) => JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8'));
const t0 = performance.now();
const minutes = () => ((performance.now() - t0) / 60000).toFixed(1);

if (part === 'teacher') {
  const teacher = evaluateRun(teacherDir, {
    steps: [1, 2, 4, 8, 16, 64],
    ws,
    n,
    onRow: (r) => log(`teacher ${JSON.stringify(r)}`),
  });
  save('teacher', { load, minutes: minutes(), n, rows: teacher.rows });
}

if (part === 'student') {
  const student = evaluateRun(studentDir, {
    steps: [16, 8, 4, 2, 1],
    ws,
    n,
    onRow: (r) => log(`student ${JSON.stringify(r)}`),
  });
  const stochastic = evaluateRun(studentDir, {
    steps: [8, 4, 2],
    ws: [0.3, 1],
    n,
    sampler: 'stochastic',
    onRow: (r) => log(`stochastic ${JSON.stringify(r)}`),
  });
  // Sample grids per w (4-step student) and of the teacher at its full count (w = 1).
  const grids: string[] = [];
  const s4 = openRun(studentDir, 4);
  for (const w of ws) grids.push(sampleRun(s4, { w, file: join(out, `student4-w${w}.png`), rows: 4 }).file);
  grids.push(sampleRun(openRun(teacherDir), { w: 1, file: join(out, 'teacher64-w1.png'), rows: 4 }).file);
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
    stochastic: stochastic.rows,
    grids,
    labels,
    edit: edit.file,
    inpaint: inpaint.map((r) => r.file),
  });
}

if (part === 'tables') {
  const t = read('teacher');
  const s = read('student');
  console.log(
    [
      `Teacher part: ${t.n} samples per row, load average ${t.load.toFixed(1)} at its start, ${t.minutes} min. Student part: load ${s.load.toFixed(1)}, ${s.minutes} min.`,
      `Test labels of the edit/inpaint inputs: ${s.labels.join(', ')}.`,
      '',
      ...table('guided teacher (DDIM)', t.rows),
      '',
      ...table('distilled student (DDIM)', s.rows),
      '',
      ...table('distilled student (stochastic sampler)', s.stochastic),
    ].join('\n'),
  );
}
