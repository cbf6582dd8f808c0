// L-BFGS (Nocedal, 1980; Liu & Nocedal, 1989): quasi-Newton steps from a short history of
// gradient differences, as torch.optim.LBFGS with its fixed step size (no line search).
import { enableGrad, noGrad } from '../torch/autograd.js';
import { zeros } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import { tidy } from '../torch/scope.js';
import { Tensor } from '../torch/tensor.js';
import { Optimizer, type ParamGroup, type Params, withDefaults } from './optimizer.js';

/**
 * Options of {@link LBFGS}: lr (default 1), iterations (20) and closure evaluations per step,
 * tolerances (1e-7, 1e-9), history size (100); no line search.
 */
export interface LBFGSOptions {
  /** Step size along the quasi-Newton direction (the first step is also capped by 1/‖g‖₁). */
  lr: number;
  /** Iterations per step() call. */
  maxIter: number;
  /** Closure evaluations per step() call; maxIter·5/4 by default. */
  maxEval: number;
  /** Stop when every gradient element is at most this in size. */
  toleranceGrad: number;
  /** Stop when the loss or the step changes less than this. */
  toleranceChange: number;
  /** Gradient differences kept. */
  historySize: number;
  /** PyTorch's line search 'strong_wolfe' is not implemented in genlab: null only. */
  lineSearchFn: null;
}

/**
 * State, held under the first parameter: counters, the last direction `d` and step `t`, the
 * history as `oldDirs.<k>`, `oldStps.<k>` and `ro.<k>` (k < numOld), and the previous gradient.
 */
export type LBFGSState = Record<string, Tensor | number>;

/**
 * torch.optim.LBFGS without a line search: step(closure) runs up to maxIter iterations, each one
 * evaluating the closure (which must zero the gradients, compute the loss, call backward and
 * return the loss). One parameter group only; the parameters are treated as one flat vector.
 * The arithmetic is PyTorch 1.13's, including its 0-dim tensors, so the iterates are equal.
 */
export class LBFGS extends Optimizer<LBFGSOptions, LBFGSState> {
  constructor(params: Params<LBFGSOptions>, opts: Partial<LBFGSOptions> = {}) {
    const maxIter = opts.maxIter ?? 20;
    super(
      params,
      withDefaults<LBFGSOptions>(
        {
          lr: 1,
          maxIter,
          maxEval: Math.floor((maxIter * 5) / 4),
          toleranceGrad: 1e-7,
          toleranceChange: 1e-9,
          historySize: 100,
          lineSearchFn: null,
        },
        opts,
      ),
    );
    if (this.paramGroups.length !== 1) throw new Error("LBFGS doesn't support parameter groups");
  }

  protected override validate(group: ParamGroup<LBFGSOptions>): void {
    super.validate(group);
    if (group.lineSearchFn !== null) {
      throw new Error(`LBFGS: lineSearchFn '${group.lineSearchFn}' is not supported; only null (a fixed step)`);
    }
    if (!(Number.isInteger(group.historySize) && group.historySize > 0)) {
      throw new Error(`invalid historySize: ${group.historySize}`);
    }
  }

  protected updateParam(): void {
    throw new Error('LBFGS updates all parameters at once; call step(closure)');
  }

  private get params(): Tensor[] {
    return this.paramGroups[0].params;
  }

  private flatGrad(): Tensor {
    return cat(
      this.params.map((p) => {
        const g = p.grad;
        return g === null ? zeros([p.numel()], { dtype: p.dtype, device: p.device }) : g.reshape(-1);
      }),
    );
  }

  private addGrad(stepSize: number, update: Tensor): void {
    let offset = 0;
    for (const p of this.params) {
      const n = p.numel();
      p.add_(update.narrow(0, offset, n).viewAs(p), { alpha: stepSize });
      offset += n;
    }
  }

  override step<T>(closure?: () => T): T | undefined {
    if (closure === undefined) throw new Error('LBFGS.step needs a closure that re-evaluates the loss');
    const group = this.paramGroups[0];
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize } = group;
    const number = (v: unknown): number => (v instanceof Tensor ? v.item() : (v as number));
    const evaluate = () => tidy(() => number(enableGrad(closure)));
    const p0 = this.params[0];
    let s = this.state.get(p0);
    if (s === undefined) {
      s = { funcEvals: 0, nIter: 0 };
      this.state.set(p0, s);
    }
    const state = s;
    const origLoss = enableGrad(closure);
    let loss = number(origLoss);
    let currentEvals = 1;
    (state.funcEvals as number) += 1;

