"""PyTorch reference for `npm run bench -- backend`: the same sgemm sizes and the same training step.

Run by experiments/bench/backend.ts when `/usr/bin/python3 -c 'import torch'` works (Debian:
`apt-get install python3-torch`); never needed by tests or CI. By hand:
    /usr/bin/python3 experiments/bench/torch_reference.py '{"threads": 2, "batches": [128, 1024], "steps": 10, "warmup": 3}'
Prints one JSON object: {"version", "threads", "sgemm": {"1024": GFLOP/s, ...}, "step": {"128": pairs/s, ...}}.

The step: image head Linear 2048->1024, text head Linear 768->1024, both L2-normalised; loss = mean of
relu(0.2 + S - diag(S)) over the in-batch similarity matrix S = u v^T (positives on the diagonal,
row-wise); Adam lr 1e-3; random inputs; median of `steps` timed steps after `warmup` steps.
"""

import json
import statistics
import sys
import time

import torch


def sgemm_gflops(n, reps):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    torch.mm(a, b)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def step_pairs_per_s(batch, steps, warmup, seed=0):
    torch.manual_seed(seed)
    image = torch.nn.Linear(2048, 1024)
    text = torch.nn.Linear(768, 1024)
    opt = torch.optim.Adam(list(image.parameters()) + list(text.parameters()), lr=1e-3)
    x = torch.randn(batch, 2048)
    y = torch.randn(batch, 768)

    def step():
        u = torch.nn.functional.normalize(image(x), dim=1)
        v = torch.nn.functional.normalize(text(y), dim=1)
        s = u @ v.t()
        d = (u * v).sum(dim=1, keepdim=True)
        loss = torch.relu(0.2 + s - d).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return batch / statistics.median(times)


def main():
    cfg = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    threads = int(cfg.get("threads", torch.get_num_threads()))
    torch.set_num_threads(threads)
    out = {
        "version": torch.__version__,
        "threads": threads,
        "sgemm": {str(n): sgemm_gflops(n, int(cfg.get("sgemmReps", 5))) for n in cfg.get("sizes", [1024, 2048])},
        "step": {
            str(b): step_pairs_per_s(b, int(cfg.get("steps", 10)), int(cfg.get("warmup", 3)))
            for b in cfg.get("batches", [128, 1024])
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
