"""Paired per-seed comparison of two sets of `refurb` grid cells (results.json of `exp:synthetic-noise`
or of a panel dataset folder): for each noise rate both sets hold, the mean rSum of each, the per-seed
difference B − A (mean ± sample sd, standard error), seeds ahead/behind, a two-sided exact sign test,
a paired t-test, and the class-mAP difference (mean of both directions).

    python3 experiments/analysis/paired_refurb.py A1.json[,A2.json…] B1.json[,B2.json…]

Cells are matched on (noise rate, seed); a seed in several files of one side takes the last one.
Needs numpy's companion scipy (python3-scipy).
"""
import json
import math
import sys

from scipy.stats import binomtest, ttest_rel


def load(paths):
    out = {}
    for path in paths:
        for cell in json.load(open(path))["cells"].values():
            if cell["method"] != "refurb":
                continue
            rate = 0 if cell["kind"] is None else cell["rate"]
            m = cell["test"].get("classMAP")
            out[(rate, cell["seed"])] = (cell["test"]["rsum"], None if m is None else (m["i2t"] + m["t2i"]) / 2)
    return out


def main():
    a, b = (load(arg.split(",")) for arg in sys.argv[1:3])
    for rate in sorted({r for r, _ in a}):
        seeds = sorted(s for r, s in a if r == rate and (r, s) in b)
        if len(seeds) < 2:
            continue
        xa = [a[(rate, s)][0] for s in seeds]
        xb = [b[(rate, s)][0] for s in seeds]
        d = [y - x for x, y in zip(xa, xb)]
        n = len(d)
        mean = sum(d) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
        up, down = sum(x > 0 for x in d), sum(x < 0 for x in d)
        sign_p = binomtest(up, up + down).pvalue if up + down else 1.0
        t_p = ttest_rel(xb, xa).pvalue
        maps = [(a[(rate, s)][1], b[(rate, s)][1]) for s in seeds]
        dmap = sum(y - x for x, y in maps) / n if maps[0][0] is not None else float("nan")
        print(
            f"rate {rate}: seeds {n}, A {sum(xa) / n:.2f}, B {sum(xb) / n:.2f}, B − A {mean:+.2f} ± {sd:.2f} "
            f"(se {sd / math.sqrt(n):.2f}), ahead/behind {up}/{down}, sign p {sign_p:.3f}, t p {t_p:.3f}, "
            f"class mAP {dmap:+.4f}"
        )


if __name__ == "__main__":
    main()
