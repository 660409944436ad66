#!/usr/bin/env python3
"""Independent numpy/scipy reference for cleave's evaluation metrics (src/eval).

Rerun (from the repository root) to regenerate the committed fixtures:

    python3 test/reference/eval_reference.py fixtures

It writes test/reference/fixtures/eval/{retrieval,map,detection,cca_wikipedia}.json. Everything is
seeded, so a rerun reproduces the files. The CCA fixture reads the Wikipedia features from
data/wikipedia-xmodal (the bundled copy; override with --wikipedia DIR).

The benchmark (`npm run bench -- eval`) also calls this script:

    python3 test/reference/eval_reference.py bench --dir DIR --images N --captions M --dim D --k K

which reads DIR/images.f32 and DIR/captions.f32 (raw little-endian float32, row-major) and prints
the metrics and timings as JSON.

Definitions implemented here, from scratch (full score matrix, vectorised):
- retrieval ranks: pessimistic ties rank = 1 + #{non-matching items with score >= match score};
  optimistic ties rank = 1 + #{items with score > match score}; image->text uses the image's
  best-scored caption. R@K in percent, medianRank = floor(median), meanRank = mean.
- class mAP: gallery sorted by score descending, ties irrelevant-first (np.lexsort); AP over the whole
  ranking; AP@R (Musgrave et al. 2020) = (1/R) sum_{k<=R} P(k) rel(k).
- split quality: AUC by counting pairs (ties 1/2), cross-checked with scipy.stats.mannwhitneyu;
  average precision by a loop over distinct thresholds (scikit-learn's definition).
- uncertainty: scipy.stats.pearsonr / spearmanr; ECE with bins min(B-1, floor(p*B)).
- CCA: ridge relative to trace/dim, whitening by eigh, numpy SVD.
"""

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "eval")


# ----------------------------------------------------------------------------------------- retrieval
def retrieval_ranks(S, c2i, ties):
    """S: images x captions scores (float64 or float32); c2i: caption -> image. Returns (i2t, t2i) ranks."""
    n, m = S.shape
    cols = np.arange(m)
    pos = S[c2i, cols]  # score of each caption with its image
    own = np.zeros((n, m), dtype=bool)
    own[c2i, cols] = True
    # best positive score per image
    best = np.full(n, -np.inf, dtype=S.dtype)
    np.maximum.at(best, c2i, pos)
    if ties == "pessimistic":
        t2i_beat = (S >= pos[None, :]) & ~own
        i2t_beat = (S >= best[:, None]) & ~own
    else:
        t2i_beat = S > pos[None, :]
        i2t_beat = S > best[:, None]
    return 1 + i2t_beat.sum(axis=1), 1 + t2i_beat.sum(axis=0)


def direction_metrics(ranks, ks):
    out = {"medianRank": float(np.floor(np.median(ranks))), "meanRank": float(ranks.mean()), "queries": int(len(ranks))}
    for k in sorted(set([1, 5, 10] + list(ks))):
        out["r%d" % k] = 100.0 * int((ranks <= k).sum()) / len(ranks)
    return out


def retrieval_metrics(S, c2i, ks, ties):
    i2t_r, t2i_r = retrieval_ranks(S, c2i, ties)
    i2t = direction_metrics(i2t_r, ks)
    t2i = direction_metrics(t2i_r, ks)
    rsum = i2t["r1"] + i2t["r5"] + i2t["r10"] + t2i["r1"] + t2i["r5"] + t2i["r10"]
    return {"i2t": i2t, "t2i": t2i, "rsum": rsum}, i2t_r, t2i_r


def argsort_ranks(S, c2i):
    """Published-script style ranks (argsort), only meaningful without ties: used as a cross-check."""
    n, m = S.shape
    i2t = np.empty(n, dtype=int)
    for i in range(n):
        order = np.argsort(-S[i])
        i2t[i] = 1 + min(np.where(order == j)[0][0] for j in np.where(c2i == i)[0])
    t2i = np.empty(m, dtype=int)
    for j in range(m):
        order = np.argsort(-S[:, j])
        t2i[j] = 1 + np.where(order == c2i[j])[0][0]
    return i2t, t2i


def fold_metrics(S, c2i, ks, ties, folds):
    n = S.shape[0]
    results = []
    for f in range(folds):
        a, b = (f * n) // folds, ((f + 1) * n) // folds
        caps = np.where((c2i >= a) & (c2i < b))[0]
        m, _, _ = retrieval_metrics(S[a:b][:, caps], c2i[caps] - a, ks, ties)
        results.append(m)
    mean = {}
    for d in ("i2t", "t2i"):
        mean[d] = {key: float(np.mean([r[d][key] for r in results])) for key in results[0][d]}
    mean["rsum"] = float(np.mean([r["rsum"] for r in results]))
    return {"folds": results, "mean": mean}


