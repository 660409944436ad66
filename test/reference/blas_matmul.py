"""Reference products for the cpu-blas matmul tests: numpy.matmul with numpy's batch broadcasting.

tfjs's reference cpu kernel mishandles batch broadcasting when both operands broadcast (e.g.
[2,1,...] x [1,3,...]), so these cases are checked against numpy instead.

Rerun (deterministic):  python3 test/reference/blas_matmul.py
Writes:                 test/reference/fixtures/backend/matmul_broadcast.json
"""

import json
import os

import numpy as np

CASES = [
    # (a stored shape, b stored shape, transposeA, transposeB)
    ((2, 1, 3, 4), (3, 4, 5), False, False),
    ((1, 3, 4, 2), (2, 1, 4, 3), True, False),
    ((4, 3), (2, 2, 3, 5), False, False),
    ((3, 1, 2, 3), (1, 4, 2, 3), False, True),
    ((2, 1, 5, 2), (1, 3, 4, 5), True, True),
    ((2, 3, 6), (6, 4), False, False),
]


def op(x, t):
    return np.swapaxes(x, -1, -2) if t else x


def main():
    rng = np.random.default_rng(20261123)
    out = []
    for a_shape, b_shape, ta, tb in CASES:
        a = rng.standard_normal(a_shape).astype(np.float32)
        b = rng.standard_normal(b_shape).astype(np.float32)
        c = np.matmul(op(a.astype(np.float64), ta), op(b.astype(np.float64), tb))
        out.append(
            {
                "a": {"shape": list(a_shape), "values": a.ravel().tolist()},
                "b": {"shape": list(b_shape), "values": b.ravel().tolist()},
                "transposeA": ta,
                "transposeB": tb,
                "out": {"shape": list(c.shape), "values": c.ravel().tolist()},
            }
        )
    path = os.path.join(os.path.dirname(__file__), "fixtures", "backend", "matmul_broadcast.json")
    with open(path, "w") as f:
        json.dump({"generator": "test/reference/blas_matmul.py", "cases": out}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
