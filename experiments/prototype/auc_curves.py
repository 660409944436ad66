"""Split AUC per epoch (mean over 3 seeds) from results/<tag>_<ds>.json: warm-up epochs then main epochs.
usage: auc_curves.py TAG DS name1,name2,..."""
import json, sys
import numpy as np
tag, ds, names = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
R = json.load(open(f'results/{tag}_{ds}.json'))
for nm in names:
    runs = R[nm]
    H = [[h for h in r['hist'] if h['phase'] in ('warm', 'main')] for r in runs]
    L = min(len(h) for h in H)
    auc = np.array([[h[i].get('auc', np.nan) for i in range(L)] for h in H]).mean(0)
    W = sum(1 for h in H[0] if h['phase'] == 'warm')
    pts = sorted(set([0, 2, W - 1] + list(range(W - 1, L, 5)) + [L - 1]))
    print(f'{nm:20s} W={W:2d} ' + ' '.join(f'e{p+1}:{auc[p]:.3f}' for p in pts if p < L))
