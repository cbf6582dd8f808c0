// The variational diffusion model: an ε-network, a noise schedule, and the data's encoding.
import { Module } from '../nn/module.js';
import { noGrad } from '../torch/autograd.js';
import { zeros } from '../torch/creation.js';
import { stack } from '../torch/functions.js';
import type { Generator } from '../torch/random.js';
import { tidy } from '../torch/scope.js';
import type { Tensor } from '../torch/tensor.js';
import { type BatchShard, globalMeans, shardRows } from '../train/shard.js';
import { type SampleOptions, sampleLatent } from './sampling.js';
import type { NoiseSchedule } from './schedules.js';
import type { EpsNet } from './unet.js';
import {
  type EpsFn,
  levelsToCentres,
  nearestLevel,
  type ScheduleValues,
  sampleTimes,
  scheduleValues,
  type VLBTerms,
  vlbTerms,
} from './vlb.js';

export type ScheduleObjective = 'vlb' | 'variance';

/** How lossAndBackward draws: its generator (the global one by default), and this rank's shard. */
export interface LossOptions {
  objective?: ScheduleObjective;
  generator?: Generator;
  shard?: BatchShard;
}

export interface VDMOptions {
  /** Grey levels K of discrete data (17 for digits, 256 for 8-bit images); null for continuous data. */
  levels: number | null;
  /** 0 for the continuous-time loss, T > 0 for T discrete steps. */
  timesteps?: number;
  /** Antithetic times t_i = (u + i/B) mod 1 (default true). */
  antithetic?: boolean;
}

/** Batch means of one step, in bits/dim: loss = recon + prior + diff, the VLB. */
export interface StepStats {
  loss: number;
  recon: number;
  prior: number;
  diff: number;
}

export class VDM extends Module<[Tensor], VLBTerms> {
  readonly net: EpsNet;
  readonly schedule: NoiseSchedule;
  readonly levels: number | null;
  readonly timesteps: number;
  readonly antithetic: boolean;

  constructor(net: EpsNet, schedule: NoiseSchedule, opts: VDMOptions) {
    super();
    this.net = this.registerModule('net', net);
    this.schedule = this.registerModule('schedule', schedule);
    this.levels = opts.levels;
    this.timesteps = opts.timesteps ?? 0;
    this.antithetic = opts.antithetic ?? true;
    if (!Number.isInteger(this.timesteps) || this.timesteps < 0) {
      throw new Error(`VDM: timesteps must be 0 (continuous) or a positive integer, got ${this.timesteps}`);
    }
  }

  /** The network as ε̂(z, γ), conditioned on γ normalised by the configured endpoints. */
  get eps(): EpsFn {
    const { gammaMin, gammaMax } = this.schedule;
    return (z, g) => this.net.forward(z, g.sub(gammaMin).div(gammaMax - gammaMin));
  }

  /** Data batch (images in [0, 1], or points) → integer levels k (or null) and what the diffusion sees. */
  encode(x: Tensor): { k: Tensor | null; f: Tensor } {
    if (this.levels === null) return { k: null, f: x };
    const k = x.mul(this.levels - 1).round();
    return { k, f: levelsToCentres(k, this.levels) };
  }

  /** Dimensions per example, for bits/dim. */
  dims(x: Tensor): number {
    return x.shape.slice(1).reduce((a, b) => a * b, 1);
  }

  /**
   * The VLB terms [B] of a batch, with fresh times and noise (under `shard`, this rank's rows of
   * those drawn for the global batch).
   */
  forward(x: Tensor, opts: { generator?: Generator; values?: ScheduleValues; shard?: BatchShard } = {}): VLBTerms {
    const { k, f } = this.encode(x);
    const { generator, shard } = opts;
    const values = opts.values ?? this.sampleValues(x.shape[0], generator, shard);
    return vlbTerms({ f, k, levels: this.levels, values, eps: this.eps, generator, shard });
  }

  /** Fresh times for a batch and the schedule's values there. */
  sampleValues(batch: number, generator?: Generator, shard?: BatchShard): ScheduleValues {
    const t = shardRows(shard, batch, (n) => sampleTimes(n, { antithetic: this.antithetic, generator }));
    return scheduleValues(this.schedule, t, this.timesteps);
  }

