"""PyTorch reference for `npm run bench -- trainer`: cleave's `vse` recipe on the same data, same cores.

Run by experiments/bench/trainer.ts when `/usr/bin/python3 -c 'import torch'` works (Debian:
`apt-get install python3-torch`); never needed by tests or CI. By hand:
    /usr/bin/python3 experiments/bench/torch_trainer.py '{"train": ".../f30k_train_ims.mean.npy",
      "trainCaps": ".../train_caps.npy", "dev": ".../f30k_dev_ims.mean.npy", "devCaps": ".../dev_caps.npy",
      "epochs": 2, "threads": 2}'
Prints one JSON object: {"version", "threads", "epochs": [seconds, ...], "trainSeconds", "validationSeconds"}.

The recipe (cleave's trainer defaults for `vse`): inputs standardised with the training features' mean
and 1/std; per modality Linear(D, 256) -> LayerNorm -> ReLU -> Dropout(0.5) -> Linear(256, 128), L2
normalised; symmetric InfoNCE with a learnable logit scale exp(s), s = ln(1/0.1), clipped at 100;
Adam lr 3e-4; batch 128, 5 captions per image, each caption one pair, shuffled every epoch; after
each epoch the validation split is embedded and ranked both ways (R@1/5/10), as cleave validates.
"""

import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


class Encoder(torch.nn.Module):
    def __init__(self, x, hidden=256, embed=128, dropout=0.5):
        super().__init__()
        mean = x.mean(0)
        std = np.maximum(x.std(0), 1e-6)
        self.register_buffer("shift", torch.from_numpy(mean.astype(np.float32)))
        self.register_buffer("scale", torch.from_numpy((1.0 / std).astype(np.float32)))
        self.fc1 = torch.nn.Linear(x.shape[1], hidden)
        self.norm = torch.nn.LayerNorm(hidden)
        self.drop = torch.nn.Dropout(dropout)
        self.fc2 = torch.nn.Linear(hidden, embed)

    def forward(self, x):
        h = (x - self.shift) * self.scale
        h = self.drop(F.relu(self.norm(self.fc1(h))))
        return F.normalize(self.fc2(h), dim=1)


def recalls(img, cap, per):
    sims = img @ cap.T  # images x captions
    n = img.shape[0]
    order = torch.argsort(sims, dim=1, descending=True)
    owner = torch.arange(cap.shape[0]) // per
    hit = owner[order] == torch.arange(n)[:, None]
    i2t = hit.float().argmax(1)
    order_t = torch.argsort(sims.T, dim=1, descending=True)
    t2i = (order_t == owner[:, None]).float().argmax(1)
    return sum(float((r < k).float().mean()) * 100 for r in (i2t, t2i) for k in (1, 5, 10))


def main():
    o = json.loads(sys.argv[1])
    torch.set_num_threads(int(o.get("threads", 1)))
    torch.manual_seed(0)
    ims = np.load(o["train"], mmap_mode="r")
    caps = np.load(o["trainCaps"], mmap_mode="r")
    ims = np.array(ims, dtype=np.float32)
    caps = np.array(caps, dtype=np.float32)
    per = caps.shape[0] // ims.shape[0]
    dev = torch.from_numpy(np.ascontiguousarray(np.load(o["dev"]), dtype=np.float32))
    dev_caps = torch.from_numpy(
        np.array(np.load(o["devCaps"], mmap_mode="r")[: dev.shape[0] * per], dtype=np.float32)
    )
    image_enc = Encoder(ims)
    text_enc = Encoder(caps)
    logit = torch.nn.Parameter(torch.tensor(math.log(1 / 0.1)))
    params = list(image_enc.parameters()) + list(text_enc.parameters()) + [logit]
    opt = torch.optim.Adam(params, lr=3e-4)
    ims_t = torch.from_numpy(ims)
    caps_t = torch.from_numpy(caps)
    owner = torch.arange(caps.shape[0]) // per
    batch = int(o.get("batch", 128))
    epochs, train_s, val_s = [], [], []
    for _ in range(int(o["epochs"])):
        t0 = time.perf_counter()
        image_enc.train()
        text_enc.train()
        perm = torch.randperm(caps.shape[0])
        for b in range(0, caps.shape[0], batch):
            idx = perm[b : b + batch]
            u = image_enc(ims_t[owner[idx]])
            v = text_enc(caps_t[idx])
            scale = logit.exp().clamp(max=100)
            s = scale * (u @ v.T)
            target = torch.arange(s.shape[0])
            loss = 0.5 * (F.cross_entropy(s, target) + F.cross_entropy(s.T, target))
            opt.zero_grad()
            loss.backward()
            opt.step()
        t1 = time.perf_counter()
        image_enc.eval()
        text_enc.eval()
        with torch.no_grad():
            recalls(image_enc(dev), text_enc(dev_caps), dev_caps.shape[0] // dev.shape[0])
        t2 = time.perf_counter()
        epochs.append(t2 - t0)
        train_s.append(t1 - t0)
        val_s.append(t2 - t1)
    print(
        json.dumps(
            {
                "version": torch.__version__,
                "threads": torch.get_num_threads(),
                "epochs": epochs,
                "trainSeconds": train_s,
                "validationSeconds": val_s,
            }
        )
    )


if __name__ == "__main__":
    main()
