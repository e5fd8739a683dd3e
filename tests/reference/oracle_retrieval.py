#!/usr/bin/python3
"""How far ECG->CMR retrieval can go on a synthetic cohort: an oracle that knows the generator's
truth. The ECG side is what an ECG shows of the latent physiology (heart rate, QRS, QT, axis,
LBBB, AF, age, sex, and each lead's measured QRS voltage from the dataset's representative beat);
the CMR side is what the cine shows (LV volumes, EF, mass, wall, RV volume, the end-systolic
frame, MI, DCM, LVH, and where the RV lies around the LV). A ridge map fitted on the training
split carries the CMR side into the ECG side's standardised space; retrieval on the test split by
cosine, as the trainer scores it.
A learned model cannot know more than the two modalities share, so this is the yardstick for its
top-1.

Usage: oracle_retrieval.py COHORT_DIR DATASET.h5   (Debian's python3-numpy and python3-h5py)
Prints one JSON object: n, chance_top1, top1, top5.
"""
import csv
import json
import sys

import h5py
import numpy as np

cohort, dataset = sys.argv[1], sys.argv[2]
with h5py.File(dataset, "r") as f:
    split = f["split"][:]
    names = [s.decode() if isinstance(s, bytes) else str(s) for s in f["subject"][:]]
    volts = np.abs(f["ecg/beat"][:]).max(axis=2)
with open(f"{cohort}/cohort.csv") as fh:
    rows = {r["subject"]: r for r in csv.DictReader(fh)}


def col(key):
    return np.array([float(rows[n][key] == "M") if key == "sex" else float(rows[n][key])
                     for n in names])


ecg = np.column_stack([col(k) for k in ("hr_ecg_bpm", "qrs_ms", "qt_ms", "axis_deg", "lbbb", "af",
                                        "age", "sex")] + [volts])
cmr = np.column_stack([col(k) for k in ("lvedv_ml", "lvesv_ml", "lvef", "lvm_g", "wall_mm",
                                        "rvedv_ml", "es_frame", "mi", "dcm", "lvh",
                                        "rotation_deg")])
train, test = split == 0, split == 2


def standardise(x):
    mu, sd = x[train].mean(0), x[train].std(0) + 1e-9
    return (x - mu) / sd


ecg, cmr = standardise(ecg), standardise(cmr)
w = np.linalg.solve(cmr[train].T @ cmr[train] + np.eye(cmr.shape[1]), cmr[train].T @ ecg[train])
q, k = ecg[test], cmr[test] @ w
q /= np.linalg.norm(q, axis=1, keepdims=True)
k /= np.linalg.norm(k, axis=1, keepdims=True)
sim = q @ k.T
# the own key's rank, ties counted against it, as engine/analysis does
rank = (sim >= np.diag(sim)[:, None]).sum(axis=1)
n = int(test.sum())
print(json.dumps({"n": n, "chance_top1": 1 / n, "top1": float((rank <= 1).mean()),
                  "top5": float((rank <= 5).mean())}))
