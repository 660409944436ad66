/**
 * The alignment the inputs already have: per-pair input cosines (the CLIP-score every curator already
 * filters with, and the zero-shot retrieval score), and the test that decides whether a dataset's two
 * views live in one shared space at all.
 *
 * ## Shared-space test
 * Image and caption vectors share a space when (1) they have the same width, (2) images are single
 * vectors (no regions), and (3) the given pairs are clearly more similar than mismatched ones: for
 * every checked pair, `unpairedPerPair` random captions of *other* images give the unpaired cosines;
 * the **aligned share** is the share of given pairs whose cosine exceeds the 99th percentile of the
 * unpaired ones. Without any alignment it is about 0.01 (chance); the test asks for at least
 * `minAlignedShare` (default 0.05, five times chance), which still holds when 80 % of the pairs are
 * noise (on CLIP features the clean 20 % all pass), while independent feature spaces of the same width
 * stay near 0.01.
 *
 * @example
 * ```ts
 * import { bundledDataset, loadPairs } from 'cleave';
 * import { detectSharedSpace, inputCosines } from 'cleave/eval';
 * const data = await loadPairs(bundledDataset('myntra-fashionclip-99'));
 * const found = detectSharedSpace(data.train);
 * found.shared;               // true: FashionCLIP images and titles share one space
 * found.alignedShare;         // ≈ 0.9 (chance is 0.01)
 * inputCosines(data.train);   // cos(image, caption) of every training pair
 * ```
 */
import { z } from 'zod';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { DataError, parseOrThrow } from '../core/errors.js';
import { Rng } from '../core/random.js';

/** Options of {@link detectSharedSpace}. */
export const sharedSpaceOptionsSchema = z
  .object({
    /** Seed of the unpaired samples. */
    seed: z.number().int().default(0),
    /** Pairs checked (a seeded sample when there are more). */
    maxPairs: z.number().int().min(2).default(4000),
    /** Random unpaired captions drawn per checked pair. */
    unpairedPerPair: z.number().int().positive().default(10),
    /** Smallest aligned share that counts as a shared space. */
    minAlignedShare: z.number().gt(0).lt(1).default(0.05),
  })
  .strict();
/** Options of {@link detectSharedSpace}, as written. */
export type SharedSpaceOptions = z.input<typeof sharedSpaceOptionsSchema>;

/** What {@link detectSharedSpace} found (numbers are NaN when the widths already rule it out). */
export interface SharedSpaceDetection {
  /** Whether the two views share one space. */
  shared: boolean;
  /** One line a log or report can print. */
  reason: string;
  /** Mean cosine of the given pairs checked. */
  pairedCosine: number;
  /** Mean cosine of the unpaired samples. */
  unpairedCosine: number;
  /** Share of given pairs above the unpaired cosines' 99th percentile (chance ≈ 0.01). */
  alignedShare: number;
  /** Pairs checked. */
  pairsChecked: number;
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[ai + k]! * b[bi + k]!;
  return s;
}

/** Row norms of a row-major matrix (0 rows stay 0, so their cosines are 0). */
function rowNorms(m: Float32Array, d: number): Float64Array {
  const n = m.length / d;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(dot(m, i * d, m, i * d, d));
  return out;
}

/** Whether the widths alone allow a shared space; the reason when they do not. */
function widthProblem(data: PairDataset): string | undefined {
  if (!data.hasCaptionFeatures) return 'captions have no feature vectors';
  if (data.imageRegions > 1)
    return `images are region sets (${data.imageRegions} regions), not single vectors`;
  if (data.imageDim !== data.captionDim) {
    return `image (${data.imageDim}-d) and caption (${data.captionDim}-d) vectors differ in width`;
  }
  return undefined;
}

/**
 * cos(image, caption) of each pair of `data` (pair order), from the input features as they are.
 * @param pairs the pairs to score (default all)
 * @throws DataError when the two views cannot share a space (different widths, regions, no caption vectors)
 */
export function inputCosines(data: PairDataset, pairs?: ArrayLike<number>): Float64Array {
  const problem = widthProblem(data);
  if (problem) {
    throw new DataError(`${data.name}: input cosines need one shared space, but ${problem}`);
  }
  const d = data.imageDim;
  const images = data.imageMatrix();
  const captions = data.captionMatrix();
  const imageNorms = rowNorms(images, d);
  const captionNorms = rowNorms(captions, d);
  const which = pairs ?? Int32Array.from({ length: data.numPairs }, (_, j) => j);
  const out = new Float64Array(which.length);
  for (let k = 0; k < which.length; k++) {
    const j = which[k]!;
    const i = data.captionToImage[j]!;
    const norm = imageNorms[i]! * captionNorms[j]!;
    out[k] = norm > 0 ? dot(images, i * d, captions, j * d, d) / norm : 0;
  }
  return out;
}

