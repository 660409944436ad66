/**
 * Synthetic noise with ground truth: `injectNoise(dataset, { rate, kind, seed })` re-pairs some captions
 * and returns the noisy dataset (features shared, only the caption→image map replaced), the truth mask
 * (which pairs no longer match), partial/complete labels and a {@link NoiseIndex} that reproduces it
 * exactly (`applyNoiseIndex`), also from a paper's published index file.
 *
 * Kinds: `shuffle` (caption-level, NCR's protocol), `shuffle-images` (image-level, DECL's and RCL's),
 * `hard` (each noisy caption comes from a near neighbour image). The two protocols give numbers that are
 * not comparable; every result and index names its `protocol`.
 *
 * Partial vs complete (as in the alignment-refurbishment literature): a noisy pair is *partial* when the
 * new image shares semantics with the true one — same class when labels exist, else the new image is one
 * of the true image's `neighbours` nearest images (cosine on image features) — and *complete* otherwise.
 *
 * Noise covers the pairs of one split: by default `train` when the dataset defines it, else all pairs
 * (so `injectNoise(data.train, …)` and `injectNoise(data, …)` both noise the training pairs only).
 * Images are only re-paired within that split. The dataset's current pairing is taken as clean.
 *
 * @example
 * ```ts
 * import { bundledDataset, injectNoise, loadPairs } from 'cleave';
 * const data = await loadPairs(bundledDataset('wikipedia-xmodal'));
 * const { dataset, noisy, summary } = injectNoise(data, { rate: 0.4, kind: 'shuffle', seed: 7 });
 * summary;   // { protocol: 'caption-level', kind: 'shuffle', split: 'train', noisyPairs: 782, partial: …, complete: … }
 * dataset.train.noise?.noisy;   // truth mask of the training pairs
 * ```
 */
import { z } from 'zod';
import type { NoiseProtocol, PairNoiseInfo } from '../core/dataset/noise-state.js';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { DataError, parseOrThrow } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import { Rng } from '../core/random.js';
import { noiseKindSchema, type PartialBy, type PartialNoiseTest, partialBySchema } from './kinds.js';
import { neighbourLookup } from './knn.js';
import type { NoiseIndex } from './noise-index.js';
import { validateNoiseIndex } from './noise-index.js';
import { hardCaptions, shuffleCaptions, shuffleImages } from './shuffle.js';

/** Options of {@link injectNoise}. */
export const injectNoiseOptionsSchema = z.object({
  /** Fraction of the covered captions (`shuffle`, `hard`) or images (`shuffle-images`) to re-pair. */
  rate: z.number().min(0).max(1),
  kind: noiseKindSchema,
  seed: z.number().int(),
  /** Split to noise; default `train` when defined, else all pairs; `null` forces all pairs. */
  split: z.string().nullable().optional(),
  /** Repair the permutation so every picked caption/image really moves (default true). */
  derange: z.boolean().default(true),
  /** k of the nearest-neighbour image sets (hard noise, and the partial test without labels). Default 10. */
  neighbours: z.number().int().positive().default(10),
  /**
   * How to tell partial from complete noise: `labels` (same class), `neighbours` (kNN in image feature
   * space), `none`, or `auto` (labels when present, else neighbours unless the kNN would be too costly).
   */
  partialBy: partialBySchema.default('auto'),
});
/** Options of {@link injectNoise}, as the caller writes them. */
export type InjectNoiseOptions = z.input<typeof injectNoiseOptionsSchema>;

/** Options of {@link applyNoiseIndex}. */
export const applyNoiseOptionsSchema = z.object({
  /** Split the index covers; default: the index's own, else `train` when defined, else all pairs. */
  split: z.string().nullable().optional(),
  neighbours: z.number().int().positive().default(10),
  partialBy: partialBySchema.default('auto'),
});
/** Options of {@link applyNoiseIndex}, as the caller writes them. */
export type ApplyNoiseOptions = z.input<typeof applyNoiseOptionsSchema>;

/** Counts for reports; `protocol` must be quoted with any number measured on this noise. */
export interface NoiseSummary {
  protocol: NoiseProtocol;
  kind: NoiseIndex['kind'];
  split: string | null;
  rate: number | null;
  seed: number | null;
  /** Noisy pairs / covered pairs. */
  realisedRate: number;
  coveredPairs: number;
  noisyPairs: number;
  /** Images whose pairing changed (image-level), else images with at least one noisy caption. */
  noisyImages: number;
  partialBy: PartialNoiseTest;
  /** Noisy pairs whose new image shares semantics with the true one (null when not decided). */
  partial: number | null;
  complete: number | null;
}

