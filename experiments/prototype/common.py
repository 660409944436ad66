"""Shared pieces of the cleave trainer prototype (PyTorch 1.13, CPU).

Run with /usr/bin/python3.  Everything here mirrors a building block the TypeScript trainer will have:
data loading/splits/noise, MLP heads (deterministic / PCME++), losses with soft targets, per-pair
losses, BetaMixture / GaussianMixture, metrics (R@K, rSum, ROC-AUC).
"""
import json, math, os, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
DATA = os.environ.get('CLEAVE_SHARED_DATA', os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared', 'data'))


# ----------------------------------------------------------------------------- data
def _load_f32(path):
    hdr = json.load(open(path.replace('.f32.bin', '.json')))
    return np.fromfile(path, dtype='<f4').reshape(hdr['shape'])


def load_dataset(name):
    if name == 'wiki':
        d = f'{DATA}/wikipedia-xmodal'
        img = _load_f32(f'{d}/image_sift_bovw128.f32.bin')
        txt = _load_f32(f'{d}/text_lda10.f32.bin')
        lab = np.loadtxt(f'{d}/labels.csv', delimiter=',', skiprows=1, usecols=1, dtype=int) - 1
    elif name == 'cub':
        d = f'{DATA}/cub-googlenet-doc2vec'
        img = _load_f32(f'{d}/image_googlenet1024.f32.bin')
        txt = _load_f32(f'{d}/text_doc2vec300.f32.bin')
        lab = np.loadtxt(f'{d}/labels.csv', delimiter=',', skiprows=1, usecols=1, dtype=int) - 1
    else:
        raise ValueError(name)
    return img, txt, lab


def make_split(name, lab, seed, val_frac=0.1):
    """Returns index arrays train, val, test.
    wiki: official test rows 2173..; val = seeded 10% of the official train rows.
    cub: seeded stratified 80/20 train/test per class; val = seeded stratified 10% of train."""
    rng = np.random.RandomState(1000 + seed)
    n = len(lab)
    if name == 'wiki':
        tr = np.arange(0, 2173); te = np.arange(2173, n)
        p = rng.permutation(tr); nv = int(round(val_frac * len(tr)))
        return np.sort(p[nv:]), np.sort(p[:nv]), te
    tr, va, te = [], [], []
    for c in np.unique(lab):
        idx = rng.permutation(np.where(lab == c)[0])
        nte = int(round(0.2 * len(idx))); rest = idx[nte:]
        nv = int(round(val_frac * len(rest)))
        te += list(idx[:nte]); va += list(rest[:nv]); tr += list(rest[nv:])
    return np.sort(tr), np.sort(va), np.sort(te)


def preprocess(name, img, txt, tr):
    """Feature transform fitted on train rows only: wiki image BoVW -> sqrt (Hellinger), then z-score
    each view with train mean/std."""
    img = img.astype(np.float64); txt = txt.astype(np.float64)
    if name == 'wiki':
        img = np.sqrt(img); txt = np.sqrt(txt)
    out = []
    for X in (img, txt):
        mu = X[tr].mean(0); sd = X[tr].std(0) + 1e-6
        out.append(((X - mu) / sd).astype(np.float32))
    return out


def inject_noise(n, rate, seed, kind='shuffle'):
    """Caption-level shuffle (NCR): pick round(rate*n) training pairs, permute their captions among
    themselves.  Returns cap_idx (caption row used for pair i) and clean mask (cap_idx == i).
    With one caption per image, the image-level protocol (permute images of a chosen subset, all their
    captions follow) produces the same distribution, so kind='image' is implemented as the same draw
    with a different stream.  kind='random' = each chosen caption replaced by a uniformly random other
    training caption (with replacement, duplicates possible)."""
    rng = np.random.RandomState(77 + seed * 13 + (0 if kind == 'shuffle' else 5))
    cap = np.arange(n)
    k = int(round(rate * n))
    sel = rng.permutation(n)[:k]
    if kind in ('shuffle', 'image'):
        cap[sel] = sel[rng.permutation(k)]
    elif kind == 'random':
        for i in sel:
            j = rng.randint(n - 1); cap[i] = j + (j >= i)
    return cap, cap == np.arange(n)


# ----------------------------------------------------------------------------- model
class MLP(nn.Module):
    def __init__(self, din, width, depth, dout, dropout=0.0, layernorm=True, logvar_init=-5.0):
        super().__init__()
        layers = []; d = din
        for _ in range(depth - 1):
            layers += [nn.Linear(d, width)]
            if layernorm: layers += [nn.LayerNorm(width)]
            layers += [nn.ReLU(), nn.Dropout(dropout)]
            d = width
        self.trunk = nn.Sequential(*layers); self.dhid = d
        self.mu = nn.Linear(d, dout)
        self.logvar = nn.Linear(d, dout)  # used only by probabilistic heads
        nn.init.constant_(self.logvar.bias, logvar_init); self.logvar.weight.data.mul_(0.1)

    def forward(self, x):
        h = self.trunk(x)
        return self.mu(h), self.logvar(h)


class Net(nn.Module):
    """Two MLP heads into a shared d-dim space. head='det' (L2-normalised point) or 'prob' (PCME++:
    normalised mu, log sigma^2 branch, learnable a>0,b)."""
    def __init__(self, dimg, dtxt, d=64, width=256, depth=2, dropout=0.1, layernorm=True, head='det',
                 nclass=0, a0=5.0, b0=5.0, tau0=0.1, logvar_init=-5.0):
        super().__init__()
        self.head = head
        self.fi = MLP(dimg, width, depth, d, dropout, layernorm, logvar_init)
        self.ft = MLP(dtxt, width, depth, d, dropout, layernorm, logvar_init)
        self.log_a = nn.Parameter(torch.tensor(math.log(a0)))
        self.b = nn.Parameter(torch.tensor(b0))
        self.log_tau = nn.Parameter(torch.tensor(math.log(tau0)))
        self.cls = nn.Linear(d, nclass) if nclass else None
        self.mod = nn.Linear(d, 1)

    def embed(self, xi, xt):
        mi, vi = self.fi(xi); mt, vt = self.ft(xt)
        return F.normalize(mi, dim=-1), vi, F.normalize(mt, dim=-1), vt

    def sim(self, e, pairwise=True):
        """similarity matrix (pairwise) or diagonal; higher = more similar."""
        mi, vi, mt, vt = e
        if self.head == 'det':
            return mi @ mt.t() if pairwise else (mi * mt).sum(-1)
        return -csd(mi, vi, mt, vt, pairwise)

    def match_logit(self, e, pairwise=True):
        a = self.log_a.exp()
        if self.head == 'det':  # not used by PCME losses; kept for y' = p_model with det head
            return a * (self.sim(e, pairwise) * 2 - 2) + self.b
        mi, vi, mt, vt = e
        return -a * csd(mi, vi, mt, vt, pairwise) + self.b


def csd(mi, vi, mt, vt, pairwise=True):
    """PCME++ closed-form sampled distance ||mu1-mu2||^2 + ||s1^2+s2^2||_1 (logvar inputs)."""
    si, st = vi.exp(), vt.exp()
    if pairwise:
        d2 = (mi.pow(2).sum(-1)[:, None] + mt.pow(2).sum(-1)[None] - 2 * mi @ mt.t()).clamp_min(0)
        return d2 + si.sum(-1)[:, None] + st.sum(-1)[None]
    return (mi - mt).pow(2).sum(-1) + (si + st).sum(-1)


def kl_std_normal(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1).mean()


# ----------------------------------------------------------------------------- losses (soft targets y)
def soft_margin(y, alpha):
    return alpha * (torch.pow(10.0, y) - 1) / 9.0


def loss_hinge(S, y, alpha=0.2, hardest=True):
    """VSE++ hinge, hardest in-batch negative, margin scaled by y (NCR soft margin). S: B x B (img x txt)."""
    B = S.shape[0]; pos = S.diag(); m = soft_margin(y, alpha)
    mask = torch.eye(B, dtype=torch.bool)
    Sm = S.masked_fill(mask, -1e9)
    ci = (m[:, None] + Sm - pos[:, None]).clamp_min(0)  # image i vs wrong captions
    ct = (m[None, :] + Sm - pos[None, :]).clamp_min(0)  # caption j vs wrong images
    if hardest:
        return (ci.max(1)[0] + ct.max(0)[0]).mean()
    return (ci.sum(1) + ct.sum(0)).mean()


def loss_infonce(S, y, tau):
    """InfoNCE both directions, each positive term weighted by y (soft target)."""
    L = S / tau; t = torch.arange(S.shape[0])
    li = F.cross_entropy(L, t, reduction='none'); lt = F.cross_entropy(L.t(), t, reduction='none')
    return (y * (li + lt) / 2).sum() / y.sum().clamp_min(1e-6)


def loss_pcmepp(logit, y, pseudo_w=0.0):
    """PCME++ match loss: BCE of sigmoid(logit) vs y on the diagonal, 0 off it (pos/neg balanced).
    pseudo-positives: negatives scoring >= the true pair get target 1 with weight pseudo_w."""
    B = logit.shape[0]; eye = torch.eye(B, dtype=torch.bool)
    T = torch.zeros_like(logit); T[eye] = y
    W = torch.ones_like(logit)
    if pseudo_w > 0:
        with torch.no_grad():
            pp = (logit >= logit.diag()[:, None]) & ~eye
        T = torch.where(pp, torch.ones_like(T), T); W = torch.where(pp, torch.full_like(W, pseudo_w), W)
    bce = F.binary_cross_entropy_with_logits(logit, T, reduction='none') * W
    return bce[eye].mean() + bce[~eye].mean()


# ----------------------------------------------------------------------------- mixtures
def _beta_logpdf(x, a, b):
    return (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))


