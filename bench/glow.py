"""PyTorch side of bench/glow.ts: the same Glow as src/flows/, op for op, and the same training step.

Run with Debian's /usr/bin/python3. A workload is {name, shape, levels, depth, hidden, batch, levels_in_data}.
       glow.py serve THREADS JSON_WORKLOAD [foreach|channels_last]: serves training steps to
bench/interleave.ts; channels_last lays the activations out as genlab's Glow does by default.
       glow.py train THREADS JSON_WORKLOAD STEPS: trains STEPS steps of one workload and prints its
peak resident set (VmHWM) in KiB, for bench/memory.ts.
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


class ActNorm(nn.Module):
    def __init__(self, c, logscale_factor=3.0):
        super().__init__()
        self.f = logscale_factor
        self.bias = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.register_buffer("initialized", torch.tensor([0], dtype=torch.uint8))

    def initialize(self, x):
        with torch.no_grad():
            mean = x.mean([0, 2, 3], keepdim=True)
            std = (x - mean).square().mean([0, 2, 3], keepdim=True).sqrt()
            self.bias.copy_(-mean)
            self.logs.copy_((std + 1e-6).reciprocal().mul(1.0).log() / self.f)
            self.initialized.fill_(1)

    def log_scale(self):
        return self.logs * self.f

    def normalize(self, x):
        if self.initialized.item() == 0:
            self.initialize(x)
        return (x + self.bias) * self.log_scale().exp()

    def forward(self, x):
        if self.initialized.item() == 0:
            self.initialize(x)
        logs = self.log_scale()
        return (x + self.bias) * logs.exp(), logs.sum() * (x.shape[2] * x.shape[3])


class InvConv2dLU(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = torch.linalg.qr(torch.randn(c, c, dtype=torch.float64))[0]
        p, l, u = torch.linalg.lu(w)
        s = u.diagonal()
        self.register_buffer("p", p.float())
        self.register_buffer("sign_s", s.sign().float())
        self.lower = nn.Parameter(l.float())
        self.upper = nn.Parameter(u.triu(1).float())
        self.log_s = nn.Parameter(s.abs().log().float())
        self.register_buffer("l_mask", torch.ones(c, c).tril(-1), persistent=False)
        self.register_buffer("identity", torch.eye(c), persistent=False)

    def weight(self):
        l = self.lower * self.l_mask + self.identity
        u = self.upper * self.l_mask.t() + (self.sign_s * self.log_s.exp()).diag()
        return self.p.matmul(l.matmul(u))

    def forward(self, x):
        w = self.weight()
        c = w.shape[0]
        return F.conv2d(x, w.view(c, c, 1, 1)), self.log_s.sum() * (x.shape[2] * x.shape[3])


class ZeroConv2d(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)
        self.logs = nn.Parameter(torch.zeros(1, cout, 1, 1))

    def forward(self, x):
        return self.conv(x) * (self.logs * 3).exp()


class CouplingNet(nn.Module):
    def __init__(self, cin, cout, width):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, padding=1, bias=False)
        self.norm1 = ActNorm(width)
        self.conv2 = nn.Conv2d(width, width, 1, bias=False)
        self.norm2 = ActNorm(width)
        self.out = ZeroConv2d(width, cout)
        nn.init.normal_(self.conv1.weight, 0, 0.05)
        nn.init.normal_(self.conv2.weight, 0, 0.05)

    def forward(self, x):
        h = F.relu(self.norm1.normalize(self.conv1(x)))
        return self.out(F.relu(self.norm2.normalize(self.conv2(h))))


class Coupling(nn.Module):
    def __init__(self, c, width):
        super().__init__()
        self.net = CouplingNet(c // 2, c, width)

    def forward(self, x):
        xa, xb = x.chunk(2, 1)
        h = self.net(xa)
        shift, raw = h.chunk(2, 1)
        log_scale = F.logsigmoid(raw + 2)
        yb = (xb + shift) * log_scale.exp()
        return torch.cat([xa, yb], 1), log_scale.sum([1, 2, 3])


class FlowStep(nn.Module):
    def __init__(self, c, width):
        super().__init__()
        self.actnorm = ActNorm(c)
        self.invconv = InvConv2dLU(c)
        self.coupling = Coupling(c, width)

    def forward(self, x):
        a, ld_a = self.actnorm(x)
        b, ld_b = self.invconv(a)
        c, ld_c = self.coupling(b)
        return c, ld_a + ld_b + ld_c


def squeeze2d(x):
    b, c, h, w = x.shape
    return x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, c * 4, h // 2, w // 2)


def gaussian_logp(x, mean, logs):
    eps = (x - mean) * (-logs).exp()
    d = x.numel() / x.shape[0]
    return eps.square().sum([1, 2, 3]) * -0.5 - logs.sum([1, 2, 3]) - 0.5 * d * LOG_2PI


class Glow(nn.Module):
    def __init__(self, shape, levels, depth, hidden, channels_last=False):
        super().__init__()
        self.channels_last = channels_last
        c, h, w = shape
        self.levels = nn.ModuleList()
        self.splits = nn.ModuleList()
        for i in range(levels):
            c, h, w = c * 4, h // 2, w // 2
            self.levels.append(nn.ModuleList([FlowStep(c, hidden) for _ in range(depth)]))
            if i < levels - 1:
                self.splits.append(ZeroConv2d(c // 2, c))
                c //= 2
        self.top = nn.Parameter(torch.zeros(1, 2 * c, h, w))

    def forward(self, x):
        z, logdet, logp = x, None, None
        for i, steps in enumerate(self.levels):
            z = squeeze2d(z)
            if self.channels_last:
                z = z.contiguous(memory_format=torch.channels_last)
            for step in steps:
                z, ld = step(z)
                logdet = ld if logdet is None else logdet + ld
            if i < len(self.splits):
                z1, z2 = z.chunk(2, 1)
                mean, logs = self.splits[i](z1).chunk(2, 1)
                lp = gaussian_logp(z2, mean, logs)
                logp = lp if logp is None else logp + lp
                z = z1
        mean, logs = self.top.chunk(2, 1)
        lp = gaussian_logp(z, mean, logs)
        logp = lp if logp is None else logp + lp
        return logp + logdet


def make_step(w, foreach=None, channels_last=False):
    """The training step of workload w on a fixed random batch: model, data and Adam made here."""
    torch.manual_seed(0)
    shape = w["shape"]
    model = Glow(shape, w["levels"], w["depth"], w["hidden"], channels_last)
    levels = w["levels_in_data"]
    bins = levels
    dims = shape[0] * shape[1] * shape[2]
    x01 = torch.randint(0, levels, [w["batch"], *shape]).float() / (levels - 1)

    def dequantize(x):
        b = (x * (levels - 1)).round()
        return (b + torch.rand_like(b)) / bins - 0.5

    with torch.no_grad():
        model(dequantize(x01))  # ActNorm data-dependent init
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=foreach)
    params = list(model.parameters())
    extra = dims * (math.log2(bins) * math.log(2) - math.log(1.0))
    denom = dims * math.log(2)

    def step():
        opt.zero_grad(set_to_none=True)
        logp = model(dequantize(x01))
        loss = ((-logp + extra) / denom).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 50).item()
        opt.step()
        return loss.item()

    return step


def status_kib(field):
    """A line of /proc/self/status in KiB: VmHWM is the peak resident set so far, VmRSS the current."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def train(threads, w, steps):
    torch.set_num_threads(threads)
    loaded = status_kib("VmRSS")
    step = make_step(w)
    loss = float("nan")
    for _ in range(steps):
        loss = step()
    print(json.dumps({"torch": torch.__version__, "steps": steps, "loss": loss, "loadedKiB": loaded, "vmHwmKiB": status_kib("VmHWM")}))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        # bench/interleave.ts: serve <threads> <workload> [foreach]
        from stepserver import serve

        torch.set_num_threads(int(sys.argv[2]))
        variant = sys.argv[4:]
        w = json.loads(sys.argv[3])
        serve(make_step(w, foreach=True if variant == ["foreach"] else None, channels_last=variant == ["channels_last"]))
    elif sys.argv[1] == "train":  # bench/memory.ts: train <threads> <workload> <steps>
        train(int(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]))
