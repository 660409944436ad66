"""Exact cosine k-nearest neighbours computed with NumPy, for test/noise/knn.test.ts and the hard /
partial-noise tests.

Points: 200 rows of 16-d Gaussian float32 data, with two exact duplicates (rows 10 and 11 copy row 3) and
one all-zero row (row 50). Rows are scaled to unit norm the way cleave does it (x * (1/||x||), stored as
float32; zero rows stay zero), similarities are float64 dot products, and ties go to the lower row index
(stable argsort). The query itself is excluded.

Rerun (deterministic): python3 test/reference/knn_fixture.py
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "noise")
os.makedirs(OUT, exist_ok=True)

rng = np.random.default_rng(31)
n, d, k = 200, 16, 5
x = rng.standard_normal((n, d)).astype(np.float32)
x[10] = x[3]
x[11] = x[3]
x[50] = 0

norm = np.sqrt((x.astype(np.float64) ** 2).sum(axis=1))
inv = np.where(norm > 0, 1.0 / np.where(norm > 0, norm, 1.0), 0.0)
xn = (x.astype(np.float64) * inv[:, None]).astype(np.float32).astype(np.float64)
sims = xn @ xn.T


def knn(rows, candidates):
    out = []
    cand = np.array(sorted(candidates))
    for q in rows:
        c = cand[cand != q]
        s = sims[q, c]
        order = np.argsort(-s, kind="stable")
        out.append(c[order[:k]].tolist())
    return out


all_rows = list(range(n))
subset = sorted(rng.choice(n, size=80, replace=False).tolist())
with open(os.path.join(OUT, "knn.json"), "w") as f:
    json.dump(
        {
            "n": n,
            "dim": d,
            "k": k,
            "features": x.reshape(-1).astype(np.float64).tolist(),
            "neighbours": knn(all_rows, all_rows),
            "candidates": subset,
            "neighboursInCandidates": knn(all_rows, subset),
        },
        f,
    )
print("wrote knn.json")
