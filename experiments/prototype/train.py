"""Prototype trainer: vse / clean / oracle / ncr / refurb with every component switchable.

Usage (one run):  /usr/bin/python3 train.py '{"ds":"wiki","method":"refurb","seed":0}'
As a library:     from train import run; res = run(dict(ds='wiki', method='vse'))
"""
import copy, json, sys, time
import numpy as np
import torch
import torch.nn.functional as F
from common import *

DEFAULTS = dict(
    ds='wiki', seed=0, noise=0.5, noise_kind='shuffle',
    method='refurb',          # vse | clean | oracle | ncr | refurb
    # model
    d=64, width=256, depth=2, dropout=0.1, ln=True,
    head='prob',              # head used after warm-up (retrain): det | prob
    a0=5.0, b0=5.0, kl_w=1e-4, pseudo_w=0.0, logvar_init=-5.0,
    # optimisation
    lr=2e-4, lr_main=0.0, bs=128, epochs=60, wd=0.0,   # lr_main: lr after warm-up (0 = same)
    warm_loss='infonce',      # loss in warm-up: hinge | infonce | pcme
    loss='pcme',              # loss after warm-up: hinge | infonce | pcme
    alpha=0.2, tau0=0.1, learn_tau=True,
    warmup=5,
    # aux tasks (warm-up only unless aux_all)
    aux_cls=0.0, cls_scale=10.0, cls_w='y', aux_mod=0.0, aux_all=False,
    # split
    perpair='nce_all', pp_bs=128, pp_tau=0.1, norm='minmax', mixture='bmm', mono=True,
    ema=0.0,                  # EMA factor on per-pair losses across epochs (0 = off)
    split_src='self',         # self (naive) | peer (co-training) | frozen (warm-up model, once) | heldout (K-fold)
    heldout=5, fold_epochs=0, # K folds; epochs per fold model (0 = warmup)
    refresh=0, refresh_soft=True,  # heldout: recompute the K-fold losses every `refresh` epochs, folds trained on P(clean)
    pp_cls=0.0,               # add pp_cls * CE(caption class, pair label) to the per-pair loss (uses labels)
    track_self=False,
    freeze_after=0,           # >0: stop recomputing the split this many epochs after warm-up (keep the last one)
    # relabel
    relabel='soft',           # soft (y=post) | hard (post>thr) | ncr (y=w+(1-w)p_model on clean, p_model on noisy)
    thr=0.5, floor=0.0,       # pairs with post < floor are dropped (y=0 weight 0)
    noisy_late=True,          # ncr: noisy pairs enter only in the second half
    reinit=False,             # re-initialise the net after warm-up (retrain from scratch on the labels)
    eval_score='csd',         # prob head retrieval score: csd (-closed-form distance) | mu (cosine of means)
    log_every=1, verbose=False,
)


def batches(n, bs, rng, drop_last=True):
    p = rng.permutation(n)
    out = [p[i:i + bs] for i in range(0, n, bs)]
    if drop_last and len(out) > 1 and len(out[-1]) < bs // 2:
        out[-2] = np.concatenate([out[-2], out[-1]]); out = out[:-1]
    return out


class Ctx:
    pass


def build(cfg, c, nclass):
    torch.manual_seed(cfg['seed'] * 1000 + c.netseed); c.netseed += 1
    net = Net(c.Xi.shape[1], c.Xt.shape[1], cfg['d'], cfg['width'], cfg['depth'], cfg['dropout'], cfg['ln'],
              head='det', nclass=nclass, a0=cfg['a0'], b0=cfg['b0'], tau0=cfg['tau0'], logvar_init=cfg['logvar_init'])
    if not cfg['learn_tau']: net.log_tau.requires_grad_(False)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=cfg['lr'], weight_decay=cfg['wd'])
    return net, opt


