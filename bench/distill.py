"""PyTorch side of bench/distill.ts: one stage-2 step of guided distillation, as src/diffusion/distill.

The w-conditioned U-Net (VDM's single-resolution U-Net, a class embedding with a null row and a
sinusoidal w embedding added to the time embedding), the cosine log-SNR schedule, two DDIM steps of
the frozen previous student, the distillation target, the truncated-SNR loss, clipping and Adam.
Reads settings (and the training images as uint8 levels) from a JSON file; prints one JSON object.
Run by bench/distill.ts with Debian's /usr/bin/python3.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# The U-Net's building blocks are bench/vdm.py's (this script's folder is on Python's path).
from vdm import ResBlock, groups_for, timestep_embedding, zero_


class GuidedNet(nn.Module):
    """src/diffusion/distill/net.ts's GuidedNet with wConditioned, mults [1], no dropout."""

    def __init__(self, channels, width, depth, classes):
        super().__init__()
        self.width = width
        cd = 4 * width
        self.embed = nn.Sequential(nn.Linear(width, cd), nn.SiLU(), nn.Linear(cd, cd), nn.SiLU())
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.down = nn.ModuleList([ResBlock(width, width, cd) for _ in range(depth)])
        self.mid1 = ResBlock(width, width, cd)
        self.mid2 = ResBlock(width, width, cd)
        self.up = nn.ModuleList([ResBlock(2 * width, width, cd) for _ in range(depth + 1)])
        self.norm_out = nn.GroupNorm(groups_for(width), width)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)
        zero_(self.conv_out)
        self.label = nn.Embedding(classes + 1, cd)
        self.w_embed = nn.Sequential(nn.Linear(width, cd), nn.SiLU(), nn.Linear(cd, cd))
        zero_(self.w_embed[2])

    def forward(self, z, t, labels, w):
        extra = self.label(labels) + self.w_embed(timestep_embedding(w / 4, self.width))
        cond = self.embed(timestep_embedding(t, self.width)) + extra
        h = self.conv_in(z)
        hs = [h]
        for m in self.down:
            h = m(h, cond)
            hs.append(h)
        h = self.mid2(self.mid1(h, cond), cond)
        for m in self.up:
            h = m(torch.cat([h, hs.pop()], 1), cond)
        return self.conv_out(F.silu(self.norm_out(h)))


class Schedule:
    """−log SNR(t) = 2 log tan(a t + b), truncated to [gmin, gmax]."""

    def __init__(self, gmin, gmax):
        self.b = math.atan(math.exp(gmin / 2))
        self.a = math.atan(math.exp(gmax / 2)) - self.b

    def at(self, t):
        g = (t * self.a + self.b).tan().log().mul(2).reshape(-1, 1, 1, 1)
        return (-g).sigmoid().sqrt(), g.sigmoid().sqrt()


def x_hat(net, z, t, alpha, sigma, labels, w):
    """v-parameterisation: x̂ = α z − σ v̂."""
    return z * alpha - net(z, t, labels, w) * sigma


def ddim(z, xh, a_t, s_t, a_s, s_s):
    return xh * a_s + (z - xh * a_t) / s_t * s_s


def stage2_loss(prev, student, sched, x, y, n, wmin, wmax):
    b = x.shape[0]
    t = torch.randint(0, n, (b,)).float().add(1).div(n)
    a, s = sched.at(t)
    z = x * a + torch.randn(x.shape) * s
    w = torch.rand(b) * (wmax - wmin) + wmin
    with torch.no_grad():
        t1, t2 = t - 0.5 / n, (t - 1 / n).clamp(min=0)
        a1, s1 = sched.at(t1)
        a2, s2 = sched.at(t2)
        z1 = ddim(z, x_hat(prev, z, t, a, s, y, w), a, s, a1, s1)
        z2 = ddim(z1, x_hat(prev, z1, t1, a1, s1, y, w), a1, s1, a2, s2)
        r = s2 / s
        target = (z2 - z * r) / (a2 - r * a)
    xs = x_hat(student, z, t, a, s, y, w)
    per = (xs - target).square().mean((1, 2, 3))
    return (per * (a.square() / s.square()).clamp(min=1).flatten()).mean()


def main():
    cfg = json.load(open(sys.argv[1]))
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    raw = open(cfg["images"], "rb").read()
    n_img = len(raw) // 64
    images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(n_img, 1, 8, 8).float() / 16
    labels = torch.tensor(cfg["labels"], dtype=torch.int64)
    student = GuidedNet(1, cfg["width"], cfg["depth"], 10)
    prev = GuidedNet(1, cfg["width"], cfg["depth"], 10)
    prev.load_state_dict(student.state_dict())
    prev.requires_grad_(False)
    sched = Schedule(cfg["gammaMin"], cfg["gammaMax"])
    opt = torch.optim.Adam(student.parameters(), lr=cfg["lr"], foreach=cfg.get("foreach"))
    bs = cfg["batchSize"]

    def step():
        idx = torch.randint(0, n_img, (bs,))
        opt.zero_grad()
        loss = stage2_loss(prev, student, sched, images[idx] * 2 - 1, labels[idx], cfg["n"], cfg["wMin"], cfg["wMax"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        return loss.item()

    out = {"torch": torch.__version__, "params": sum(p.numel() for p in student.parameters())}
    for _ in range(cfg["warmup"]):
        step()
    times = []
    for _ in range(cfg["reps"]):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    out["step"] = times[len(times) // 2]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
