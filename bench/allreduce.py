# One PyTorch rank of bench/allreduce.ts: env:// Gloo group, then all-reduce timings per tensor size
# ("allreduce") or DDP step times of an MLP ("scaling"), printed as one JSON line by rank 0.
import json
import sys
import time
from datetime import timedelta

import torch
import torch.distributed as dist

torch.set_num_threads(1)
mode, reps = sys.argv[1], int(sys.argv[2])
sizes = [int(s) for s in sys.argv[3].split(",")]
dist.init_process_group("gloo", timeout=timedelta(seconds=120))
out = {}
if mode == "allreduce":
    for n in sizes:
        t = torch.ones(n, dtype=torch.float32)
        for _ in range(3):
            dist.all_reduce(t)
        times = []
        for _ in range(reps):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            times.append(time.perf_counter() - t0)
        times.sort()
        out[str(n)] = times[len(times) // 2]
if dist.get_rank() == 0:
    print(json.dumps(out))
dist.destroy_process_group()
