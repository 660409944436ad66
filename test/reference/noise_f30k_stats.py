"""Statistics of the two published Flickr30K noise index files (copied to fixtures/noise/ from
/work/shared/data/noise-index-f30k; see its SOURCE.md), computed with NumPy following each paper's data
loader, for test/noise/noise-index.test.ts:

- caption-level (NCR/BiCro `t2i_index`): caption j (clean image j // 5) is paired with image t2i[j].
- image-level (RCL `noisy_inx`, RCL-SGRAF/data.py: `img_id = self.noisy_inx[int(index / self.im_div)]`):
  caption j is paired with image noisy_inx[j // 5].

Partial/complete uses synthetic class labels label(image) = image % 7 (the test builds the same).

Rerun (deterministic): python3 test/reference/noise_f30k_stats.py
"""
import hashlib
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures", "noise")

cap = np.load(os.path.join(FIX, "caption-level_f30k_0.2.npy"))
img = np.load(os.path.join(FIX, "image-level_f30k_0.2.npy"))
n_img = 29000
clean = np.arange(145000) // 5


def stats(paired):
    noisy = paired != clean
    lab_new = paired % 7
    lab_old = clean % 7
    partial = noisy & (lab_new == lab_old)
    return {
        "noisyPairs": int(noisy.sum()),
        "partial": int(partial.sum()),
        "complete": int((noisy & ~partial).sum()),
        "imagesWithNoisyCaption": int(len(np.unique(clean[noisy]))),
        "pairedSha256": hashlib.sha256(paired.astype("<i4").tobytes()).hexdigest(),
    }


out = {
    "caption-level": {"entries": int(cap.size), "dtype": str(cap.dtype), **stats(cap)},
    "image-level": {
        "entries": int(img.size),
        "dtype": str(img.dtype),
        "movedImages": int((img != np.arange(n_img)).sum()),
        "isPermutation": bool(np.array_equal(np.sort(img), np.arange(n_img))),
        **stats(img[clean]),
    },
}
with open(os.path.join(FIX, "f30k_stats.json"), "w") as f:
    json.dump(out, f, indent=1)
print(json.dumps(out, indent=1))
