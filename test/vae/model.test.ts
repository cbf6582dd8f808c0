import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../../src/torch/index.js';
import { iwaeChunked } from '../../src/vae/diagnostics.js';
import { discretizedLogisticLogProb, klNormal, normalLogProb } from '../../src/vae/distributions.js';
import { annealWeights, VAE, type VaeConfig } from '../../src/vae/model.js';

const close = (a: number, b: number, tol: number) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('Gaussian log-density and KL match closed forms', () => {
  torch.tidy(() => {
    const x = torch.tensor([0.3], { dtype: 'float64' });
    const lp = normalLogProb(
      x,
      torch.tensor([1], { dtype: 'float64' }),
      torch.tensor([Math.log(4)], { dtype: 'float64' }),
    );
    close(lp.item(), -0.5 * Math.log(2 * Math.PI * 4) - (0.7 * 0.7) / 8, 1e-12);
    // KL(N(μ, σ²) ‖ N(0, λ)) = ½(log λ − log σ² + (σ² + μ²)/λ − 1).
    const kl = klNormal(
      torch.tensor([0.5], { dtype: 'float64' }),
      torch.tensor([Math.log(0.25)], { dtype: 'float64' }),
      torch.tensor([Math.log(2)], { dtype: 'float64' }),
    );
    close(kl.item(), 0.5 * (Math.log(2) - Math.log(0.25) + (0.25 + 0.25) / 2 - 1), 1e-12);
    close(klNormal(torch.zeros([1]), torch.zeros([1]), null).item(), 0, 1e-7);
  });
});

test('the discretised logistic is a distribution over the grid', () => {
  torch.tidy(() => {
    for (const levels of [2, 17, 256]) {
      const grid = torch.arange(0, levels, 1, { dtype: 'float64' }).div(levels - 1);
      for (const [loc, logScale] of [
        [0.3, -1],
        [0.9, -4],
        [-0.5, 0.5],
      ]) {
        const lp = discretizedLogisticLogProb(
          grid,
          torch.full([levels], loc, { dtype: 'float64' }),
          torch.full([levels], logScale, { dtype: 'float64' }),
          levels,
        );
        close(lp.exp().sum().item(), 1, 1e-9);
      }
    }
  });
});

const small = (model: VaeConfig['model'], extra: Partial<VaeConfig> = {}): VaeConfig => ({
  model,
  dataDim: 6,
  latentDim: 2,
  hidden: [16],
  likelihood: 'gaussian',
  variance: 0.5,
  ...extra,
});

for (const kind of ['vae', 'ivae', 'lidvae'] as const) {
  test(`${kind}: the IWAE bound is at least the ELBO and tightens as K grows`, () => {
    torch.manualSeed(5);
    const extra = kind === 'ivae' ? { auxDim: 3 } : kind === 'lidvae' ? { brenier: { hidden1: 8, hidden2: 8 } } : {};
    const m = new VAE(small(kind, extra)).double();
    torch.noGrad(() =>
      torch.tidy(() => {
        const gen = new torch.Generator(6);
        const x = torch.randn([40, 6], { dtype: 'float64', generator: gen }).mul(2);
        const u = kind === 'ivae' ? torch.eye(3, { dtype: 'float64' }).repeat(14, 1).narrow(0, 0, 40) : undefined;
        // 4000 importance weights per example, split into groups of K: each group's log-mean-exp is
        // one draw of IWAE_K, so the group average estimates E[IWAE_K]; K = 1 is the ELBO.
        // Drawn in chunks: large fresh tensors are slow to allocate on small machines.
        const logW = torch.cat(Array.from({ length: 40 }, () => m.logImportanceWeights(x, u, 100, { generator: gen })));
        const bound = (k: number) =>
          logW
            .reshape(4000 / k, k, 40)
            .logsumexp(1)
            .sub(Math.log(k))
            .mean()
            .item();
        const elbo = m.forward(x.repeat(100, 1), u?.repeat(100, 1), { generator: gen }).elbo.mean().item();
        const b = [1, 10, 100, 1000].map(bound);
        close(b[0], elbo, 0.02 * Math.abs(elbo));
        for (let i = 1; i < b.length; i++) assert.ok(b[i] > b[i - 1], `IWAE_K not increasing: ${b}`);
        assert.ok(b[3] > elbo + 0.2, `IWAE_1000 ${b[3]} should clearly exceed the ELBO ${elbo} for an untrained model`);
        // And it is the same as iwae() with K = 1000 up to Monte Carlo error.
        close(iwaeChunked(m, x, u, 1000, gen).mean().item(), b[3], 0.1);
      }),
    );
    m.dispose();
  });
}

