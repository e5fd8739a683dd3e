#!/usr/bin/env python3
"""heartphase-train on the GPU beside the same run on the CPU: the same seed, data order and
schedule, so the step losses agree (within TF32's precision) and the evaluation runs; the GPU
run's checkpoint embeds the cohort with heartphase-cli. Suite gpu: exits 77 where this build's
CUDA cannot be used; in a -Dgpu_emulator=true build it runs the CUDA path on the emulator.

On the emulator (--emulated) a GPU too full for the run is tried too: the emulator given 1 MiB
(too little for the model) and 3 MiB (the model fits, AdamW's moments do not), the run goes to
the CPU with a warning that says how much was asked and how much is free.

Usage: test-train-cuda.py HEARTPHASE_CLI HEARTPHASE_TRAIN [--emulated]
"""
import csv
import os
import subprocess
import sys
import tempfile

from tiny_run import TINY_MODEL, events, exit_with, make_dataset, write_config

CLI, TRAIN = sys.argv[1], sys.argv[2]
EMULATED = "--emulated" in sys.argv[3:]
failures = []
STEPS = 12
CONFIG = {"batch": 4, "max_steps": STEPS, "warmup_steps": 3, "log_every": 1, "eval_every": 6,
          "checkpoint_every": 6, "model": TINY_MODEL}
# TF32 keeps 10 bits of mantissa in the products: a loss is good to about 1e-3, and a dozen
# AdamW steps do not move the runs further apart than a few times that
TOLERANCE = 5e-3

with tempfile.TemporaryDirectory() as tmp:
    cohort, data = make_dataset(CLI, tmp, subjects=16)
    config = write_config(tmp, "tiny.json", CONFIG)
    runs = {}
    for device in ("cuda", "cpu"):
        run = os.path.join(tmp, "run-" + device)
        p = subprocess.run([TRAIN, "--data", data, "--out", run, "--config", config, "--quiet",
                            "--device", device], capture_output=True, text=True, timeout=600)
        ev = events(run)
        start = next((e for e in ev if e["event"] == "start"), {})
        if device == "cuda" and start.get("device") != "cuda":
            why = next((e["message"] for e in ev if e["event"] == "warning"), p.stderr[-300:])
            print(f"SKIP: the run did not go to the GPU: {why}")
            sys.exit(77)
        if p.returncode != 0 or not any(e["event"] == "done" for e in ev):
            failures.append(f"--device {device}: exit {p.returncode}, events "
                            f"{[e['event'] for e in ev]}, {p.stderr[-300:]}")
        runs[device] = ev

    def steps(ev):
        return {e["step"]: e for e in ev if e["event"] == "step"}

    gpu, cpu = steps(runs["cuda"]), steps(runs["cpu"])
    if sorted(gpu) != list(range(1, STEPS + 1)) or sorted(cpu) != sorted(gpu):
        failures.append(f"step events: GPU {sorted(gpu)}, CPU {sorted(cpu)}")
    worst = 0.0
    for s in sorted(set(gpu) & set(cpu)):
        for key in ("loss", "loss_global", "loss_phase"):
            a, b = gpu[s][key], cpu[s][key]
            worst = max(worst, abs(a - b) / max(abs(b), 1e-6))
    print(f"{len(set(gpu) & set(cpu))} steps: largest relative loss difference, GPU against "
          f"CPU, {worst:.2e} (tolerance {TOLERANCE:g})")
    if not worst <= TOLERANCE:
        failures.append(f"the GPU's losses differ from the CPU's by {worst:.2e}")
    if any(s.get("gpu_mem_mb", 0) <= 0 for s in gpu.values()):
        failures.append("GPU step events without gpu_mem_mb")
    evals = [e for e in runs["cuda"] if e["event"] == "eval"]
    if len(evals) < 2 or any("top1" not in str(e) for e in evals):
        failures.append(f"GPU run: {len(evals)} eval events, {evals[:1]}")

    # the GPU run's checkpoint, read back to embed the cohort
    emb = os.path.join(tmp, "emb.csv")
    p = subprocess.run([CLI, "embed", "--run", os.path.join(tmp, "run-cuda"), "--data", data,
                        "--out", emb], capture_output=True, text=True, timeout=600)
    rows = list(csv.reader(open(emb))) if p.returncode == 0 and os.path.exists(emb) else []
    if p.returncode != 0 or len(rows) != 1 + 2 * 16:
        failures.append(f"embed of the GPU run: exit {p.returncode}, {len(rows)} rows, "
                        f"{p.stderr[-300:]}")

    for mib in ("1", "3") if EMULATED else ():
        run = os.path.join(tmp, "run-full-" + mib)
        p = subprocess.run([TRAIN, "--data", data, "--out", run, "--config", config, "--quiet",
                            "--device", "cuda"], capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, HP_CUDA_EMU_MEMORY_MB=mib))
        ev = events(run)
        start = next((e for e in ev if e["event"] == "start"), {})
        warning = next((e["message"] for e in ev if e["event"] == "warning"), "")
        print(f"a GPU of {mib} MiB: {warning}")
        if p.returncode != 0 or start.get("device") != "cpu" \
                or "the GPU's memory is full" not in warning or "free" not in warning \
                or not any(e["event"] == "done" for e in ev):
            failures.append(f"a GPU of {mib} MiB: exit {p.returncode}, device "
                            f"{start.get('device')}, warning {warning!r}, {p.stderr[-300:]}")

exit_with(failures)
