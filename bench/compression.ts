// Lossless compression with a trained VDM (bits-back rANS through its T-step chain), against its
// negative ELBO and against real codecs on the same images:
//   npx tsx bench/compression.ts --run <vdm run> [--data digits] [--split all] [--n 1000]
//        [--ts 5,10,20,50] [--main 20] [--batch 10] [--reps 20] [--out results/compression.md]
//        [--orders bbans,bitswap] [--initial-batches 1,10] [--latent-bits 10]
// `--ts none` skips the rate-against-T sweep (the round trips' rates are then set against the
// negative ELBO at the main T), `--initial-batches none` the initial-bits table.
// The round trip goes through the CLI (`genlab diffusion compress` / `decompress`) as a user runs it;
// the rate-against-T sweep calls the family directly. Real codecs get all the images tiled into one
// mosaic: PNG (zlib level 9, libpng's per-row filter choice), `cwebp -lossless -z 9`,
// `cjxl -d 0 -e 9`, and `xz -9e` on the raw bytes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CodecImages,
  compressImages,
  discreteNelbo,
  levelToByte,
  pngFilesIn,
  pngImages,
  splitImages,
} from '../src/diffusion/compress.js';
import { loadVdmRun } from '../src/diffusion/experiment.js';
import { setNumThreads } from '../src/torch/runtime.js';
import { encodePng } from '../src/train/png.js';
import { argValue, genlabJson } from './common.js';

const runDir = argValue('run', '');
if (!runDir) {
  process.stderr.write('usage: npx tsx bench/compression.ts --run <vdm run folder> [options]\n');
  process.exit(2);
}
const data = argValue('data', 'digits');
const split = argValue('split', 'all') as 'train' | 'test' | 'all';
const n = Number(argValue('n', '1000'));
const list = (s: string) => s.split(',').filter((v) => v !== '' && v !== 'none');
const ts = list(argValue('ts', '5,10,20,50')).map(Number);
const mainT = Number(argValue('main', '20'));
const batch = Number(argValue('batch', '10'));
const reps = Number(argValue('reps', '20'));
const out = argValue('out', 'results/compression.md');
const orders = list(argValue('orders', 'bbans,bitswap')) as ('bbans' | 'bitswap')[];
const initialBatches = list(argValue('initial-batches', '1,10')).map(Number);
const latentBits = Number(argValue('latent-bits', '10'));
setNumThreads(1);

const r = loadVdmRun(runDir);
const K = r.info.levels ?? 0;
const images = splitImages(data, { split, n, root: r.cfg.root, levels: K });
const dims = images.count * images.shape.reduce((a, b) => a * b, 1);
const tmp = mkdtempSync(join(tmpdir(), 'genlab-bench-compress-'));
const log = (s: string) => process.stderr.write(`${s}\n`);
const f3 = (x: number) => x.toFixed(3);
const f4 = (x: number) => x.toFixed(4);

// 1. The round trip through the CLI, at the main T, in both orders.
function roundTrip(order: string) {
  const file = join(tmp, `${order}.glz`);
  const folder = join(tmp, `${order}-out`);
  const common = [
    '--timesteps',
    String(mainT),
    '--batch',
    String(batch),
    '--latent-bits',
    String(latentBits),
    '--threads',
    '1',
  ];
  const c = genlabJson([
    'diffusion',
    'compress',
    runDir,
    '--data',
    data,
    '--split',
    split,
    '--n',
    String(n),
    '--out',
    file,
    '--order',
    order,
    ...common,
  ]);
  const d = genlabJson(['diffusion', 'decompress', runDir, file, '--out', folder, '--threads', '1']);
  // Read the PNG files back and compare them with the data set's levels, independently of the CLI.
  const back = pngImages(pngFilesIn(folder), images.shape, K);
  const exact = Buffer.from(back.levels).equals(Buffer.from(images.levels));
  return { order, c, d, exact, bytes: statSync(file).size };
}
log(`round trips through the CLI: ${n} ${data} ${split} images, T=${mainT}, batch ${batch}`);
const trips = orders.map(roundTrip);