def dyadic(rng, rows, dim, levels=8):
    """Embeddings with entries j/levels, |j| <= levels: every dot product is exact in float32, whatever
    the summation order, so numpy and any tfjs backend see identical scores (and identical ties)."""
    return (rng.integers(-levels, levels + 1, size=(rows, dim)) / levels).astype(np.float32)


def retrieval_case(name, rng, images, captions, dim, c2i, ks, folds=None, scores=None):
    if scores is None:
        S = images.astype(np.float64) @ captions.astype(np.float64).T
    else:
        S = scores.astype(np.float64)
    case = {"name": name, "dim": dim, "captionToImage": c2i.tolist(), "ks": ks,
            "imageCount": int(S.shape[0]), "captionCount": int(S.shape[1])}
    if scores is None:
        case["images"] = images.ravel().astype(float).tolist()
        case["captions"] = captions.ravel().astype(float).tolist()
    else:
        case["scores"] = scores.ravel().astype(float).tolist()
    for ties in ("pessimistic", "optimistic"):
        metrics, i2t_r, t2i_r = retrieval_metrics(S, c2i, ks, ties)
        case[ties] = {"metrics": metrics, "i2tRanks": i2t_r.tolist(), "t2iRanks": t2i_r.tolist()}
        if folds:
            case[ties]["folds"] = fold_metrics(S, c2i, ks, ties, folds)
    case["folds"] = folds
    return case


def retrieval_fixtures():
    rng = np.random.default_rng(20240601)
    cases = []
    # 1. k = 5 consecutive captions per image, coarse dyadic embeddings: many exact ties
    n, k, d = 30, 5, 4
    img = dyadic(rng, n, d, levels=1)
    cap = dyadic(rng, n * k, d, levels=1)
    cases.append(retrieval_case("ties_k5", rng, img, cap, d, np.repeat(np.arange(n), k), [1, 5, 10], folds=5))
    # 2. k = 3, captions in shuffled order (non-monotone captionToImage), extra cut-offs
    n, k, d = 25, 3, 6
    c2i = rng.permutation(np.repeat(np.arange(n), k))
    img = dyadic(rng, n, d, levels=2)
    cap = (img[c2i] + dyadic(rng, n * k, d, levels=2)).astype(np.float32)  # correlated: real hits
    cases.append(retrieval_case("ties_k3_shuffled", rng, img, cap, d, c2i, [1, 2, 3, 20]))
    # 3. variable k (1..7 captions per image), shuffled, finer dyadic values, uneven folds
    n, d = 23, 16
    counts = rng.integers(1, 8, size=n)
    c2i = rng.permutation(np.repeat(np.arange(n), counts))
    img = dyadic(rng, n, d)
    cap = (img[c2i] * 0.5 + dyadic(rng, len(c2i), d)).astype(np.float32)
    cases.append(retrieval_case("variable_k", rng, img, cap, d, c2i, [1, 5, 10], folds=5))
    # 4. a score matrix with rounded values (ties) and variable k, for matrixScorer / custom scorers
    n = 40
    counts = rng.integers(1, 6, size=n)
    c2i = rng.permutation(np.repeat(np.arange(n), counts))
    scores = np.round(rng.normal(size=(n, len(c2i))) + 1.5 * (np.arange(n)[:, None] == c2i[None, :]), 1).astype(np.float32)
    cases.append(retrieval_case("scores_rounded", rng, None, None, 0, c2i, [1, 5, 10, 15], folds=4, scores=scores))
    # 5. a collapsed model: every score equal
    n, k = 12, 2
    cases.append(retrieval_case("constant", rng, None, None, 0, np.repeat(np.arange(n), k), [1, 5, 10],
                                scores=np.full((n, n * k), 0.25, dtype=np.float32)))
    # cross-check on continuous (tie-free) scores: both tie rules and argsort-style ranks agree
    S = rng.normal(size=(15, 45))
    c2i = np.repeat(np.arange(15), 3)
    a = retrieval_ranks(S, c2i, "pessimistic")
    b = retrieval_ranks(S, c2i, "optimistic")
    c = argsort_ranks(S, c2i)
    assert all((x == y).all() and (y == z).all() for x, y, z in zip(a, b, c)), "rank definitions disagree"
    return {"cases": cases}


