"""Markdown table from results/<tag>_{wiki,cub}.json: rSum mean ± sd (3 seeds), % of a clean reference, split AUC."""
import json, sys, os
import numpy as np
tag = sys.argv[1]; names = sys.argv[2].split(',') if len(sys.argv) > 2 else None
ref = {'+cls': 'clean_pcme+cls', '': 'clean_pcme'}
D = {ds: json.load(open(f'results/{tag}_{ds}.json')) for ds in ['wiki', 'cub'] if os.path.exists(f'results/{tag}_{ds}.json')}
M = {ds: json.load(open(f'results/main_{ds}.json')) for ds in D}
print('| method | ' + ' | '.join(f'{ds} rSum | {ds} % clean | {ds} AUC (end / warm-up)' for ds in D) + ' |')
print('|---|' + '---|---|---|' * len(D))
allnames = names or list(next(iter(D.values())).keys())
for nm in allnames:
    row = [nm]
    for ds, R in D.items():
        if nm not in R: row += ['', '', '']; continue
        rs = [r['test']['rsum'] for r in R[nm]]
        cref = ref['+cls' if '+cls' in nm else '']
        cr = np.mean([r['test']['rsum'] for r in (R.get(cref) or M[ds][cref])])
        au = [r['auc'] for r in R[nm] if r['auc'] is not None]; aw = [r['auc_warm'] for r in R[nm] if r['auc_warm'] is not None]
        row += [f'{np.mean(rs):.1f} ± {np.std(rs):.1f}', f'{100*np.mean(rs)/cr:.0f}%',
                f'{np.mean(au):.3f} ± {np.std(au):.3f} / {np.mean(aw):.3f}' if au else '—']
    print('| ' + ' | '.join(row) + ' |')