// 2. Rate against T, with the model's discrete-time negative ELBO at each T.
interface Sweep {
  T: number;
  nelbo: ReturnType<typeof discreteNelbo>;
  rows: {
    order: string;
    net: number;
    sample: number;
    gap: number;
    gapSe: number;
    initial: number;
    initialBits: number;
    file: number;
    ips: number;
  }[];
}
const sweep: Sweep[] = [];

// 3. Initial bits against the batch size (they depend only on the first batches: 40 images suffice).
const first = splitImages(data, { split, n: 40, root: r.cfg.root, levels: K });
const initialByBatch = initialBatches.flatMap((b) =>
  orders.map((order) => ({
    batch: b,
    order,
    bits: compressImages(r, first, { timesteps: mainT, batch: b, order, latentBits }).header.initialBits,
  })),
);
// Without a sweep, the negative ELBO at the main T for the round trips' rates.
const mainNelbo = ts.includes(mainT) ? null : discreteNelbo(r, images, mainT, { reps, seed: 1 });

// 4. Real codecs on one mosaic of all the images.
function mosaic(im: CodecImages) {
  const [C, H, W] = im.shape;
  if (C !== 1) throw new Error('mosaic: grey images only');
  const cols = Math.ceil(Math.sqrt(im.count * 1.6));
  const rows = Math.ceil(im.count / cols);
  const width = cols * W;
  const height = rows * H;
  const px = new Uint8Array(width * height);
  for (let i = 0; i < im.count; i++) {
    const ox = (i % cols) * W;
    const oy = Math.floor(i / cols) * H;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) px[(oy + y) * width + ox + x] = levelToByte(im.levels[i * H * W + y * W + x], K);
  }
  return { width, height, px, padded: cols * rows - im.count };
}
const m = mosaic(images);
const png = join(tmp, 'mosaic.png');
writeFileSync(png, encodePng({ width: m.width, height: m.height, channels: 1, data: m.px }));
writeFileSync(join(tmp, 'mosaic.raw'), m.px);
const run = (cmd: string, args: string[]) => {
  const p = spawnSync(cmd, args, { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`${cmd} failed: ${p.stderr}`);
};
const codecs: { name: string; bytes: number | null }[] = [
  { name: 'PNG (zlib level 9, per-row filters)', bytes: statSync(png).size },
];
const tryCodec = (name: string, cmd: string, args: string[], file: string) => {
  try {
    run(cmd, args);
    codecs.push({ name, bytes: statSync(file).size });
  } catch (e) {
    log(`${name}: ${(e as Error).message.split('\n')[0]}`);
    codecs.push({ name, bytes: null });
  }
};
tryCodec(
  'WebP lossless (`cwebp -lossless -z 9`)',
  'cwebp',
  ['-quiet', '-lossless', '-z', '9', png, '-o', join(tmp, 'm.webp')],
  join(tmp, 'm.webp'),
);
tryCodec(
  'JPEG XL lossless (`cjxl -d 0 -e 9`)',
  'cjxl',
  ['--quiet', png, join(tmp, 'm.jxl'), '-d', '0', '-e', '9'],
  join(tmp, 'm.jxl'),
);
tryCodec(
  'xz -9e on the raw 8-bit mosaic',
  'xz',
  ['-9e', '-k', '-f', join(tmp, 'mosaic.raw')],
  join(tmp, 'mosaic.raw.xz'),
);

// The report, rewritten after each T so that a long sweep leaves its finished rows.
function writeReport(): void {
  const date = new Date().toISOString().slice(0, 10);
  const cfg = r.cfg;
  const main = sweep.find((s) => s.T === mainT);
  const lines: string[] = [];
  lines.push('# Lossless compression with a VDM: bits-back rANS coding', '');
  lines.push(
    `\`npx tsx bench/compression.ts --run ${runDir} --data ${data} --split ${split} --n ${n} --ts ${ts.join(',') || 'none'} --main ${mainT} --batch ${batch} --reps ${reps} --orders ${orders.join(',')} --initial-batches ${initialBatches.join(',') || 'none'} --latent-bits ${latentBits}\`, ${date}, 1 thread, on the shared 2-core machine (load average ${loadavg()[0].toFixed(1)} at the end, ${cpus().length} CPUs): throughputs are under that load.`,
    '',
    `Model: \`genlab diffusion train --timesteps ${cfg.timesteps} --steps ${cfg.steps}\` on ${cfg.data} (${cfg.schedule} schedule, ${cfg.objective} objective, U-Net width ${cfg.width}, depth ${cfg.depth}), EMA weights. Images: the first ${n} of the ${data} split '${split}'${split === 'all' ? ' (the digits test split has only 360 images, so 1,000 images include training images; the rate is compared with the negative ELBO of the same images)' : ''}. Latents on a grid of 2^-${latentBits} over |z| < 8 (posteriors on ±8 std of it), frequencies out of 2^32.`,
    '',
  );
  const name = (o: string) => (o === 'bbans' ? 'paper' : 'Bit-Swap');
  lines.push('## Round trip through the CLI', '');
  lines.push(
    `| order | file | bits/dim of the file | net bits/dim | initial bits | encode | decode | decoded PNGs equal the data |${mainNelbo ? ` negative ELBO at T=${mainT} | net rate / negative ELBO − 1 |` : ''}`,
  );
  lines.push(`|---|---|---|---|---|---|---|---|${mainNelbo ? '---|---|' : ''}`);
  for (const t of trips) {
    const vs = mainNelbo
      ? ` ${f4(mainNelbo.bpd)} ± ${f4(mainNelbo.stderr)} | ${(100 * (t.c.netBpd / mainNelbo.bpd - 1)).toFixed(2)}% |`
      : '';
    lines.push(
      `| ${name(t.order)} | ${t.bytes} bytes | ${f4(t.c.fileBpd)} | ${f4(t.c.netBpd)} | ${t.c.header.initialBits.toFixed(0)} (${f4(t.c.initialBpd)} bits/dim over the set) | ${t.c.imagesPerSecond.toFixed(1)} images/s | ${t.d.imagesPerSecond.toFixed(1)} images/s | ${t.exact ? 'yes, bit for bit' : '**no**'} |${vs}`,
    );
  }
  lines.push(
    '',
    `Commands: \`genlab diffusion compress ${runDir} --data ${data} --split ${split} --n ${n} --timesteps ${mainT} --batch ${batch} --latent-bits ${latentBits} --order <order> --out f.glz\`, then \`genlab diffusion decompress ${runDir} f.glz --out <folder>\`; the PNG files written are read back and compared with the data set's levels.${mainNelbo ? ` Negative ELBO: the model's discrete-time bound at T=${mainT} on the same ${n} images (${reps} draws of (t, ε) per image, ± standard error over images).` : ''}`,
    '',
  );
  if (sweep.length > 0) {
    lines.push('## Rate against T', '');
    lines.push(
      `Net rate: the file's information minus the initial bits, per dimension. Negative ELBO: the model's discrete-time bound at the same T on the same ${n} images (\`vlbTerms\` at T steps, ${reps} draws of (t, ε) per image, ± standard error over images). Gap: net rate over negative ELBO − 1, ± its standard error from the coded-minus-ELBO bits of the ${Math.ceil(n / batch)} batches (each image is coded with one draw of its latents, so the rate itself is a one-draw estimate of the bound). Coding overhead: the net rate minus the coded chain's own −log₂ p(x, z) + log₂ q(z | x) with unquantised densities (the density at each bucket's centre times its width, for the same latents that were coded), i.e. what the latent grid, the integer frequencies and rANS add, in bits/dim. Batch ${batch} images per network call.`,
      '',
    );
    lines.push(
      '| T | order | negative ELBO (bits/dim) | net rate (bits/dim) | gap ± se | coding overhead (bits/dim) | initial bits (bits/dim over the set) | file bits/dim | encode images/s |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|');
    for (const s of sweep)
      for (const x of s.rows)
        lines.push(
          `| ${s.T} | ${name(x.order)} | ${f4(s.nelbo.bpd)} ± ${f4(s.nelbo.stderr)} | ${f4(x.net)} | ${(100 * x.gap).toFixed(2)}% ± ${(100 * x.gapSe).toFixed(2)}% | ${(x.net - x.sample).toExponential(1)} | ${f4(x.initial)} | ${f4(x.file)} | ${x.ips.toFixed(1)} |`,
        );
  }
  if (initialBatches.length > 0) {
    lines.push('', '## Initial bits', '');
    lines.push(
      `The first batch pops its latents from an empty message; those bits come from a fixed generator, are counted, and are checked when decoding gives them back. They depend on the order and on how many images share the first pops (T=${mainT}):`,
      '',
    );
    lines.push(`| batch | ${orders.map((o) => `${name(o)} order (bits)`).join(' | ')} |`);
    lines.push(`|---|${orders.map(() => '---|').join('')}`);
    for (const b of initialBatches) {
      const get = (o: string) => initialByBatch.find((x) => x.batch === b && x.order === o)?.bits.toFixed(0);
      lines.push(`| ${b} | ${orders.map(get).join(' | ')} |`);
    }
  }
  lines.push('', '## Real codecs on the same images', '');
  lines.push(
    `All ${n} images tiled into one ${m.width}×${m.height} 8-bit grey mosaic (level k stored as round(255k/${K - 1}); ${m.padded} padding tiles of zeros), so that per-file headers do not count. Bits/dim = 8 · bytes / (${n} · ${dims / n}).`,
    '',
  );
  lines.push('| codec | bytes | bits/dim |', '|---|---|---|');
  for (const t of trips)
    lines.push(
      `| VDM bits-back, T=${mainT}, ${name(t.order)} order (whole file) | ${t.bytes} | ${f3((8 * t.bytes) / dims)} |`,
    );
  for (const c of codecs)
    lines.push(`| ${c.name} | ${c.bytes ?? 'failed'} | ${c.bytes === null ? '–' : f3((8 * c.bytes) / dims)} |`);
  const nelboMain = main?.nelbo ?? mainNelbo;
  if (nelboMain) lines.push(`| *the model's negative ELBO at T=${mainT}* | | ${f3(nelboMain.bpd)} |`);
  lines.push('');
  writeFileSync(out, `${lines.join('\n')}\n`);
  log(`wrote ${out}`);
}
for (const T of ts) {
  log(`T=${T}: negative ELBO (${reps} draws per image) and encodes`);
  const nelbo = discreteNelbo(r, images, T, { reps, seed: 1 });
  const rows = orders.map((order) => {
    const res = compressImages(r, images, { timesteps: T, batch, order, latentBits });
    // The gap to the negative ELBO, paired by batch: coded bits minus the ELBO of the same images.
    const diffs = res.batchNetBits.map((bits, b) => {
      let e = 0;
      for (let i = b * batch; i < Math.min(images.count, (b + 1) * batch); i++) e += nelbo.perImageBits[i];
      return bits - e;
    });
    const mean = diffs.reduce((a, v) => a + v, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((a, v) => a + (v - mean) ** 2, 0) / (diffs.length - 1));
    const total = nelbo.bpd * dims;
    return {
      order,
      net: res.netBpd,
      sample: res.sampleBpd,
      gap: (mean * diffs.length) / total,
      gapSe: (sd * Math.sqrt(diffs.length)) / total,
      initial: res.initialBpd,
      initialBits: res.header.initialBits,
      file: res.fileBpd,
      ips: res.imagesPerSecond,
    };
  });
  sweep.push({ T, nelbo, rows });
  writeReport();
}
if (ts.length === 0) writeReport();
if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
