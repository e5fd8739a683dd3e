#!/usr/bin/env python3
"""heartphase-train --distributed on GPUs without NCCL: two processes, each on its GPU, exchange
their gradients through the host over TCP and follow the loss curve of one GPU process with the
same config; the run says that the exchange goes through the host. Run on the CUDA emulator
(-Dgpu_emulator=true builds only: on a machine with one real GPU both ranks would share it).

Usage: test-train-distributed-cuda.py HEARTPHASE_CLI HEARTPHASE_TRAIN
"""
import os
import subprocess
import sys
import tempfile

from tiny_run import (TINY_MODEL, events, exit_with, finish, free_port, launch_ranks, losses,
                      make_dataset, write_config)

CLI, TRAIN = sys.argv[1], sys.argv[2]
failures = []
STEPS = 8
CONFIG = {"batch": 4, "max_steps": STEPS, "warmup_steps": 2, "lr": 1e-3, "log_every": 1,
          "eval_every": 4, "checkpoint_every": 1000, "device": "cuda",
          "model": dict(TINY_MODEL, learn_temperature=True)}


with tempfile.TemporaryDirectory() as tmp:
    cohort, data = make_dataset(CLI, tmp)
    config = write_config(tmp, "tiny.json", CONFIG)
    one = os.path.join(tmp, "one")
    p = subprocess.run([TRAIN, "--data", data, "--out", one, "--config", config, "--quiet"],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        failures.append(f"one process: exit {p.returncode}, {p.stderr[-300:]}")

    port = free_port()
    two = os.path.join(tmp, "two")
    results = finish(launch_ranks(TRAIN, 2, port, ["--data", data, "--out", two, "--config",
                                                   config]))
    for rank, (code, err) in enumerate(results):
        if code != 0:
            failures.append(f"rank {rank}: exit {code}, {err[-300:]}")

    ev = events(two)
    start = next((e for e in ev if e["event"] == "start"), {})
    if (start.get("device"), start.get("processes"), start.get("exchange")) != ("cuda", 2, "tcp"):
        failures.append(f"start event: {start}")
    if not any(e["event"] == "warning" and "through the host" in e["message"] for e in ev):
        failures.append("no warning that the GPUs exchange through the host")
    a, b = losses(one), losses(two)
    if sorted(a) != list(range(1, STEPS + 1)) or sorted(b) != sorted(a):
        failures.append(f"steps: one process {sorted(a)}, two {sorted(b)}")
    worst = max((abs(a[s] - b[s]) / abs(a[s]) for s in set(a) & set(b)), default=float("nan"))
    # the same batches summed in two halves: float sums in another order, under TF32
    print(f"two GPU processes against one: {len(set(a) & set(b))} steps, largest relative loss "
          f"difference {worst:.2e}")
    if not worst <= 2e-3:
        failures.append(f"the two processes' curve differs from one process's by {worst:.2e}")

exit_with(failures)
