#!/usr/bin/env python3
"""t-SNE benchmark: ours (through the tsne-run driver) against scikit-learn's TSNE at the same
settings (perplexity 30, 1000 iterations, PCA start, learning rate "auto", two threads each) on a
realistic mixture: 40 000 points in 128 dimensions by default, 20 clusters of varying size and
spread. Prints both times (wall and CPU), the ratio, both KL divergences computed the same way
(exact, scikit-learn's P against each embedding's full Q) and how well each keeps the input's
nearest neighbours. Asserts nothing about time.
Usage: bench-tsne.py TSNE_RUN [--n N] [--e E] [--threads T] [--no-kl]"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    from sklearn.manifold import TSNE
    from sklearn.manifold._t_sne import _joint_probabilities_nn
    from sklearn.neighbors import NearestNeighbors
except ImportError as e:
    sys.exit(f"bench-tsne needs numpy and scikit-learn (python3-sklearn): {e}")

PERPLEXITY = 30.0


def mixture(n, e, c, rng):
    """c clusters of unequal weight; each with its own spread and a few stretched directions,
    as embeddings of real cohorts look more than round blobs do."""
    centres = rng.normal(0, 1.2, (c, e))
    weight = rng.uniform(0.5, 2, c)
    label = rng.choice(c, size=n, p=weight / weight.sum())
    spread = rng.uniform(0.5, 1.5, c)
    x = rng.normal(0, 1, (n, e))
    for k in range(c):
        rows = label == k
        stretch = np.ones(e)
        stretch[rng.choice(e, 8, replace=False)] = rng.uniform(1.5, 3, 8)
        x[rows] = centres[k] + spread[k] * x[rows] * stretch
    return x.astype(np.float32), label


def run_ours(tsne_run, x, threads):
    n, e = x.shape
    with tempfile.TemporaryDirectory() as d:
        xin, yout = os.path.join(d, "x.f32"), os.path.join(d, "y.f32")
        x.tofile(xin)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run([tsne_run, xin, str(n), str(e), yout, str(PERPLEXITY), "1",
                              str(threads)], check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        y = np.fromfile(yout, dtype=np.float32).reshape(n, 2)
    if out.stderr:
        print(out.stderr, end="")
    fields = dict(line.split() for line in out.stdout.splitlines())
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return y, float(fields["kl"]), wall, cpu


def run_sklearn(x, threads):
    t0, c0 = time.perf_counter(), time.process_time()
    sk = TSNE(n_components=2, perplexity=PERPLEXITY, init="pca", learning_rate="auto",
              random_state=0, n_iter=1000, n_jobs=threads)
    y = sk.fit_transform(x)
    return y, sk.kl_divergence_, time.perf_counter() - t0, time.process_time() - c0


def exact_kl(p, y, block=500):
    """KL(P || Q), P sparse (scikit-learn's), Q = 1 / (1 + d^2) over all pairs, normalised."""
    y = y.astype(np.float64)
    sq = (y ** 2).sum(1)
    z = 0.0
    for i0 in range(0, len(y), block):
        d2 = sq[i0:i0 + block, None] + sq[None, :] - 2 * y[i0:i0 + block] @ y.T
        z += (1.0 / (1.0 + np.maximum(d2, 0))).sum() - min(block, len(y) - i0)
    d2 = ((y[p.row] - y[p.col]) ** 2).sum(-1)
    return float((p.data * np.log(np.maximum(p.data, 1e-300) * (1.0 + d2) * z)).sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tsne_run")
    ap.add_argument("--n", type=int, default=40000)
    ap.add_argument("--e", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-kl", action="store_true", help="skip the exact KL and kNN figures")
    a = ap.parse_args()
    x, label = mixture(a.n, a.e, 20, np.random.default_rng(20))
    print(f"t-SNE of {a.n} x {a.e} (20 clusters), perplexity {PERPLEXITY:g}, 1000 iterations, "
          f"{a.threads} threads", flush=True)
    y_ours, kl_ours_own, wall_ours, cpu_ours = run_ours(a.tsne_run, x, a.threads)
    print(f"ours:    {wall_ours:8.2f} s wall, {cpu_ours:8.2f} s CPU", flush=True)
    y_sk, kl_sk_own, wall_sk, cpu_sk = run_sklearn(x, a.threads)
    print(f"sklearn: {wall_sk:8.2f} s wall, {cpu_sk:8.2f} s CPU", flush=True)
    print(f"ratio (sklearn / ours): {wall_sk / wall_ours:.1f}x wall, {cpu_sk / cpu_ours:.1f}x CPU")
    print(f"KL as each reports it: ours {kl_ours_own:.4f}, sklearn {kl_sk_own:.4f}")
    if a.no_kl:
        return
    k = min(a.n - 1, int(3 * PERPLEXITY + 1))
    nn = NearestNeighbors(n_neighbors=k).fit(x)
    d = nn.kneighbors_graph(mode="distance")
    d.data **= 2
    p = _joint_probabilities_nn(d, PERPLEXITY, 0).tocoo()
    hi = nn.kneighbors(n_neighbors=10, return_distance=False)
    print(f"KL (exact, same P): ours {exact_kl(p, y_ours):.4f}, sklearn {exact_kl(p, y_sk):.4f}")
    for name, y in (("ours", y_ours), ("sklearn", y_sk)):
        lo = NearestNeighbors(n_neighbors=10).fit(y).kneighbors(return_distance=False)
        kept = np.mean([len(set(u) & set(v)) / 10 for u, v in zip(hi, lo)])
        agree = (label[lo] == label[:, None]).mean()
        print(f"{name:8} 10-NN kept {kept:.4f}, 10-NN label agreement {agree:.4f}")


if __name__ == "__main__":
    main()
