import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { loadDigits } from '../../src/data/index.js';
import { torch } from '../../src/index.js';
import { imageGrid, saveImageGrid } from '../../src/train/images.js';
import { plotRunLog, plotSvg, readLogSeries, savePlotSvg, saveScatterSvg, scatterSvg } from '../../src/train/plot.js';
import { crc32, decodePng, encodePng, type RawImage, readPng } from '../../src/train/png.js';

const dir = mkdtempSync(join(tmpdir(), 'genlab-img-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function randomImage(width: number, height: number, channels: 1 | 2 | 3 | 4, seed: number): RawImage {
  const data = new Uint8Array(width * height * channels);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    // Mix smooth gradients (which favour Sub/Up/Paeth filters) with noise.
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = i % 7 === 0 ? s >>> 24 : (i * 3 + Math.floor(i / (width * channels)) * 5) & 0xff;
  }
  return { width, height, channels, data };
}

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new TextEncoder().encode('IEND')), 0xae426082);
});

test('PNG encode → decode is exact for grey, grey+alpha, RGB and RGBA', () => {
  for (const channels of [1, 2, 3, 4] as const) {
    const img = randomImage(37, 23, channels, channels);
    const png = encodePng(img);
    assert.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
    const back = decodePng(png);
    assert.equal(back.width, 37);
    assert.equal(back.height, 23);
    assert.equal(back.channels, channels);
    assert.ok(Buffer.from(back.data).equals(Buffer.from(img.data)));
  }
  const one = { width: 1, height: 1, channels: 1 as const, data: Uint8Array.from([200]) };
  assert.deepEqual(Array.from(decodePng(encodePng(one)).data), [200]);
});

test('the PNG decoder refuses damaged files', () => {
  const png = encodePng(randomImage(4, 4, 3, 1));
  const bad = Buffer.from(png);
  bad[20] ^= 1; // inside IHDR: its CRC no longer matches
  assert.throws(() => decodePng(bad, 'x.png'), /x\.png: bad CRC in IHDR chunk/);
  assert.throws(() => decodePng(Buffer.from('hello'), 'y.png'), /not a PNG/);
});

test('the encoder chooses filters: a horizontal gradient compresses to a few bytes per row', () => {
  const w = 256;
  const img = { width: w, height: 64, channels: 1 as const, data: new Uint8Array(w * 64) };
  for (let y = 0; y < 64; y++) for (let x = 0; x < w; x++) img.data[y * w + x] = x;
  const png = encodePng(img);
  assert.ok(png.length < 200, `${png.length} bytes`);
  // The IDAT rows use a non-zero filter (Sub or Up) rather than none.
  const idat = png.indexOf('IDAT');
  const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
  assert.notEqual(raw[0], 0);
});

test('image grid: layout, padding, nearest-neighbour scale, clamping', () => {
  // Four 2×3 greyscale images with constant values 0, 0.5, 1 and 2 (clamped to 1).
  const x = torch.tensor(
    Float32Array.from({ length: 24 }, (_, i) => [0, 0.5, 1, 2][Math.floor(i / 6)]),
    {
      shape: [4, 1, 2, 3],
    },
  );
  const g = imageGrid(x, { nrow: 3, padding: 1, scale: 2, padValue: 0.2 });
  // 3 columns of 6 px + 4 pads; 2 rows of 4 px + 3 pads.
  assert.equal(g.width, 3 * 6 + 4);
  assert.equal(g.height, 2 * 4 + 3);
  assert.equal(g.channels, 1);
  const at = (px: number, py: number) => g.data[py * g.width + px];
  assert.equal(at(0, 0), 51); // padding 0.2 → 51
  assert.equal(at(1, 1), 0); // image 0
  assert.equal(at(8, 4), 128); // image 1: x 8..13, y 1..4
  assert.equal(at(15, 1), 255); // image 2
  assert.equal(at(1, 6), 255); // image 3 on row 2, clamped
  assert.equal(at(8, 6), 51); // empty slot stays padding
  const path = join(dir, 'sub', 'grid.png');
  assert.deepEqual(saveImageGrid(path, x, { nrow: 3, padding: 1, scale: 2, padValue: 0.2 }), { width: 22, height: 11 });
  const back = readPng(path);
  assert.ok(Buffer.from(back.data).equals(Buffer.from(g.data)));
  x.dispose();
});

