"""PyTorch side of bench/engine.ts: the same three workloads.

`engine.py <threads> add` prints the tiny add's best time per op as JSON; `engine.py serve <threads>
mlp|conv` serves training steps to bench/interleave.ts. Run with Debian's /usr/bin/python3.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def sample_times(step, warmup, reps):
    """Seconds per call of step, sorted, after warm-up (as sampleTimes in bench/common.ts)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return sorted(times)


def best_time(step, warmup, reps):
    return sample_times(step, warmup, reps)[0]


def tiny_add(n):
    a = torch.randn(2, 3)
    b = torch.randn(3)

    def step():
        for _ in range(n):
            a + b

    return best_time(step, 2, 15) / n


def adam_step(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def mlp_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    return adam_step(model, torch.randn(128, 784), torch.randint(0, 10, (128,)))


def conv_step():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.GroupNorm(4, 16), nn.SiLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.GroupNorm(8, 32), nn.SiLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.GroupNorm(8, 32), nn.SiLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    )
    return adam_step(model, torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,)))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    which = sys.argv[2].split(",") if len(sys.argv) > 2 else ["add", "mlp", "conv"]
    torch.set_num_threads(threads)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if "add" in which:
        out["add"] = tiny_add(20000)
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:  # bench/interleave.ts: serve <threads> mlp|conv
        from stepserver import serve

        torch.set_num_threads(int(sys.argv[2]))
        serve({"mlp": mlp_step, "conv": conv_step}[sys.argv[3]]())
    else:
        main()