  /**
   * Computes the batch loss and its gradients (call inside tidy, after zeroGrad).
   *
   * objective 'vlb': every parameter, the schedule's included, descends the mean VLB.
   *
   * objective 'variance' (VDM appendix, "learning the noise schedule to minimise variance"): the
   * network descends the VLB while the schedule descends E[L²], the second moment of the per-example
   * loss estimator. In continuous time E[L] does not depend on the schedule's shape, so for the
   * shape this is the estimator's variance; for the endpoints it is the variance plus E[L]², so
   * they keep improving the bound and cannot collapse. No second pass through the network: the
   * schedule's outputs enter the loss as detached leaves [B]; one backward of the mean loss gives
   * the network's gradients and ∂L_i/∂leaf_i, and ∇_η E[L²] = E[2 L_i ∂L_i/∂leaf_i · ∂leaf_i/∂η]
   * is then a backward through the tiny schedule graph alone. It is divided by 2·mean(L) so its
   * scale matches the VLB gradient (Adam would undo the scale anyway).
   */
  lossAndBackward(x: Tensor, opts: LossOptions = {}): StepStats {
    const pass = this.backwardOfMean(x, opts);
    pass.scheduleBackward?.(pass.terms.total.detach().mean());
    return stats(pass.terms, this.dims(x));
  }

  /**
   * lossAndBackward on one of several ranks (genlab launch): times and noise are this rank's rows
   * of the global batch's draws, and the batch means (the schedule gradient's scale 2·mean(L), the
   * logged terms) are the global batch's, all-reduced; so W ranks of batch B, their gradients
   * averaged, take the step of one process with batch W·B.
   */
  async lossAndBackwardShard(x: Tensor, opts: LossOptions & { shard: BatchShard }): Promise<StepStats> {
    const pass = this.backwardOfMean(x, opts);
    const { total, recon, prior, diff } = pass.terms;
    const means = await globalMeans(opts.shard, stack([total, recon, prior, diff].map((t) => t.detach().mean())));
    pass.scheduleBackward?.(means.select(0, 0));
    const [loss, r, p, d] = (means.toArray() as number[]).map((v) => v / (this.dims(x) * Math.LN2));
    return { loss, recon: r, prior: p, diff: d };
  }

  /**
   * The backward of the batch's mean VLB; under the variance objective also the schedule's
   * backward, which needs the batch mean of L (per rank or global) and so is returned to be called.
   */
  private backwardOfMean(
    x: Tensor,
    opts: LossOptions,
  ): { terms: VLBTerms; scheduleBackward?: (meanL: Tensor) => void } {
    const objective = opts.objective ?? 'vlb';
    const { generator, shard } = opts;
    if (objective === 'vlb' || !this.schedule.learned) {
      const terms = this.forward(x, { generator, shard });
      const loss = terms.total.mean();
      loss.backward();
      return { terms };
    }
    const values = this.sampleValues(x.shape[0], generator, shard);
    const keys = ['g0', 'g1', 'gammaT', 'weight'] as const;
    const leaves = {} as Record<(typeof keys)[number], Tensor>;
    for (const key of keys) leaves[key] = values[key].detach().clone().requiresGrad_();
    const terms = this.forward(x, { generator, values: leaves, shard });
    terms.total.mean().backward();
    const scheduleBackward = (meanL: Tensor) => {
      const L = terms.total.detach();
      const scale = L.div(meanL);
      let surrogate: Tensor | null = null;
      for (const key of keys) {
        const g = leaves[key].grad;
        if (g === null) continue;
        const part = values[key].mul(g.mul(scale)).sum();
        surrogate = surrogate === null ? part : surrogate.add(part);
      }
      surrogate?.backward();
    };
    return { terms, scheduleBackward };
  }

  /** Images in [0, 1] (or points) from z₀: the decoder's most likely level, or z₀/α₀ for continuous data. */
  decode(z0: Tensor): Tensor {
    return noGrad(() =>
      tidy(() => {
        const g0 = this.schedule.gamma(zeros([1], { dtype: z0.dtype }));
        const alpha0 = g0.neg().sigmoid().sqrt();
        const zRescaled = z0.div(alpha0);
        if (this.levels === null) return zRescaled;
        // The decoder's most likely level is the one whose centre is nearest.
        return nearestLevel(zRescaled, this.levels).div(this.levels - 1);
      }),
    );
  }

  /** n samples of the given per-example shape, decoded. */
  sample(n: number, shape: number[], opts: SampleOptions): Tensor {
    return tidy(() => this.decode(sampleLatent(this.eps, this.schedule, [n, ...shape], opts)));
  }
}

function stats(terms: VLBTerms, dims: number): StepStats {
  return noGrad(() =>
    tidy(() => {
      const bpd = (t: Tensor) => t.detach().mean().item() / (dims * Math.LN2);
      return { loss: bpd(terms.total), recon: bpd(terms.recon), prior: bpd(terms.prior), diff: bpd(terms.diff) };
    }),
  );
}
