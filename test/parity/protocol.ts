// What a parity case is, and how inputs and results cross between genlab, PyTorch and the harness.
import type { Tensor } from '../../src/torch/index.js';
import { hashSeed, type InputSpec, makeInput, rng, type WireInput } from './inputs.js';

/** What a case's genlab side may return; `extra` leaves (module parameters) get their gradients compared. */
export type JsOut = Tensor | JsOut[] | number | boolean | string | null | { out: JsOut; extra: Tensor[] };

export interface Case {
  /** Unique, stable: it seeds the inputs. */
  id: string;
  category: string;
  inputs: InputSpec[];
  /** genlab: called with the input tensors (views applied). */
  js: (...xs: any[]) => JsOut;
  /**
   * PyTorch: a Python expression over the inputs a, b, c, d, e, … (torch, F = torch.nn.functional,
   * nn = torch.nn), or statements that set `out` (and optionally `extra`, a list of leaves).
   */
  py: string;
  /** Compare the gradients of a seeded weighted sum of the first output, for float inputs with `grad`. */
  grad?: boolean;
  /** Agreement within |a − b| ≤ atol + rtol·|b| instead of bit for bit. */
  tol?: { rtol: number; atol: number };
  /** Key of a documented difference (known.ts). */
  known?: string;
  /** A harness self-check: genlab's side must take its process down, and the suite must go on. */
  mustCrash?: boolean;
}

/** An encoded result. NaN payloads are not compared; everything else is, bit for bit. */
export type Enc =
  | { k: 't'; d: string; s: number[]; b: string }
  | { k: 'l'; v: Enc[] }
  | { k: 'n'; v: number | string }
  | { k: 'b'; v: boolean }
  | { k: 's'; v: string }
  | { k: 'none' }
  | { k: 'err'; m: string }
  | { k: 'crash'; m: string };

export interface CaseResult {
  out: Enc;
  /** Gradients of the leaves, in order (inputs with grad, then extra); null where there is none. */
  grads?: (Enc | null)[] | Enc;
}

export interface WireCase {
  id: string;
  seed: number;
  inputs: WireInput[];
  py: string;
  grad: boolean;
}

export const gradSeed = (seed: number) => (seed ^ 0x9e3779b9) >>> 0;

export function wireCase(c: Case): WireCase {
  const seed = hashSeed(c.id);
  const r = rng(seed);
  return { id: c.id, seed, inputs: c.inputs.map((s) => makeInput(s, r)), py: c.py, grad: !!c.grad };
}

/** Numbers as JSON: non-finite values and −0 as strings. */
export function encNumber(v: number): number | string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Object.is(v, -0)) return '-0';
  return v;
}

export function decNumber(v: number | string): number {
  if (typeof v === 'number') return v;
  return { nan: Number.NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 }[v] ?? Number(v);
}