# ----------------------------------------------------------------------------------------------- mAP
def class_map(S, q_labels, g_labels):
    aps, aprs = [], []
    for q in range(S.shape[0]):
        rel = (g_labels == q_labels[q]).astype(np.int64)
        R = rel.sum()
        if R == 0:
            continue
        order = np.lexsort((rel, -S[q]))  # score descending, then irrelevant (0) first
        r = rel[order]
        prec = np.cumsum(r) / np.arange(1, len(r) + 1)
        aps.append((prec * r).sum() / R)
        aprs.append((prec * r)[:R].sum() / R)
    return {"mapAll": float(np.mean(aps)), "mapAtR": float(np.mean(aprs)), "queries": len(aps)}


def map_fixtures():
    rng = np.random.default_rng(7)
    cases = []
    for name, n_i, n_t, d, levels, classes in [("ties", 30, 24, 3, 1, 4), ("finer", 50, 61, 8, 4, 6)]:
        li = rng.integers(0, classes, size=n_i)
        lt = rng.integers(0, classes, size=n_t)
        centers = dyadic(rng, classes, d, levels)
        img = (centers[li] + dyadic(rng, n_i, d, levels)).astype(np.float32)
        txt = (centers[lt] + dyadic(rng, n_t, d, levels)).astype(np.float32)
        if name == "finer":
            lt[lt == classes - 1] = classes + 3  # a text class no image has: those t2i queries are skipped
        S = img.astype(np.float64) @ txt.astype(np.float64).T
        cases.append({"name": name, "dim": d, "images": img.ravel().astype(float).tolist(),
                      "texts": txt.ravel().astype(float).tolist(), "imageLabels": li.tolist(),
                      "textLabels": lt.tolist(), "i2t": class_map(S, li, lt), "t2i": class_map(S.T, lt, li)})
    # a constant scorer: ties everywhere, pessimistic order
    li = np.array([0, 0, 1, 1, 1, 2])
    S = np.zeros((6, 6))
    cases.append({"name": "constant", "scores": S.ravel().tolist(), "imageLabels": li.tolist(),
                  "textLabels": li.tolist(), "i2t": class_map(S, li, li), "t2i": class_map(S.T, li, li)})
    return {"cases": cases}


# ----------------------------------------------------------------------------------------- detection
def auc_pairs(scores, pos):
    p, q = scores[pos == 1], scores[pos == 0]
    if len(p) == 0 or len(q) == 0:
        return float("nan")
    diff = p[:, None] - q[None, :]
    auc = ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / (len(p) * len(q))
    u = stats.mannwhitneyu(p, q, alternative="two-sided").statistic
    assert abs(auc - u / (len(p) * len(q))) < 1e-12, "pair-count AUC disagrees with scipy mannwhitneyu"
    return float(auc)


def average_precision(scores, pos):
    P = pos.sum()
    if P == 0:
        return float("nan")
    ap, prev_recall = 0.0, 0.0
    for t in np.unique(scores)[::-1]:  # distinct thresholds, highest first
        pred = scores >= t
        tp = (pred & (pos == 1)).sum()
        recall = tp / P
        ap += (recall - prev_recall) * (tp / pred.sum())
        prev_recall = recall
    return float(ap)


def safe_div(a, b):
    return 0.0 if b == 0 else a / b


def detection_case(name, p, noisy, u, bins, threshold=0.5):
    noisy = noisy.astype(np.int64)
    flagged = ~(p > threshold)
    tp = int((flagged & (noisy == 1)).sum())
    precision = safe_div(tp, int(flagged.sum()))
    recall = safe_div(tp, int(noisy.sum()))
    b = np.minimum(bins - 1, np.floor(p * bins).astype(int))
    ece, mce, table = 0.0, 0.0, []
    for k in range(bins):
        sel = b == k
        c = int(sel.sum())
        if c:
            gap = abs(p[sel].mean() - (1 - noisy[sel]).mean())
            ece += c / len(p) * gap
            mce = max(mce, gap)
            table.append({"count": c, "meanPosterior": float(p[sel].mean()), "cleanFraction": float((1 - noisy[sel]).mean())})
        else:
            table.append({"count": 0})
    return {
        "name": name, "posteriorClean": p.tolist(), "isNoisy": noisy.tolist(), "uncertainty": u.tolist(),
        "threshold": threshold, "bins": bins,
        "split": {
            "n": len(p), "noisy": int(noisy.sum()),
            "auc": auc_pairs(-p, noisy), "averagePrecision": average_precision(-p, noisy),
            "precision": precision, "recall": recall, "f1": safe_div(2 * precision * recall, precision + recall),
            "estimatedNoiseRate": float((1 - p).mean()), "predictedNoiseRate": float(flagged.mean()),
            "trueNoiseRate": float(noisy.mean()),
        },
        "uncertainty_quality": {
            "pearson": float(stats.pearsonr(u, noisy).statistic),
            "spearman": float(stats.spearmanr(u, noisy).statistic),
            "auc": auc_pairs(u, noisy),
        },
        "calibration": {"ece": float(ece), "mce": float(mce), "bins": table},
    }