def batch_loss(cfg, net, lossname, xi, xt, y, lab, aux):
    e = net.embed(xi, xt)
    mi, vi, mt, vt = e
    if lossname == 'hinge':
        L = loss_hinge(mi @ mt.t(), y, cfg['alpha'])
    elif lossname == 'infonce':
        L = loss_infonce(mi @ mt.t(), y, net.log_tau.exp())
    elif lossname == 'pcme':
        L = loss_pcmepp(net.match_logit(e), y, cfg['pseudo_w'])
        L = L + cfg['kl_w'] * (kl_std_normal(mi, vi) + kl_std_normal(mt, vt))
    if aux and cfg['aux_cls'] > 0:
        sc = cfg['cls_scale']
        ci = F.cross_entropy(sc * net.cls(mi), lab, reduction='none'); ct = F.cross_entropy(sc * net.cls(mt), lab, reduction='none')
        wi = torch.ones_like(y) if cfg['cls_w'] == 'img_full' else y  # image keeps its label; caption's label only as good as the pair
        L = L + cfg['aux_cls'] * 0.5 * ((wi * ci).mean() + (y * ct).mean())
    if aux and cfg['aux_mod'] > 0:
        # modality classifier with gradient reversal: pushes the shared space to be modality-invariant
        z = torch.cat([grad_reverse(mi), grad_reverse(mt)])
        t = torch.cat([torch.zeros(len(mi)), torch.ones(len(mt))])
        L = L + cfg['aux_mod'] * F.binary_cross_entropy_with_logits(net.mod(z).squeeze(-1), t)
    return L


class _GR(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x): return x.view_as(x)

    @staticmethod
    def backward(ctx, g): return -g


def grad_reverse(x): return _GR.apply(x)


def train_epoch(cfg, c, net, opt, idx, y, lossname, aux, rng):
    """one epoch over pairs idx (positions into the training arrays) with targets y (len(idx))."""
    net.train()
    keep = y > 0 if cfg['floor'] > 0 else np.ones(len(idx), bool)
    idx, y = idx[keep], y[keep]
    tot = 0.0
    for b in batches(len(idx), cfg['bs'], rng):
        ii = idx[b]
        L = batch_loss(cfg, net, lossname, c.Xi[ii], c.Xt[c.cap[ii]], torch.tensor(y[b], dtype=torch.float32),
                       c.lab[ii], aux)
        opt.zero_grad(); L.backward(); opt.step(); tot += L.item()
    return tot


@torch.no_grad()
def embed_all(net, Xi, Xt):
    net.eval(); return net.embed(Xi, Xt)


@torch.no_grad()
def perpair_loss(cfg, c, net, rng, idx=None):
    """per-pair loss of training pairs (positions idx; default all) with net in eval mode."""
    if idx is None: idx = np.arange(c.n)
    e = embed_all(net, c.Xi[idx], c.Xt[c.cap[idx]])
    mi, vi, mt, vt = e
    n = len(idx); kind = cfg['perpair']
    if kind in ('nce_all', 'rank', 'cos', 'bce_all'):
        if kind == 'cos': return (1 - (mi * mt).sum(-1)).numpy()
        if kind == 'bce_all':
            return F.softplus(-net.match_logit(e, pairwise=False)).numpy()
        S = mi @ mt.t()
        if kind == 'nce_all':
            L = S / cfg['pp_tau']; t = torch.arange(n)
            return (0.5 * (F.cross_entropy(L, t, reduction='none') + F.cross_entropy(L.t(), t, reduction='none'))).numpy()
        d = S.diag()
        return (0.5 * ((S > d[:, None]).sum(1) + (S > d[None, :]).sum(0)).float() / n).numpy()
    out = np.zeros(n)
    for b in batches(n, cfg['pp_bs'], rng, drop_last=True):
        bt = torch.as_tensor(b)
        S = mi[bt] @ mt[bt].t(); B = len(b)
        if kind == 'hinge_batch':
            dg = S.diag(); Sm = S.masked_fill(torch.eye(B, dtype=torch.bool), -1e9)
            ci = (cfg['alpha'] + Sm - dg[:, None]).clamp_min(0).max(1)[0]
            ct = (cfg['alpha'] + Sm - dg[None, :]).clamp_min(0).max(0)[0]
            out[b] = (ci + ct).numpy()
        elif kind == 'nce_batch':
            L = S / cfg['pp_tau']; t = torch.arange(B)
            out[b] = (0.5 * (F.cross_entropy(L, t, reduction='none') + F.cross_entropy(L.t(), t, reduction='none'))).numpy()
        elif kind == 'bce_batch':
            lg = net.match_logit((mi[bt], vi[bt], mt[bt], vt[bt]))
            T = torch.eye(B)
            out[b] = F.binary_cross_entropy_with_logits(lg, T, reduction='none').diag().numpy()
    return out


