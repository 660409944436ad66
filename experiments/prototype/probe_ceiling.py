"""Ceilings for the split AUC using only generalisation (no memorisation): every training pair is scored by a model
that did not train on it (K-fold).  Models: 'heldK' trained on all (noisy) pairs of the other folds; 'oracleK' trained on
the truly clean pairs of the other folds.  Scores: nce_all matching loss; 'cls' = CE of the caption's class prediction
against the pair label (label of the image row); 'comb' = sum of both z-scored.
usage: probe_ceiling.py DS '{over}' epochs"""
import json, sys
import numpy as np
import train as T
from common import *
ds = sys.argv[1]; over = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}; E = int(sys.argv[3])
K = over.pop('K', 5)
@torch.no_grad()
def cls_loss(cfg, c, net, idx):
    e = T.embed_all(net, c.Xi[idx], c.Xt[c.cap[idx]])
    return F.cross_entropy(cfg['cls_scale'] * net.cls(e[2]), c.lab[idx], reduction='none').numpy()
z = lambda a: (a - a.mean()) / (a.std() + 1e-9)
for s in [0, 1, 2]:
    cfg = dict(T.DEFAULTS); cfg.update(json.load(open('base.json'))[ds]); cfg.update(over); cfg['seed'] = s
    img, txt, lab = load_dataset(ds); tr, va, te = make_split(ds, lab, s); img, txt = preprocess(ds, img, txt, tr)
    c = T.Ctx(); c.netseed = 0
    c.Xi = torch.tensor(img[tr]); c.Xt = torch.tensor(txt[tr]); c.lab = torch.tensor(lab[tr]); c.n = n = len(tr)
    cap, clean = inject_noise(n, cfg['noise'], s); c.cap = torch.tensor(cap)
    rng = np.random.RandomState(s); cfg['perpair'] = 'nce_all'
    folds = rng.permutation(n) % K
    for kind in ['heldK', 'oracleK']:
        fn = [T.build(cfg, c, 10) for _ in range(K)]
        out = {'nce': [], 'cls': [], 'comb': []}
        for ep in range(E):
            hl = np.zeros(n); hc = np.zeros(n)
            for k, (fnet, fopt) in enumerate(fn):
                tk = np.where((folds != k) & (clean | (kind == 'heldK')))[0]
                T.train_epoch(cfg, c, fnet, fopt, tk, np.ones(len(tk)), cfg['warm_loss'], True, rng)
                ik = np.where(folds == k)[0]
                hl[ik] = T.perpair_loss_against_all(cfg, c, fnet, ik)
                if cfg['aux_cls'] > 0: hc[ik] = cls_loss(cfg, c, fnet, ik)
            out['nce'].append(roc_auc(-hl, clean)); out['cls'].append(roc_auc(-hc, clean)); out['comb'].append(roc_auc(-(z(hl) + z(hc)), clean))
        for k2, v in out.items():
            print(f'seed {s} {kind:8s} {k2:5s}', ' '.join(f'{x:.3f}' for x in v[::2]), flush=True)