def detection_fixtures():
    rng = np.random.default_rng(99)
    cases = []
    n = 200
    noisy = rng.random(n) < 0.35
    p = np.clip(np.where(noisy, rng.beta(2, 5, n), rng.beta(5, 2, n)), 0, 1)
    u = np.where(noisy, 0.6, 0.4) + 0.3 * rng.normal(size=n)
    cases.append(detection_case("continuous", p, noisy, u, 10))
    # rounded posteriors (many ties, some exactly 0.5, 0 and 1) and rounded uncertainty
    p2 = np.round(p * 20) / 20
    p2[:3] = [0.5, 0.0, 1.0]
    cases.append(detection_case("rounded_ties", p2, noisy, np.round(u, 1), 7))
    # a useless split: constant posterior
    cases.append(detection_case("constant", np.full(n, 0.8), noisy, np.round(u, 1), 10))
    return {"cases": cases}


# ----------------------------------------------------------------------------------------------- CCA
def inv_sqrt(C, reg):
    C = C + reg * np.trace(C) / C.shape[0] * np.eye(C.shape[0])
    w, V = np.linalg.eigh(C)
    return (V / np.sqrt(w)) @ V.T


def cca_fit(X, Y, k, reg):
    mx, my = X.mean(0), Y.mean(0)
    Xc, Yc = X - mx, Y - my
    n = len(X)
    Wx = inv_sqrt(Xc.T @ Xc / (n - 1), reg)
    Wy = inv_sqrt(Yc.T @ Yc / (n - 1), reg)
    U, s, Vt = np.linalg.svd(Wx @ (Xc.T @ Yc / (n - 1)) @ Wy)
    return mx, my, Wx @ U[:, :k], Wy @ Vt.T[:, :k], s[:k]


def cca_fixture(wiki_dir):
    X = np.fromfile(os.path.join(wiki_dir, "image_sift_bovw128.f32.bin"), "<f4").reshape(2866, 128).astype(np.float64)
    Y = np.fromfile(os.path.join(wiki_dir, "text_lda10.f32.bin"), "<f4").reshape(2866, 10).astype(np.float64)
    with open(os.path.join(wiki_dir, "labels.csv")) as f:
        labels = np.array([int(r["class_id"]) for r in csv.DictReader(f)])
    train, test = slice(0, 2173), slice(2173, 2866)
    k, reg = 10, 1e-3
    mx, my, A, B, corr = cca_fit(X[train], Y[train], k, reg)
    zi = (X[test] - mx) @ A
    zt = (Y[test] - my) @ B
    zi /= np.linalg.norm(zi, axis=1, keepdims=True)
    zt /= np.linalg.norm(zt, axis=1, keepdims=True)
    S = zi @ zt.T
    lt = labels[test]
    return {
        "components": k, "regularization": reg, "correlations": corr.tolist(),
        "i2t": class_map(S, lt, lt), "t2i": class_map(S.T, lt, lt),
        "cosineFirst5": S[:5, :5].ravel().tolist(),  # invariant to the sign of each component pair
    }


# --------------------------------------------------------------------------------------------- bench
def bench(args):
    imgs = np.fromfile(os.path.join(args.dir, "images.f32"), "<f4").reshape(args.images, args.dim)
    caps = np.fromfile(os.path.join(args.dir, "captions.f32"), "<f4").reshape(args.captions, args.dim)
    c2i = np.arange(args.captions) // args.k
    t0 = time.perf_counter()
    S = imgs @ caps.T
    t1 = time.perf_counter()
    metrics, _, _ = retrieval_metrics(S, c2i, [1, 5, 10], "pessimistic")
    t2 = time.perf_counter()
    print(json.dumps({"matmulMs": (t1 - t0) * 1e3, "rankMs": (t2 - t1) * 1e3, "totalMs": (t2 - t0) * 1e3,
                      "metrics": metrics, "numpy": np.__version__}))


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    fx = sub.add_parser("fixtures")
    fx.add_argument("--wikipedia", default=str(Path(__file__).resolve().parents[2] / "data" / "wikipedia-xmodal"))
    b = sub.add_parser("bench")
    for name in ("images", "captions", "dim", "k"):
        b.add_argument("--" + name, type=int, required=True)
    b.add_argument("--dir", required=True)
    args = ap.parse_args()
    if args.cmd == "bench":
        bench(args)
        return
    write("retrieval.json", retrieval_fixtures())
    write("map.json", map_fixtures())
    write("detection.json", detection_fixtures())
    write("cca_wikipedia.json", cca_fixture(args.wikipedia))
    print("wrote fixtures to", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