/** What {@link injectNoise} and {@link applyNoiseIndex} return. */
export interface NoiseResult {
  /** The noisy dataset: same features, splits and parent links, new caption→image map, `noise` set. */
  dataset: PairDataset;
  /** 1 per pair of `dataset` whose caption is no longer paired with its own image. */
  noisy: Uint8Array;
  /** Per pair of `dataset`: 0 clean, 1 partial, 2 complete (all 0/1/2 only where decided). */
  noiseType: Uint8Array | undefined;
  /** Reproduces this noise exactly (save it with `saveNoiseIndex`). */
  index: NoiseIndex;
  summary: NoiseSummary;
}

const NEIGHBOUR_BUDGET = 2e9; // multiply-adds the automatic partial test may spend

function coveredView(
  dataset: PairDataset,
  split: string | null | undefined,
): { view: PairDataset; split: string | null } {
  if (split === null) return { view: dataset, split: null };
  if (split === undefined) {
    return dataset.hasSplit('train')
      ? { view: dataset.split('train'), split: 'train' }
      : { view: dataset, split: null };
  }
  return { view: dataset.split(split), split };
}

/** Image features for similarity (regions averaged), `numImages × imageDim`. */
function imageFeatures(view: PairDataset): Float32Array {
  const all = view.imageMatrix();
  const r = view.imageRegions;
  if (r === 1) return all;
  const d = view.imageDim;
  const out = new Float32Array(view.numImages * d);
  for (let i = 0; i < view.numImages; i++) {
    for (let k = 0; k < r; k++) {
      for (let t = 0; t < d; t++) out[i * d + t]! += all[(i * r + k) * d + t]! / r;
    }
  }
  return out;
}

function labelNoise(
  view: PairDataset,
  clean: Int32Array,
  noisyMap: Int32Array,
  noisy: Uint8Array,
  partialBy: PartialBy,
  k: number,
  features: () => Float32Array,
): { by: PartialNoiseTest; noiseType: Uint8Array | undefined } {
  let by: PartialNoiseTest = partialBy === 'auto' ? 'none' : partialBy;
  if (partialBy === 'auto') {
    if (view.labels) by = 'labels';
    else {
      const queries = new Set<number>();
      for (let j = 0; j < noisy.length; j++) if (noisy[j]) queries.add(clean[j]!);
      const cost = queries.size * view.numImages * view.imageDim * view.imageRegions;
      if (view.numImages > k && cost <= NEIGHBOUR_BUDGET) by = 'neighbours';
      else {
        getLogger('noise').info(
          { cost },
          'partial vs complete noise not labelled: no labels, and kNN too costly',
        );
      }
    }
  }
  if (by === 'none') return { by, noiseType: undefined };
  const noiseType = new Uint8Array(noisy.length);
  if (by === 'labels') {
    const labels = view.labels;
    if (!labels)
      throw new DataError(`partialBy 'labels' needs class labels; dataset '${view.name}' has none`);
    for (let j = 0; j < noisy.length; j++) {
      if (noisy[j]) noiseType[j] = labels[noisyMap[j]!] === labels[clean[j]!] ? 1 : 2;
    }
    return { by, noiseType };
  }
  if (view.numImages <= k) {
    throw new DataError(
      `partialBy 'neighbours' needs more than k = ${k} images; the split has ${view.numImages}`,
    );
  }
  const lookup = neighbourLookup(
    features(),
    view.imageDim,
    clean.filter((_, j) => noisy[j] === 1),
    k,
  );
  for (let j = 0; j < noisy.length; j++) {
    if (!noisy[j]) continue;
    const near = lookup(clean[j]!).includes(noisyMap[j]!);
    noiseType[j] = near ? 1 : 2;
  }
  return { by, noiseType };
}

