/**
 * The plain data types of a `PairDataset`: what `PairDataset.fromArrays` takes, the token
 * layout, split specs and the summary for reports, plus the shared storage the dataset's views point at.
 *
 * @example
 * ```ts
 * import type { PairDatasetInit } from 'cleave/dataset';
 * const init: PairDatasetInit = {
 *   images: { data: new Float32Array([1, 0, 0, 1]), dim: 2 },
 *   captions: { data: new Float32Array([1, 0, 0, 1]), dim: 2 },
 * };
 * ```
 */
/** Token ids of all captions, CSR style: caption j's tokens are `ids[offsets[j] .. offsets[j+1])`. */
export interface TokenSequences {
  ids: Int32Array;
  /** `numCaptions + 1` non-decreasing offsets into `ids`, starting at 0 and ending at `ids.length`. */
  offsets: Int32Array;
  /** Size of the vocabulary (ids are in `[0, vocabSize)`), when known. */
  vocabSize?: number;
}

/** A split given by image indices (all captions of those images) or by pair indices. */
export type SplitSpec = { images: ArrayLike<number> } | { pairs: ArrayLike<number> };

/** What `PairDataset.fromArrays` takes. */
export interface PairDatasetInit {
  name?: string;
  /** `data` holds `numImages × regions × dim` float32 values. */
  images: { data: Float32Array; dim: number; regions?: number };
  /** Caption features (`numCaptions × dim`) and/or token ids; at least one of the two. */
  captions: { data?: Float32Array; dim?: number; tokens?: TokenSequences };
  /** Caption j ↔ image `captionToImage[j]`; null/omitted means one caption per image, row i ↔ row i. */
  captionToImage?: Int32Array | null;
  /** Class index per image, `0..numClasses-1`. */
  labels?: Int32Array;
  /** Display name per class index (length ≥ max label + 1). */
  classNames?: readonly string[];
  imageIds?: readonly string[];
  captionIds?: readonly string[];
  captionTexts?: readonly string[];
  imageUrls?: readonly string[];
  /** Named splits, each by images (all their captions) or by pairs. */
  splits?: Record<string, SplitSpec>;
}

/** A summary for logs and reports. */
export interface DatasetSummary {
  name: string;
  split: string | undefined;
  numImages: number;
  numPairs: number;
  imageDim: number;
  imageRegions: number;
  captionDim: number;
  numClasses: number;
  captionsPerImage: { min: number; max: number; mean: number };
  splits: Record<string, { images: number; pairs: number }>;
  noise?: { protocol: string; kind: string; rate: number | null; realisedRate: number };
}

/** One named split: its image and pair indices, ascending (internal to `core/dataset`). */
export interface SplitDef {
  images: Int32Array;
  pairs: Int32Array;
}
