"""Independent ceiling check with a linear model: regularised CCA fitted on the truly clean pairs of the other K folds,
held-out pair score = cosine in CCA space (k comps); AUC vs truth at 50% shuffle noise. Also CCA fitted on ALL noisy pairs."""
import sys
import numpy as np
from common import *
ds = sys.argv[1]
def cca(X, Y, k, reg):
    X = X - X.mean(0); Y = Y - Y.mean(0)
    Cxx = X.T @ X / len(X) + reg * np.eye(X.shape[1]); Cyy = Y.T @ Y / len(Y) + reg * np.eye(Y.shape[1]); Cxy = X.T @ Y / len(X)
    def isqrt(C):
        w, V = np.linalg.eigh(C); return V @ np.diag(w ** -0.5) @ V.T
    Wx, Wy = isqrt(Cxx), isqrt(Cyy)
    U, s, Vt = np.linalg.svd(Wx @ Cxy @ Wy)
    return Wx @ U[:, :k], Wy @ Vt.T[:, :k]
for s in [0, 1, 2]:
    img, txt, lab = load_dataset(ds); tr, va, te = make_split(ds, lab, s); img, txt = preprocess(ds, img, txt, tr)
    X = img[tr].astype(np.float64); Y0 = txt[tr].astype(np.float64); n = len(tr)
    cap, clean = inject_noise(n, 0.5, s); Y = Y0[cap]
    folds = np.random.RandomState(s).permutation(n) % 5
    out = []
    for mode in ['oracle', 'noisy']:
        for k in ([5, 10] if ds == 'wiki' else [10, 30, 60]):
            for reg in [1e-1, 1.0]:
                sc = np.zeros(n)
                for f in range(5):
                    m = (folds != f) & (clean if mode == 'oracle' else True)
                    A, B = cca(X[m], Y[m], k, reg)
                    h = folds == f
                    u = (X[h] - X[m].mean(0)) @ A; v = (Y[h] - Y[m].mean(0)) @ B
                    sc[h] = (u * v).sum(1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1) + 1e-9)
                out.append(f'{mode}/k{k}/r{reg}:{roc_auc(sc, clean):.3f}')
    print('seed', s, ' '.join(out), flush=True)