/** Put the covered view's new map, mask and labels back into the whole dataset and build the result. */
function finish(
  dataset: PairDataset,
  view: PairDataset,
  split: string | null,
  noisyMap: Int32Array,
  permutation: Int32Array | undefined,
  meta: { protocol: NoiseProtocol; kind: NoiseIndex['kind']; rate: number | null; seed: number | null },
  partialBy: PartialBy,
  k: number,
): NoiseResult {
  const clean = view.captionToImage;
  const n = clean.length;
  const noisy = new Uint8Array(n);
  let noisyPairs = 0;
  for (let j = 0; j < n; j++) {
    if (noisyMap[j] !== clean[j]) {
      noisy[j] = 1;
      noisyPairs++;
    }
  }
  let features: Float32Array | undefined;
  const labelled = labelNoise(view, clean, noisyMap, noisy, partialBy, k, () => {
    features ??= imageFeatures(view);
    return features;
  });
  let partial: number | null = null;
  let complete: number | null = null;
  if (labelled.noiseType) {
    partial = 0;
    complete = 0;
    for (const t of labelled.noiseType) {
      if (t === 1) partial++;
      else if (t === 2) complete++;
    }
  }
  let noisyImages = 0;
  if (permutation) {
    for (let i = 0; i < permutation.length; i++) if (permutation[i] !== i) noisyImages++;
  } else {
    const hit = new Uint8Array(view.numImages);
    for (let j = 0; j < n; j++) if (noisy[j]) hit[clean[j]!] = 1;
    for (const h of hit) noisyImages += h;
  }

  // Lift to the whole dataset.
  const full = dataset.captionToImage.slice();
  const fullNoisy = new Uint8Array(dataset.numPairs);
  const fullType = labelled.noiseType ? new Uint8Array(dataset.numPairs) : undefined;
  const pairBack = view === dataset ? null : view.parentPairIndices!;
  const imageBack = view === dataset ? null : view.parentImageIndices!;
  for (let j = 0; j < n; j++) {
    const p = pairBack ? pairBack[j]! : j;
    full[p] = imageBack ? imageBack[noisyMap[j]!]! : noisyMap[j]!;
    fullNoisy[p] = noisy[j]!;
    if (fullType) fullType[p] = labelled.noiseType![j]!;
  }
  const info: PairNoiseInfo = {
    protocol: meta.protocol,
    kind: meta.kind,
    rate: meta.rate,
    seed: meta.seed,
    noisy: fullNoisy,
    cleanCaptionToImage: dataset.captionToImage,
    ...(fullType ? { noiseType: fullType } : {}),
  };
  const realisedRate = n ? noisyPairs / n : 0;
  const index: NoiseIndex = {
    format: 'cleave-noise-index',
    version: 1,
    protocol: meta.protocol,
    kind: meta.kind,
    dataset: dataset.name,
    split,
    rate: meta.rate,
    seed: meta.seed,
    realisedRate,
    numPairs: n,
    numImages: view.numImages,
    captionToImage: noisyMap,
    ...(permutation ? { imagePermutation: permutation } : {}),
    cleanCaptionToImage: clean.slice(),
    noisy,
    ...(labelled.noiseType ? { noiseType: labelled.noiseType } : {}),
    partialBy: labelled.by,
    neighbours: k,
  };
  return {
    dataset: dataset.withCaptionToImage(full, info),
    noisy: fullNoisy,
    noiseType: fullType,
    index,
    summary: {
      protocol: meta.protocol,
      kind: meta.kind,
      split,
      rate: meta.rate,
      seed: meta.seed,
      realisedRate,
      coveredPairs: n,
      noisyPairs,
      noisyImages,
      partialBy: labelled.by,
      partial,
      complete,
    },
  };
}

/**
 * Inject synthetic noise with ground truth (see the module documentation).
 *
 * @param dataset the clean dataset (or a split view of it)
 * @param options rate, kind, seed, split, … (see {@link injectNoiseOptionsSchema})
 * @returns the noisy dataset, the truth mask per pair, partial/complete labels, the index and a summary
 * @throws DataError when the covered split is unknown, has no other image to move captions to, or
 *   partial labelling by labels is asked for without labels
 */