/**
 * Cosines of random **mismatched** pairs: for each draw and each pair j, image g(j) with the caption
 * of a random pair whose image differs (what a shuffled caption looks like to the CLIP-score filter).
 * @returns `draws × numPairs` values, draw-major; NaN where no caption of another image was found
 * @throws DataError when the two views cannot share a space
 */
export function unpairedCosines(
  data: PairDataset,
  options: { draws?: number; seed?: number; pairs?: ArrayLike<number> } = {},
): Float64Array {
  const problem = widthProblem(data);
  if (problem) throw new DataError(`${data.name}: unpaired cosines need one shared space, but ${problem}`);
  const d = data.imageDim;
  const images = data.imageMatrix();
  const captions = data.captionMatrix();
  const imageNorms = rowNorms(images, d);
  const captionNorms = rowNorms(captions, d);
  const n = data.numPairs;
  const which = options.pairs ?? Int32Array.from({ length: n }, (_, j) => j);
  const draws = options.draws ?? 1;
  const rng = new Rng(options.seed ?? 0).fork('unpaired');
  const out = new Float64Array(which.length * draws).fill(Number.NaN);
  for (let t = 0; t < draws; t++) {
    for (let k = 0; k < which.length; k++) {
      const i = data.captionToImage[which[k]!]!;
      for (let attempt = 0; attempt < 8; attempt++) {
        const other = rng.int(n);
        if (data.captionToImage[other] === i) continue;
        const norm = imageNorms[i]! * captionNorms[other]!;
        out[t * which.length + k] = norm > 0 ? dot(images, i * d, captions, other * d, d) / norm : 0;
        break;
      }
    }
  }
  return out;
}

/**
 * Decide whether the image and caption vectors of `data` live in one shared space (see the module
 * documentation for the test). Run it on the training pairs.
 */
export function detectSharedSpace(data: PairDataset, options: SharedSpaceOptions = {}): SharedSpaceDetection {
  const o = parseOrThrow(sharedSpaceOptionsSchema, options, 'shared-space options');
  const problem = widthProblem(data);
  if (problem) {
    return {
      shared: false,
      reason: `not a shared space: ${problem}`,
      pairedCosine: Number.NaN,
      unpairedCosine: Number.NaN,
      alignedShare: Number.NaN,
      pairsChecked: 0,
    };
  }
  const rng = new Rng(o.seed).fork('shared-space');
  const n = data.numPairs;
  const checked =
    n > o.maxPairs ? rng.permutation(n).slice(0, o.maxPairs) : Int32Array.from({ length: n }, (_, j) => j);
  const paired = inputCosines(data, checked);
  const unpaired = Array.from(
    unpairedCosines(data, { draws: o.unpairedPerPair, seed: rng.uint32(), pairs: checked }),
  ).filter((v) => !Number.isNaN(v));
  const mean = (v: ArrayLike<number>) => {
    let s = 0;
    for (let k = 0; k < v.length; k++) s += v[k]!;
    return v.length ? s / v.length : Number.NaN;
  };
  if (unpaired.length === 0) {
    return {
      shared: false,
      reason: 'not a shared space: every caption belongs to one image, so nothing is unpaired',
      pairedCosine: mean(paired),
      unpairedCosine: Number.NaN,
      alignedShare: Number.NaN,
      pairsChecked: checked.length,
    };
  }
  const sorted = Float64Array.from(unpaired).sort();
  const q99 = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]!;
  let above = 0;
  for (const c of paired) if (c > q99) above++;
  const alignedShare = above / paired.length;
  const shared = alignedShare >= o.minAlignedShare;
  const numbers = `${(100 * alignedShare).toFixed(1)} % of ${checked.length} pairs above the 99th percentile of unpaired cosines (chance 1 %), mean cosine ${mean(paired).toFixed(3)} paired vs ${mean(unpaired).toFixed(3)} unpaired`;
  return {
    shared,
    reason: `${shared ? 'shared space' : 'not a shared space'}: ${numbers}`,
    pairedCosine: mean(paired),
    unpairedCosine: mean(unpaired),
    alignedShare,
    pairsChecked: checked.length,
  };
}
