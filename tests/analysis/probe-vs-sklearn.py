#!/usr/bin/python3
"""Heartphase's probes against scikit-learn on the same embeddings and splits.

Usage: probe-vs-sklearn.py PROBE_RUN

Writes synthetic embeddings that look like a model's (600 training and 200 test subjects, 64
correlated dimensions, a few informative directions, a 10 % positive label and a continuous
target), runs tests/analysis/probe-run.c on them, fits scikit-learn's LogisticRegression
(class_weight "balanced", tol 1e-10), Ridge and PCA (svd_solver "full") on the same rows and
asserts that they agree: AUROC and R^2 within 1e-3 (the issue's bar), the other scores and the
coefficients as printed below. scikit-learn's own metrics are also run on Heartphase's
predictions, where they must agree to rounding.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import (average_precision_score, f1_score, mean_absolute_error,
                                 r2_score, roc_auc_score, roc_curve)
except ImportError as e:
    # a skip (77) where scikit-learn is not installed, a failure under CI
    print(f"scikit-learn is needed for this comparison ({e}): install python3-sklearn")
    sys.exit(1 if os.environ.get("CI") == "true" else 77)

GRID = [10.0 ** g for g in range(-4, 5)]
LAMBDA = 10.0
K = 5
FOLDS = 5


def embeddings(seed=2024, n_train=600, n_test=200, e=64):
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    # 8 latent factors mixed into 64 dimensions, plus dimension-wise noise and an offset: the
    # features are correlated as a network's are
    latent = rng.standard_normal((n, 8))
    mix = rng.standard_normal((8, e)) * np.linspace(2.0, 0.5, 8)[:, None]
    x = latent @ mix + 0.7 * rng.standard_normal((n, e)) + rng.standard_normal(e) * 3
    # the label depends on two latent directions and one raw dimension; the intercept sets the
    # prevalence near 10 %
    logit = 1.2 * latent[:, 0] - 0.8 * latent[:, 3] + 0.5 * x[:, 10] - 0.5 * x[:, 10].mean()
    logit += -4.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int32)
    target = 2.0 * latent[:, 1] + 0.5 * latent[:, 0] - 0.3 * x[:, 5] + rng.standard_normal(n)
    split = np.zeros(n, np.int32)
    split[rng.permutation(n)[:n_test]] = 1
    return x.astype(np.float32), y, target.astype(np.float64), split


def write(path, x, y, target, split):
    n, e = x.shape
    with open(path, "wb") as f:
        f.write(np.array([n, e], "<i4").tobytes())
        f.write(x.astype("<f4").tobytes())
        f.write(y.astype("<i4").tobytes())
        f.write(target.astype("<f8").tobytes())
        f.write(split.astype("<i4").tobytes())


failures = []


def check(what, got, want, tol, relative=False):
    diff = abs(got - want)
    if relative:
        diff /= max(abs(want), 1e-300)
    ok = diff <= tol
    print(f"  {what:<38} ours {got: .10f}  sklearn {want: .10f}  diff {diff:.2e}"
          f" {'ok' if ok else 'FAIL'} (tol {tol:g}{' rel' if relative else ''})")
    if not ok:
        failures.append(what)
    return diff


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    probe_run = sys.argv[1]
    x, y, target, split = embeddings()
    tr, te = split == 0, split == 1
    # scikit-learn in double on the very float32 values the C code reads
    xtr, xte = x[tr].astype(np.float64), x[te].astype(np.float64)
    ytr, yte = y[tr], y[te]
    print(f"{tr.sum()} training and {te.sum()} test subjects, {x.shape[1]} dimensions, "
          f"{ytr.mean():.1%} / {yte.mean():.1%} positive")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "embeddings.bin")
        write(path, x, y, target, split)
        out = subprocess.run([probe_run, path, ",".join(f"{c:g}" for c in GRID), f"{LAMBDA:g}",
                              str(K), str(FOLDS)], check=True, capture_output=True, text=True)
    ours = json.loads(out.stdout)

    worst = {}

    def note(key, d):
        worst[key] = max(worst.get(key, 0.0), d)

    sk_auroc = {}
    ntr = len(ytr)
    weight = np.where(ytr == 1, ntr / (2 * ytr.sum()), ntr / (2 * (ntr - ytr.sum())))

    def objective(c, w, b):
        z = xtr @ w + b
        return c * np.sum(weight * (np.logaddexp(0, z) - ytr * z)) + 0.5 * w @ w

    for fit in ours["logistic"]:
        c = fit["c"]
        w, b = np.array(fit["w"]), fit["b"]
        print(f"logistic regression, C {c:g} ({fit['seconds']:.3f} s):")
        # lbfgs as the issue names it; on these uncentred, correlated features it stops short of
        # the optimum (its f-tolerance ends it first), so the coefficients are held against
        # newton-cholesky (scikit-learn >= 1.2), which reaches it
        for solver in ("lbfgs", "newton-cholesky"):
            lr = LogisticRegression(C=c, class_weight="balanced", tol=1e-10, max_iter=10000,
                                    solver=solver)
            lr.fit(xtr, ytr)
            p = lr.predict_proba(xte)[:, 1]
            converged = solver != "lbfgs"
            print(f" {solver} ({lr.n_iter_[0]} iterations):")
            if solver == "lbfgs":
                sk_auroc[c] = roc_auc_score(yte, p)
            note(f"auroc {solver}", check("test AUROC", fit["auroc"], roc_auc_score(yte, p),
                                          1e-3))
            note(f"auprc {solver}", check("test AUPRC", fit["auprc"],
                                          average_precision_score(yte, p),
                                          1e-3 if converged else 5e-3))
            # a subject whose probability sits at 0.5 within a solver's tolerance would flip
            f1 = f1_score(yte, (p >= 0.5).astype(int), zero_division=0)
            note(f"f1 {solver}", check("test F1 at 0.5", fit["f1"], f1,
                                       1e-3 if converged else 0.02))
            if converged:
                scale = np.abs(lr.coef_[0]).max()
                d = np.abs(w - lr.coef_[0]).max() / scale
                note("logistic coef", check("coefficients (max diff / max |w|)", d, 0.0, 1e-3))
                note("logistic coef", check("intercept (diff / max |w|)",
                                   abs(b - lr.intercept_[0]) / scale, 0.0, 1e-3))
            else:
                # ours at least as low an objective as lbfgs's
                f_ours, f_sk = objective(c, w, b), objective(c, lr.coef_[0], lr.intercept_[0])
                rel = (f_ours - f_sk) / f_sk
                ok = rel <= 1e-12
                print(f"  {'objective (ours - lbfgs) / lbfgs':<38} {rel: .3e} "
                      f"{'ok' if ok else 'FAIL'} (ours must not be higher)")
                if not ok:
                    failures.append(f"objective at C {c:g}")
                print(f"  (lbfgs's coefficients differ by "
                      f"{np.abs(w - lr.coef_[0]).max() / np.abs(lr.coef_[0]).max():.2e} relative)")

    cv = ours["cv"]
    best = max(sk_auroc.values())
    print(f"cross-validated logistic regression ({cv['seconds']:.3f} s): C {cv['c']:g}, test AUROC "
          f"{cv['auroc']:.4f}; the best fixed C on the test split gives {best:.4f} (C "
          f"{max(sk_auroc, key=sk_auroc.get):g})")
    check("CV choice's AUROC short of the best", best - cv["auroc"], 0.0, 0.02)

    print(f"ridge regression, lambda {LAMBDA:g}:")
    rg = Ridge(alpha=LAMBDA).fit(xtr, target[tr])
    q = rg.predict(xte)
    rd = ours["ridge"]
    note("r2", check("test R^2", rd["r2"], r2_score(target[te], q), 1e-3))
    note("r", check("test Pearson r", rd["r"], np.corrcoef(target[te], q)[0, 1], 1e-3))
    note("mae", check("test MAE", rd["mae"], mean_absolute_error(target[te], q), 1e-3,
                      relative=True))
    scale = np.abs(rg.coef_).max()
    note("ridge coef", check("coefficients (max diff / max |w|)",
                       np.abs(np.array(rd["w"]) - rg.coef_).max() / scale, 0.0, 1e-3))
    note("ridge coef", check("intercept (relative)", rd["b"], rg.intercept_, 1e-3, relative=True))

    print(f"PCA, {K} components:")
    pca = PCA(n_components=K, svd_solver="full").fit(xtr)
    var = np.array(ours["pca"]["variance"])
    for j in range(K):
        note("pca", check(f"variance {j}", var[j], pca.explained_variance_[j], 1e-6,
                          relative=True))
    total = np.var(xtr, axis=0, ddof=1).sum()
    note("pca", check("total variance", ours["pca"]["total_variance"], total, 1e-9, relative=True))
    comp = np.array(ours["pca"]["components"]).reshape(K, -1)
    proj = np.array(ours["pca"]["projection"]).reshape(-1, K)
    sk_proj = pca.transform(xte)
    for j in range(K):
        # the sign is a convention (scikit-learn's has changed between versions): up to sign
        s = np.sign(comp[j] @ pca.components_[j])
        big = np.argmax(np.abs(comp[j]))
        if comp[j, big] <= 0:
            failures.append(f"sign of component {j}")
        d = np.abs(s * proj[:, j] - sk_proj[:, j]).max() / np.abs(sk_proj[:, j]).max()
        note("pca", check(f"projection {j} (max diff / max |proj|, up to sign)", d, 0.0, 1e-4))
        note("pca", check(f"component {j} (max diff, up to sign)",
                          np.abs(s * comp[j] - pca.components_[j]).max(), 0.0, 1e-4))

    # scikit-learn's metrics on Heartphase's own predictions: the same formulas to rounding
    print("metrics on the same predictions:")
    rng = np.random.default_rng(5)
    yy = (rng.random(300) < 0.15).astype(np.int32)
    ss = np.round(rng.standard_normal(300) + yy, 1)   # rounded: many ties
    metrics = metrics_of(probe_run, yy, ss)
    note("metric-identity", check("AUROC with ties", metrics["auroc"], roc_auc_score(yy, ss),
                                  1e-12))
    note("metric-identity", check("AUPRC with ties", metrics["auprc"],
                                  average_precision_score(yy, ss), 1e-12))
    note("metric-identity", check("F1 at 0.5 with ties", metrics["f1"],
                                  f1_score(yy, (ss >= 0.5).astype(int)), 1e-12))
    fpr, tpr, _ = roc_curve(yy, ss, drop_intermediate=False)
    if len(fpr) != len(metrics["fpr"]) or np.abs(fpr - metrics["fpr"]).max() > 1e-12 or \
       np.abs(tpr - metrics["tpr"]).max() > 1e-12:
        failures.append("roc_curve")
        print("  ROC curve differs: FAIL")
    else:
        print(f"  ROC curve: {len(fpr)} points, the same: ok")

    print("largest differences:\n" + "\n".join(f"  {k:<24} {v:.2e}" for k, v in worst.items()))
    if failures:
        sys.exit("disagreements: " + ", ".join(failures))
    print("all agree")


def metrics_of(probe_run, y, s):
    """hp_auroc, hp_auprc, hp_f1 and hp_roc_curve through probe-run's metrics mode."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scores.bin")
        with open(path, "wb") as f:
            f.write(np.array([len(y)], "<i4").tobytes())
            f.write(y.astype("<i4").tobytes())
            f.write(s.astype("<f8").tobytes())
        out = subprocess.run([probe_run, "--metrics", path], check=True, capture_output=True,
                             text=True)
    return json.loads(out.stdout)


if __name__ == "__main__":
    main()
