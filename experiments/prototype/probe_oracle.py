"""Upper bounds for the split: AUC of per-pair losses (all training pairs) from (a) a model trained on the true clean
pairs only (clean pairs seen, noisy unseen), (b) K-fold held-out models trained on all noisy pairs (every pair scored by a
model that never saw it).  usage: probe_oracle.py DS '{over}' epochs"""
import json, sys
import numpy as np
import train as T
from common import *
ds = sys.argv[1]; over = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}; E = int(sys.argv[3])
K = over.pop('K', 5)
for s in [0, 1, 2]:
    cfg = dict(T.DEFAULTS); cfg.update(json.load(open('base.json'))[ds]); cfg.update(over); cfg['seed'] = s
    img, txt, lab = load_dataset(ds); tr, va, te = make_split(ds, lab, s); img, txt = preprocess(ds, img, txt, tr)
    c = T.Ctx(); c.netseed = 0
    c.Xi = torch.tensor(img[tr]); c.Xt = torch.tensor(txt[tr]); c.lab = torch.tensor(lab[tr]); c.n = n = len(tr)
    cap, clean = inject_noise(n, 0.5, s); c.cap = torch.tensor(cap)
    rng = np.random.RandomState(s)
    cfg['perpair'] = 'nce_all'
    net, opt = T.build(cfg, c, 10); ci = np.where(clean)[0]
    folds = rng.permutation(n) % K
    fn = [T.build(cfg, c, 10) for _ in range(K)]
    line_o, line_h = [], []
    for ep in range(E):
        T.train_epoch(cfg, c, net, opt, ci, np.ones(len(ci)), cfg['warm_loss'], True, rng)
        line_o.append(roc_auc(-T.perpair_loss(cfg, c, net, rng), clean))
        hl = np.zeros(n)
        for k, (fnet, fopt) in enumerate(fn):
            tk = np.where(folds != k)[0]
            T.train_epoch(cfg, c, fnet, fopt, tk, np.ones(len(tk)), cfg['warm_loss'], True, rng)
            hl[folds == k] = T.perpair_loss_against_all(cfg, c, fnet, np.where(folds == k)[0])
        line_h.append(roc_auc(-hl, clean))
    print('seed', s, 'oracle', ' '.join(f'{x:.3f}' for x in line_o))
    print('seed', s, 'heldK ', ' '.join(f'{x:.3f}' for x in line_h), flush=True)
