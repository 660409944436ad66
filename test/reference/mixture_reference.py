#!/usr/bin/env python3
"""Independent numpy/scipy reference for cleave's loss mixtures (src/mixture).

Implements, from the written specification (issue 4 and the module docs), not from the TypeScript:
  * the two-component beta mixture EM of Arazo et al. (2019): clip to [1e-4, 1-1e-4], weighted
    likelihoods w_k * Beta(x; a_k, b_k) from scipy.stats.beta.pdf floored at 1e-12 and normalised,
    weighted method-of-moments M-step (two-pass weighted mean/variance), weights = mean
    responsibility, init a=[1,2], b=[2,1], w=[.5,.5]; tol>0 stops when no parameter moved more than tol;
  * the 1-D two-component Gaussian mixture EM with scikit-learn's formulas (GaussianMixture,
    n_components=2, max_iter=10, tol=1e-2, reg_covar=5e-4 as NCR/DivideMix call it). sklearn is not
    installed here, so the EM is written in numpy. Init: sklearn's default is k-means with a random
    k-means++ seed; cleave (and this script) use the exact best 1-D two-cluster partition instead
    (sort, maximise the between-cluster sum of squares over split points, first maximum on ties),
    then one M-step from the one-hot partition (nk = count + 10*eps, var += reg_covar);
  * the posterior P(clean|x) (clean = lower-mean component) in log space via scipy logpdf; the
    monotone posterior by locating the log-odds turning point numerically (scipy.optimize), not by
    the closed form cleave uses;
  * the loss normalisations (min-max with clip; 5th/95th percentile with np.percentile, trimming,
    clip to [1e-3, 1-1e-3]).

Rerun (writes test/reference/fixtures/mixture/*.json, deterministic):
    python3 test/reference/mixture_reference.py fixtures
Benchmark mode (used by `npm run bench -- mixture`): fit the beta EM on a raw float64 file and print
timings as JSON:
    python3 test/reference/mixture_reference.py bench <values.f64> [iterations] [repeats]
"""

import json
import os
import sys
import time

import numpy as np
from scipy import optimize, special, stats

EPS_CLIP = 1e-4
FLOOR = 1e-12
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "mixture")


# ----------------------------------------------------------------------------- beta mixture
def beta_clip(x, eps=EPS_CLIP):
    x = np.array(x, dtype=np.float64)
    x[x >= 1 - eps] = 1 - eps
    x[x <= eps] = eps
    return x


def weighted_moments(x, r):
    mean = np.sum(r * x) / np.sum(r)
    var = np.sum(r * (x - mean) ** 2) / np.sum(r)
    return mean, var


def beta_em(x, max_iter=10, tol=0.0, init=((1.0, 2.0), (2.0, 1.0), (0.5, 0.5))):
    """Returns dict with alphas, betas, weights, iterations, converged."""
    x = beta_clip(x)
    a = np.array(init[0], dtype=np.float64)
    b = np.array(init[1], dtype=np.float64)
    w = np.array(init[2], dtype=np.float64)
    w = w / w.sum()
    converged = False
    it = 0
    while it < max_iter:
        lik = np.stack([w[k] * stats.beta.pdf(x, a[k], b[k]) for k in range(2)])
        lik[lik <= FLOOR] = FLOOR
        r = lik / lik.sum(axis=0)
        na, nb = np.empty(2), np.empty(2)
        for k in range(2):
            m, v = weighted_moments(x, r[k])
            na[k] = m * (m * (1 - m) / v - 1)
            nb[k] = na[k] * (1 - m) / m
        nw = r.sum(axis=1)
        nw = nw / nw.sum()
        change = max(np.max(np.abs(na - a)), np.max(np.abs(nb - b)), np.max(np.abs(nw - w)))
        a, b, w = na, nb, nw
        it += 1
        if tol > 0 and change <= tol:
            converged = True
            break
    logp = np.stack([np.log(w[k]) + stats.beta.logpdf(x, a[k], b[k]) for k in range(2)])
    ll = float(np.mean(special.logsumexp(logp, axis=0)))
    return {"alphas": a.tolist(), "betas": b.tolist(), "weights": w.tolist(),
            "iterations": it, "converged": converged, "logLikelihood": ll}


