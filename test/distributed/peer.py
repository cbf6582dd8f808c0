# A PyTorch rank for the interoperability test: `peer.py <timeout s> [<init method> <rank> <world size>]…`
# joins one group per triple (or, without triples, one through env://: MASTER_ADDR, MASTER_PORT,
# RANK, WORLD_SIZE) with the Gloo backend, runs the same collectives as the genlab ranks in each,
# and prints what it got as one JSON list.
import json
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

torch.set_num_threads(1)
timeout = timedelta(seconds=float(sys.argv[1]))
specs = sys.argv[2:]
rounds = [(specs[i], int(specs[i + 1]), int(specs[i + 2])) for i in range(0, len(specs), 3)] or [("env://", None, None)]


def collectives(init, rank, size):
    if rank is None:
        dist.init_process_group("gloo", init_method=init, timeout=timeout)
    else:
        dist.init_process_group("gloo", init_method=init, rank=rank, world_size=size, timeout=timeout)
    rank, size = dist.get_rank(), dist.get_world_size()
    out = {"rank": rank, "worldSize": size}
    # allReduce sum of [rank + 1, 10 * (rank + 1)]
    t = torch.tensor([rank + 1.0, 10.0 * (rank + 1)], dtype=torch.float32)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    out["sum"] = t.tolist()
    # max of rank * 3 - 1 (int64)
    m = torch.tensor([rank * 3 - 1], dtype=torch.int64)
    dist.all_reduce(m, op=dist.ReduceOp.MAX)
    out["max"] = m.tolist()
    # broadcast from the last rank: arange(5) * (src + 1) there, zeros elsewhere
    src = size - 1
    b = torch.arange(5, dtype=torch.float64) * (src + 1) if rank == src else torch.zeros(5, dtype=torch.float64)
    dist.broadcast(b, src=src)
    out["broadcast"] = b.tolist()
    # allGather of [rank, rank * rank]
    g = [torch.zeros(2, dtype=torch.float32) for _ in range(size)]
    dist.all_gather(g, torch.tensor([float(rank), float(rank * rank)]))
    out["gather"] = [x.tolist() for x in g]
    dist.barrier()
    dist.destroy_process_group()
    return out


print(json.dumps([collectives(*r) for r in rounds]))
