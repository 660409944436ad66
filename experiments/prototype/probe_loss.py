"""How well does each per-pair loss separate clean/noisy pairs during plain (warm-up) training on noisy data?
Prints ROC-AUC of -loss vs truth per epoch for each per-pair definition, and BMM-posterior AUC for nce_all.
usage: probe_loss.py DS '{"aux_cls":1,...}' epochs seeds"""
import json, sys
import numpy as np
import train as T
from common import *

ds = sys.argv[1]; over = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
E = int(sys.argv[3]) if len(sys.argv) > 3 else 20
seeds = json.loads(sys.argv[4]) if len(sys.argv) > 4 else [0, 1, 2]
base = json.load(open('base.json'))[ds]; base.update(over)
kinds = ['hinge_batch', 'nce_batch', 'nce_all', 'rank', 'cos']
res = {}
for s in seeds:
    cfg = dict(T.DEFAULTS); cfg.update(base); cfg['seed'] = s
    img, txt, lab = load_dataset(ds); tr, va, te = make_split(ds, lab, s); img, txt = preprocess(ds, img, txt, tr)
    c = T.Ctx(); c.netseed = 0
    c.Xi = torch.tensor(img[tr]); c.Xt = torch.tensor(txt[tr]); c.lab = torch.tensor(lab[tr]); c.n = len(tr)
    cap, clean = inject_noise(c.n, cfg['noise'], s, cfg['noise_kind']); c.cap = torch.tensor(cap)
    rng = np.random.RandomState(s)
    net, opt = T.build(cfg, c, int(lab.max() + 1))
    for ep in range(E):
        T.train_epoch(cfg, c, net, opt, np.arange(c.n), np.ones(c.n), cfg['warm_loss'], True, rng)
        for k in kinds:
            cfg['perpair'] = k; l = T.perpair_loss(cfg, c, net, rng)
            res.setdefault((ep, k), []).append(roc_auc(-l, clean))
            if k == 'nce_all':
                for mx in ('bmm', 'gmm'):
                    cfg['mixture'] = mx; post, _ = T.fit_split(cfg, l)
                    res.setdefault((ep, 'post_' + mx), []).append(roc_auc(post, clean))
                    res.setdefault((ep, 'estnoise_' + mx), []).append(1 - (post > .5).mean())
cols = kinds + ['post_bmm', 'post_gmm', 'estnoise_bmm', 'estnoise_gmm']
print('ep  ' + ' '.join(f'{k:>12s}' for k in cols))
for ep in range(E):
    print(f'{ep+1:3d} ' + ' '.join(f'{np.mean(res[(ep, k)]):12.3f}' for k in cols))
