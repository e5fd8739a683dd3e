#!/usr/bin/env python3
"""Our t-SNE (through the tsne-run driver) against scikit-learn's on the same labelled mixture and
perplexity: our KL divergence must be no worse than scikit-learn's (within 2 %) and our embedding
must keep the input's nearest neighbours about as well. Both KLs are computed here the same way,
exactly: scikit-learn's own sparse P from the same exact neighbours, against the full Q of each
embedding. Usage: tsne-vs-sklearn.py TSNE_RUN"""
import os
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
    sys.exit(f"tsne-vs-sklearn needs numpy and scikit-learn (python3-sklearn): {e}")

PERPLEXITY = 30.0


def mixture(n, e, c, rng):
    """n points of c clusters in e dimensions, cluster spreads 0.6 .. 1.4, labels."""
    centres = rng.normal(0, 1.0, (c, e))
    label = np.arange(n) % c
    scale = np.linspace(0.6, 1.4, c)[label][:, None]
    x = centres[label] + scale * rng.normal(0, 1, (n, e))
    return x.astype(np.float32), label


def run_ours(tsne_run, x, seed=1, threads=2):
    n, e = x.shape
    with tempfile.TemporaryDirectory() as d:
        xin, yout = os.path.join(d, "x.f32"), os.path.join(d, "y.f32")
        x.astype(np.float32).tofile(xin)
        t0 = time.perf_counter()
        out = subprocess.run([tsne_run, xin, str(n), str(e), yout, str(PERPLEXITY), str(seed),
                              str(threads)], check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - t0
        y = np.fromfile(yout, dtype=np.float32).reshape(n, 2)
    fields = dict(line.split() for line in out.splitlines())
    return y, float(fields["kl"]), wall


def joint_p(x):
    """scikit-learn's P: its exact neighbours (3 perplexity + 1) and binary search."""
    k = min(len(x) - 1, int(3.0 * PERPLEXITY + 1))
    nn = NearestNeighbors(n_neighbors=k, metric="euclidean").fit(x)
    d = nn.kneighbors_graph(mode="distance")
    d.data **= 2
    return _joint_probabilities_nn(d, PERPLEXITY, 0).tocoo()


def exact_kl(p, y, block=1000):
    """KL(P || Q), P sparse, Q = 1 / (1 + d^2) over all pairs i != j, normalised."""
    y = y.astype(np.float64)
    z = 0.0
    for i0 in range(0, len(y), block):
        d2 = ((y[i0:i0 + block, None, :] - y[None, :, :]) ** 2).sum(-1)
        z += (1.0 / (1.0 + d2)).sum() - min(block, len(y) - i0)
    d2 = ((y[p.row] - y[p.col]) ** 2).sum(-1)
    q = 1.0 / (1.0 + d2) / z
    return float((p.data * np.log(np.maximum(p.data, 1e-300) / q)).sum())


def knn_scores(x, y, label, k=10):
    """The share of each point's k input neighbours that stay among its k neighbours in y, and
    the share of its k neighbours in y that carry its label."""
    hi = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(return_distance=False)
    lo = NearestNeighbors(n_neighbors=k).fit(y).kneighbors(return_distance=False)
    kept = np.mean([len(set(a) & set(b)) / k for a, b in zip(hi, lo)])
    agree = float((label[lo] == label[:, None]).mean())
    return float(kept), agree


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rng = np.random.default_rng(0)
    x, label = mixture(1500, 30, 10, rng)
    y_ours, kl_ours_reported, t_ours = run_ours(sys.argv[1], x)
    t0 = time.perf_counter()
    sk = TSNE(n_components=2, perplexity=PERPLEXITY, init="pca", learning_rate="auto",
              random_state=0, n_iter=1000, n_jobs=2)
    y_sk = sk.fit_transform(x)
    t_sk = time.perf_counter() - t0
    p = joint_p(x)
    kl_ours, kl_sk = exact_kl(p, y_ours), exact_kl(p, y_sk)
    kept_ours, agree_ours = knn_scores(x, y_ours, label)
    kept_sk, agree_sk = knn_scores(x, y_sk, label)
    print(f"{len(x)} x {x.shape[1]}, perplexity {PERPLEXITY:g}")
    print(f"{'':14}{'ours':>10}{'sklearn':>10}")
    print(f"{'KL (exact)':14}{kl_ours:10.4f}{kl_sk:10.4f}")
    print(f"{'KL (own)':14}{kl_ours_reported:10.4f}{sk.kl_divergence_:10.4f}")
    print(f"{'10-NN kept':14}{kept_ours:10.4f}{kept_sk:10.4f}")
    print(f"{'label agree':14}{agree_ours:10.4f}{agree_sk:10.4f}")
    print(f"{'seconds':14}{t_ours:10.2f}{t_sk:10.2f}")
    failed = []
    if not kl_ours <= kl_sk * 1.02:
        failed.append(f"our KL {kl_ours:.4f} is worse than scikit-learn's {kl_sk:.4f} by over 2 %")
    if abs(kl_ours_reported - kl_ours) > 0.02 * kl_ours:
        failed.append(f"our reported KL {kl_ours_reported:.4f} is off the exact {kl_ours:.4f}")
    if kept_ours < kept_sk - 0.03:
        failed.append(f"we keep {kept_ours:.3f} of the 10-NN, scikit-learn {kept_sk:.3f}")
    if agree_ours < agree_sk - 0.02:
        failed.append(f"label agreement {agree_ours:.3f} against scikit-learn's {agree_sk:.3f}")
    for f in failed:
        print("FAIL:", f)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