def beta_clean_index(p):
    m = [p["alphas"][k] / (p["alphas"][k] + p["betas"][k]) for k in range(2)]
    return 1 if m[1] < m[0] else 0


def beta_log_odds(p, x):
    c = beta_clean_index(p)
    n = 1 - c
    lc = np.log(p["weights"][c]) + stats.beta.logpdf(x, p["alphas"][c], p["betas"][c])
    ln = np.log(p["weights"][n]) + stats.beta.logpdf(x, p["alphas"][n], p["betas"][n])
    return lc - ln


def beta_posterior(p, x):
    return special.expit(beta_log_odds(p, beta_clip(x)))


def turning_point(f, lo, hi):
    """Numerically locate an interior extremum of a smooth function with at most one turning point.
    Returns ('valley'|'peak'|'decreasing', t)."""
    grid = np.linspace(lo, hi, 20001)
    vals = f(grid)
    i_min, i_max = int(np.argmin(vals)), int(np.argmax(vals))
    if 0 < i_min < len(grid) - 1:
        res = optimize.minimize_scalar(f, bracket=(grid[i_min - 1], grid[i_min], grid[i_min + 1]),
                                       tol=1e-12)
        return "valley", float(res.x)
    if 0 < i_max < len(grid) - 1:
        res = optimize.minimize_scalar(lambda t: -f(t), bracket=(grid[i_max - 1], grid[i_max], grid[i_max + 1]),
                                       tol=1e-12)
        return "peak", float(res.x)
    return "decreasing", None


def monotone_apply(post_fn, x, kind, t):
    x = np.array(x, dtype=np.float64)
    if kind == "valley":
        x = np.minimum(x, t)
    elif kind == "peak":
        x = np.maximum(x, t)
    return post_fn(x)


def beta_monotone(p, x):
    kind, t = turning_point(lambda z: beta_log_odds(p, np.asarray(z, dtype=np.float64)), EPS_CLIP, 1 - EPS_CLIP)
    return monotone_apply(lambda z: beta_posterior(p, z), beta_clip(x), kind, t), kind, t


def beta_weighted_pdfs(p, x):
    x = beta_clip(x)
    c = beta_clean_index(p)
    comps = [p["weights"][k] * stats.beta.pdf(x, p["alphas"][k], p["betas"][k]) for k in range(2)]
    return comps[c], comps[1 - c]


# ----------------------------------------------------------------------------- Gaussian mixture
def two_means_threshold(x):
    s = np.sort(np.asarray(x, dtype=np.float64))
    n = len(s)
    centred = s - np.mean(s)
    prefix = np.cumsum(centred)[:-1]  # sum of the k smallest, k = 1..n-1
    k = np.arange(1, n)
    score = prefix ** 2 / (k * (n - k))
    valid = s[:-1] < s[1:]
    score = np.where(valid, score, -1.0)
    best = int(np.argmax(score))  # first maximum
    return float(s[best])


def gmm_m_step(x, resp, reg):
    nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps
    means = (resp * x[:, None]).sum(axis=0) / nk
    var = np.array([np.sum(resp[:, k] * (x - means[k]) ** 2) / nk[k] for k in range(2)]) + reg
    return nk, means, var


def gmm_em(x, max_iter=10, tol=1e-2, reg=5e-4):
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    t = two_means_threshold(x)
    resp = np.stack([(x <= t).astype(np.float64), (x > t).astype(np.float64)], axis=1)
    nk, means, var = gmm_m_step(x, resp, reg)
    w = nk / n
    lower = -np.inf
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        prev = lower
        logp = np.stack([np.log(w[k]) + stats.norm.logpdf(x, means[k], np.sqrt(var[k])) for k in range(2)], axis=1)
        lse = special.logsumexp(logp, axis=1)
        resp = np.exp(logp - lse[:, None])
        nk, means, var = gmm_m_step(x, resp, reg)
        w = nk / nk.sum()
        lower = float(np.mean(lse))
        if abs(lower - prev) <= tol:
            converged = True
            break
    logp = np.stack([np.log(w[k]) + stats.norm.logpdf(x, means[k], np.sqrt(var[k])) for k in range(2)], axis=1)
    ll = float(np.mean(special.logsumexp(logp, axis=1)))
    return {"means": means.tolist(), "variances": var.tolist(), "weights": w.tolist(), "iterations": it,
            "converged": converged, "logLikelihood": ll, "initThreshold": t}