@torch.no_grad()
def p_model(cfg, net, c, idx, rng):
    """NCR-style model match probability per pair: clamp(alpha - mean hardest-neg hinge, 0, alpha), /mean of top 10%
    within each batch, capped at 1."""
    e = embed_all(net, c.Xi[idx], c.Xt[c.cap[idx]]); mi, _, mt, _ = e
    out = np.zeros(len(idx))
    for b in batches(len(idx), cfg['bs'], rng, drop_last=True):
        bt = torch.as_tensor(b); S = mi[bt] @ mt[bt].t(); B = len(b); dg = S.diag()
        Sm = S.masked_fill(torch.eye(B, dtype=torch.bool), -1e9)
        ci = (cfg['alpha'] + Sm - dg[:, None]).clamp_min(0).max(1)[0]
        ct = (cfg['alpha'] + Sm - dg[None, :]).clamp_min(0).max(0)[0]
        p = (cfg['alpha'] - (ci + ct) / 2).clamp(0, cfg['alpha'])
        top = p.sort()[0][-(B // 10 + 1):].mean()
        out[b] = (p / top.clamp_min(1e-8)).clamp(0, 1).numpy()
    return out


def fit_split(cfg, loss):
    x = normalise(loss, cfg['norm'])
    mix = (BetaMixture() if cfg['mixture'] == 'bmm' else GaussMixture()).fit(x)
    post = mix.clean_posterior(x)
    if cfg['mono']: post = monotone(post, loss)
    return post, mix


EVAL_SCORE = ['csd']


@torch.no_grad()
def evaluate(net, c, score=None):
    e = embed_all(net, c.Ti, c.Tt)
    score = score or EVAL_SCORE[0]
    if score == 'mu' or net.head == 'det':
        S = e[0] @ e[2].t()
    else:
        S = net.sim(e)
    return recalls(S.numpy())


def run(cfg_in):
    cfg = dict(DEFAULTS); cfg.update(cfg_in)
    EVAL_SCORE[0] = cfg['eval_score']
    t0 = time.time()
    img, txt, lab = load_dataset(cfg['ds'])
    tr, va, te = make_split(cfg['ds'], lab, cfg['seed'])
    img, txt = preprocess(cfg['ds'], img, txt, tr)
    c = Ctx(); c.netseed = 0
    c.Xi = torch.tensor(img[tr]); c.Xt = torch.tensor(txt[tr]); c.lab = torch.tensor(lab[tr])
    c.Ti = torch.tensor(img[te]); c.Tt = torch.tensor(txt[te])
    c.Vi = torch.tensor(img[va]); c.Vt = torch.tensor(txt[va])
    c.n = n = len(tr)
    nclass = int(lab.max() + 1)
    meth = cfg['method']
    rate = 0.0 if meth == 'clean' else cfg['noise']
    cap, clean = inject_noise(n, rate, cfg['seed'], cfg['noise_kind'])
    c.cap = torch.tensor(cap)
    rng = np.random.RandomState(cfg['seed'] + 4242)
    src = cfg['split_src'] if meth == 'refurb' else 'peer'
    two = (meth == 'ncr') or src == 'peer'
    nets = [build(cfg, c, nclass) for _ in range(2 if two else 1)]
    hist = []
    allidx = np.arange(n)
    E, W = cfg['epochs'], cfg['warmup']
    if meth in ('vse', 'clean', 'oracle'):
        W = E
        for net, _ in nets: net.head = cfg['head']
    idx0 = np.where(clean)[0] if meth == 'oracle' else allidx
    wl = cfg['warm_loss'] if meth in ('ncr', 'refurb') else cfg['loss']
    # ---------------- warm-up (multi-task: aux losses on)
    for ep in range(W):
        for net, opt in nets:
            train_epoch(cfg, c, net, opt, idx0, np.ones(len(idx0)), wl, True, rng)
        rec = dict(ep=ep, phase='warm')
        if meth in ('ncr', 'refurb'):
            l = pair_scores(cfg, c, nets[0][0], rng); rec['loss_auc'] = roc_auc(-l, clean)
            post, _ = fit_split(cfg, l); rec['auc'] = roc_auc(post, clean)
        if cfg['verbose'] or ep == W - 1: rec.update(evaluate(nets[0][0], c))
        hist.append(rec)
        if cfg['verbose']: print(rec, flush=True)
    if meth not in ('ncr', 'refurb'):
        return finish(cfg, c, nets, hist, t0, clean)
    # ---------------- split sources
    K = cfg['heldout']
    folds = rng.permutation(n) % max(K, 1)

    def heldout_losses(weights):
        """K-fold: each fold's pairs scored by a model trained (fresh, W epochs, aux on) on the other folds'
        pairs weighted by `weights` (1 = all pairs equally)."""
        out = np.zeros(n)
        for k in range(K):
            fnet, fopt = build(cfg, c, nclass); tk = np.where(folds != k)[0]
            for _ in range(cfg['fold_epochs'] or W):
                train_epoch(cfg, c, fnet, fopt, tk, weights[tk], cfg['warm_loss'], True, rng)
            ik = np.where(folds == k)[0]
            out[ik] = pair_scores(cfg, c, fnet, rng, ik)
        return out

    frozen = None
    if src == 'heldout':
        frozen = heldout_losses(np.ones(n))
        hist.append(dict(ep=W, phase='heldout', loss_auc=roc_auc(-frozen, clean)))
    elif src in ('frozen', 'truth'):
        frozen = pair_scores(cfg, c, nets[0][0], rng)
    if cfg['reinit']:
        nets_old = nets; nets = [build(cfg, c, nclass) for _ in nets]
    for net, opt in nets:
        net.head = cfg['head']
        if cfg['lr_main'] > 0:
            for g in opt.param_groups: g['lr'] = cfg['lr_main']
    ema = [None] * len(nets)
    post_prev = None
    # ---------------- per epoch: per-pair loss -> mixture -> relabel -> train
    for ep in range(W, E):
        labels = []
        for k in range(len(nets)):
            if src in ('heldout', 'frozen', 'truth'):
                if src == 'heldout' and cfg['refresh'] and ep > W and (ep - W) % cfg['refresh'] == 0:
                    frozen = heldout_losses(np.maximum(post_prev, cfg['floor']) if cfg['refresh_soft'] else (post_prev > .5).astype(float))
                l = frozen
            elif cfg['freeze_after'] and ep >= W + cfg['freeze_after']:
                l = labels_prev[k][1]  # split frozen: keep the last per-pair losses
            else:
                scorer = nets[1 - k][0] if src == 'peer' else nets[k][0]
                if cfg['reinit'] and ep == W: scorer = (nets_old[1 - k] if src == 'peer' else nets_old[k])[0]
                l = pair_scores(cfg, c, scorer, rng)
            if cfg['ema'] > 0 and not (cfg['freeze_after'] and ep >= W + cfg['freeze_after']):
                ema[k] = l if ema[k] is None else cfg['ema'] * ema[k] + (1 - cfg['ema']) * l
                l = ema[k]
            post, mix = fit_split(cfg, l)
            if src == 'truth': post = clean.astype(float)
            labels.append((post, l))
        post_prev = labels[0][0]; labels_prev = labels
        for k, (net, opt) in enumerate(nets):
            post, l = labels[k]
            if meth == 'ncr' or cfg['relabel'] == 'ncr':
                cl = np.where(post > cfg['thr'])[0]; no = np.where(post <= cfg['thr'])[0]
                pm = p_model(cfg, net, c, cl, rng)
                y = post[cl] + (1 - post[cl]) * pm
                train_epoch(cfg, c, net, opt, cl, y, cfg['loss'], cfg['aux_all'], rng)
                if len(no) and (not cfg['noisy_late'] or ep >= E // 2):
                    pu = np.mean([p_model(cfg, nn_, c, no, rng) for nn_, _ in nets], 0)
                    train_epoch(cfg, c, net, opt, no, pu, cfg['loss'], cfg['aux_all'], rng)
            else:
                if cfg['relabel'] == 'hard': y = (post > cfg['thr']).astype(float)
                elif cfg['relabel'] == 'blend':  # y = w + (1-w) p_model, model's own refurbishment
                    y = post + (1 - post) * p_model(cfg, net, c, allidx, rng)
                else: y = post.copy()
                if cfg['floor'] > 0: y[post < cfg['floor']] = 0
                train_epoch(cfg, c, net, opt, allidx, y, cfg['loss'], cfg['aux_all'], rng)
        post0, l0 = labels[0]
        rec = dict(ep=ep, phase='main', auc=roc_auc(post0, clean), loss_auc=roc_auc(-l0, clean),
                   est_noise=float(1 - (post0 > 0.5).mean()),
                   prec=float(clean[post0 > .5].mean()) if (post0 > .5).any() else float('nan'),
                   rec=float((post0[clean] > .5).mean()))
        if cfg['track_self']:  # AUC of the in-sample loss of the trained net (confirmation-bias monitor)
            ls = pair_scores(cfg, c, nets[0][0], rng); rec['self_auc'] = roc_auc(-ls, clean)
        if cfg['verbose'] or ep == E - 1 or (ep - W) % 5 == 0: rec.update(evaluate(nets[0][0], c))
        hist.append(rec)
        if cfg['verbose']: print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in rec.items()}, flush=True)
    return finish(cfg, c, nets, hist, t0, clean)


def finish(cfg, c, nets, hist, t0, clean):
    res = evaluate(nets[0][0], c)
    c.Ti, c.Tt, c.Vi, c.Vt = c.Vi, c.Vt, c.Ti, c.Tt
    res['val_rsum'] = evaluate(nets[0][0], c)['rsum']
    c.Ti, c.Tt, c.Vi, c.Vt = c.Vi, c.Vt, c.Ti, c.Tt
    if len(nets) == 2:
        res['rsum_net2'] = evaluate(nets[1][0], c)['rsum']
    out = dict(cfg=cfg, test=res, hist=hist, secs=time.time() - t0)
    if cfg['method'] in ('ncr', 'refurb'):
        m = [h for h in hist if h['phase'] == 'main']
        out['auc'] = m[-1]['auc'] if m else None
        out['auc_warm'] = [h for h in hist if h['phase'] == 'warm'][-1].get('auc')
        ho = [h for h in hist if h['phase'] == 'heldout']
        if ho: out['auc_heldout'] = ho[0]['loss_auc']
    return out


@torch.no_grad()
def pair_scores(cfg, c, net, rng, idx=None):
    """The per-pair loss used for the split (higher = more likely noisy).
    Matching part (cfg.perpair) of pairs idx; 'nce_all'/'rank' score each pair against ALL training items.
    Plus pp_cls * CE(caption class prediction, pair label) when pp_cls > 0 (needs labels)."""
    if idx is None: idx = np.arange(c.n)
    if cfg['perpair'] in ('nce_all', 'rank'):
        l = perpair_loss_against_all(cfg, c, net, idx)
    else:
        l = perpair_loss(cfg, c, net, rng, idx)
    if cfg['pp_cls'] > 0:
        e = embed_all(net, c.Xi[idx], c.Xt[c.cap[idx]])
        l = l + cfg['pp_cls'] * F.cross_entropy(cfg['cls_scale'] * net.cls(e[2]), c.lab[idx], reduction='none').numpy()
    return l


@torch.no_grad()
def perpair_loss_against_all(cfg, c, net, idx):
    """held-out pairs scored against all training items (the model did not see idx)."""
    e = embed_all(net, c.Xi, c.Xt[c.cap]); mi, _, mt, _ = e
    S = mi @ mt.t(); it = torch.as_tensor(idx)
    if cfg['perpair'] == 'nce_all':
        L = S / cfg['pp_tau']
        li = F.cross_entropy(L[it], it, reduction='none'); lt = F.cross_entropy(L.t()[it], it, reduction='none')
        return (0.5 * (li + lt)).numpy()
    d = S.diag()[it]
    return (0.5 * ((S[it] > d[:, None]).sum(1) + (S[:, it] > d[None, :]).sum(0)).float() / c.n).numpy()


if __name__ == '__main__':
    over = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    cfg = json.load(open('base.json'))[over.get('ds', 'wiki')]; cfg.update(over)
    r = run(cfg)
    print(json.dumps(dict(test=r['test'], auc=r.get('auc'), auc_warm=r.get('auc_warm'), secs=r['secs'])))
