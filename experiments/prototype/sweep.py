"""Grid over configs, 3 seeds each; prints mean±sd of test rSum, val rSum (clean val), split AUC.
usage: sweep.py BASE_JSON GRID_JSON [seeds]"""
import json, sys, itertools
import numpy as np
from train import run
base = json.loads(sys.argv[1]); grid = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
seeds = json.loads(sys.argv[3]) if len(sys.argv) > 3 else [0, 1, 2]
keys = list(grid)
import os
OUT = os.environ.get('SWEEP_OUT')
if OUT: os.makedirs(OUT, exist_ok=True)
def ms(a): a = [x for x in a if x is not None]; return f"{np.mean(a):6.1f}±{np.std(a):4.1f}" if a else '   -   '
def ms3(a): a = [x for x in a if x is not None]; return f"{np.mean(a):.3f}±{np.std(a):.3f}" if a else '-'
for vals in itertools.product(*[grid[k] for k in keys]):
    R = []
    for s in seeds:
        cfg = dict(base); cfg.update(dict(zip(keys, vals))); cfg['seed'] = s
        R.append(run(cfg))
    print(' '.join(f'{k}={v}' for k, v in zip(keys, vals)),
          f"| test {ms([r['test']['rsum'] for r in R])} val {ms([r['test']['val_rsum'] for r in R])}",
          f"| auc {ms3([r.get('auc') for r in R])} aucw {ms3([r.get('auc_warm') for r in R])}",
          (f"| estN {np.mean([r['hist'][-1]['est_noise'] for r in R]):.2f} prec {np.mean([r['hist'][-1]['prec'] for r in R]):.2f} rec {np.mean([r['hist'][-1]['rec'] for r in R]):.2f}" if R[0].get('auc') is not None else ''),
          f"| {np.mean([r['secs'] for r in R]):.0f}s", flush=True)
    if OUT: json.dump([dict(cfg=r['cfg'], test=r['test'], auc=r.get('auc'), auc_warm=r.get('auc_warm'), hist=r['hist'], secs=r['secs']) for r in R], open(f"{OUT}/{'_'.join(f'{k}={v}' for k, v in zip(keys, vals)) or 'run'}_{base['ds']}.json", 'w'))
