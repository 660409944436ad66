"""Independent float64 references for cleave's model and losses (src/core/model, src/core/losses).

Writes test/reference/fixtures/model/losses.json, encoder.json and pair-scores.json (the trainer's
per-pair scores with the same-image mask: other captions of a pair's image are not its negatives).
Rerun from the repository root with:

    python3 test/reference/model_losses.py

Everything is seeded (numpy default_rng), so the output is deterministic. The losses are written here
from their documented definitions (the module docs of src/core/losses/*.ts), in plain numpy, and the
gradients are central finite differences in float64 (h = 1e-6). The script checks that no hinge, max
or pseudo-positive comparison sits within 1e-3 of a kink, so the finite differences are valid.
"""

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "model")
H = 1e-6
KINK = 1e-3


def softplus(x):
    return np.logaddexp(0.0, x)


def log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def logsumexp(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def num_grad(f, x):
    """Central differences of the scalar function f at x (any shape, float64)."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    flat = x.reshape(-1)
    gf = g.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + H
        up = f(x)
        flat[k] = old - H
        down = f(x)
        flat[k] = old
        gf[k] = (up - down) / (2 * H)
    return g


def unit_rows(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


# ---------------------------------------------------------------- triplet (VSE++ + NCR soft margin)
def margins(y, alpha, kind):
    if kind == "exponential":
        return alpha * (10.0 ** y - 1.0) / 9.0
    if kind == "linear":
        return alpha * y
    return np.full_like(y, alpha)


def triplet_terms(S, y, alpha, kind):
    B = S.shape[0]
    d = np.diag(S)
    m = margins(y, alpha, kind)
    i2t = np.zeros((B, B))  # i2t[i, j]: anchor image i, negative caption j
    t2i = np.zeros((B, B))  # t2i[i, j]: anchor caption i, negative image j
    raw = []
    for i in range(B):
        for j in range(B):
            if i == j:
                continue
            a = m[i] + S[i, j] - d[i]
            b = m[i] + S[j, i] - d[i]
            raw += [a, b]
            i2t[i, j] = max(a, 0.0)
            t2i[i, j] = max(b, 0.0)
    return i2t, t2i, np.array(raw)


def triplet_per_pair(S, y, alpha, kind, negatives):
    B = S.shape[0]
    i2t, t2i, _ = triplet_terms(S, y, alpha, kind)
    if negatives == "hardest":
        return i2t.max(axis=1) + t2i.max(axis=1)
    return (i2t.sum(axis=1) + t2i.sum(axis=1)) / (B - 1)


def triplet_kinks_ok(S, y, alpha, kind, negatives):
    i2t, t2i, raw = triplet_terms(S, y, alpha, kind)
    if np.min(np.abs(raw)) < KINK:
        return False
    if negatives == "hardest":
        for M in (i2t, t2i):
            for row in M:
                top = np.sort(row)[::-1]
                if top[0] > 0 and top[0] - top[1] < KINK:
                    return False
    return True


# ---------------------------------------------------------------- InfoNCE
def infonce_per_pair(S, y, scale):
    L = scale * S
    d = np.diag(L)
    i2t = logsumexp(L, 1) - d
    t2i = logsumexp(L, 0) - d
    return y * 0.5 * (i2t + t2i)


# ---------------------------------------------------------------- PCME / PCME++ match loss
def csd(mu_i, ls_i, mu_c, ls_c):
    diff = mu_i[:, None, :] - mu_c[None, :, :]
    return np.sum(diff ** 2, -1) + np.sum(np.exp(ls_i), 1)[:, None] + np.sum(np.exp(ls_c), 1)[None, :]


def csd_log_probs(mu_i, ls_i, mu_c, ls_c, a_raw, b):
    logits = b - softplus(a_raw) * csd(mu_i, ls_i, mu_c, ls_c)
    return log_sigmoid(logits), log_sigmoid(-logits)


def mc_log_probs(mu_i, ls_i, mu_c, ls_c, a_raw, b, eps_i, eps_c):
    zi = mu_i[:, None, :] + np.exp(0.5 * ls_i)[:, None, :] * eps_i  # [Bi, J, D]
    zc = mu_c[:, None, :] + np.exp(0.5 * ls_c)[:, None, :] * eps_c  # [Bc, J, D]
    diff = zi[:, None, :, None, :] - zc[None, :, None, :, :]  # [Bi, Bc, J, J, D]
    dist = np.sqrt(np.sum(diff ** 2, -1) + 1e-6)
    s = b - softplus(a_raw) * dist
    J = eps_i.shape[1]
    p = np.mean(1.0 / (1.0 + np.exp(-s)), axis=(2, 3))
    return np.log(p), np.log1p(-p)


def bce(logP, logQ, T):
    return -(T * logP + (1 - T) * logQ)


def match_loss(logP, logQ, y, w):
    B = logP.shape[0]
    T = np.diag(y)
    loss = 2 * np.mean(bce(logP, logQ, T))
    if w > 0:
        d = np.diag(logP)
        row = (logP >= d[:, None]) * y[:, None]
        col = (logP >= d[None, :]) * y[None, :]
        loss += w * (np.mean(bce(logP, logQ, row)) + np.mean(bce(logP, logQ, col)))
    return loss


def match_per_pair(logP, logQ, y, negatives):
    B = logP.shape[0]
    pos = -(y * np.diag(logP) + (1 - y) * np.diag(logQ))
    if not negatives:
        return pos
    off = 1 - np.eye(B)
    neg = -logQ * off
    return pos + (neg.sum(1) + neg.sum(0)) / (2 * (B - 1))


def vib(mu, ls):
    return 0.5 * np.mean(mu ** 2 + np.exp(ls) - 1 - ls)


def pseudo_kinks_ok(logP):
    d = np.diag(logP)
    gaps_r = logP - d[:, None]
    gaps_c = logP - d[None, :]
    off = ~np.eye(logP.shape[0], dtype=bool)
    return np.min(np.abs(gaps_r[off])) > KINK and np.min(np.abs(gaps_c[off])) > KINK


def losses_fixture():
    rng = np.random.default_rng(20240501)
    B, D = 5, 4
    while True:
        img = unit_rows(rng.normal(size=(B, D)))
        cap = unit_rows(img + 0.9 * rng.normal(size=(B, D)))
        S = img @ cap.T
        ok = all(
            triplet_kinks_ok(S, yy, 0.3, k, n)
            for yy in (np.array([1.0, 0.8, 0.5, 0.2, 0.0]), np.ones(B), np.zeros(B))
            for k in ("exponential", "linear", "none")
            for n in ("hardest", "mean")
        )
        if ok:
            break
    y = np.array([1.0, 0.8, 0.5, 0.2, 0.0])

    triplet = []
    for kind in ("exponential", "linear", "none"):
        for negatives in ("hardest", "mean"):
            for targets in (y, np.ones(B), np.zeros(B)):
                f_img = lambda x: np.mean(triplet_per_pair(x @ cap.T, targets, 0.3, kind, negatives))
                f_cap = lambda x: np.mean(triplet_per_pair(img @ x.T, targets, 0.3, kind, negatives))
                triplet.append(
                    {
                        "softMargin": kind,
                        "negatives": negatives,
                        "margin": 0.3,
                        "targets": targets.tolist(),
                        "perPair": triplet_per_pair(S, targets, 0.3, kind, negatives).tolist(),
                        "loss": float(f_img(img)),
                        "gradImages": num_grad(f_img, img).tolist(),
                        "gradCaptions": num_grad(f_cap, cap).tolist(),
                    }
                )

    info = []
    for targets in (y, np.ones(B)):
        log_scale = np.log(1 / 0.1)
        f_img = lambda x: np.mean(infonce_per_pair(x @ cap.T, targets, np.exp(log_scale)))
        f_cap = lambda x: np.mean(infonce_per_pair(img @ x.T, targets, np.exp(log_scale)))
        f_s = lambda s: np.mean(infonce_per_pair(S, targets, np.exp(s[0])))
        info.append(
            {
                "logScale": log_scale,
                "targets": targets.tolist(),
                "perPair": infonce_per_pair(S, targets, np.exp(log_scale)).tolist(),
                "loss": float(f_img(img)),
                "gradImages": num_grad(f_img, img).tolist(),
                "gradCaptions": num_grad(f_cap, cap).tolist(),
                "gradLogScale": float(num_grad(f_s, np.array([log_scale]))[0]),
            }
        )

    # probabilistic embeddings
    while True:
        mu_i = unit_rows(rng.normal(size=(B, D)))
        mu_c = unit_rows(mu_i + 0.8 * rng.normal(size=(B, D)))
        ls_i = rng.normal(-2.5, 0.5, size=(B, D))
        ls_c = rng.normal(-2.5, 0.5, size=(B, D))
        logP, _ = csd_log_probs(mu_i, ls_i, mu_c, ls_c, np.log(np.expm1(5.0)), 5.0)
        d = np.diag(logP)
        n_pseudo = int(np.sum(logP >= d[:, None]) - B)
        if pseudo_kinks_ok(logP) and n_pseudo >= 2:
            break
    a_raw = float(np.log(np.expm1(5.0)))
    b = 5.0
    params = {"mu_i": mu_i, "ls_i": ls_i, "mu_c": mu_c, "ls_c": ls_c}

    def grads_of(fn):
        out = {}
        for name, value in params.items():
            def f(x, name=name):
                p = dict(params)
                p[name] = x
                return fn(p, a_raw, b)
            out[name] = num_grad(f, value).tolist()
        out["a_raw"] = float(num_grad(lambda x: fn(params, x[0], b), np.array([a_raw]))[0])
        out["b"] = float(num_grad(lambda x: fn(params, a_raw, x[0]), np.array([b]))[0])
        return out

    match_csd = []
    for targets in (y, np.ones(B), np.zeros(B)):
        for w in (0.0, 0.1):
            fn = lambda p, ar, bb, targets=targets, w=w: match_loss(
                *csd_log_probs(p["mu_i"], p["ls_i"], p["mu_c"], p["ls_c"], ar, bb), targets, w
            )
            lp, lq = csd_log_probs(mu_i, ls_i, mu_c, ls_c, a_raw, b)
            match_csd.append(
                {
                    "targets": targets.tolist(),
                    "pseudoPositiveWeight": w,
                    "loss": float(fn(params, a_raw, b)),
                    "perPair": match_per_pair(lp, lq, targets, False).tolist(),
                    "perPairWithNegatives": match_per_pair(lp, lq, targets, True).tolist(),
                    "grads": grads_of(fn),
                }
            )

    J = 3
    eps_i = rng.normal(size=(B, J, D))
    eps_c = rng.normal(size=(B, J, D))
    mc_fn = lambda p, ar, bb: match_loss(
        *mc_log_probs(p["mu_i"], p["ls_i"], p["mu_c"], p["ls_c"], ar, bb, eps_i, eps_c), y, 0.0
    )
    lp_mc, lq_mc = mc_log_probs(mu_i, ls_i, mu_c, ls_c, a_raw, b, eps_i, eps_c)
    match_mc = {
        "targets": y.tolist(),
        "samples": J,
        "noiseImages": eps_i.tolist(),
        "noiseCaptions": eps_c.tolist(),
        "logP": lp_mc.tolist(),
        "logQ": lq_mc.tolist(),
        "loss": float(mc_fn(params, a_raw, b)),
        "grads": grads_of(mc_fn),
    }

    vib_case = {
        "value": float(vib(mu_i, ls_i)),
        "gradMean": num_grad(lambda x: vib(x, ls_i), mu_i).tolist(),
        "gradLogSigma2": num_grad(lambda x: vib(mu_i, x), ls_i).tolist(),
    }

    return {
        "images": img.tolist(),
        "captions": cap.tolist(),
        "triplet": triplet,
        "infoNCE": info,
        "probabilistic": {
            "imageMean": mu_i.tolist(),
            "imageLogSigma2": ls_i.tolist(),
            "captionMean": mu_c.tolist(),
            "captionLogSigma2": ls_c.tolist(),
            "scaleRaw": a_raw,
            "shift": b,
            "csdDistance": csd(mu_i, ls_i, mu_c, ls_c).tolist(),
            "matchCsd": match_csd,
            "matchMc": match_mc,
            "vib": vib_case,
        },
    }


# ---------------------------------------------------------------- encoder forward pass
def layer_norm(x, gamma, beta):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * gamma + beta


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def encoder_fixture():
    """A probabilistic model with hand-set weights. Image encoder: attention pooling over masked regions,
    gelu, layer norm, skip. Text encoder: plain 2-D input, tanh, no layer norm, no skip, depth 3. The
    uncertainty branches (depth 2) share their encoder's settings."""
    rng = np.random.default_rng(7)
    dImg, dTxt, d, hid, att = 6, 5, 4, 8, 3
    B, R = 3, 4
    W = {}

    def dense(name, fan_in, fan_out):
        W[f"{name}/kernel"] = rng.normal(0, 0.5, size=(fan_in, fan_out))
        W[f"{name}/bias"] = rng.normal(0, 0.1, size=(fan_out,))

    def norm(name, dim):
        W[f"{name}/gamma"] = 1 + rng.normal(0, 0.1, size=(dim,))
        W[f"{name}/beta"] = rng.normal(0, 0.1, size=(dim,))

    dense("image/pool/proj", dImg, att)
    dense("image/pool/score", att, 1)
    for branch in ("mean", "uncertainty"):
        dense(f"image/{branch}/dense_0", dImg, hid)
        norm(f"image/{branch}/norm_0", hid)
        dense(f"image/{branch}/out", hid, d)
        dense(f"image/{branch}/skip", dImg, d)
    dense("text/mean/dense_0", dTxt, hid)
    dense("text/mean/dense_1", hid, hid)
    dense("text/mean/out", hid, d)
    dense("text/uncertainty/dense_0", dTxt, hid)
    dense("text/uncertainty/out", hid, d)
    W["contrastive/log_scale"] = np.array(np.log(1 / 0.05))
    W["match/scale_raw"] = np.array(0.3)
    W["match/shift"] = np.array(2.0)

    def lin(x, name):
        return x @ W[f"{name}/kernel"] + W[f"{name}/bias"]

    x_img = rng.normal(size=(B, R, dImg))
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 1, 0]], dtype=np.float64)
    x_txt = rng.normal(size=(B, dTxt))

    scores = lin(np.tanh(lin(x_img, "image/pool/proj")), "image/pool/score")[..., 0]
    scores = np.where(mask > 0, scores, -np.inf)
    weights = np.exp(scores - scores.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)
    pooled = np.sum(weights[..., None] * x_img, 1)

    def image_branch(branch):
        n = f"image/{branch}/norm_0"
        h = gelu(layer_norm(lin(pooled, f"image/{branch}/dense_0"), W[f"{n}/gamma"], W[f"{n}/beta"]))
        return lin(h, f"image/{branch}/out") + lin(pooled, f"image/{branch}/skip")

    img_mean = unit_rows(image_branch("mean"))
    img_ls = image_branch("uncertainty")
    h = np.tanh(lin(np.tanh(lin(x_txt, "text/mean/dense_0")), "text/mean/dense_1"))
    txt_mean = unit_rows(lin(h, "text/mean/out"))
    txt_ls = lin(np.tanh(lin(x_txt, "text/uncertainty/dense_0")), "text/uncertainty/out")

    a = softplus(W["match/scale_raw"])
    dist = csd(img_mean, img_ls, txt_mean, txt_ls)
    prob = 1 / (1 + np.exp(-(W["match/shift"] - a * dist)))

    config = {
        "embedDim": d,
        "head": "probabilistic",
        "image": {"inputDim": dImg, "depth": 2, "hidden": hid, "dropout": 0.2, "layerNorm": True,
                  "activation": "gelu", "skip": True, "pooling": "attention", "attentionHidden": att},
        "text": {"inputDim": dTxt, "depth": 3, "hidden": hid, "dropout": 0.0, "layerNorm": False,
                 "activation": "tanh", "skip": False},
        "uncertainty": {"input": "features", "depth": 2},
        "seed": 11,
    }
    return {
        "config": config,
        "weights": {k: {"shape": list(np.shape(v)), "values": np.asarray(v).reshape(-1).tolist()}
                    for k, v in W.items()},
        "images": x_img.tolist(),
        "imageMask": mask.tolist(),
        "captions": x_txt.tolist(),
        "poolingWeights": weights.tolist(),
        "imageMean": img_mean.tolist(),
        "imageLogSigma2": img_ls.tolist(),
        "captionMean": txt_mean.tolist(),
        "captionLogSigma2": txt_ls.tolist(),
        "distance": dist.tolist(),
        "matchProbability": prob.tolist(),
        "temperature": 0.05,
    }


