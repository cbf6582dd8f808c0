// DARTS's continuous relaxation (Liu et al. 2019, §2.2): every edge of a cell is a softmax(α)-weighted
// mix of the candidate ops, and one network of such cells is trained for both its weights w and α.
import { crossEntropy } from '../nn/functional.js';
import { ModuleList, Sequential } from '../nn/layers/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { noGrad } from '../torch/autograd.js';
import { randn } from '../torch/creation.js';
import type { DType } from '../torch/dtype.js';
import { cat } from '../torch/functions.js';
import type { Tensor } from '../torch/tensor.js';
import { deriveCell, type Genotype } from './genotype.js';
import { cellInputs, makeOp, OP_SETS, type OpName, type OpSet, type ReLUConvBN } from './ops.js';

/** The shape of a search network. */
export interface SearchSpec {
  /** Channels of the first cells (doubled at each reduction). */
  c: number;
  layers: number;
  classes: number;
  inChannels: number;
  ops: OpSet;
  /** Intermediate nodes per cell (DARTS: 4). */
  steps?: number;
  dtype?: DType;
}

/** Σ_o softmax(α)_o · o(x) over an edge's candidates. */
export class MixedOp extends Module<[Tensor, Tensor[]], Tensor> {
  readonly ops: ModuleList<Module<[Tensor], Tensor>>;
  constructor(
    readonly names: readonly OpName[],
    c: number,
    stride: number,
  ) {
    super();
    // BN without affine parameters during search, as DARTS: its scale would blur the α of the op.
    this.ops = new ModuleList(names.map((n) => makeOp(n, c, stride, false)));
  }
  forward(x: Tensor, w: Tensor[]): Tensor {
    let sum: Tensor | null = null;
    for (let o = 0; o < this.names.length; o++) {
      // 'none' adds w·0: skipping it leaves the value and every gradient unchanged.
      if (this.names[o] === 'none') continue;
      const term = this.ops.at(o).forward(x).mul(w[o]);
      sum = sum === null ? term : sum.add(term);
    }
    if (sum === null) throw new Error('MixedOp: no op other than none');
    return sum;
  }
}

/** A search cell: 2 inputs, `steps` nodes each summing a mixed op over every earlier state. */
export class SearchCell extends Module<[Tensor, Tensor, Tensor[][]], Tensor> {
  readonly preprocess0: Module<[Tensor], Tensor>;
  readonly preprocess1: ReLUConvBN;
  readonly edges: ModuleList<MixedOp>;
  constructor(
    names: readonly OpName[],
    readonly steps: number,
    cPrevPrev: number,
    cPrev: number,
    c: number,
    readonly reduction: boolean,
    reductionPrev: boolean,
  ) {
    super();
    [this.preprocess0, this.preprocess1] = cellInputs(cPrevPrev, cPrev, c, reductionPrev, false);
    const edges: MixedOp[] = [];
    for (let i = 0; i < steps; i++) {
      for (let j = 0; j < i + 2; j++) edges.push(new MixedOp(names, c, reduction && j < 2 ? 2 : 1));
    }
    this.edges = new ModuleList(edges);
  }
  forward(s0: Tensor, s1: Tensor, weights: Tensor[][]): Tensor {
    const states = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
    let e = 0;
    for (let i = 0; i < this.steps; i++) {
      let s: Tensor | null = null;
      for (let j = 0; j < states.length; j++, e++) {
        const h = this.edges.at(e).forward(states[j], weights[e]);
        s = s === null ? h : s.add(h);
      }
      states.push(s as Tensor);
    }
    return cat(states.slice(2), 1);
  }
}

/** Stem → cells (reductions at a third and two thirds of the depth) → pooling → linear. */
export class SearchNetwork extends Module<[Tensor], Tensor> {
  readonly stem: Sequential;
  readonly cells: ModuleList<SearchCell>;
  readonly classifier: Linear;
  readonly alphasNormal: Parameter;
  readonly alphasReduce: Parameter;
  readonly names: readonly OpName[];
  readonly steps: number;

  constructor(readonly spec: SearchSpec) {
    super();
    const steps = spec.steps ?? 4;
    this.steps = steps;
    this.names = OP_SETS[spec.ops];
    const f = { dtype: spec.dtype };
    const cStem = 3 * spec.c;
    this.stem = new Sequential(
      new Conv2d(spec.inChannels, cStem, 3, { padding: 1, bias: false, ...f }),
      new BatchNorm2d(cStem, f),
    );
    let [cpp, cp, cur] = [cStem, cStem, spec.c];
    let reductionPrev = false;
    const cells: SearchCell[] = [];
    for (let i = 0; i < spec.layers; i++) {
      const reduction = isReduction(i, spec.layers);
      if (reduction) cur *= 2;
      cells.push(new SearchCell(this.names, steps, cpp, cp, cur, reduction, reductionPrev));
      reductionPrev = reduction;
      [cpp, cp] = [cp, steps * cur];
    }
    this.cells = new ModuleList(cells);
    this.classifier = new Linear(cp, spec.classes, f);
    const k = (steps * (steps + 3)) / 2;
    // α starts near uniform: 1e-3 · N(0, 1), as DARTS.
    this.alphasNormal = Parameter.adopt(randn([k, this.names.length], f).mul(1e-3));
    this.alphasReduce = Parameter.adopt(randn([k, this.names.length], f).mul(1e-3));
    if (spec.dtype) this.to(spec.dtype);
  }

  /** The architecture parameters α. */
  archParameters(): Parameter[] {
    return [this.alphasNormal, this.alphasReduce];
  }

  /** The network weights w (everything but α). */
  weightParameters(): Parameter[] {
    const arch = new Set<Tensor>(this.archParameters());
    return this.parameters().filter((p) => !arch.has(p));
  }

  forward(x: Tensor): Tensor {
    const wn = this.alphasNormal.softmax(-1);
    const wr = this.alphasReduce.softmax(-1);
    const normal = wn.unbind(0).map((r) => r.unbind(0));
    const reduce = wr.unbind(0).map((r) => r.unbind(0));
    let s0 = this.stem.forward(x);
    let s1 = s0;
    for (const cell of this.cells) [s0, s1] = [s1, cell.forward(s0, s1, cell.reduction ? reduce : normal)];
    return this.classifier.forward(s1.mean([2, 3]));
  }

  loss(x: Tensor, y: Tensor): Tensor {
    return crossEntropy(this.forward(x), y);
  }

  /** softmax(α) as numbers, per cell type: [edge][op]. */
  alphaWeights(): { normal: number[][]; reduce: number[][] } {
    return noGrad(() => ({
      normal: this.alphasNormal.softmax(-1).toArray() as number[][],
      reduce: this.alphasReduce.softmax(-1).toArray() as number[][],
    }));
  }

  /** The discrete architecture α stands for now (DARTS §2.4). */
  genotype(): Genotype {
    const w = this.alphaWeights();
    return {
      normal: deriveCell(w.normal, this.names, this.steps),
      reduce: deriveCell(w.reduce, this.names, this.steps),
    };
  }
}

/** Cells at a third and two thirds of the depth halve the resolution and double the channels. */
export function isReduction(i: number, layers: number): boolean {
  return i === Math.floor(layers / 3) || i === Math.floor((2 * layers) / 3);
}
