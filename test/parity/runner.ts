// genlab's side of the parity suite, run in a child process so a case that crashes the process
// cannot take the suite down: `runner.ts <results file> <first case index>` runs the cases from that
// index on and appends one JSON line per case to the file (synchronously, so lines written before a
// crash survive it). The harness restarts it after the crashing case.
import { appendFileSync } from 'node:fs';
import { torch } from '../../src/index.js';
import { isFloating } from '../../src/torch/dtype.js';
import { buildCases } from './cases.js';
import { decodeBytes, gradWeights, type WireInput } from './inputs.js';
import { type CaseResult, type Enc, encNumber, gradSeed, type JsOut, wireCase } from './protocol.js';

const [file, startArg] = process.argv.slice(2);
const start = Number(startArg ?? 0);
torch.setNumThreads(1);

type Tensor = torch.Tensor;

function build(w: WireInput): { leaf: Tensor; view: Tensor } {
  const leaf = makeLeaf(w);
  let view = leaf;
  if (w.v === 'T') view = leaf.transpose(-1, -2);
  else if (w.v === 'step') view = torch.ops.slice_Tensor(leaf, { dim: -1, start: 0, end: null, step: 2 });
  else if (w.v === 'expand') view = leaf.expand(w.s);
  return { leaf, view };
}

function makeLeaf(w: WireInput): Tensor {
  const leaf = torch.tensor(decodeBytes(w), {
    shape: w.base,
    dtype: w.d,
  });
  if (w.g) leaf.requiresGrad_(true);
  return leaf;
}

function isTensor(v: unknown): v is Tensor {
  return v instanceof torch.Tensor;
}

function enc(v: JsOut | undefined): Enc {
  if (v === null || v === undefined) return { k: 'none' };
  if (isTensor(v)) {
    const d = v.dtype;
    const a = v.toTypedArray();
    return { k: 't', d, s: v.shape, b: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
  }
  if (Array.isArray(v)) return { k: 'l', v: v.map(enc) };
  if (typeof v === 'number') return { k: 'n', v: encNumber(v) };
  if (typeof v === 'boolean') return { k: 'b', v };
  if (typeof v === 'string') return { k: 's', v };
  if (typeof v === 'object' && 'out' in v) return enc(v.out);
  return { k: 's', v: `unencodable ${typeof v}` };
}

function firstTensor(v: JsOut): Tensor | null {
  if (isTensor(v)) return v;
  if (Array.isArray(v)) return v.length && isTensor(v[0]) ? v[0] : null;
  if (v !== null && typeof v === 'object' && 'out' in v) return firstTensor(v.out);
  return null;
}

const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);

const cases = buildCases();
for (let i = start; i < cases.length; i++) {
  const c = cases[i];
  const w = wireCase(c);
  appendFileSync(file, `${JSON.stringify({ s: i })}\n`);
  const result: CaseResult = torch.tidy(() => {
    let built: { leaf: Tensor; view: Tensor }[];
    let out: JsOut;
    try {
      built = w.inputs.map(build);
      out = c.js(...built.map((b) => b.view));
    } catch (e) {
      return { out: { k: 'err', m: errMessage(e) } };
    }
    const r: CaseResult = { out: enc(out) };
    if (c.grad) {
      try {
        const first = firstTensor(out);
        const extra = out !== null && typeof out === 'object' && 'extra' in out ? out.extra : [];
        const leaves = [...built.filter((_, k) => w.inputs[k].g).map((b) => b.leaf), ...extra];
        if (first?.requiresGrad && isFloating(first.dtype)) {
          const weights = torch
            .tensor(Float64Array.from(gradWeights(gradSeed(w.seed), first.numel())), { shape: first.shape })
            .to(first.dtype);
          first.mul(weights).sum().backward();
          r.grads = leaves.map((l) => {
            const g = l.grad;
            return g === null ? null : enc(g);
          });
        } else r.grads = { k: 'none' };
      } catch (e) {
        r.grads = { k: 'err', m: errMessage(e) };
      }
    }
    return r;
  });
  appendFileSync(file, `${JSON.stringify({ i, r: result })}\n`);
}