export function injectNoise(dataset: PairDataset, options: InjectNoiseOptions): NoiseResult {
  const opts = parseOrThrow(injectNoiseOptionsSchema, options, 'injectNoise options');
  const { view, split } = coveredView(dataset, opts.split);
  const clean = view.captionToImage;
  const rng = new Rng(opts.seed).fork(`noise/${opts.kind}`);
  if (view.numImages < 2 && opts.rate > 0) {
    throw new DataError(
      `cannot re-pair captions within ${split ? `split '${split}'` : 'the dataset'}: it has ${view.numImages} image`,
    );
  }
  const meta = {
    protocol: (opts.kind === 'shuffle-images' ? 'image-level' : 'caption-level') as NoiseProtocol,
    kind: opts.kind,
    rate: opts.rate,
    seed: opts.seed,
  };
  const k = Math.min(opts.neighbours, Math.max(1, view.numImages - 1));
  let noisyMap: Int32Array;
  let permutation: Int32Array | undefined;
  if (opts.kind === 'shuffle') {
    noisyMap = shuffleCaptions(clean, view.numImages, opts.rate, rng, opts.derange);
  } else if (opts.kind === 'shuffle-images') {
    ({ permutation, captionToImage: noisyMap } = shuffleImages(
      clean,
      view.numImages,
      opts.rate,
      rng,
      opts.derange,
    ));
  } else {
    const f = imageFeatures(view);
    noisyMap = hardCaptions(clean, opts.rate, rng, (images) => neighbourLookup(f, view.imageDim, images, k));
  }
  const result = finish(dataset, view, split, noisyMap, permutation, meta, opts.partialBy, k);
  if (opts.kind === 'shuffle' && opts.derange) {
    const wanted = Math.floor(opts.rate * clean.length + 1e-9);
    if (result.summary.noisyPairs < Math.min(wanted, clean.length) && wanted >= 2) {
      getLogger('noise').warn(
        { wanted, realised: result.summary.noisyPairs },
        'some picked captions could not be moved off their own image (one image holds most captions)',
      );
    }
  }
  return result;
}

/**
 * Replay a noise index on a dataset: the very noise of an earlier run, or of a paper's published file.
 *
 * @example
 * ```ts
 * const ncr = await loadNoiseIndex('f30k_precomp_0.2.npy', { protocol: 'caption-level' });
 * const { dataset, summary } = applyNoiseIndex(flickr, ncr);   // the train split gets the paper's noise
 * ```
 * @param dataset the clean dataset (or split view)
 * @param index from {@link injectNoise} or `loadNoiseIndex`
 * @param options which split it covers, and how to label partial noise
 * @throws DataError when the index does not fit the covered split (counts, image range, a different clean
 *   map, an image-level array that is not a permutation)
 */
export function applyNoiseIndex(
  dataset: PairDataset,
  index: NoiseIndex,
  options: ApplyNoiseOptions = {},
): NoiseResult {
  const opts = parseOrThrow(applyNoiseOptionsSchema, options, 'applyNoiseIndex options');
  validateNoiseIndex(index);
  const wanted = opts.split !== undefined ? opts.split : index.split !== null ? index.split : undefined;
  const { view, split } = coveredView(dataset, wanted);
  const where = split ? `split '${split}'` : `dataset '${dataset.name}'`;
  const clean = view.captionToImage;
  if (index.cleanCaptionToImage) {
    const c = index.cleanCaptionToImage;
    const same = c.length === clean.length && c.every((v, j) => v === clean[j]);
    if (!same) {
      throw new DataError(
        `the noise index was made for another pairing than that of ${where} (its clean map differs)`,
        {
          file: 'noise index',
        },
      );
    }
  }
  let noisyMap: Int32Array;
  let permutation: Int32Array | undefined;
  if (index.protocol === 'caption-level') {
    const map = index.captionToImage!;
    if (map.length !== view.numPairs) {
      throw new DataError(`the noise index has ${map.length} captions, ${where} has ${view.numPairs} pairs`, {
        file: 'noise index',
      });
    }
    map.forEach((i, j) => {
      if (i < 0 || i >= view.numImages) {
        throw new DataError(`caption ${j} is sent to image ${i}, but ${where} has ${view.numImages} images`, {
          file: 'noise index',
          index: j,
        });
      }
    });
    noisyMap = map;
  } else {
    const perm = index.imagePermutation!;
    if (perm.length !== view.numImages) {
      throw new DataError(`the noise index has ${perm.length} images, ${where} has ${view.numImages}`, {
        file: 'noise index',
      });
    }
    const seen = new Uint8Array(perm.length);
    perm.forEach((i, k) => {
      if (i < 0 || i >= perm.length || seen[i]) {
        throw new DataError(
          `entry ${k} (${i}) makes the image-level index not a permutation of 0..${perm.length - 1}`,
          {
            file: 'noise index',
            index: k,
          },
        );
      }
      seen[i] = 1;
    });
    permutation = perm;
    noisyMap = clean.map((i) => perm[i]!);
  }
  const k = Math.min(index.neighbours ?? opts.neighbours, Math.max(1, view.numImages - 1));
  return finish(
    dataset,
    view,
    split,
    noisyMap,
    permutation,
    { protocol: index.protocol, kind: index.kind, rate: index.rate, seed: index.seed },
    opts.partialBy,
    k,
  );
}
