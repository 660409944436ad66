#!/usr/bin/env python3
"""numpy reference of NCR's 5-fold test protocol (`evalrank(..., fold5=True)` in NCR/evaluation.py).

Rerun (from the repository root) to regenerate the committed fixture:

    python3 test/reference/precomp_folds.py

It writes test/reference/fixtures/precomp/folds.json: seeded, L2-normalised embeddings of N test
images (5 captions each, in image order, as a `*_precomp` test split) and the metrics NCR prints for
them, computed with NCR's own code path, written out from scratch here:

- NCR stores one image embedding per caption (`im_div` = 5), so fold i takes
  `img_embs[i * 5F : (i + 1) * 5F : 5]` (F = N / 5 images) and `cap_embs[i * 5F : (i + 1) * 5F]`;
- sims = img @ cap.T; i2t: rank of an image = best position of its 5 captions in the descending
  argsort of its row; t2i: rank of caption 5i + k = position of image i in its column's argsort;
- r@K = 100 * #(rank < K) / #queries, medr = floor(median(rank)) + 1, meanr = mean(rank) + 1,
  rsum = r1 + r5 + r10 both ways; the mean over folds is the mean of each number (rsum included).
"""

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "precomp", "folds.json")


def i2t(npts, sims, per_captions=5):
    ranks = np.zeros(npts)
    for index in range(npts):
        inds = np.argsort(sims[index])[::-1]
        rank = 1e20
        for i in range(per_captions * index, per_captions * index + per_captions, 1):
            tmp = np.where(inds == i)[0][0]
            if tmp < rank:
                rank = tmp
        ranks[index] = rank
    return metrics(ranks)


def t2i(npts, sims, per_captions=5):
    ranks = np.zeros(per_captions * npts)
    sims = sims.T
    for index in range(npts):
        for i in range(per_captions):
            inds = np.argsort(sims[per_captions * index + i])[::-1]
            ranks[per_captions * index + i] = np.where(inds == index)[0][0]
    return metrics(ranks)


def metrics(ranks):
    n = len(ranks)
    r1 = 100.0 * len(np.where(ranks < 1)[0]) / n
    r5 = 100.0 * len(np.where(ranks < 5)[0]) / n
    r10 = 100.0 * len(np.where(ranks < 10)[0]) / n
    medr = np.floor(np.median(ranks)) + 1
    meanr = ranks.mean() + 1
    return {"r1": r1, "r5": r5, "r10": r10, "medianRank": float(medr), "meanRank": float(meanr)}


def main():
    rng = np.random.default_rng(2021)
    n_images, per, dim, folds = 60, 5, 12, 5
    latent = rng.normal(size=(n_images, dim))
    images = latent + 1.6 * rng.normal(size=(n_images, dim))
    captions = np.repeat(latent, per, axis=0) + 2.2 * rng.normal(size=(n_images * per, dim))
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    captions /= np.linalg.norm(captions, axis=1, keepdims=True)
    images = images.astype(np.float32)
    captions = captions.astype(np.float32)
    img_embs = np.repeat(images, per, axis=0)  # NCR keeps one image row per caption

    fold_images = n_images // folds
    span = fold_images * per
    results = []
    for i in range(folds):
        im = img_embs[i * span : (i + 1) * span : per]
        cap = captions[i * span : (i + 1) * span]
        sims = im.astype(np.float64) @ cap.T.astype(np.float64)
        r = i2t(fold_images, sims, per)
        ri = t2i(fold_images, sims, per)
        rsum = r["r1"] + r["r5"] + r["r10"] + ri["r1"] + ri["r5"] + ri["r10"]
        results.append({"i2t": r, "t2i": ri, "rsum": rsum})
    mean = {
        side: {k: float(np.mean([f[side][k] for f in results])) for k in results[0][side]}
        for side in ("i2t", "t2i")
    }
    mean["rsum"] = float(np.mean([f["rsum"] for f in results]))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(
            {
                "source": "test/reference/precomp_folds.py (NCR evaluation.py fold5 rule, numpy)",
                "images": n_images,
                "captionsPerImage": per,
                "dim": dim,
                "folds": folds,
                "imageEmbeddings": images.flatten().tolist(),
                "captionEmbeddings": captions.flatten().tolist(),
                "perFold": results,
                "mean": mean,
            },
            f,
        )
        f.write("\n")
    print(f"wrote {OUT}: mean rsum {mean['rsum']:.2f}")


if __name__ == "__main__":
    main()
