// The evaluation network built from a genotype at any depth (DARTS §3.2): discrete cells, an
// auxiliary head at two thirds of the depth, drop-path on the cells' edges, and cutout on the inputs.
import { ReLU } from '../nn/layers/activation.js';
import { ModuleList, Sequential } from '../nn/layers/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Identity, Linear } from '../nn/layers/linear.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { AdaptiveAvgPool2d } from '../nn/layers/pooling.js';
import { Module } from '../nn/module.js';
import { arange, rand, randint } from '../torch/creation.js';
import { cat } from '../torch/functions.js';
import type { Tensor } from '../torch/tensor.js';
import type { CellGenotype, Genotype } from './genotype.js';
import { cellInputs, makeOp, type ReLUConvBN } from './ops.js';
import { isReduction } from './search.js';

/** Zeroes whole samples of `x` with probability p and scales the rest by 1/(1 − p). */
export function dropPath(x: Tensor, p: number): Tensor {
  if (p <= 0) return x;
  const keep = 1 - p;
  const mask = rand([x.shape[0], 1, 1, 1], { dtype: x.dtype }).lt(keep).to({ dtype: x.dtype });
  return x.mul(mask).div(keep);
}

/** Cutout (DeVries & Taylor 2017): one square of side `length`, centred uniformly, set to 0 per image. */
export function cutout(x: Tensor, length: number): Tensor {
  if (length <= 0) return x;
  const [n, , h, w] = x.shape;
  const half = Math.floor(length / 2);
  const cy = randint(0, h, [n, 1, 1, 1]);
  const cx = randint(0, w, [n, 1, 1, 1]);
  const rows = arange(0, h).view([1, 1, h, 1]);
  const cols = arange(0, w).view([1, 1, 1, w]);
  // Rows cy − half ≤ r < cy + half (clipped to the image by the comparisons themselves).
  const inRows = rows.ge(cy.sub(half)).logicalAnd(rows.lt(cy.add(half)));
  const inCols = cols.ge(cx.sub(half)).logicalAnd(cols.lt(cx.add(half)));
  return x.mul(inRows.logicalAnd(inCols).logicalNot().to({ dtype: x.dtype }));
}

/** A discrete cell: each node sums its ops on its inputs; the output concatenates `concat`. */
export class EvalCell extends Module<[Tensor, Tensor, number], Tensor> {
  readonly preprocess0: Module<[Tensor], Tensor>;
  readonly preprocess1: ReLUConvBN;
  readonly ops: ModuleList<Module<[Tensor], Tensor>>;
  readonly multiplier: number;
  constructor(
    readonly cell: CellGenotype,
    cPrevPrev: number,
    cPrev: number,
    c: number,
    readonly reduction: boolean,
    reductionPrev: boolean,
  ) {
    super();
    [this.preprocess0, this.preprocess1] = cellInputs(cPrevPrev, cPrev, c, reductionPrev, true);
    const ops: Module<[Tensor], Tensor>[] = [];
    for (const node of cell.nodes)
      for (const [op, from] of node) ops.push(makeOp(op, c, reduction && from < 2 ? 2 : 1, true));
    this.ops = new ModuleList(ops);
    this.multiplier = cell.concat.length;
  }
  forward(s0: Tensor, s1: Tensor, dropProb: number): Tensor {
    const states = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
    let k = 0;
    for (const node of this.cell.nodes) {
      let s: Tensor | null = null;
      for (const [, from] of node) {
        const op = this.ops.at(k++);
        let h = op.forward(states[from]);
        // Drop-path skips identities, as DARTS does: dropping them would drop the cell's shortcut.
        if (this.training && dropProb > 0 && !(op instanceof Identity)) h = dropPath(h, dropProb);
        s = s === null ? h : s.add(h);
      }
      states.push(s as Tensor);
    }
    return cat(
      this.cell.concat.map((i) => states[i]),
      1,
    );
  }
}

/** DARTS's auxiliary classifier, on an adaptive 2×2 pool so that it fits any image size. */
export class AuxiliaryHead extends Module<[Tensor], Tensor> {
  readonly features: Sequential;
  readonly classifier: Linear;
  constructor(c: number, classes: number) {
    super();
    this.features = new Sequential(
      new ReLU(),
      new AdaptiveAvgPool2d(2),
      new Conv2d(c, 128, 1, { bias: false }),
      new BatchNorm2d(128),
      new ReLU(),
      new Conv2d(128, 768, 2, { bias: false }),
      new BatchNorm2d(768),
      new ReLU(),
    );
    this.classifier = new Linear(768, classes);
  }
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x).flatten(1));
  }
}

export interface EvalSpec {
  c: number;
  layers: number;
  classes: number;
  inChannels: number;
  auxiliary: boolean;
}

/** Stem → `layers` cells → global pooling → linear, with the auxiliary head while training. */
export class EvalNetwork extends Module<[Tensor], Tensor> {
  readonly stem: Sequential;
  readonly cells: ModuleList<EvalCell>;
  readonly globalPooling = new AdaptiveAvgPool2d(1);
  readonly classifier: Linear;
  readonly auxiliaryHead: AuxiliaryHead | null;
  readonly auxAt: number;
  /** Drop-path probability of the cells' edges; the trainer raises it over training. */
  dropPathProb = 0;
  /** The auxiliary logits of the last forward in training mode. */
  lastAux: Tensor | null = null;

  constructor(
    readonly genotype: Genotype,
    readonly spec: EvalSpec,
  ) {
    super();
    const cStem = 3 * spec.c;
    this.stem = new Sequential(
      new Conv2d(spec.inChannels, cStem, 3, { padding: 1, bias: false }),
      new BatchNorm2d(cStem),
    );
    let [cpp, cp, cur] = [cStem, cStem, spec.c];
    let reductionPrev = false;
    let cAux = cp;
    this.auxAt = Math.floor((2 * spec.layers) / 3);
    const cells: EvalCell[] = [];
    for (let i = 0; i < spec.layers; i++) {
      const reduction = isReduction(i, spec.layers);
      if (reduction) cur *= 2;
      const cell = new EvalCell(reduction ? genotype.reduce : genotype.normal, cpp, cp, cur, reduction, reductionPrev);
      cells.push(cell);
      reductionPrev = reduction;
      [cpp, cp] = [cp, cell.multiplier * cur];
      if (i === this.auxAt) cAux = cp;
    }
    this.cells = new ModuleList(cells);
    this.auxiliaryHead = spec.auxiliary ? new AuxiliaryHead(cAux, spec.classes) : null;
    this.classifier = new Linear(cp, spec.classes);
  }

  /** The class logits; in training mode with an auxiliary head, its logits are left in `lastAux`. */
  forward(x: Tensor): Tensor {
    this.lastAux = null;
    let s0 = this.stem.forward(x);
    let s1 = s0;
    for (let i = 0; i < this.cells.length; i++) {
      [s0, s1] = [s1, this.cells.at(i).forward(s0, s1, this.dropPathProb)];
      if (i === this.auxAt && this.auxiliaryHead && this.training) this.lastAux = this.auxiliaryHead.forward(s1);
    }
    return this.classifier.forward(this.globalPooling.forward(s1).flatten(1));
  }

  /** Parameters without the auxiliary head, which is dropped after training (DARTS reports these). */
  numParametersNoAux(): number {
    const aux = this.auxiliaryHead?.numParameters() ?? 0;
    return this.numParameters() - aux;
  }
}
