import json, sys
import numpy as np
import train as T
from common import *
ds = sys.argv[1]; E = int(sys.argv[2])
cfg = dict(T.DEFAULTS); cfg.update(json.load(open('base.json'))[ds]); s = 0
img, txt, lab = load_dataset(ds); tr, va, te = make_split(ds, lab, s); img, txt = preprocess(ds, img, txt, tr)
c = T.Ctx(); c.netseed = 0
c.Xi = torch.tensor(img[tr]); c.Xt = torch.tensor(txt[tr]); c.lab = torch.tensor(lab[tr]); c.n = len(tr)
cap, clean = inject_noise(c.n, 0.5, s); c.cap = torch.tensor(cap)
rng = np.random.RandomState(s); net, opt = T.build(cfg, c, 10)
for ep in range(E): T.train_epoch(cfg, c, net, opt, np.arange(c.n), np.ones(c.n), 'infonce', False, rng)
for k in ['nce_all', 'hinge_batch', 'rank']:
    cfg['perpair'] = k; l = T.perpair_loss(cfg, c, net, rng)
    for nm in ['minmax', 'pct']:
        x = normalise(l, nm)
        h = np.histogram(x, bins=10, range=(0, 1))[0]
        hc = np.histogram(x[clean], bins=10, range=(0, 1))[0]
        m = BetaMixture().fit(x); p = m.clean_posterior(x)
        print(k, nm, 'hist', h, 'clean', hc)
        print('   a', m.a.round(2), 'b', m.b.round(2), 'w', m.w.round(2), 'auc raw', round(roc_auc(p, clean), 3), 'mono', round(roc_auc(monotone(p, l), clean), 3), 'est', (p > .5).mean().round(2))
