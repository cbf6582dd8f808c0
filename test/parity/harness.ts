// Runs the parity cases on both sides (genlab in a crash-tolerant child process, PyTorch in one
// batched Python process, concurrently), then compares and classifies every case.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCases } from './cases.js';
import { decodeBytes } from './inputs.js';
import { KNOWN } from './known.js';
import { type Case, type CaseResult, decNumber, type Enc, wireCase } from './protocol.js';

export const PYTHON = process.env.GENLAB_PYTHON ?? '/usr/bin/python3';
const HERE = fileURLToPath(new URL('.', import.meta.url));

/** bit-exact: identical bits (any NaN matches any NaN); tol: within the case's tolerance; diff: otherwise. */
export type Level = 'exact' | 'tol' | 'diff';

export interface Verdict {
  c: Case;
  js: CaseResult;
  py: CaseResult;
  level: Level;
  why: string;
  /** 'documented': a known difference that still shows as documented; 'fixed?': known, but it now agrees or differs otherwise. */
  status: 'exact' | 'tol' | 'documented' | 'undocumented' | 'known-changed' | 'crash-check';
}

export interface Run {
  verdicts: Verdict[];
  seconds: number;
  /** Wall-clock seconds of each side (they run concurrently). */
  jsSeconds: number;
  pySeconds: number;
  jsRestarts: number;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
    });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function tail(s: string): string {
  const lines = s
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.slice(-2).join(' | ').slice(0, 300);
}

async function runJs(dir: string, n: number): Promise<{ results: CaseResult[]; restarts: number }> {
  const file = join(dir, 'js.jsonl');
  const results: CaseResult[] = new Array(n);
  let start = 0;
  let restarts = 0;
  while (start < n) {
    writeFileSync(file, '');
    const r = await run(process.execPath, ['--import', 'tsx', join(HERE, 'runner.ts'), file, String(start)]);
    let last = start - 1;
    let started = -1;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const msg = JSON.parse(line);
      if ('s' in msg) started = msg.s;
      else {
        results[msg.i] = msg.r;
        last = msg.i;
      }
    }
    if (last >= n - 1) break;
    if (started < 0 || started !== last + 1) {
      throw new Error(`the genlab runner failed before running case ${last + 1} (code ${r.code}): ${tail(r.stderr)}`);
    }
    // The case it started and did not finish took the process down.
    results[last + 1] = {
      out: { k: 'crash', m: `process ended (code ${r.code}, signal ${r.signal}): ${tail(r.stderr)}` },
    };
    start = last + 2;
    restarts++;
  }
  return { results, restarts };
}

async function runPy(dir: string, cases: Case[]): Promise<CaseResult[]> {
  const input = join(dir, 'py-in.json');
  const output = join(dir, 'py-out.json');
  writeFileSync(input, JSON.stringify(cases.map(wireCase)));
  const r = await run(PYTHON, [join(HERE, 'parity.py'), input, output]);
  if (r.code !== 0 || !existsSync(output))
    throw new Error(`parity.py failed (${r.code}, ${r.signal}): ${tail(r.stderr)}`);
  return JSON.parse(readFileSync(output, 'utf8'));
}

// ---- comparison ----

const FLOAT_BYTES: Record<string, number> = { float32: 4, float64: 8 };

interface Cmp {
  level: Level;
  why: string;
}
const worst = (a: Cmp, b: Cmp): Cmp =>
  a.level === 'diff' ? a : b.level === 'diff' ? b : a.level === 'tol' ? a : b.level === 'tol' ? b : a;
const ok: Cmp = { level: 'exact', why: '' };

function cmpNum(a: number, b: number, tol: Case['tol'], where: string): Cmp {
  if (Number.isNaN(a) && Number.isNaN(b)) return ok;
  if (Object.is(a, b)) return ok;
  if (a === 0 && b === 0)
    return { level: 'diff', why: `${where}: sign of zero, genlab ${Object.is(a, -0) ? '-0' : '0'}` };
  if (tol && Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b)) {
    return { level: 'tol', why: '' };
  }
  return { level: 'diff', why: `${where}: genlab ${a}, PyTorch ${b}` };
}

function show(e: Enc): string {
  switch (e.k) {
    case 't':
      return `${e.d}[${e.s}]`;
    case 'l':
      return `[${e.v.map(show)}]`;
    case 'n':
      return `number ${e.v}`;
    case 'b':
    case 's':
      return `${typeof e.v} ${JSON.stringify(e.v)}`;
    case 'none':
      return 'None';
    default:
      return `${e.k === 'err' ? 'error' : 'crash'} "${e.m}"`;
  }
}