class BetaMixture:
    """Two-component beta mixture, EM with weighted method of moments (Arazo et al. 2019)."""
    def __init__(self, iters=10):
        self.iters = iters; self.a = np.array([1.0, 2.0]); self.b = np.array([2.0, 1.0]); self.w = np.array([.5, .5])

    def _wl(self, x):
        return np.stack([self.w[k] * np.exp(_beta_logpdf(x, self.a[k], self.b[k])) for k in range(2)])

    def fit(self, x):
        x = np.clip(x, 1e-4, 1 - 1e-4)
        for _ in range(self.iters):
            r = self._wl(x); r[r <= 1e-12] = 1e-12; r = r / r.sum(0)
            for k in range(2):
                wk = r[k]; m = (wk * x).sum() / wk.sum(); v = (wk * (x - m) ** 2).sum() / wk.sum()
                v = max(v, 1e-8)
                a = m * (m * (1 - m) / v - 1); self.a[k] = max(a, 1e-3); self.b[k] = max(self.a[k] * (1 - m) / m, 1e-3)
            self.w = r.sum(1) / r.sum()
        return self

    def clean_posterior(self, x):
        x = np.clip(x, 1e-4, 1 - 1e-4)
        r = self._wl(x); r[r <= 1e-12] = 1e-12; r = r / r.sum(0)
        k = int(np.argmin(self.a / (self.a + self.b)))  # clean = lower-mean component
        return r[k]