test('the annealed objective: its schedule, and with unit weights it is the ELBO (in expectation)', () => {
  const w0 = annealWeights(0, 1600, 50);
  assert.deepEqual(w0, { a: 50, b: 15, c: 0, d: 25 });
  const end = annealWeights(1000, 1600, 50);
  assert.deepEqual(end, { a: 100, b: 1, c: 1, d: 1 });
  assert.deepEqual(annealWeights(1001, 1600, 50, 4), { a: 1, b: 4, c: 4, d: 4 });
  torch.manualSeed(8);
  const m = new VAE(small('ivae', { auxDim: 2 })).double();
  torch.noGrad(() =>
    torch.tidy(() => {
      const gen = new torch.Generator(9);
      const x = torch.randn([20, 6], { dtype: 'float64', generator: gen }).repeat(20, 1);
      const u = torch.eye(2, { dtype: 'float64' }).repeat(200, 1);
      const unit = { a: 1, b: 1, c: 1, d: 1 };
      let annealed = 0;
      for (let r = 0; r < 10; r++) annealed += m.annealedLoss(x, u, unit, 4000, { generator: gen }).loss.item() / 10;
      const elbo = m.forward(x.repeat(10, 1), u.repeat(10, 1), { generator: gen }).loss.item();
      close(annealed, elbo, 0.05 * Math.abs(elbo));
    }),
  );
  m.dispose();
});

test('training steps of every model keep the live tensor count flat', () => {
  for (const kind of ['vae', 'ivae', 'lidvae'] as const) {
    torch.manualSeed(10);
    const extra = kind === 'ivae' ? { auxDim: 2 } : { brenier: { hidden1: 8, hidden2: 8 } };
    const m = new VAE(small(kind, { ...extra, likelihood: 'logistic', levels: 17 }));
    const x = torch.rand([16, 6]);
    const u = torch.eye(2).repeat(8, 1);
    const step = () =>
      torch.tidy(() => {
        m.forward(x, u).loss.backward();
        m.zeroGrad();
        m.afterStep();
      });
    step();
    const before = torch.memory().tensors;
    for (let i = 0; i < 10; i++) step();
    assert.equal(torch.memory().tensors, before, `${kind} leaks tensors`);
    m.dispose();
    torch.dispose([x, u]);
  }
});

test('reference-style options: split encoder, Xavier with default biases', () => {
  torch.manualSeed(11);
  const split = new VAE(small('ivae', { auxDim: 3, splitEncoder: true, xavier: true, zeroBias: false }));
  const shared = new VAE(small('ivae', { auxDim: 3, xavier: true }));
  try {
    assert.ok(split.encoderLogVar !== null && shared.encoderLogVar === null);
    assert.equal(split.encoder.outFeatures, 2);
    assert.equal(shared.encoder.outFeatures, 4);
    torch.noGrad(() =>
      torch.tidy(() => {
        const x = torch.randn([5, 6]);
        const u = torch.eye(3).repeat(2, 1).narrow(0, 0, 5);
        const q = split.encode(x, u);
        assert.deepEqual(q.mean.shape, [5, 2]);
        assert.deepEqual(q.logVar.shape, [5, 2]);
        // The log-variance comes from its own network.
        const direct = split.encoderLogVar!.forward(torch.cat([x, u], 1));
        assert.ok(direct.equal(q.logVar));
        const nonzero = (m: VAE) => m.encoder.layers.at(0).bias!.abs().sum().item() > 0;
        assert.ok(nonzero(split), 'zeroBias false keeps the default biases');
        assert.ok(!nonzero(shared), 'Xavier init zeroes the biases by default');
      }),
    );
  } finally {
    split.dispose();
    shared.dispose();
  }
});