export function compare(js: Enc | null, py: Enc | null, tol: Case['tol'], where: string): Cmp {
  if (js === null || py === null) {
    return js === py
      ? ok
      : { level: 'diff', why: `${where}: genlab ${js ? show(js) : 'None'}, PyTorch ${py ? show(py) : 'None'}` };
  }
  if (js.k === 'err' && py.k === 'err') return ok;
  if (js.k !== py.k) return { level: 'diff', why: `${where}: genlab ${show(js)}, PyTorch ${show(py)}` };
  switch (js.k) {
    case 't': {
      const p = py as typeof js;
      if (js.d !== p.d) return { level: 'diff', why: `${where}: dtype genlab ${js.d}, PyTorch ${p.d}` };
      if (js.s.join() !== p.s.join())
        return { level: 'diff', why: `${where}: shape genlab [${js.s}], PyTorch [${p.s}]` };
      if (js.b === p.b) return ok;
      const a = decodeBytes(js);
      const b = decodeBytes(p);
      let res = ok;
      for (let i = 0; i < a.length; i++) {
        if (FLOAT_BYTES[js.d]) res = worst(res, cmpNum(a[i] as number, b[i] as number, tol, `${where}[${i}]`));
        else if (a[i] !== b[i]) return { level: 'diff', why: `${where}[${i}]: genlab ${a[i]}, PyTorch ${b[i]}` };
        if (res.level === 'diff') return res;
      }
      return res;
    }
    case 'l': {
      const p = py as typeof js;
      if (js.v.length !== p.v.length)
        return { level: 'diff', why: `${where}: ${js.v.length} outputs, PyTorch ${p.v.length}` };
      return js.v.reduce((acc, x, i) => worst(acc, compare(x, p.v[i], tol, `${where}.${i}`)), ok);
    }
    case 'n':
      return cmpNum(decNumber(js.v), decNumber((py as typeof js).v), tol, where);
    case 'b':
    case 's':
      return js.v === (py as typeof js).v
        ? ok
        : { level: 'diff', why: `${where}: genlab ${show(js)}, PyTorch ${show(py)}` };
    case 'none':
      return ok;
    default:
      return { level: 'diff', why: `${where}: genlab ${show(js)}` };
  }
}

function compareResults(c: Case, js: CaseResult, py: CaseResult): Cmp {
  let res = compare(js.out, py.out, c.tol, 'out');
  if (!c.grad || res.level === 'diff') return res;
  const jg = js.grads;
  const pg = py.grads;
  if (jg === undefined || pg === undefined) return res;
  if (!Array.isArray(jg) || !Array.isArray(pg)) {
    return worst(
      res,
      compare(Array.isArray(jg) ? { k: 'l', v: [] } : jg, Array.isArray(pg) ? { k: 'l', v: [] } : pg, c.tol, 'grads'),
    );
  }
  if (jg.length !== pg.length) return { level: 'diff', why: `grads: ${jg.length} leaves, PyTorch ${pg.length}` };
  for (let i = 0; i < jg.length; i++) res = worst(res, compare(jg[i], pg[i], c.tol, `grad${i}`));
  return res;
}

export function classify(c: Case, js: CaseResult, py: CaseResult): Verdict {
  if (c.mustCrash) {
    const crashed = js.out.k === 'crash';
    return {
      c,
      js,
      py,
      level: 'diff',
      why: crashed ? '' : 'the crash self-check did not crash',
      status: crashed ? 'crash-check' : 'undocumented',
    };
  }
  const { level, why } = compareResults(c, js, py);
  const known = c.known ? KNOWN[c.known] : undefined;
  if (c.known && !known) throw new Error(`case ${c.id}: unknown difference key ${c.known}`);
  let status: Verdict['status'];
  if (known && !known.fixed) {
    status = level === 'diff' && known.check(js, py) ? 'documented' : 'known-changed';
  } else status = level === 'diff' ? 'undocumented' : level;
  return { c, js, py, level, why, status };
}

/** Runs every case on both sides and classifies it. */
export async function runParity(): Promise<Run> {
  const t0 = performance.now();
  const cases = buildCases();
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    ids.add(c.id);
  }
  const dir = mkdtempSync(join(tmpdir(), 'genlab-parity-'));
  try {
    const since = (t: number) => (performance.now() - t) / 1000;
    const t1 = performance.now();
    const timed = <T>(p: Promise<T>) => p.then((v) => ({ v, s: since(t1) }));
    const [js, py] = await Promise.all([timed(runJs(dir, cases.length)), timed(runPy(dir, cases))]);
    const verdicts = cases.map((c, i) => classify(c, js.v.results[i], py.v[i]));
    return { verdicts, seconds: since(t0), jsSeconds: js.s, pySeconds: py.s, jsRestarts: js.v.restarts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