def gmm_log_odds(p, x):
    c = 1 if p["means"][1] < p["means"][0] else 0
    n = 1 - c
    lc = np.log(p["weights"][c]) + stats.norm.logpdf(x, p["means"][c], np.sqrt(p["variances"][c]))
    ln = np.log(p["weights"][n]) + stats.norm.logpdf(x, p["means"][n], np.sqrt(p["variances"][n]))
    return lc - ln


def gmm_posterior(p, x):
    return special.expit(gmm_log_odds(p, np.asarray(x, dtype=np.float64)))


def gmm_monotone(p, x):
    # The Gaussian log-odds is a parabola: find its vertex numerically on a wide interval.
    f = lambda z: gmm_log_odds(p, np.asarray(z, dtype=np.float64))  # noqa: E731
    spread = 50 * np.sqrt(max(p["variances"])) + abs(p["means"][0]) + abs(p["means"][1])
    kind, t = turning_point(f, -spread, spread)
    return monotone_apply(lambda z: gmm_posterior(p, z), x, kind, t), kind, t


def gmm_weighted_pdfs(p, x):
    x = np.asarray(x, dtype=np.float64)
    c = 1 if p["means"][1] < p["means"][0] else 0
    comps = [p["weights"][k] * stats.norm.pdf(x, p["means"][k], np.sqrt(p["variances"][k])) for k in range(2)]
    return comps[c], comps[1 - c]


# ----------------------------------------------------------------------------- normalisation
def minmax(x, clip):
    x = np.asarray(x, dtype=np.float64)
    lo, hi = float(x.min()), float(x.max())
    s = np.clip((x - lo) / (hi - lo), clip, 1 - clip)
    return lo, hi, s


def percentile_norm(x, lower=5, upper=95, clip=1e-3):
    x = np.asarray(x, dtype=np.float64)
    lo, hi = float(np.percentile(x, lower)), float(np.percentile(x, upper))
    s = np.clip((x - lo) / (hi - lo), clip, 1 - clip)
    keep = (x >= lo) & (x <= hi)
    return lo, hi, s, s[keep]


# ----------------------------------------------------------------------------- fixtures
def vectors():
    rng = np.random.default_rng(20240601)

    def mix(n, w_clean, clean, noisy):
        z = rng.random(n) < w_clean
        v = np.where(z, rng.beta(*clean, n), rng.beta(*noisy, n))
        return v

    out = {
        "well_separated": mix(1000, 0.7, (2, 20), (20, 3)),
        "overlapping": mix(1000, 0.5, (2, 5), (4, 3)),
        "clean90": mix(1500, 0.9, (1.5, 12), (6, 2.5)),
        "clean20": mix(1500, 0.2, (2, 9), (7, 3)),
        "tiny": mix(12, 0.6, (2, 8), (8, 2)),
        "valley": mix(1000, 0.6, (1.2, 4), (30, 20)),
    }
    # two narrow modes plus outliers far from both: there both weighted likelihoods fall below the
    # 1e-12 floor, so the floor (not the plain Bayes ratio) sets their responsibilities
    spiky = mix(1000, 0.5, (60, 140), (140, 60))
    spiky[:60] = np.linspace(0.0005, 0.08, 60)
    spiky[60:100] = np.linspace(0.93, 0.9995, 40)
    out["spiky_outliers"] = spiky
    # exact zeros/ones and out-of-range values exercise the clip
    edge = mix(800, 0.7, (1.5, 10), (8, 2))
    edge[:40] = 0.0
    edge[40:60] = 1.0
    edge[60:65] = -0.25
    edge[65:70] = 1.5
    out["edges"] = edge
    return out


def rel(x):
    return [float(v) for v in x]


