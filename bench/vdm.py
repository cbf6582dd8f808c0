"""PyTorch side of bench/vdm.ts: the same VDM (U-Net, fixed schedule, continuous-time VLB) in PyTorch.

Reads the training images (uint8 levels) and settings from a JSON file, then either serves training
steps to bench/interleave.ts (mode "serve") or trains for a number of steps and prints the loss curve
as one JSON object.
Run by bench/vdm.ts with Debian's /usr/bin/python3.
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def groups_for(c):
    for g in (32, 16, 8, 4, 2):
        if c % g == 0 and c // g >= 4:
            return g
    return 1


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=t.dtype) * (-math.log(10000) / max(1, half - 1)))
    args = (t * 1000)[:, None] * freqs
    return torch.cat([args.sin(), args.cos()], 1)


def fourier_features(z, exponents):
    parts = [z]
    for n in exponents:
        a = z * (2**n * 2 * math.pi)
        parts += [a.sin(), a.cos()]
    return torch.cat(parts, 1)


def zero_(m):
    nn.init.zeros_(m.weight)
    if m.bias is not None:
        nn.init.zeros_(m.bias)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, cond_dim):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups_for(cin), cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.cond = nn.Linear(cond_dim, cout, bias=False)
        self.norm2 = nn.GroupNorm(groups_for(cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        zero_(self.cond)
        zero_(self.conv2)
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x, cond):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.cond(cond)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """VDM's single-resolution U-Net, as src/diffusion/unet.ts with mults [1] and no attention."""

    def __init__(self, channels, width, depth, fourier, channels_last=False):
        super().__init__()
        self.channels_last = channels_last
        self.width, self.fourier = width, fourier
        cd = 4 * width
        self.embed = nn.Sequential(nn.Linear(width, cd), nn.SiLU(), nn.Linear(cd, cd), nn.SiLU())
        self.conv_in = nn.Conv2d(channels * (1 + 2 * len(fourier)), width, 3, padding=1)
        self.down = nn.ModuleList([ResBlock(width, width, cd) for _ in range(depth)])
        self.mid1 = ResBlock(width, width, cd)
        self.mid2 = ResBlock(width, width, cd)
        self.up = nn.ModuleList([ResBlock(2 * width, width, cd) for _ in range(depth + 1)])
        self.norm_out = nn.GroupNorm(groups_for(width), width)
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)
        zero_(self.conv_out)

    def forward(self, z, g_norm):
        cond = self.embed(timestep_embedding(g_norm, self.width))
        features = fourier_features(z, self.fourier)
        if self.channels_last:  # as genlab's --memory-format channelsLast
            features = features.contiguous(memory_format=torch.channels_last)
        h = self.conv_in(features)
        hs = [h]
        for m in self.down:
            h = m(h, cond)
            hs.append(h)
        h = self.mid2(self.mid1(h, cond), cond)
        for m in self.up:
            h = m(torch.cat([h, hs.pop()], 1), cond)
        return self.conv_out(F.silu(self.norm_out(h)))


def vlb_bpd(net, x, levels, gmin, gmax):
    """Mean VLB in bits/dim of images x in [0, 1]: fixed linear schedule, continuous time, antithetic t."""
    b = x.shape[0]
    k = (x * (levels - 1)).round()
    f = (k + 0.5) * (2 / levels) - 1
    g0, g1 = torch.tensor(float(gmin)), torch.tensor(float(gmax))
    # reconstruction
    eps0 = torch.randn_like(f)
    zr = f + eps0 * (0.5 * g0).exp()
    centres = (torch.arange(levels, dtype=f.dtype) + 0.5) * (2 / levels) - 1
    logits = -0.5 * ((zr[..., None] - centres) * (-0.5 * g0).exp()) ** 2
    logp = logits.gather(-1, k[..., None].long()).squeeze(-1) - logits.logsumexp(-1)
    recon = -logp.flatten(1).sum(1)
    # prior
    s1 = g1.sigmoid()
    prior = (0.5 * ((1 - s1) * f**2 + s1 - F.logsigmoid(g1) - 1)).flatten(1).sum(1)
    # diffusion
    t = (torch.rand(1) + torch.arange(b) / b) % 1
    g_t = gmin + (gmax - gmin) * t
    eps = torch.randn_like(f)
    alpha = (-g_t).sigmoid().sqrt()[:, None, None, None]
    sigma = g_t.sigmoid().sqrt()[:, None, None, None]
    eps_hat = net(f * alpha + eps * sigma, (g_t - gmin) / (gmax - gmin))
    diff = 0.5 * (gmax - gmin) * (eps - eps_hat).square().flatten(1).sum(1)
    dims = f[0].numel()
    return (recon + prior + diff).mean() / (dims * math.log(2))


def main():
    cfg = json.load(open(sys.argv[1]))
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    raw = open(cfg["images"], "rb").read()
    n = len(raw) // 64
    images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(n, 1, 8, 8).float() / (cfg["levels"] - 1)
    net = UNet(1, cfg["width"], cfg["depth"], cfg["fourier"], cfg.get("memoryFormat") == "channelsLast")
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"], foreach=cfg.get("foreach"))
    bs = cfg["batchSize"]
    gen = torch.Generator().manual_seed(cfg["seed"])

    def step():
        idx = torch.randint(0, n, (bs,), generator=gen)
        opt.zero_grad()
        loss = vlb_bpd(net, images[idx], cfg["levels"], cfg["gammaMin"], cfg["gammaMax"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        return loss.item()

    if cfg["mode"] == "serve":  # bench/interleave.ts
        from stepserver import serve

        return serve(step)
    out = {"torch": torch.__version__, "params": sum(p.numel() for p in net.parameters())}
    out["losses"] = [step() for _ in range(cfg["steps"])]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
