"""The Python side of bench/interleave.ts: times blocks of training steps on request.

Prints {"ready": true} once, then for each line "N" on standard input runs N steps and prints
{"wall": [...], "cpu": [...]}, seconds per step; returns at end of input.
"""
import json
import sys
import time


def serve(step):
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        n = int(line.strip())
        wall, cpu = [], []
        for _ in range(n):
            c0 = time.process_time()
            t0 = time.perf_counter()
            step()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
