// Where the coded length of bits-back coding goes, symbol by symbol: for one run, T and order, the
// coded bits against the integer frequencies' −log₂(f/M) (what rANS adds) and those against the
// chain's continuous densities, −log₂(p(z)·δ) (what the latent grid and the frequency floor add),
// per kind of symbol, with the largest single differences. It found the cause of the negative
// "coding overhead" of results/compression.md.
//   npx tsx bench/compression-accounting.ts <run> <T> <images> <bbans|bitswap> [latent bits, 10] [batch, 1]
import { encodeBitsBack, type SymbolEvent } from '../src/diffusion/bits-back.js';
import { chainModel, splitImages } from '../src/diffusion/compress.js';
import { loadVdmRun } from '../src/diffusion/experiment.js';
import { setNumThreads } from '../src/torch/runtime.js';

setNumThreads(1);
const [run, T, n, order, bits, batch] = [
  process.argv[2],
  Number(process.argv[3]),
  Number(process.argv[4]),
  process.argv[5] as 'bbans' | 'bitswap',
  Number(process.argv[6] ?? 10),
  Number(process.argv[7] ?? 1),
];
const r = loadVdmRun(run);
const K = r.info.levels ?? 0;
const images = splitImages(r.cfg.data, {
  split: r.cfg.data === 'digits' ? 'all' : 'test',
  n,
  root: r.cfg.root,
  levels: K,
});
const cm = chainModel(r, T);
let quant = 0;
const byKind: Record<string, { n: number; dq: number; big: number; bigSum: number }> = {};
const events: (SymbolEvent & { d: number })[] = [];
const onSymbol = (e: SymbolEvent) => {
  const sign = e.op === 'push' ? 1 : -1;
  quant += sign * e.bits;
  const d = sign * (e.bits - e.idealBits);
  const key = `${e.op} ${e.kind}`;
  byKind[key] ??= { n: 0, dq: 0, big: 0, bigSum: 0 };
  const b = byKind[key];
  b.n++;
  b.dq += d;
  if (Math.abs(d) > 1) {
    b.big++;
    b.bigSum += d;
  }
  if (Math.abs(d) > 3) events.push({ ...e, d });
};
const per: { coded: number; ideal: number; quant: number }[] = [];
let lastQ = 0;
const res = encodeBitsBack(
  cm,
  images.levels,
  images.count,
  { grid: { bits, range: 3 }, batch, order, onSymbol },
  () => {
    per.push({ coded: 0, ideal: 0, quant: quant - lastQ });
    lastQ = quant;
  },
);
const inc = (a: number[]) => a.map((v, i) => v - (i ? a[i - 1] : 0));
const c = inc(res.netAfterBatch),
  s = inc(res.sampleAfterBatch);
per.forEach((p, i) => {
  p.coded = c[i];
  p.ideal = s[i];
});
const sum = (f: (p: (typeof per)[number]) => number) => per.reduce((a, p) => a + f(p), 0);
const D = images.count * cm.dims;
console.log(
  `T=${T} ${order} grid 2^-${bits} batch ${batch}, ${images.count} images: coded ${(res.netBits / D).toFixed(5)} bpd, quantised ${(quant / D).toFixed(5)}, ideal ${(sum((p) => p.ideal) / D).toFixed(5)}`,
);
console.log(
  `coded - quantised (rANS) ${(sum((p) => p.coded - p.quant)).toFixed(2)} bits total; quantised - ideal ${(sum((p) => p.quant - p.ideal)).toFixed(2)} bits total`,
);
const dq = per.map((p) => p.quant - p.ideal).sort((a, b) => a - b);
console.log(
  `per-batch quantised - ideal: min ${dq[0].toFixed(2)} median ${dq[Math.floor(dq.length / 2)].toFixed(3)} max ${dq[dq.length - 1].toFixed(2)}; sum of 10 most negative ${dq
    .slice(0, 10)
    .reduce((a, b) => a + b, 0)
    .toFixed(2)}`,
);
for (const [k, b] of Object.entries(byKind))
  console.log(
    `${k.padEnd(14)} n ${b.n} sum(quant-ideal) ${b.dq.toFixed(2)} bits; |d|>1: ${b.big} events summing ${b.bigSum.toFixed(2)}`,
  );
events.sort((a, b) => a.d - b.d);
console.log(
  'most negative events:',
  events
    .slice(0, 8)
    .map((e) => `${e.op} ${e.kind} bits ${e.bits.toFixed(2)} ideal ${e.idealBits.toFixed(2)}`)
    .join('; '),
);
console.log(
  'most positive events:',
  events
    .slice(-5)
    .map((e) => `${e.op} ${e.kind} bits ${e.bits.toFixed(2)} ideal ${e.idealBits.toFixed(2)}`)
    .join('; '),
);