def main_fixtures():
    os.makedirs(OUT, exist_ok=True)
    grid = np.linspace(0.0, 1.0, 101)
    beta_cases, gmm_cases = [], []
    vecs = vectors()
    head = 300  # posteriors at the first `head` values of each vector (the grids cover the rest)
    for name, v in vecs.items():
        runs = [{"maxIter": 10, "tol": 0.0}]
        if name != "tiny":
            runs.append({"maxIter": 2000, "tol": 1e-9})
        for opts in runs:
            p = beta_em(v, opts["maxIter"], opts["tol"])
            clean_pdf, noisy_pdf = beta_weighted_pdfs(p, grid)
            mono_grid, kind, t = beta_monotone(p, grid)
            mono_data, _, _ = beta_monotone(p, v[:head])
            beta_cases.append({
                "name": name, "options": opts,
                "expected": {**p, "cleanComponent": beta_clean_index(p)},
                "posteriorData": rel(beta_posterior(p, v[:head])), "monotoneData": rel(mono_data),
                "grid": rel(grid), "posteriorGrid": rel(beta_posterior(p, grid)), "monotoneGrid": rel(mono_grid),
                "cleanPdfGrid": rel(clean_pdf), "noisyPdfGrid": rel(noisy_pdf),
                "shape": {"kind": kind, "at": t},
            })
        if name in ("tiny", "edges"):
            continue
        for opts in ({"maxIter": 10, "tol": 1e-2}, {"maxIter": 500, "tol": 1e-10}):
            g = gmm_em(v, opts["maxIter"], opts["tol"])
            wide = np.linspace(-0.5, 1.5, 101)
            clean_pdf, noisy_pdf = gmm_weighted_pdfs(g, wide)
            mono_grid, kind, t = gmm_monotone(g, wide)
            gmm_cases.append({
                "name": name, "options": opts,
                "expected": {**g, "cleanComponent": 1 if g["means"][1] < g["means"][0] else 0},
                "posteriorData": rel(gmm_posterior(g, v[:head])),
                "grid": rel(wide), "posteriorGrid": rel(gmm_posterior(g, wide)), "monotoneGrid": rel(mono_grid),
                "cleanPdfGrid": rel(clean_pdf), "noisyPdfGrid": rel(noisy_pdf), "shape": {"kind": kind, "at": t},
            })

    rng = np.random.default_rng(7)
    raw = np.concatenate([rng.gamma(2.0, 0.3, 280), rng.gamma(9.0, 0.4, 120), [25.0, 40.0, -1.0]])
    rng.shuffle(raw)
    norm_cases = []
    for clip in (1e-4, 0.0):
        lo, hi, s = minmax(raw, clip)
        norm_cases.append({"options": {"method": "minmax", "clip": clip}, "low": lo, "high": hi,
                           "values": rel(s), "fitValues": rel(s)})
    for lower, upper, clip in ((5, 95, 1e-3), (10, 90, 1e-2)):
        lo, hi, s, kept = percentile_norm(raw, lower, upper, clip)
        norm_cases.append({"options": {"method": "percentile", "lower": lower, "upper": upper, "clip": clip},
                           "low": lo, "high": hi, "values": rel(s), "fitValues": rel(kept)})

    meta = {"generator": "test/reference/mixture_reference.py", "numpy": np.__version__,
            "scipy": __import__("scipy").__version__}
    with open(os.path.join(OUT, "vectors.json"), "w") as f:
        json.dump({"meta": meta, "vectors": {k: rel(v) for k, v in vecs.items()}}, f)
    with open(os.path.join(OUT, "beta.json"), "w") as f:
        json.dump({"meta": meta, "cases": beta_cases}, f)
    with open(os.path.join(OUT, "gaussian.json"), "w") as f:
        json.dump({"meta": meta, "cases": gmm_cases}, f)
    with open(os.path.join(OUT, "normalise.json"), "w") as f:
        json.dump({"meta": meta, "raw": rel(raw), "cases": norm_cases}, f)
    kinds = [(c["name"], c["options"]["maxIter"], c["shape"]["kind"]) for c in beta_cases]
    print("wrote", OUT, kinds)


def main_bench(path, iterations=10, repeats=1):
    x = np.fromfile(path, dtype=np.float64)
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = beta_em(x, max_iter=iterations, tol=0.0)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"n": int(len(x)), "iterations": iterations, "seconds": min(times), "all": times,
                      "params": {k: result[k] for k in ("alphas", "betas", "weights")}}))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "fixtures":
        main_fixtures()
    elif len(sys.argv) >= 3 and sys.argv[1] == "bench":
        main_bench(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 10,
                   int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    else:
        print(__doc__)
        sys.exit(2)
