"""PyTorch side of bench/reparam.ts: one training step of LeNet-300-100 with sparse variational
dropout through the local reparameterisation trick (LRT), written op for op as genlab's
VariationalLinear (src/nn/layers/variational.ts), in the same order with the same ops: mean
x(θ⊙m) + b, variance x²(αθ²⊙m) with θ² computed once, mean + √(variance + 10⁻⁸)·ε by one addcmul,
the 2017 KL fit in its six-op form, the layers' KLs summed as genlab's klDivergence does,
cross-entropy, backward, Adam.

  reparam.py SETTINGS.json   prints one JSON line {"step": wall seconds per step (median),
                             "cpu": CPU seconds of the process per step (median), "loss": last loss}
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

K1, K2, K3 = 0.63576, 1.8732, 1.48695


class VariationalLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_out, n_in))
        self.log_sigma2 = nn.Parameter(torch.full((n_out, n_in), -10.0))
        self.bias = nn.Parameter(torch.empty(n_out))
        self.register_buffer("weight_mask", torch.ones(n_out, n_in))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)
        bound = 1 / n_in**0.5
        nn.init.uniform_(self.bias, -bound, bound)

    def log_alpha(self, weight2):
        return (self.log_sigma2 - (weight2 + 1e-8).log()).clamp(-8, 8)

    def forward(self, x):
        mean = F.linear(x, self.weight * self.weight_mask, self.bias)
        x2 = x.square()
        weight2 = self.weight.square()
        var = F.linear(x2, self.log_alpha(weight2).exp() * weight2 * self.weight_mask)
        return torch.addcmul(mean, (var + 1e-8).sqrt(), torch.randn_like(mean))

    def kl(self):
        la = self.log_alpha(self.weight.square())
        sig = la.mul(-K3).add(-K2).sigmoid()
        kl = sig.mul(K1).sub(F.softplus(la, beta=-1), alpha=0.5)
        return (kl * self.weight_mask).sum()


def main():
    s = json.load(open(sys.argv[1]))
    torch.set_num_threads(s["threads"])
    torch.manual_seed(s["seed"])
    layers = [VariationalLinear(a, b) for a, b in zip(s["widths"][:-1], s["widths"][1:])]
    # As genlab's sparseLeNet, which starts with a Flatten.
    net = nn.Sequential(nn.Flatten(), layers[0], nn.ReLU(), layers[1], nn.ReLU(), layers[2])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(s["batch"], s["widths"][0])
    y = torch.randint(0, s["widths"][-1], (s["batch"],))
    n = s["n"]

    def step():
        opt.zero_grad()
        kl = layers[0].kl() + layers[1].kl() + layers[2].kl()
        loss = F.cross_entropy(net(x), y) + kl / n
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(s["warmup"]):
        step()
    times, cpus = [], []
    for _ in range(s["steps"]):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = step()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    times.sort()
    cpus.sort()
    mid = len(times) // 2
    print(json.dumps({"step": times[mid], "cpu": cpus[mid], "loss": loss, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
