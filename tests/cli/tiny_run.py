"""What the command-line tests of training share: a tiny synthetic dataset made through
heartphase-cli, a model small enough for a few seconds per dozen steps under the sanitizers, and
a run folder's events."""
import json
import os
import socket
import subprocess
import sys

# the model and schedule the tests train; each test sets its own steps and logging over it
TINY_MODEL = {"strip_samples": 500, "strip_patch": 50, "beat_patch": 60, "cine_frames": 8,
              "cine_size": 16, "tube_frames": 2, "tube_size": 8, "width": 16, "depth": 1,
              "heads": 2, "mlp_ratio": 2, "embed_dim": 8}


def make_dataset(cli, folder, subjects=12, timeout=300):
    """A synthetic cohort of `subjects` (seed 3) in folder/cohort and its folder/cohort.h5."""
    cohort, data = os.path.join(folder, "cohort"), os.path.join(folder, "cohort.h5")
    subprocess.run([cli, "synth", "--subjects", str(subjects), "--seed", "3", "--small",
                    "--frames", "20", "--slices", "6", "--out", cohort], check=True,
                   capture_output=True, timeout=timeout)
    subprocess.run([cli, "dataset", "build", cohort, "--out", data], check=True,
                   capture_output=True, timeout=timeout)
    return cohort, data


def write_config(folder, name, config):
    path = os.path.join(folder, name)
    with open(path, "w") as fh:
        json.dump(config, fh)
    return path


def events(run):
    """The run's events, [] before it has written any."""
    path = os.path.join(run, "progress.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def losses(run):
    """The run's step losses by step."""
    return {e["step"]: e["loss"] for e in events(run) if e["event"] == "step"}


def free_port():
    """A TCP port free on this host now, for a data-parallel run's MASTER_PORT."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_ranks(train, world, port, args, ranks=None, timeout_s=60):
    """heartphase-train --distributed started once per rank (all, or those in ranks), each told
    its rank and the world's size as mpirun and srun tell theirs, rank 0 listening on port."""
    procs = []
    for k in (ranks if ranks is not None else range(world)):
        env = dict(os.environ, RANK=str(k), LOCAL_RANK=str(k), WORLD_SIZE=str(world),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                   HEARTPHASE_DIST_TIMEOUT=str(timeout_s))
        procs.append(subprocess.Popen([train, "--distributed", "--quiet"] + args, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return procs


def finish(procs, timeout=600):
    """Each process's exit status and standard error, once it ends (killed if it hangs)."""
    out = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            err += "\n(killed: it hung)"
        out.append((p.returncode, err))
    return out


def exit_with(failures):
    """The closing count and each problem, then the exit status a test runner reads."""
    print(f"{len(failures)} problems")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)
