// Seeded 2-D toy distributions for density models and classifiers. Each also gives a label: the moon,
// mixture component, spiral arm or checkerboard cell a point came from.
import { rand, randint, randn } from '../torch/creation.js';
import { stack, where } from '../torch/functions.js';
import { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { DataError } from './errors.js';

export const TOY_NAMES = ['moons', 'eight-gaussians', 'swirl', 'checkerboard'] as const;
export type ToyName = (typeof TOY_NAMES)[number];

export interface ToyOptions {
  seed?: number;
  /** Standard deviation of the Gaussian noise (moons: 0.1, swirl: 0.3 before scaling). */
  noise?: number;
}

/** Points [N, 2] float32 and labels int64 [N]. */
export interface ToySample {
  x: Tensor;
  y: Tensor;
}

type Maker = (n: number, g: Generator, noise: number | undefined) => ToySample;

/** Two interleaved half circles: upper (cos t, sin t), lower (1 − cos t, ½ − sin t), t ~ U[0, π]. */
const makeMoons: Maker = (n, g, noise = 0.1) => {
  const y = randint(0, 2, [n], { generator: g });
  const t = rand([n], { generator: g }).mul(Math.PI);
  const lower = y.eq(1);
  const px = where(lower, t.cos().rsub(1), t.cos());
  const py = where(lower, t.sin().rsub(0.5), t.sin());
  const x = stack([px, py], 1).add(randn([n, 2], { generator: g }).mul(noise));
  return { x, y };
};

/** Eight Gaussians of std 0.5/√2 centred on a circle of radius 2√2 (FFJORD's scale). */
const makeEightGaussians: Maker = (n, g, noise = 0.5 / Math.SQRT2) => {
  const y = randint(0, 8, [n], { generator: g });
  const angle = y.to('float32').mul(Math.PI / 4);
  const r = 2 * Math.SQRT2;
  const centres = stack([angle.cos().mul(r), angle.sin().mul(r)], 1);
  return { x: centres.add(randn([n, 2], { generator: g }).mul(noise)), y };
};

/** Two interleaved spirals (arms 0 and 1), radius growing with angle up to 3π, scaled by 1/3. */
const makeSwirl: Maker = (n, g, noise = 0.3) => {
  const y = randint(0, 2, [n], { generator: g });
  // sqrt spreads points evenly along the arm's length rather than its angle.
  const theta = rand([n], { generator: g })
    .sqrt()
    .mul(3 * Math.PI);
  const sign = y.to('float32').mul(-2).add(1).unsqueeze(1);
  const arm = stack([theta.cos().mul(theta).neg(), theta.sin().mul(theta)], 1);
  return {
    x: arm
      .mul(sign)
      .add(randn([n, 2], { generator: g }).mul(noise))
      .div(3),
    y,
  };
};

/** Uniform on the 8 dark cells of a 4×4 checkerboard over [−4, 4]²; the label is the cell (0..7). */
const makeCheckerboard: Maker = (n, g) => {
  const y = randint(0, 8, [n], { generator: g });
  const row = y.div(2, { roundingMode: 'floor' });
  const col = y.remainder(2).mul(2).add(row.remainder(2));
  const u = rand([n, 2], { generator: g });
  const cell = stack([col, row], 1).to('float32');
  return { x: cell.add(u).mul(2).sub(4), y };
};

const makers: Record<ToyName, Maker> = {
  moons: makeMoons,
  'eight-gaussians': makeEightGaussians,
  swirl: makeSwirl,
  checkerboard: makeCheckerboard,
};
const aliases: Record<string, ToyName> = { 'two-moons': 'moons', '8gaussians': 'eight-gaussians', spiral: 'swirl' };

export function toyName(name: string): ToyName | null {
  const n = aliases[name] ?? name;
  return n in makers ? (n as ToyName) : null;
}

/** n points of a toy distribution with their labels. The same (name, n, seed, noise) gives the same data. */
export function makeToy(name: string, n: number, opts: ToyOptions = {}): ToySample {
  const key = toyName(name);
  if (!key) throw new DataError(`unknown toy data set '${name}' (one of ${TOY_NAMES.join(', ')})`);
  if (!Number.isInteger(n) || n < 1) throw new DataError(`${key}: need a positive number of points, got ${n}`);
  const g = new Generator(opts.seed ?? 0);
  return tidy(() => {
    const s = makers[key](n, g, opts.noise);
    return { x: s.x.to('float32').contiguous(), y: s.y };
  });
}

function pointsOnly(name: ToyName) {
  return (n: number, opts: ToyOptions = {}): Tensor => tidy(() => makeToy(name, n, opts).x);
}

/** [N, 2] points of each toy (see makeToy for labels). */
export const twoMoons = pointsOnly('moons');
export const eightGaussians = pointsOnly('eight-gaussians');
export const swirl = pointsOnly('swirl');
export const checkerboard = pointsOnly('checkerboard');