class GaussMixture:
    """1-D two-component GMM as NCR (sklearn defaults they use: 10 iters, tol 1e-2, reg 5e-4)."""
    def __init__(self, iters=10, tol=1e-2, reg=5e-4):
        self.iters, self.tol, self.reg = iters, tol, reg

    def fit(self, x):
        # k-means-like init: split at the median
        med = np.median(x); lo, hi = x[x <= med], x[x > med]
        self.m = np.array([lo.mean(), hi.mean() if len(hi) else lo.mean() + 1e-3])
        self.v = np.array([lo.var() + self.reg, (hi.var() if len(hi) else 0) + self.reg]); self.w = np.array([.5, .5])
        prev = -np.inf
        for _ in range(self.iters):
            lp = self._lp(x); ll = np.logaddexp(lp[0], lp[1]); r = np.exp(lp - ll)
            nk = r.sum(1) + 1e-10
            self.m = (r * x).sum(1) / nk; self.v = (r * (x - self.m[:, None]) ** 2).sum(1) / nk + self.reg
            self.w = nk / nk.sum()
            if abs(ll.mean() - prev) < self.tol: break
            prev = ll.mean()
        return self

    def _lp(self, x):
        return np.stack([np.log(self.w[k]) - 0.5 * np.log(2 * np.pi * self.v[k]) - (x - self.m[k]) ** 2 / (2 * self.v[k]) for k in range(2)])

    def clean_posterior(self, x):
        lp = self._lp(x); r = np.exp(lp - np.logaddexp(lp[0], lp[1]))
        return r[int(np.argmin(self.m))]


def normalise(l, how='minmax'):
    if how == 'minmax':
        lo, hi = l.min(), l.max()
    else:  # percentile 5/95
        lo, hi = np.percentile(l, 5), np.percentile(l, 95)
    return np.clip((l - lo) / max(hi - lo, 1e-12), 0, 1)


def monotone(post, loss):
    """make P(clean) non-increasing in the loss: over losses sorted ascending, every pair left of the
    posterior's peak gets the peak value; right of it, a running minimum.  Removes the dips a beta
    mixture produces at both ends of [0,1]."""
    o = np.argsort(loss, kind='mergesort'); q = post[o].copy()
    i = int(np.argmax(q)); q[:i + 1] = q[i]
    q[i:] = np.minimum.accumulate(q[i:])
    p = np.empty_like(post); p[o] = q; return p


# ----------------------------------------------------------------------------- metrics
def roc_auc(score, truth):
    """AUC of score (higher = clean) against boolean truth; ties count 1/2."""
    truth = truth.astype(bool); n1, n0 = truth.sum(), (~truth).sum()
    if n1 == 0 or n0 == 0: return float('nan')
    order = np.argsort(score, kind='mergesort'); s = score[order]
    ranks = np.empty(len(s)); i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]: j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1; i = j + 1
    return float((ranks[truth].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def recalls(S):
    """S: N x N image x text scores, true pair on the diagonal. rank = 1 + #strictly greater."""
    S = np.asarray(S, dtype=np.float64); d = np.diag(S)
    ri = 1 + (S > d[:, None]).sum(1); rt = 1 + (S > d[None, :]).sum(0)
    out = {}
    for nm, r in (('i2t', ri), ('t2i', rt)):
        for k in (1, 5, 10): out[f'{nm}_r{k}'] = 100.0 * (r <= k).mean()
    out['rsum'] = sum(out.values())
    return out
