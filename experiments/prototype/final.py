"""Final comparison table: named configs x 3 seeds on one dataset/noise setting; saves results/<tag>_<ds>.json.
usage: final.py DS [noise] [noise_kind] [tag] [names,comma-separated]"""
import json, os, sys, time
import numpy as np
from train import run
ds = sys.argv[1]; noise = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
kind = sys.argv[3] if len(sys.argv) > 3 else 'shuffle'; tag = sys.argv[4] if len(sys.argv) > 4 else 'main'
only = sys.argv[5].split(',') if len(sys.argv) > 5 else None
base = json.load(open('base.json'))[ds]; base.update(noise=noise, noise_kind=kind)
lr_p = 1e-3 if ds == 'cub' else 3e-4          # val-selected lr of the PCME++ baselines
PC = dict(loss='pcme', head='prob')
REF = dict(method='refurb', **PC, warmup=10, aux_cls=1, aux_all=True, lr=3e-4, lr_main=1e-3, split_src='self', ema=0.9,
           perpair='nce_all', norm='minmax', mixture='bmm', relabel='soft')
NCR = dict(method='ncr', loss='hinge', warm_loss='hinge', head='det', mixture='gmm', perpair='hinge_batch', mono=False, warmup=5)
C = {
  # ---- with labels (class auxiliary)
  'clean_pcme+cls':   dict(method='clean', **PC, aux_cls=1, lr=lr_p),
  'clean_nce+cls':    dict(method='clean', loss='infonce', aux_cls=1),
  'vse_pcme+cls':     dict(method='vse', **PC, aux_cls=1, lr=3e-4),
  'vse_nce+cls':      dict(method='vse', loss='infonce', aux_cls=1),
  'oracle_pcme+cls':  dict(method='oracle', **PC, aux_cls=1, lr=lr_p),
  'ncr+cls':          dict(NCR, aux_cls=1, aux_all=True),
  'refurb+cls':       dict(REF),
  'refurb+cls_rec':   dict(REF, freeze_after=20),   # RECOMMENDED (with labels)
  'refurb+cls_lr3e-4': dict(REF, lr_main=3e-4),
  'refurb+cls_frozen': dict(REF, split_src='frozen', ema=0.0),
  'refurb+cls_cotrain': dict(REF, split_src='peer'),
  'refurb+cls_det':   dict(REF, loss='infonce', head='det', lr_main=3e-4),
  'refurb+cls_ppcls': dict(REF, pp_cls=1.0),
  # ---- without labels
  'clean_pcme':       dict(method='clean', **PC, lr=lr_p),
  'clean_nce':        dict(method='clean', loss='infonce'),
  'vse_pcme':         dict(method='vse', **PC, lr=3e-4),
  'vse_nce':          dict(method='vse', loss='infonce'),
  'oracle_pcme':      dict(method='oracle', **PC, lr=lr_p),
  'ncr':              dict(NCR),
  'naive_bmm':        dict(REF, aux_cls=0, aux_all=False, warmup=5, ema=0.0),   # the yardstick: own BMM posterior every epoch
  'refurb':           dict(REF, aux_cls=0, aux_all=False),
  'refurb_rec':       dict(REF, aux_cls=0, aux_all=False, freeze_after=20),   # RECOMMENDED (no labels)
  'refurb_mod':       dict(REF, aux_cls=0, aux_all=False, aux_mod=0.1),
  'refurb_frozen':    dict(REF, aux_cls=0, aux_all=False, split_src='frozen', ema=0.0),
  'refurb_cotrain':   dict(REF, aux_cls=0, aux_all=False, split_src='peer'),
}
os.makedirs('results', exist_ok=True)
path = f'results/{tag}_{ds}.json'
out = json.load(open(path)) if os.path.exists(path) else {}
for name, cfg in C.items():
    if only and name not in only: continue
    R = []
    for s in [0, 1, 2]:
        c = dict(base); c.update(cfg); c['seed'] = s
        r = run(c); R.append(dict(test=r['test'], auc=r.get('auc'), auc_warm=r.get('auc_warm'), secs=r['secs'],
                                  hist=r['hist'], cfg=r['cfg']))
    out[name] = R
    rs = [r['test']['rsum'] for r in R]; au = [r['auc'] for r in R if r['auc'] is not None]
    print(f"{name:20s} rsum {np.mean(rs):6.1f} ± {np.std(rs):4.1f}  auc {np.mean(au) if au else float('nan'):.3f} ± {np.std(au) if au else 0:.3f}  "
          f"aucw {np.mean([r['auc_warm'] for r in R if r['auc_warm'] is not None]) if au else float('nan'):.3f}  {np.mean([r['secs'] for r in R]):.1f}s", flush=True)
    json.dump(out, open(path, 'w'))