# ---------------------------------------------------------------- per-pair scores with the same-image mask
def pair_scores_fixture():
    """One block of 9 pairs over 5 images (images 0 and 2 have several captions): the per-pair losses the
    trainer's scoring uses (src/trainer/scoring.ts pairScores), each negative set leaving out the other
    captions of the pair's own image."""
    rng = np.random.default_rng(2026)
    d = 6
    caption_to_image = np.array([0, 0, 1, 2, 2, 2, 3, 4, 0])
    images = unit_rows(rng.normal(size=(5, d)))
    captions = unit_rows(rng.normal(size=(9, d)))
    tau, alpha, scale, shift = 0.2, 0.2, 1.5, 2.0
    g = caption_to_image
    n = len(g)
    S = images[g] @ captions.T  # S[i, j] = e_img(g(i)) . e_cap(j)
    keep = (g[:, None] != g[None, :]) | np.eye(n, dtype=bool)  # i itself and the pairs of other images
    neg = keep & ~np.eye(n, dtype=bool)

    L = np.where(keep, S / tau, -np.inf)
    diag = np.diag(S) / tau
    infonce = 0.5 * ((logsumexp(L, 1) - diag) + (logsumexp(L, 0) - diag))

    hinge_row = np.where(neg, alpha + S - np.diag(S)[:, None], -np.inf).max(1)
    hinge_col = np.where(neg, alpha + S - np.diag(S)[None, :], -np.inf).max(0)
    triplet = np.maximum(hinge_row, 0) + np.maximum(hinge_col, 0)
    row_terms = np.where(neg, np.maximum(alpha + S - np.diag(S)[:, None], 0), 0).sum(1)
    col_terms = np.where(neg, np.maximum(alpha + S - np.diag(S)[None, :], 0), 0).sum(0)
    triplet_mean = (row_terms + col_terms) / neg.sum(1)

    image_ls = rng.normal(-3, 0.3, size=(5, d))
    caption_ls = rng.normal(-2, 0.3, size=(9, d))
    dist = csd(images[g], image_ls[g], captions, caption_ls)  # [n, n] closed-form distance
    logits = shift - scale * dist
    logP, logQ = log_sigmoid(logits), log_sigmoid(-logits)
    match = -np.diag(logP)
    negq = np.where(neg, -logQ, 0)
    match_neg = match + (negq.sum(1) + negq.sum(0)) / (2 * neg.sum(1))

    return {
        "captionToImage": g.tolist(),
        "images": images.tolist(),
        "captions": captions.tolist(),
        "imageLogSigma2": image_ls.tolist(),
        "captionLogSigma2": caption_ls.tolist(),
        "temperature": tau,
        "margin": alpha,
        "matchScale": scale,
        "matchShift": shift,
        "similarity": S.tolist(),
        "logP": logP.tolist(),
        "logQ": logQ.tolist(),
        "infonce": infonce.tolist(),
        "triplet": triplet.tolist(),
        "tripletMean": triplet_mean.tolist(),
        "match": match.tolist(),
        "matchWithNegatives": match_neg.tolist(),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "losses.json"), "w") as f:
        json.dump(losses_fixture(), f)
    with open(os.path.join(OUT, "encoder.json"), "w") as f:
        json.dump(encoder_fixture(), f)
    with open(os.path.join(OUT, "pair-scores.json"), "w") as f:
        json.dump(pair_scores_fixture(), f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