    noGrad(() =>
      tidy(() => {
        let flatGrad = this.flatGrad();
        if (flatGrad.abs().max().item() <= toleranceGrad) return;
        // The history, as live (kept) tensors; ro holds 0-dim tensors as PyTorch's does.
        const numOld = (state.numOld as number | undefined) ?? 0;
        const oldDirs: Tensor[] = [];
        const oldStps: Tensor[] = [];
        const ro: Tensor[] = [];
        for (let k = 0; k < numOld; k++) {
          oldDirs.push(state[`oldDirs.${k}`] as Tensor);
          oldStps.push(state[`oldStps.${k}`] as Tensor);
          ro.push(state[`ro.${k}`] as Tensor);
        }
        let d = state.d as Tensor | undefined;
        let dIsState = true;
        let t = state.t as number | undefined;
        let hDiag: Tensor | number = (state.hDiag as Tensor | number | undefined) ?? 1;
        let prevFlatGrad = state.prevFlatGrad as Tensor | undefined;
        let prevLoss = state.prevLoss as number | undefined;
        const fresh: Tensor[] = [];
        const own = (x: Tensor) => {
          fresh.push(x);
          return x.keep();
        };

        let nIter = 0;
        while (nIter < maxIter) {
          nIter += 1;
          (state.nIter as number) += 1;
          if (state.nIter === 1) {
            d = flatGrad.neg();
            dIsState = false;
            oldDirs.length = 0;
            oldStps.length = 0;
            ro.length = 0;
            hDiag = 1;
          } else {
            const y = flatGrad.sub(prevFlatGrad!);
            const st = d!.mul(t!);
            const ys = y.dot(st);
            if (ys.item() > 1e-10) {
              if (oldDirs.length === historySize) {
                oldDirs.shift();
                oldStps.shift();
                ro.shift();
              }
              oldDirs.push(own(y));
              oldStps.push(own(st));
              ro.push(own(ys.reciprocal().mul(1)));
              hDiag = own(ys.div(y.dot(y)));
            }
            const al: Tensor[] = [];
            const q = flatGrad.neg();
            for (let i = oldDirs.length - 1; i >= 0; i--) {
              al[i] = oldStps[i].dot(q).mul(ro[i]);
              q.add_(oldDirs[i], { alpha: -al[i].item() });
            }
            const r = q.mul(hDiag);
            for (let i = 0; i < oldDirs.length; i++) {
              const be = oldDirs[i].dot(r).mul(ro[i]);
              r.add_(oldStps[i], { alpha: al[i].sub(be).item() });
            }
            d = r;
            dIsState = false;
          }
          if (prevFlatGrad === undefined) prevFlatGrad = own(flatGrad.clone());
          else prevFlatGrad.copy_(flatGrad);
          prevLoss = loss;
          if (state.nIter === 1) {
            // min(1, 1/‖g‖₁)·lr, where 1/‖g‖₁ is a 0-dim tensor of the gradient's dtype.
            const inv = flatGrad.abs().sum().reciprocal().mul(1);
            t = inv.item() < 1 ? inv.mul(lr).item() : 1 * lr;
          } else {
            t = lr;
          }
          const gtd = flatGrad.dot(d!);
          if (gtd.item() > -toleranceChange) break;
          let lsFuncEvals = 0;
          this.addGrad(t, d!);
          let optCond = false;
          if (nIter !== maxIter) {
            loss = evaluate();
            flatGrad = this.flatGrad();
            optCond = flatGrad.abs().max().item() <= toleranceGrad;
            lsFuncEvals = 1;
          }
          currentEvals += lsFuncEvals;
          (state.funcEvals as number) += lsFuncEvals;
          if (nIter === maxIter) break;
          if (currentEvals >= maxEval) break;
          if (optCond) break;
          if (d!.mul(t).abs().max().item() <= toleranceChange) break;
          if (Math.abs(loss - prevLoss) < toleranceChange) break;
        }

        // Store the new state; free what it no longer holds.
        const keepNow = new Set<Tensor>([...oldDirs, ...oldStps, ...ro, prevFlatGrad!]);
        if (hDiag instanceof Tensor) keepNow.add(hDiag);
        const dKept = d === undefined || dIsState ? d : d.keep();
        if (dKept !== undefined) keepNow.add(dKept);
        for (const [key, v] of Object.entries(state)) {
          if (v instanceof Tensor && !keepNow.has(v)) {
            v.dispose();
            delete state[key];
          }
        }
        for (const x of fresh) if (!keepNow.has(x)) x.dispose();
        for (const key of Object.keys(state)) if (/^(oldDirs|oldStps|ro)\./.test(key)) delete state[key];
        oldDirs.forEach((x, k) => {
          state[`oldDirs.${k}`] = x;
          state[`oldStps.${k}`] = oldStps[k];
          state[`ro.${k}`] = ro[k];
        });
        state.numOld = oldDirs.length;
        if (dKept !== undefined) state.d = dKept;
        if (t !== undefined) state.t = t;
        state.hDiag = hDiag;
        state.prevFlatGrad = prevFlatGrad!;
        if (prevLoss !== undefined) state.prevLoss = prevLoss;
      }),
    );
    return origLoss;
  }
}
