/**
 * The noise generators on plain arrays (the dataset glue is in `inject.ts`). Each takes the clean
 * caption→image map of the covered pairs and returns the noisy one.
 *
 * - {@link shuffleCaptions} — caption-level (NCR): `⌊rate·N⌋` captions are picked and their images
 *   permuted among them. With `derange` (default) the permutation is repaired so that no picked caption
 *   keeps its own image, hence exactly that many pairs become noisy; NCR's plain shuffle leaves the few
 *   that land on their own image clean (and so realises a slightly lower rate).
 * - {@link shuffleImages} — image-level (DECL, RCL): `⌊rate·M⌋` images are picked and permuted among
 *   themselves (a derangement by default), so all captions of a picked image go wrong together.
 * - {@link hardCaptions} — `⌊rate·N⌋` captions are each re-paired with one of their image's k nearest
 *   neighbour images (realistic, semantically close noise).
 *
 * A count of 1 is raised to 2 where possible, since one item cannot be permuted away from itself.
 *
 * @example
 * ```ts
 * import { Rng } from 'cleave';
 * import { shuffleCaptions } from 'cleave/noise';
 * const clean = Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3]);
 * const noisy = shuffleCaptions(clean, 4, 0.5, new Rng(7));   // 4 of the 8 captions now on another image
 * ```
 */
import type { Rng } from '../core/random.js';

/**
 * `0..n-1` rearranged so that its first `m` entries are a uniformly random sample in random order (a
 * partial Fisher–Yates shuffle: m random draws instead of n). The rest is in no particular order.
 */
function pickFirst(n: number, m: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let t = 0; t < m; t++) {
    const s = t + rng.int(n - t);
    const tmp = order[t]!;
    order[t] = order[s]!;
    order[s] = tmp;
  }
  return order;
}

function pickCount(rate: number, n: number): number {
  const m = Math.floor(rate * n + 1e-9);
  return m === 1 && n >= 2 ? 2 : Math.min(m, n);
}

/**
 * Caption-level shuffle (see the module documentation).
 *
 * @param clean clean image index per caption
 * @param numImages number of images
 * @param rate fraction of captions to re-pair
 * @param rng the random stream
 * @param derange make every picked caption land on another image (default true)
 * @returns the noisy map (a new array)
 */
export function shuffleCaptions(
  clean: Int32Array,
  numImages: number,
  rate: number,
  rng: Rng,
  derange = true,
): Int32Array {
  const n = clean.length;
  const m = pickCount(rate, n);
  const order = pickFirst(n, m, rng);
  const picked = order.slice(0, m);
  if (derange && m >= 2) balancePick(clean, numImages, picked, order.subarray(m), rng);
  const images = picked.map((j) => clean[j]!);
  rng.shuffle(images);
  if (derange) {
    for (let t = 0; t < m; t++) {
      const own = clean[picked[t]!]!;
      if (images[t] !== own) continue;
      const start = rng.int(m);
      for (let q = 0; q < m; q++) {
        const s = (start + q) % m;
        if (images[s] !== own && clean[picked[s]!]! !== images[t]) {
          images[t] = images[s]!;
          images[s] = own;
          break;
        }
      }
    }
  }
  const out = clean.slice();
  for (let t = 0; t < m; t++) out[picked[t]!] = images[t]!;
  return out;
}

/**
 * A derangement of the picked captions' images exists iff no image holds more than half of them. When
 * one does (tiny sets, or many captions per image), swap its surplus for unpicked captions of images with
 * room, scanning `rest` from a random start.
 */
function balancePick(
  clean: Int32Array,
  numImages: number,
  picked: Int32Array,
  rest: Int32Array,
  rng: Rng,
): void {
  const m = picked.length;
  const half = Math.floor(m / 2);
  const count = new Int32Array(numImages);
  let worst = -1;
  for (let t = 0; t < m; t++) {
    const a = clean[picked[t]!]!;
    count[a]! += 1;
    if (count[a]! > half) worst = a;
  }
  if (worst < 0) return;
  let surplus = count[worst]! - half;
  let t = 0;
  const start = rest.length > 0 ? rng.int(rest.length) : 0;
  for (let q = 0; q < rest.length && surplus > 0; q++) {
    const u = rest[(start + q) % rest.length]!;
    const b = clean[u]!;
    if (b === worst || count[b]! >= half) continue;
    while (clean[picked[t]!] !== worst) t++;
    picked[t] = u;
    count[b]! += 1;
    count[worst]! -= 1;
    surplus--;
  }
}

/**
 * Image-level shuffle (see the module documentation).
 *
 * @param clean clean image index per caption
 * @param numImages number of images
 * @param rate fraction of images to permute
 * @param rng the random stream
 * @param derange make every picked image move (default true)
 * @returns the image permutation (`perm[i]`: the image now shown with image i's captions) and the noisy map
 */
export function shuffleImages(
  clean: Int32Array,
  numImages: number,
  rate: number,
  rng: Rng,
  derange = true,
): { permutation: Int32Array; captionToImage: Int32Array } {
  const m = pickCount(rate, numImages);
  const picked = pickFirst(numImages, m, rng).slice(0, m);
  const target = picked.slice();
  rng.shuffle(target);
  if (derange && m >= 2) {
    for (let t = 0; t < m; t++) {
      if (target[t] !== picked[t]) continue;
      const s = (t + 1 + rng.int(m - 1)) % m;
      target[t] = target[s]!;
      target[s] = picked[t]!;
    }
  }
  const permutation = new Int32Array(numImages);
  for (let i = 0; i < numImages; i++) permutation[i] = i;
  for (let t = 0; t < m; t++) permutation[picked[t]!] = target[t]!;
  return { permutation, captionToImage: clean.map((i) => permutation[i]!) };
}

/**
 * Hard noise: picked captions move to a random one of their image's `k` nearest neighbour images.
 *
 * @param clean clean image index per caption
 * @param rate fraction of captions to re-pair
 * @param rng the random stream
 * @param neighboursOf given the images whose captions were picked, returns a lookup of each one's neighbours
 * @returns the noisy map (a new array)
 */
export function hardCaptions(
  clean: Int32Array,
  rate: number,
  rng: Rng,
  neighboursOf: (images: Int32Array) => (image: number) => Int32Array,
): Int32Array {
  const n = clean.length;
  const m = Math.min(n, Math.floor(rate * n + 1e-9));
  const picked = pickFirst(n, m, rng).slice(0, m);
  const lookup = neighboursOf(picked.map((j) => clean[j]!));
  const out = clean.slice();
  for (let t = 0; t < m; t++) {
    const j = picked[t]!;
    const nbrs = lookup(clean[j]!);
    out[j] = nbrs[rng.int(nbrs.length)]!;
  }
  return out;
}
