/**
 * The summary of a dataset for logs and reports (`PairDataset.describe`): counts, dims, captions per
 * image, splits and noise.
 *
 * @example
 * ```ts
 * const summary = data.describe();
 * summary.captionsPerImage;   // { min: 1, max: 5, mean: 4.9 }
 * ```
 */
import { type PairNoiseInfo, summariseNoise } from './noise-state.js';
import { captionsPerImage } from './pairing.js';
import type { DatasetSummary, SplitDef } from './types.js';

/** What {@link summariseDataset} reads off a dataset (a `PairDataset` has all of it). */
export interface SummaryInput {
  name: string;
  splitName: string | undefined;
  numImages: number;
  numPairs: number;
  imageDim: number;
  imageRegions: number;
  captionDim: number;
  numClasses: number;
  captionToImage: Int32Array;
  noise: PairNoiseInfo | undefined;
}

/** Counts, dims, splits and noise of a dataset with these split definitions. */
export function summariseDataset(ds: SummaryInput, splitDefs: ReadonlyMap<string, SplitDef>): DatasetSummary {
  const splits: Record<string, { images: number; pairs: number }> = {};
  for (const [name, def] of splitDefs) splits[name] = { images: def.images.length, pairs: def.pairs.length };
  const summary: DatasetSummary = {
    name: ds.name,
    split: ds.splitName,
    numImages: ds.numImages,
    numPairs: ds.numPairs,
    imageDim: ds.imageDim,
    imageRegions: ds.imageRegions,
    captionDim: ds.captionDim,
    numClasses: ds.numClasses,
    captionsPerImage: captionsPerImage(ds.captionToImage, ds.numImages),
    splits,
  };
  if (ds.noise) summary.noise = summariseNoise(ds.noise, ds.numPairs);
  return summary;
}
