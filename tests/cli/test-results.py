#!/usr/bin/env python3
"""What a trained run knows, from the command line: `embed` (one row per subject and modality,
unit length, cached per checkpoint, a random encoder apart), `project` (PCA equal to numpy's
principal components up to sign; t-SNE finite and deterministic), `probe` (every label and
phenotype, the baselines and the label fractions, intervals around their estimates), and bad
input refused with a message naming the file.

Usage: test-results.py HEARTPHASE_CLI HEARTPHASE_TRAIN
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

from tiny_run import TINY_MODEL, make_dataset, write_config

CLI, TRAIN = sys.argv[1], sys.argv[2]
failures = []

TINY = {"batch": 4, "max_steps": 20, "warmup_steps": 5, "log_every": 5, "eval_every": 0,
        "checkpoint_every": 1000, "model": TINY_MODEL}


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(args, timeout=600):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def read_csv(path):
    with open(path) as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


with tempfile.TemporaryDirectory() as tmp:
    cohort, data = make_dataset(CLI, tmp, subjects=30, timeout=600)
    config = write_config(tmp, "tiny.json", TINY)
    rundir = os.path.join(tmp, "run")
    subprocess.run([TRAIN, "--data", data, "--out", rundir, "--config", config, "--quiet"],
                   check=True, capture_output=True, timeout=600)
    start = json.loads(open(os.path.join(rundir, "progress.jsonl")).readline())
    check(os.path.samefile(start.get("data", "/nonexistent"), data),
          "the start event names the dataset")

    # ---- embed
    emb = os.path.join(tmp, "emb.csv")
    t0 = time.time()
    p = run([CLI, "embed", "--run", rundir, "--data", data, "--out", emb])
    first_s = time.time() - t0
    check(p.returncode == 0, "embed exits 0: " + p.stderr[-300:])
    summary = json.loads(p.stdout)
    check(summary["subjects"] == 30 and summary["dim"] == 8 and summary["step"] == 20,
          "embed says 30 subjects, 8 dimensions, step 20: %s" % summary)
    head, rows = read_csv(emb)
    check(head[:3] == ["subject", "split", "modality"] and len(head) == 3 + 8,
          "embedding header: %s" % head[:5])
    check(len(rows) == 60, "one row per subject and modality (%d)" % len(rows))
    check(sorted(set(r[2] for r in rows)) == ["cmr", "ecg"], "modalities ecg and cmr")
    check(set(r[1] for r in rows) <= {"train", "validation", "test"}, "splits named")
    norms = [math.sqrt(sum(float(v) ** 2 for v in r[3:])) for r in rows]
    check(all(abs(n - 1) < 1e-4 for n in norms), "embeddings of unit length")
    ecg = {r[0]: r for r in rows if r[2] == "ecg"}
    cmr = {r[0]: r for r in rows if r[2] == "cmr"}
    check(ecg.keys() == cmr.keys() and ecg["sub0001"][1] == cmr["sub0001"][1],
          "each subject has both modalities in one split")
    cache = os.listdir(os.path.join(rundir, "embeddings"))
    check(len(cache) == 1 and cache[0].startswith("trained-"), "cached: %s" % cache)
    emb2 = os.path.join(tmp, "emb2.csv")
    t0 = time.time()
    p = run([CLI, "embed", "--run", rundir, "--data", data, "--out", emb2])
    again_s = time.time() - t0
    check(p.returncode == 0 and open(emb).read() == open(emb2).read(),
          "the cached embeddings are the same (%.2f s, then %.2f s)" % (first_s, again_s))
    embr = os.path.join(tmp, "random.csv")
    p = run([CLI, "embed", "--run", rundir, "--data", data, "--out", embr, "--random"])
    _, rrows = read_csv(embr)
    check(p.returncode == 0 and json.loads(p.stdout)["step"] == -1
          and rrows[0][3:] != rows[0][3:], "the random encoder's embeddings differ")
    check(len(os.listdir(os.path.join(rundir, "embeddings"))) == 2, "cached apart")
    # a checkpoint that changes is embedded again
    os.utime(os.path.join(rundir, "checkpoint.safetensors"), (time.time() + 5, time.time() + 5))
    p = run([CLI, "embed", "--run", rundir, "--data", data, "--out", emb2])
    check(p.returncode == 0 and len(os.listdir(os.path.join(rundir, "embeddings"))) == 3,
          "a changed checkpoint gets its own cache")
    empty = os.path.join(tmp, "empty-run")
    os.makedirs(empty)
    p = run([CLI, "embed", "--run", empty, "--data", data, "--out", emb2])
    check(p.returncode == 1 and empty in p.stderr and "checkpoint" in p.stderr,
          "a run without a checkpoint is refused: " + p.stderr.strip())
    nowhere = os.path.join(tmp, "no-such-run")
    p = run([CLI, "embed", "--run", nowhere, "--data", data, "--out", emb2])
    check(p.returncode == 1 and nowhere in p.stderr and "no such run folder" in p.stderr,
          "a run folder that is not there is named as such: " + p.stderr.strip())
    p = run([CLI, "embed", "--run", rundir, "--data", os.path.join(tmp, "none.h5"),
             "--out", emb2])
    check(p.returncode == 1 and "none.h5" in p.stderr, "a missing dataset is named: "
          + p.stderr.strip())

    # ---- project
    xy = os.path.join(tmp, "xy.csv")
    p = run([CLI, "project", emb, "--method", "pca", "--out", xy])
    check(p.returncode == 0, "project pca exits 0: " + p.stderr[-300:])
    head, prow = read_csv(xy)
    check(head == ["subject", "split", "modality", "x", "y"] and len(prow) == 60,
          "the projection's rows: %s, %d" % (head, len(prow)))
    try:
        import numpy as np
        x = np.array([[float(v) for v in r[3:]] for r in rows])
        xc = x - x.mean(axis=0)
        _, _, vt = np.linalg.svd(xc, full_matrices=False)
        ref = xc @ vt[:2].T
        ours = np.array([[float(r[3]), float(r[4])] for r in prow])
        err = max(min(np.abs(ours[:, k] - s * ref[:, k]).max() for s in (1, -1))
                  / np.abs(ref[:, k]).max() for k in range(2))
        check(err < 1e-4, "PCA equals numpy's principal components up to sign (%.1e)" % err)
    except ImportError:
        check(os.environ.get("CI") != "true", "numpy is there under CI")
        print("numpy missing: the PCA comparison is left out")
    xy1, xy2 = os.path.join(tmp, "t1.csv"), os.path.join(tmp, "t2.csv")
    p1 = run([CLI, "project", emb, "--method", "tsne", "--perplexity", "5", "--seed", "2",
              "--iterations", "300", "--out", xy1])
    p2 = run([CLI, "project", emb, "--method", "tsne", "--perplexity", "5", "--seed", "2",
              "--iterations", "300", "--out", xy2])
    check(p1.returncode == 0 and p2.returncode == 0, "project tsne exits 0: " + p1.stderr[-300:])
    kl = json.loads(p1.stdout).get("kl_divergence")
    _, trow = read_csv(xy1)
    check(len(trow) == 60 and all(math.isfinite(float(v)) for r in trow for v in r[3:]),
          "t-SNE: 60 finite points")
    check(kl is not None and kl >= 0, "t-SNE reports its KL divergence (%s)" % kl)
    check(open(xy1).read() == open(xy2).read(), "t-SNE is deterministic for a seed")
    p = run([CLI, "project", emb, "--method", "tsne", "--perplexity", "50", "--out", xy1])
    check(p.returncode == 1 and "perplexity" in p.stderr.lower(),
          "a perplexity too large for 60 points is refused: " + p.stderr.strip()[-200:])
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as fh:
        fh.write("subject,split,modality,e0\nsub1,train,ecg,0.5\nsub2,train,ecg,oops\n")
    p = run([CLI, "project", bad, "--method", "pca", "--out", xy1])
    check(p.returncode == 1 and "bad.csv" in p.stderr and "line 3" in p.stderr,
          "a value that is not a number is named with its line: " + p.stderr.strip())
    p = run([CLI, "project", emb, "--method", "umap", "--out", xy1])
    check(p.returncode == 2, "an unknown method is a usage error")

    # ---- probe
    p = run([CLI, "probe", "--run", rundir, "--data", data, "--bootstrap", "50"])
    check(p.returncode == 0, "probe exits 0: " + p.stderr[-300:])
    rep = json.loads(p.stdout)
    check(rep["n"]["train"] + rep["n"]["test"] <= 30 and rep["n"]["test"] >= 2,
          "probe counts: %s" % rep["n"])
    check(sorted(rep["classification"]) == ["af", "dcm", "lvh", "mi"],
          "a classification probe per label: %s" % sorted(rep["classification"]))
    check(sorted(rep["regression"]) == sorted(["lvedv_ml", "lvesv_ml", "lvsv_ml", "lvef", "lvm_g",
                                              "rvedv_ml", "rvesv_ml"]),
          "a regression probe per phenotype")
    check(sorted(rep["baselines"]) == ["ecg_measures", "random_encoder"], "both baselines")
    check(sorted(rep["label_fractions"]) == ["0.01", "0.1"], "1 % and 10 % of the labels")
    for name, r in rep["regression"].items():
        ok = r["r2"] is None or (r["r2"] <= 1 and r["mae"] >= 0 and -1 <= r["pearson_r"] <= 1)
        lo, hi = r["ci95"]
        ok = ok and (lo is None or (lo <= hi and lo <= 1))
        check(ok, "%s: R2 %s, r %s, MAE %s, CI %s" % (name, r["r2"], r["pearson_r"], r["mae"],
                                                      r["ci95"]))
    for name, r in rep["classification"].items():
        ok = r["auroc"] is None or 0 <= r["auroc"] <= 1
        check(ok and "positives" in r, "%s: AUROC %s (%d positives of %d)"
              % (name, r["auroc"], r["positives"], r["n_test"]))
    p = run([CLI, "probe", "--run", empty, "--data", data])
    check(p.returncode == 1 and "checkpoint" in p.stderr, "probe of a run without a checkpoint")

if failures:
    print("%d failed: %s" % (len(failures), "; ".join(failures)))
    sys.exit(1)
print("all passed")
