# The PyTorch side of bench/nas.ts: one first-order DARTS search step (α's Adam step on the gradient
# of the validation loss, then the weights' clipped SGD step) on the same search network as
# src/nas/search.ts, timed after warm-up. Prints {"step": median seconds, "loss": last loss}.
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

c, layers, batch, size, warmup, reps, nodes = (int(a) for a in sys.argv[1:8])
torch.set_num_threads(1)
torch.manual_seed(0)
OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']


def rcb(ci, co):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(ci, co, 1, bias=False), nn.BatchNorm2d(co, affine=False))


class FR(nn.Module):
    def __init__(self, ci, co):
        super().__init__()
        self.c1 = nn.Conv2d(ci, co // 2, 1, stride=2, bias=False)
        self.c2 = nn.Conv2d(ci, co // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(co, affine=False)

    def forward(self, x):
        r = x.relu()
        return self.bn(torch.cat([self.c1(r), self.c2(r[:, :, 1:, 1:])], 1))


def sep(ch, k, s):
    p = k // 2
    return nn.Sequential(
        nn.ReLU(), nn.Conv2d(ch, ch, k, s, p, groups=ch, bias=False), nn.Conv2d(ch, ch, 1, bias=False),
        nn.BatchNorm2d(ch, affine=False),
        nn.ReLU(), nn.Conv2d(ch, ch, k, 1, p, groups=ch, bias=False), nn.Conv2d(ch, ch, 1, bias=False),
        nn.BatchNorm2d(ch, affine=False))


def dil(ch, k, s):
    return nn.Sequential(
        nn.ReLU(), nn.Conv2d(ch, ch, k, s, k - 1, dilation=2, groups=ch, bias=False),
        nn.Conv2d(ch, ch, 1, bias=False), nn.BatchNorm2d(ch, affine=False))


def op(name, ch, s):
    return {
        'max_pool_3x3': lambda: nn.MaxPool2d(3, s, 1),
        'avg_pool_3x3': lambda: nn.AvgPool2d(3, s, 1, count_include_pad=False),
        'skip_connect': lambda: nn.Identity() if s == 1 else FR(ch, ch),
        'sep_conv_3x3': lambda: sep(ch, 3, s), 'sep_conv_5x5': lambda: sep(ch, 5, s),
        'dil_conv_3x3': lambda: dil(ch, 3, s), 'dil_conv_5x5': lambda: dil(ch, 5, s),
    }[name]()


class Mixed(nn.Module):
    def __init__(self, ch, s):
        super().__init__()
        self.ops = nn.ModuleList([op(n, ch, s) for n in OPS[1:]])  # 'none' adds w·0, skipped as in genlab

    def forward(self, x, w):
        out = None
        for k, o in enumerate(self.ops):
            t = o(x) * w[k + 1]
            out = t if out is None else out + t
        return out


class Cell(nn.Module):
    def __init__(self, cpp, cp, ch, red, red_prev):
        super().__init__()
        self.red = red
        self.p0 = FR(cpp, ch) if red_prev else rcb(cpp, ch)
        self.p1 = rcb(cp, ch)
        self.edges = nn.ModuleList([Mixed(ch, 2 if red and j < 2 else 1) for i in range(nodes) for j in range(i + 2)])

    def forward(self, s0, s1, ws):
        st = [self.p0(s0), self.p1(s1)]
        e = 0
        for i in range(nodes):
            s = None
            for j in range(len(st)):
                h = self.edges[e](st[j], ws[e])
                s = h if s is None else s + h
                e += 1
            st.append(s)
        return torch.cat(st[2:], 1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        cs = 3 * c
        self.stem = nn.Sequential(nn.Conv2d(1, cs, 3, padding=1, bias=False), nn.BatchNorm2d(cs))
        cpp, cp, cur, rp = cs, cs, c, False
        cells = []
        for i in range(layers):
            red = i in (layers // 3, 2 * layers // 3)
            if red:
                cur *= 2
            cells.append(Cell(cpp, cp, cur, red, rp))
            rp = red
            cpp, cp = cp, nodes * cur
        self.cells = nn.ModuleList(cells)
        self.classifier = nn.Linear(cp, 10)
        k = nodes * (nodes + 3) // 2
        self.an = nn.Parameter(1e-3 * torch.randn(k, len(OPS)))
        self.ar = nn.Parameter(1e-3 * torch.randn(k, len(OPS)))

    def forward(self, x):
        wn = [r.unbind(0) for r in self.an.softmax(-1).unbind(0)]
        wr = [r.unbind(0) for r in self.ar.softmax(-1).unbind(0)]
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, wr if cell.red else wn)
        return self.classifier(s1.mean([2, 3]))


net = Net()
arch = [net.an, net.ar]
weights = [p for n, p in net.named_parameters() if n not in ('an', 'ar')]
wopt = torch.optim.SGD(weights, lr=0.025, momentum=0.9, weight_decay=3e-4)
aopt = torch.optim.Adam(arch, lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
x = torch.randn(batch, 1, size, size)
y = torch.randint(0, 10, (batch,))
xv = torch.randn(batch, 1, size, size)
yv = torch.randint(0, 10, (batch,))


def step():
    g = torch.autograd.grad(F.cross_entropy(net(xv), yv), arch, allow_unused=True)
    for a, gi in zip(arch, g):
        a.grad = gi
    aopt.step()
    wopt.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    nn.utils.clip_grad_norm_(weights, 5)
    wopt.step()
    return loss.item()


for _ in range(warmup):
    step()
times = []
for _ in range(reps):
    t0 = time.perf_counter()
    loss = step()
    times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({'step': times[len(times) // 2], 'loss': loss}))