test('a digits grid: 64 images at 4× in 8 rows, RGB grids for 3 channels', () => {
  const ds = loadDigits({ split: 'test' });
  const imgs = ds.images().narrow(0, 0, 64);
  const size = saveImageGrid(join(dir, 'digits.png'), imgs, { scale: 4 });
  assert.deepEqual(size, { width: 8 * 34 + 2, height: 8 * 34 + 2 });
  const png = readPng(join(dir, 'digits.png'));
  assert.equal(png.channels, 1);
  // Image 0's pixel (r, c) fills the 4×4 block at (2 + 4r, 2 + 4c).
  const level = ds.raw.select(0, 0).flatten().toTypedArray()[8 * 3 + 4] as number;
  assert.equal(png.data[(2 + 4 * 3 + 1) * png.width + 2 + 4 * 4 + 2], Math.round((level / 16) * 255));
  const rgb = imageGrid(torch.rand([5, 3, 4, 4]), { nrow: 5, padding: 0 });
  assert.equal(rgb.channels, 3);
  assert.equal(rgb.data.length, 20 * 4 * 3);
  assert.throws(() => imageGrid(torch.rand([2, 2, 4, 4])), /expected \[N, 1 or 3, H, W\]/);
  ds.dispose();
});

test('line plot SVG: one path per series, legend, labels, ticks; log scale', () => {
  const steps = Array.from({ length: 50 }, (_, i) => i * 10);
  const series = [
    { name: 'train <loss>', x: steps, y: steps.map((s) => 2 * Math.exp(-s / 100) + 0.01) },
    { name: 'test', x: steps, y: steps.map((s) => 2.2 * Math.exp(-s / 120) + 0.02) },
  ];
  const svg = plotSvg(series, { title: 'Loss', xLabel: 'step', yLabel: 'nats' });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.match(svg, /data-series="train &#60;loss&#62;"/);
  assert.match(svg, />train &#60;loss&#62;<\/text>/);
  assert.match(svg, />Loss<\/text>/);
  assert.match(svg, />nats<\/text>/);
  assert.match(svg, />500<\/text>/); // x axis reaches 490, rounded up to the 500 tick
  // Path of series 0: 50 points; the first at the left edge of the plot box (x = 70).
  const d = /<path d="([^"]+)"/.exec(svg)![1];
  assert.equal(d.split(/[ML]/).filter(Boolean).length, 50);
  assert.ok(d.startsWith('M70,'));
  const log = plotSvg(series, { logY: true });
  assert.match(log, />0\.01<\/text>/);
  assert.match(log, />1<\/text>/);
  assert.match(log, />10<\/text>/);
  // Non-positive values are skipped on a log axis.
  const withZero = plotSvg([{ name: 'z', x: [0, 1, 2], y: [1, 0, 0.1] }], { logY: true });
  assert.equal(/<path d="([^"]+)"/.exec(withZero)![1].split(/[ML]/).filter(Boolean).length, 2);
  savePlotSvg(join(dir, 'loss.svg'), series, { title: 'Loss' });
  assert.equal(readFileSync(join(dir, 'loss.svg'), 'utf8'), plotSvg(series, { title: 'Loss' }));
});

test('plotting a run log: keys against step, missing keys and a partial last line skipped', () => {
  const log = join(dir, 'log.jsonl');
  const rows = [
    { step: 0, loss: 3, lr: 0.1 },
    { step: 10, loss: 2, eval: { bpd: 4.5 } },
    { step: 20, loss: 1.5, eval: { bpd: 4.1 } },
  ];
  writeFileSync(log, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n{"step": 30, "lo`);
  const series = readLogSeries(log, ['loss', 'eval.bpd']);
  assert.deepEqual(series[0], { name: 'loss', x: [0, 10, 20], y: [3, 2, 1.5] });
  assert.deepEqual(series[1], { name: 'eval.bpd', x: [10, 20], y: [4.5, 4.1] });
  plotRunLog(log, ['loss', 'eval.bpd'], join(dir, 'curves.svg'), { logY: true });
  assert.match(readFileSync(join(dir, 'curves.svg'), 'utf8'), /data-series="eval\.bpd"/);
  writeFileSync(log, '{"step":1}\nnot json\n{"step":2}\n');
  assert.throws(() => readLogSeries(log, ['loss']), /log\.jsonl: line 2 is not JSON/);
});

test('scatter SVG: one circle per visible point, coloured groups by label', () => {
  const pts = torch.tensor(Float32Array.from([0, 0, 1, 1, -1, 2, 0.5, -0.5]), { shape: [4, 2] });
  const labels = torch.tensor(Int32Array.from([0, 1, 1, 0]));
  const svg = scatterSvg(pts, { labels, classes: ['a', 'b'], title: 'moons' });
  assert.equal((svg.match(/<circle cx/g) ?? []).length, 4);
  assert.equal((svg.match(/<g fill=/g) ?? []).length, 2);
  assert.match(svg, /data-label="1"/);
  assert.match(svg, />moons<\/text>/);
  const ranged = scatterSvg(
    [
      [0, 0],
      [10, 10],
    ],
    { range: [-1, 1, -1, 1], equalAspect: false },
  );
  assert.equal((ranged.match(/<circle cx/g) ?? []).length, 1);
  saveScatterSvg(join(dir, 'scatter.svg'), pts);
  assert.match(readFileSync(join(dir, 'scatter.svg'), 'utf8'), /<\/svg>/);
  torch.dispose([pts, labels]);
});
