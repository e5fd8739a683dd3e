#!/usr/bin/env python3
"""heartphase-train --distributed as the launchers start it, with RANK and WORLD_SIZE set per
process (as mpirun and srun set theirs), on the CPU over TCP:

- two processes follow the loss curve of one process with the same config, step for step, and
  only rank 0 writes the run folder;
- SIGTERM to rank 1 alone stops both after the same step with rank 0's checkpoint, and one
  process resumes the run to the end on the same curve;
- a rank killed mid-run ends rank 0 with an error naming it (no hang), in its output and as an
  error event;
- a rank that never comes, a batch that does not divide, and a launch without a rank are refused
  with messages that say so.

Usage: test-train-distributed.py HEARTPHASE_CLI HEARTPHASE_TRAIN
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

from tiny_run import (TINY_MODEL, events, exit_with, finish, free_port, launch_ranks, losses,
                      make_dataset, write_config)

CLI, TRAIN = sys.argv[1], sys.argv[2]
failures = []

STEPS = 10
TINY = {"batch": 4, "max_steps": STEPS, "warmup_steps": 2, "lr": 1e-3, "log_every": 1,
        "eval_every": 5, "checkpoint_every": 1000, "device": "cpu",
        "model": dict(TINY_MODEL, learn_temperature=True)}


def launch(world, port, args, ranks=None, timeout_s=60):
    return launch_ranks(TRAIN, world, port, args, ranks, timeout_s)


def wait_for_steps(procs, run, n, timeout=300):
    """Until the run has logged n steps (or a process ended, or the time is up)."""
    deadline = time.time() + timeout
    while time.time() < deadline and all(p.poll() is None for p in procs) \
            and len(losses(run)) < n:
        time.sleep(0.2)


def same_curve(what, got, want, tol=2e-3):
    """Losses equal up to the order of float sums, step for step."""
    steps = sorted(want)
    if sorted(got) != steps:
        failures.append(f"{what}: steps {sorted(got)} instead of {steps}")
        return
    worst = max(abs(got[s] - want[s]) / abs(want[s]) for s in steps)
    print(f"{what}: {len(steps)} steps, largest relative loss difference {worst:.2e}")
    if worst > tol:
        failures.append(f"{what}: losses differ by {worst:.2e} (relative) from one process's")


with tempfile.TemporaryDirectory() as tmp:
    cohort, data = make_dataset(CLI, tmp)
    config = write_config(tmp, "tiny.json", TINY)

    # one process: the curve to follow
    single = os.path.join(tmp, "single")
    r = subprocess.run([TRAIN, "--data", data, "--out", single, "--config", config, "--quiet"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        failures.append(f"one process: exit {r.returncode}, {r.stderr[-300:]}")
    want = losses(single)

    # one process on the data-parallel path (what a GPU check runs over NCCL)
    solo = os.path.join(tmp, "solo")
    results = finish(launch(1, free_port(), ["--data", data, "--out", solo, "--config", config]))
    if results[0][0] != 0:
        failures.append(f"one rank: {results}")
    same_curve("one rank of one against one process", losses(solo), want)

    # two processes, one run folder
    pair = os.path.join(tmp, "pair")
    results = finish(launch(2, free_port(), ["--data", data, "--out", pair, "--config", config]))
    ev = events(pair)
    starts = [e for e in ev if e["event"] == "start"]
    if any(code != 0 for code, _ in results):
        failures.append(f"two processes: {results}")
    if len(starts) != 1 or starts[0].get("processes") != 2 or starts[0].get("exchange") != "tcp" \
            or starts[0].get("batch") != 4:
        failures.append(f"two processes: start events {starts}")
    if [e["event"] for e in ev].count("done") != 1 \
            or not os.path.isfile(os.path.join(pair, "checkpoint.safetensors")):
        failures.append("two processes: not one done event and a checkpoint")
    same_curve("two processes against one", losses(pair), want)

    # SIGTERM to rank 1 only: both stop after the same step; one process resumes to the end
    # a flat learning rate after the warm-up: the curve does not depend on max_steps, so that a
    # run stopped early and resumed for a few steps can be set beside one run of that length
    slow = dict(TINY, max_steps=100000, lr_min=TINY["lr"])
    slow_config = write_config(tmp, "slow.json", slow)
    stopped = os.path.join(tmp, "stopped")
    procs = launch(2, free_port(), ["--data", data, "--out", stopped, "--config", slow_config])
    wait_for_steps(procs, stopped, 3)
    procs[1].send_signal(signal.SIGTERM)
    results = finish(procs, timeout=120)
    ev = events(stopped)
    stop_at = next((e["step"] for e in ev if e["event"] == "stopped"), None)
    if any(code != 0 for code, _ in results) or stop_at is None \
            or "checkpoint" not in [e["event"] for e in ev]:
        failures.append(f"SIGTERM to rank 1: {results}, events {[e['event'] for e in ev][-4:]}")
    else:
        r = subprocess.run([TRAIN, "--data", data, "--out", stopped, "--resume", "--quiet",
                            "--max-steps", str(stop_at + 6)], capture_output=True, text=True,
                           timeout=600)
        ev = events(stopped)
        resumed = next((e for e in ev if e["event"] == "resume"), None)
        if r.returncode != 0 or resumed is None or resumed["step"] != stop_at \
                or resumed.get("processes") != 1 or ev[-1]["event"] != "done":
            failures.append(f"resume by one process: exit {r.returncode}, {resumed}, "
                            f"{r.stderr[-300:]}")
        # one process with the same config for as many steps: the same curve
        ref = os.path.join(tmp, "ref")
        subprocess.run([TRAIN, "--data", data, "--out", ref, "--config", slow_config, "--quiet",
                        "--max-steps", str(stop_at + 6)], capture_output=True, timeout=600)
        same_curve("stopped by a signal to rank 1, resumed by one process", losses(stopped),
                   losses(ref))

    # rank 1 killed mid-run: rank 0 ends with an error naming it, and says so in the run folder
    killed = os.path.join(tmp, "killed")
    procs = launch(2, free_port(), ["--data", data, "--out", killed, "--config", slow_config])
    wait_for_steps(procs, killed, 2)
    procs[1].kill()
    (code0, err0), _ = finish(procs, timeout=60)
    errors = [e["message"] for e in events(killed) if e["event"] == "error"]
    if code0 != 1 or "rank 1 of 2 left" not in err0 or not errors \
            or "rank 1 of 2 left" not in errors[0]:
        failures.append(f"rank 1 killed: rank 0 exit {code0}, {err0[-300:]!r}, errors {errors}")
    else:
        print("rank 1 killed:", err0.strip().splitlines()[-1])

    # rank 1 never comes
    (code0, err0), = finish(launch(2, free_port(), ["--data", data, "--out",
                                                    os.path.join(tmp, "alone"), "--config",
                                                    config], ranks=[0], timeout_s=2))
    if code0 != 1 or "rank(s) 1 of 2 have not connected" not in err0 \
            or "[rank 0 of 2]" not in err0:
        failures.append(f"missing rank: exit {code0}, {err0[-300:]!r}")

    # a batch of 4 among 3 processes
    results = finish(launch(3, free_port(), ["--data", data, "--out", os.path.join(tmp, "three"),
                                             "--config", config]))
    if any(code != 1 or "shared evenly among 3" not in err for code, err in results):
        failures.append(f"batch 4 among 3: {results}")

    # no rank in the environment
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID")}
    q = subprocess.run([TRAIN, "--distributed", "--data", data, "--out", os.path.join(tmp, "x")],
                       env=env, capture_output=True, text=True, timeout=60)
    if q.returncode != 2 or "mpirun or srun" not in q.stderr:
        failures.append(f"no rank: exit {q.returncode}, {q.stderr[-200:]!r}")

exit_with(failures)
