#!/usr/bin/env python3
"""heartphase-train as a process, the way the app and a cluster job run it: a run on a tiny
synthetic cohort, SIGTERM in the middle (a checkpoint, a "stopped" event, exit 0), --resume to
the end ("done"), the config kept in the run folder, and bad arguments refused with exit 2 and a
message naming the problem.

Usage: test-train-process.py HEARTPHASE_CLI HEARTPHASE_TRAIN
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

from tiny_run import TINY_MODEL, events, exit_with, make_dataset, write_config

CLI, TRAIN = sys.argv[1], sys.argv[2]
failures = []

TINY = {"batch": 4, "max_steps": 60, "warmup_steps": 5, "log_every": 1, "eval_every": 0,
        "checkpoint_every": 1000, "model": TINY_MODEL}


with tempfile.TemporaryDirectory() as tmp:
    cohort, data = make_dataset(CLI, tmp)
    config = write_config(tmp, "tiny.json", TINY)

    # SIGTERM after the first steps: a checkpoint, "stopped", exit 0
    run = os.path.join(tmp, "run")
    p = subprocess.Popen([TRAIN, "--data", data, "--out", run, "--config", config, "--quiet",
                          "--device", "cuda"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = os.path.join(run, "progress.jsonl")
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None:
        if os.path.exists(log) and sum(e["event"] == "step" for e in events(run)) >= 2:
            break
        time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        failures.append("SIGTERM did not end the run within 120 s")
    ev = events(run)
    kinds = [e["event"] for e in ev]
    stopped_at = next((e["step"] for e in ev if e["event"] == "stopped"), None)
    if p.returncode != 0 or stopped_at is None or "checkpoint" not in kinds or "done" in kinds:
        failures.append(f"SIGTERM: exit {p.returncode}, events {kinds}, {err.decode()[-300:]}")
    # --device cuda: the GPU where one is usable, else the CPU with a warning that says why
    trained_on = next((e.get("device") for e in ev if e["event"] == "start"), None)
    if trained_on != "cuda" \
            and not any(e["event"] == "warning" and "CUDA" in e["message"] for e in ev):
        failures.append("--device cuda on the CPU: no warning event")
    if not os.path.isfile(os.path.join(run, "checkpoint.safetensors")) \
            or not os.path.isfile(os.path.join(run, "config.json")):
        failures.append("no checkpoint or config.json in the run folder")

    # --resume: from the stopped step to the end, with the run's own config
    r = subprocess.run([TRAIN, "--data", data, "--out", run, "--resume", "--quiet"],
                       capture_output=True, text=True, timeout=600)
    ev = events(run)
    resumed = next((e for e in ev if e["event"] == "resume"), None)
    steps_after = [e["step"] for e in ev[ev.index(resumed):] if e["event"] == "step"] \
        if resumed else []
    if r.returncode != 0 or resumed is None or resumed["step"] != stopped_at \
            or ev[-1]["event"] != "done" or ev[-1]["step"] != TINY["max_steps"] \
            or not steps_after or steps_after[0] != stopped_at + 1:
        failures.append(f"resume: exit {r.returncode}, resume {resumed}, last {ev[-1]}, "
                        f"{r.stderr[-300:]}")

    # refusals: exit 2 for usage, 1 with the reason for a bad config or dataset
    for args, code, words in [
            ([TRAIN], 2, "Usage"),
            ([TRAIN, "--data", data], 2, "missing --out RUN"),
            ([TRAIN, "--data", data, "--out", os.path.join(tmp, "no-run"), "--resume"], 1,
             "nothing to resume: no run in this folder"),
            ([TRAIN, "--data", data, "--out", run, "--config", os.path.join(tmp, "none.json")], 1,
             "none.json: cannot read the config"),
            ([TRAIN, "--data", data, "--out", run, "--preset", "huge"], 2, "huge"),
            ([TRAIN, "--data", data, "--out", run, "--max-steps", "-3"], 2, "--max-steps"),
            ([TRAIN, "--data", data, "--out", run, "--device", "tpu"], 2,
             "--device takes cpu, cuda or auto, not tpu"),
            ([TRAIN, "--data", data, "--out", run, "--device", 'cu"da'], 2,
             "--device takes cpu, cuda or auto, not cu\"da"),
            ([TRAIN, "--data", os.path.join(tmp, "none.h5"), "--out", os.path.join(tmp, "r2")], 1,
             "none.h5")]:
        q = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if q.returncode != code or words not in q.stderr + q.stdout:
            failures.append(f"{args[1:]}: exit {q.returncode} (want {code}), {q.stderr[-200:]!r}")
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as fh:
        fh.write('{"lr": -1}')
    q = subprocess.run([TRAIN, "--data", data, "--out", os.path.join(tmp, "r3"), "--config", bad],
                       capture_output=True, text=True, timeout=120)
    if q.returncode != 1 or "lr" not in q.stderr:
        failures.append(f"negative lr: exit {q.returncode}, {q.stderr[-200:]!r}")

exit_with(failures)
