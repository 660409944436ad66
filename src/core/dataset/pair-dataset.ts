/**
 * `PairDataset`: image items, caption items and the caption→image map that pairs them — the data model
 * the trainer, the noise generators and the evaluation share.
 *
 * ## Shapes (all plain typed arrays, row-major)
 * - images: `numImages × imageRegions × imageDim` float32 (`imageRegions` is 1 for one vector per image).
 * - captions: `numCaptions × captionDim` float32 feature vectors, and/or token ids
 *   (`captionTokens(j)`, for a built-in text encoder later).
 * - `captionToImage`: `Int32Array(numCaptions)`; caption j is paired with image `captionToImage[j]`.
 *   A **pair is one caption** and the image it is (possibly wrongly) paired with, so pair index =
 *   caption index and `numPairs === numCaptions`. An image may have any number k ≥ 0 of captions.
 * - `labels`: optional `Int32Array(numImages)` of class indices `0..numClasses-1` (names in `classNames`).
 * - optional string ids, caption texts and image URLs, and named splits (`train`/`val`/`test`, …).
 *
 * Features are stored once; split views (`split('train')`), noisy copies (`withCaptionToImage`) and views
 * of views share them and keep index maps back to their parent (`parentPairIndices`, …) and to the
 * dataset the features were loaded into (`rootPairIndex`). Designed for millions of pairs: per-epoch work
 * is O(numPairs) integer operations, per-batch work O(1) allocations (subarray views).
 *
 * @example
 * ```ts
 * import { PairDataset } from 'cleave';
 * const ds = PairDataset.fromArrays({
 *   name: 'toy',
 *   images: { data: new Float32Array([1, 0, 0, 1]), dim: 2 },             // 2 images × 2-d
 *   captions: { data: new Float32Array([1, 0, 0.9, 0.1, 0, 1]), dim: 2 },  // 3 captions × 2-d
 *   captionToImage: Int32Array.from([0, 0, 1]),                             // k = 2 and 1
 *   splits: { train: { images: [0] }, test: { images: [1] } },
 * });
 * for (const batch of ds.batches({ batchSize: 2, seed: 7, epoch: 0 })) {
 *   const img = ds.gatherImages(batch.images);   // batch.size × 2, rows in batch order
 *   const cap = ds.gatherCaptions(batch.captions);
 * }
 * ds.split('train').numPairs;                    // 2 (both captions of image 0)
 * ```
 */
import { z } from 'zod';
import { DataError, parseOrThrow } from '../errors.js';
import { Rng } from '../random.js';

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

/** What {@link PairDataset.fromArrays} takes. */
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

/** Ground truth of synthetic noise carried by a noisy dataset (set by the noise module). */
export interface PairNoiseInfo {
  /** `caption-level` (NCR and followers) or `image-level` (DECL, RCL): reports must name it. */
  protocol: 'caption-level' | 'image-level';
  /** The generator: `shuffle`, `shuffle-images`, `hard`, or `published` for a replayed index file. */
  kind: string;
  /** Requested rate, or null for a replayed file. */
  rate: number | null;
  seed: number | null;
  /** 1 where pair j's caption is no longer paired with its own image. Length `numPairs`. */
  noisy: Uint8Array;
  /** The clean caption→image map (−1 where the clean image lies outside this view). */
  cleanCaptionToImage: Int32Array;
  /** Per pair: 0 clean, 1 partial noise (shares semantics), 2 complete noise; absent when unknown. */
  noiseType?: Uint8Array;
}

/** Shared, immutable storage of one loaded dataset. */
interface Store {
  imageData: Float32Array;
  imageDim: number;
  imageRegions: number;
  captionData: Float32Array | undefined;
  captionDim: number;
  tokens: TokenSequences | undefined;
  labels: Int32Array | undefined;
  classNames: readonly string[] | undefined;
  imageIds: readonly string[] | undefined;
  captionIds: readonly string[] | undefined;
  captionTexts: readonly string[] | undefined;
  imageUrls: readonly string[] | undefined;
}

interface SplitDef {
  images: Int32Array;
  pairs: Int32Array;
}

interface State {
  name: string;
  store: Store;
  imageRows: Int32Array | null;
  captionRows: Int32Array | null;
  numImages: number;
  captionToImage: Int32Array;
  labels: Int32Array | undefined;
  splits: Map<string, SplitDef>;
  splitName: string | undefined;
  parent: PairDataset | undefined;
  parentImageIndices: Int32Array | undefined;
  parentPairIndices: Int32Array | undefined;
  noise: PairNoiseInfo | undefined;
}

/** Options of {@link PairDataset.batches}. */
export const BatchOptionsSchema = z.object({
  /** Pairs per batch. */
  batchSize: z.number().int().positive(),
  /** Seed of the shuffling; with `epoch` it fixes the order. Default 0. */
  seed: z.number().int().default(0),
  /** Epoch number: each epoch gets its own order from the same seed. Default 0. */
  epoch: z.number().int().nonnegative().default(0),
  /** Shuffle (default) or keep pair order. */
  shuffle: z.boolean().default(true),
  /** Drop a last batch smaller than `batchSize`. Default false. */
  dropLast: z.boolean().default(false),
  /** Iterate over these pairs only (e.g. the ones judged clean), instead of all. */
  pairs: z
    .custom<ArrayLike<number>>((v) => ArrayBuffer.isView(v) || Array.isArray(v), 'an array of pair indices')
    .optional(),
});
/** Options of {@link PairDataset.batches}, as the caller writes them. */
export type BatchOptions = z.input<typeof BatchOptionsSchema>;

/**
 * One mini-batch: parallel index arrays, row b of each is one pair. They are views into per-epoch
 * arrays (no per-batch allocation); copy them if you keep them past the epoch.
 */
export interface PairBatch {
  /** Batch number within the epoch, from 0. */
  batch: number;
  /** Number of pairs in this batch. */
  size: number;
  /** Pair indices (= caption indices). */
  pairs: Int32Array;
  /** Caption indices (the same array as `pairs`). */
  captions: Int32Array;
  /** Image index each pair's caption is paired with. */
  images: Int32Array;
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

function checkIndexArray(values: ArrayLike<number>, limit: number, what: string, name: string): Int32Array {
  const out = Int32Array.from(values);
  const seen = new Uint8Array(limit);
  for (let k = 0; k < out.length; k++) {
    const v = out[k]!;
    if (!Number.isInteger(values[k]) || v < 0 || v >= limit) {
      throw new DataError(
        `split '${name}': entry ${k} is ${values[k]}, not a ${what} index in [0, ${limit})`,
        {
          file: name,
          index: k,
        },
      );
    }
    if (seen[v])
      throw new DataError(`split '${name}': ${what} ${v} is listed twice`, { file: name, index: k });
    seen[v] = 1;
  }
  return out.sort();
}

function rowCopier(stride: number) {
  return (src: Float32Array, srcRow: number, dst: Float32Array, dstRow: number): void => {
    const s = srcRow * stride;
    const d = dstRow * stride;
    if (stride <= 32) {
      for (let t = 0; t < stride; t++) dst[d + t] = src[s + t]!;
    } else {
      dst.set(src.subarray(s, s + stride), d);
    }
  };
}

/** See the module documentation. Create one with {@link PairDataset.fromArrays} (or a loader). */
export class PairDataset {
  /** Dataset name (from the manifest). */
  readonly name: string;
  /** Number of image items. */
  readonly numImages: number;
  /** Number of pairs = number of captions. */
  readonly numPairs: number;
  /** Values per image region vector. */
  readonly imageDim: number;
  /** Region vectors per image (1 = one global vector). */
  readonly imageRegions: number;
  /** Values per caption feature vector (0 when captions are tokens only). */
  readonly captionDim: number;
  /**
   * Caption j is paired with image `captionToImage[j]` (indices local to this dataset). Treat it as
   * read-only: use {@link PairDataset.withCaptionToImage} to change the pairing.
   */
  readonly captionToImage: Int32Array;
  /** Class index per image (`0..numClasses-1`), when the data has labels. */
  readonly labels: Int32Array | undefined;
  /** Name of the split this view is (`'train'`, …), or undefined for a whole dataset. */
  readonly splitName: string | undefined;
  /** The dataset {@link PairDataset.split} was called on, for a split view. */
  readonly parent: PairDataset | undefined;
  /** Image i of this view is image `parentImageIndices[i]` of `parent`. */
  readonly parentImageIndices: Int32Array | undefined;
  /** Pair j of this view is pair `parentPairIndices[j]` of `parent`. */
  readonly parentPairIndices: Int32Array | undefined;
  /** Ground truth of injected noise, when this dataset came out of the noise module. */
  readonly noise: PairNoiseInfo | undefined;

  private readonly store: Store;
  private readonly imageRows: Int32Array | null;
  private readonly captionRows: Int32Array | null;
  private readonly splitDefs: Map<string, SplitDef>;
  private readonly views = new Map<string, PairDataset>();
  private inverse: { offsets: Int32Array; captions: Int32Array } | undefined;

  private constructor(state: State) {
    this.name = state.name;
    this.store = state.store;
    this.imageRows = state.imageRows;
    this.captionRows = state.captionRows;
    this.numImages = state.numImages;
    this.numPairs = state.captionToImage.length;
    this.imageDim = state.store.imageDim;
    this.imageRegions = state.store.imageRegions;
    this.captionDim = state.store.captionDim;
    this.captionToImage = state.captionToImage;
    this.labels = state.labels;
    this.splitDefs = state.splits;
    this.splitName = state.splitName;
    this.parent = state.parent;
    this.parentImageIndices = state.parentImageIndices;
    this.parentPairIndices = state.parentPairIndices;
    this.noise = state.noise;
  }

  /**
   * Build a dataset from typed arrays (no copies of the feature arrays are made).
   *
   * @throws DataError when sizes disagree, a caption points at a missing image, a label or split is bad,
   *   or a split is empty
   */
  static fromArrays(init: PairDatasetInit): PairDataset {
    const name = init.name ?? 'pairs';
    const regions = init.images.regions ?? 1;
    const { data: imageData, dim: imageDim } = init.images;
    if (!Number.isInteger(imageDim) || imageDim <= 0 || !Number.isInteger(regions) || regions <= 0) {
      throw new DataError(`image dim (${imageDim}) and regions (${regions}) must be positive integers`, {
        file: 'images',
      });
    }
    const stride = regions * imageDim;
    if (imageData.length % stride !== 0) {
      throw new DataError(
        `${imageData.length} values are not a whole number of ${regions}×${imageDim} images`,
        {
          file: 'images',
        },
      );
    }
    const numImages = imageData.length / stride;
    const captionData = init.captions.data;
    const tokens = init.captions.tokens;
    const captionDim = captionData ? (init.captions.dim ?? 0) : 0;
    let numCaptions: number;
    if (captionData) {
      if (!Number.isInteger(captionDim) || captionDim <= 0 || captionData.length % captionDim !== 0) {
        throw new DataError(
          `${captionData.length} values are not a whole number of ${captionDim}-d captions`,
          {
            file: 'captions',
          },
        );
      }
      numCaptions = captionData.length / captionDim;
    } else if (tokens) {
      numCaptions = tokens.offsets.length - 1;
    } else {
      throw new DataError('captions need feature vectors (data + dim) or token ids', { file: 'captions' });
    }
    if (tokens) PairDataset.checkTokens(tokens, numCaptions);

    let captionToImage: Int32Array;
    if (init.captionToImage == null) {
      if (numCaptions !== numImages) {
        throw new DataError(
          `there are ${numCaptions} captions and ${numImages} images; without a captionToImage map row i of each must be one pair`,
          { file: 'captions' },
        );
      }
      captionToImage = new Int32Array(numCaptions);
      for (let j = 0; j < numCaptions; j++) captionToImage[j] = j;
    } else {
      captionToImage = init.captionToImage;
      PairDataset.checkMap(captionToImage, numCaptions, numImages, 'captionToImage');
    }

    const labels = init.labels;
    if (labels) {
      if (labels.length !== numImages) {
        throw new DataError(`${labels.length} labels for ${numImages} images`, { file: 'labels' });
      }
      for (let i = 0; i < labels.length; i++) {
        if (labels[i]! < 0)
          throw new DataError(`image ${i} has label ${labels[i]}, expected ≥ 0`, {
            file: 'labels',
            index: i,
          });
      }
    }
    const lengths: [string, readonly string[] | undefined, number][] = [
      ['imageIds', init.imageIds, numImages],
      ['imageUrls', init.imageUrls, numImages],
      ['captionIds', init.captionIds, numCaptions],
      ['captionTexts', init.captionTexts, numCaptions],
    ];
    for (const [what, values, expected] of lengths) {
      if (values && values.length !== expected) {
        throw new DataError(
          `${values.length} entries for ${expected} ${what.startsWith('image') ? 'images' : 'captions'}`,
          {
            file: what,
          },
        );
      }
    }
    const store: Store = {
      imageData,
      imageDim,
      imageRegions: regions,
      captionData,
      captionDim,
      tokens,
      labels,
      classNames: init.classNames,
      imageIds: init.imageIds,
      captionIds: init.captionIds,
      captionTexts: init.captionTexts,
      imageUrls: init.imageUrls,
    };
    const ds = new PairDataset({
      name,
      store,
      imageRows: null,
      captionRows: null,
      numImages,
      captionToImage,
      labels,
      splits: new Map(),
      splitName: undefined,
      parent: undefined,
      parentImageIndices: undefined,
      parentPairIndices: undefined,
      noise: undefined,
    });
    return init.splits ? ds.withSplits(init.splits) : ds;
  }

  private static checkMap(map: Int32Array, numCaptions: number, numImages: number, file: string): void {
    if (map.length !== numCaptions) {
      throw new DataError(`${map.length} entries for ${numCaptions} captions`, { file });
    }
    for (let j = 0; j < map.length; j++) {
      const i = map[j]!;
      if (i < 0 || i >= numImages) {
        throw new DataError(
          `caption ${j} points at image ${i}, but there are ${numImages} images (0..${numImages - 1})`,
          {
            file,
            index: j,
          },
        );
      }
    }
  }

  private static checkTokens(tokens: TokenSequences, numCaptions: number): void {
    const { ids, offsets } = tokens;
    if (offsets.length !== numCaptions + 1 || offsets[0] !== 0 || offsets[numCaptions] !== ids.length) {
      throw new DataError(`token offsets must have ${numCaptions + 1} entries from 0 to ${ids.length}`, {
        file: 'captions.tokens',
      });
    }
    for (let j = 0; j < numCaptions; j++) {
      if (offsets[j + 1]! < offsets[j]!) {
        throw new DataError(`token offsets decrease at caption ${j}`, { file: 'captions.tokens', index: j });
      }
    }
  }

  // ---------------------------------------------------------------------------------------- counts

  /** Number of captions (= {@link PairDataset.numPairs}). */
  get numCaptions(): number {
    return this.numPairs;
  }

  /** Number of classes (max label + 1, or the number of class names), 0 without labels. */
  get numClasses(): number {
    const names = this.store.classNames?.length ?? 0;
    let max = -1;
    const labels = this.store.labels;
    if (labels) for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
    return Math.max(names, max + 1);
  }

  /** Display names of the classes (index = label), when known. */
  get classNames(): readonly string[] | undefined {
    return this.store.classNames;
  }

  /** Whether captions have feature vectors (else only token ids). */
  get hasCaptionFeatures(): boolean {
    return this.store.captionData !== undefined;
  }

  /** Whether captions have token ids. */
  get hasCaptionTokens(): boolean {
    return this.store.tokens !== undefined;
  }

  /**
   * Size of the token vocabulary (ids are below it): the stored `vocabSize`, else the largest id + 1;
   * undefined without tokens.
   */
  get tokenVocabSize(): number | undefined {
    const t = this.store.tokens;
    if (!t) return undefined;
    if (t.vocabSize !== undefined) return t.vocabSize;
    let max = -1;
    for (let k = 0; k < t.ids.length; k++) if (t.ids[k]! > max) max = t.ids[k]!;
    return max + 1;
  }

  /** Whether caption texts are known. */
  get hasCaptionTexts(): boolean {
    return this.store.captionTexts !== undefined;
  }

  /** Values per image item (`imageRegions × imageDim`). */
  get imageStride(): number {
    return this.imageRegions * this.imageDim;
  }

  // ------------------------------------------------------------------------------------ row access

  private imageRow0(i: number): number {
    if (!(i >= 0 && i < this.numImages))
      throw new RangeError(`image index ${i} outside [0, ${this.numImages})`);
    return this.imageRows ? this.imageRows[i]! : i;
  }

  private captionRow0(j: number): number {
    if (!(j >= 0 && j < this.numPairs))
      throw new RangeError(`caption index ${j} outside [0, ${this.numPairs})`);
    return this.captionRows ? this.captionRows[j]! : j;
  }

  /** Image i's values (`imageRegions × imageDim`), a view into the shared storage: do not modify. */
  imageRow(i: number): Float32Array {
    const s = this.imageStride;
    const r = this.imageRow0(i);
    return this.store.imageData.subarray(r * s, r * s + s);
  }

  /** Caption j's feature vector, a view into the shared storage: do not modify. */
  captionRow(j: number): Float32Array {
    const data = this.requireCaptionData();
    const r = this.captionRow0(j);
    return data.subarray(r * this.captionDim, (r + 1) * this.captionDim);
  }

  /** Caption j's token ids (a view), when the dataset has tokens. */
  captionTokens(j: number): Int32Array {
    const tokens = this.store.tokens;
    if (!tokens) throw new DataError(`dataset '${this.name}' has no caption token ids`);
    const r = this.captionRow0(j);
    return tokens.ids.subarray(tokens.offsets[r]!, tokens.offsets[r + 1]!);
  }

  private requireCaptionData(): Float32Array {
    const data = this.store.captionData;
    if (!data) throw new DataError(`dataset '${this.name}' has no caption feature vectors (token ids only)`);
    return data;
  }

  private gather(
    data: Float32Array,
    stride: number,
    rows: Int32Array | null,
    count: number,
    indices: ArrayLike<number>,
    out: Float32Array | undefined,
    what: string,
  ): Float32Array {
    const n = indices.length;
    const size = n * stride;
    const target = out ?? new Float32Array(size);
    if (target.length < size) {
      throw new RangeError(`gather${what}: the output holds ${target.length} values, ${n} rows need ${size}`);
    }
    const copy = rowCopier(stride);
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      if (!(i >= 0 && i < count))
        throw new RangeError(`gather${what}: index ${i} at position ${k} outside [0, ${count})`);
      copy(data, rows ? rows[i]! : i, target, k);
    }
    return target.length === size ? target : target.subarray(0, size);
  }

  /**
   * Copy the rows of the given images, in order, into `out` (reused across batches) or a new array.
   *
   * @example
   * ```ts
   * const buf = new Float32Array(batchSize * data.imageStride);   // allocate once
   * const rows = data.gatherImages(batch.images, buf);            // rows.length = batch.size × imageStride
   * ```
   * @param indices image indices
   * @param out optional destination with room for `indices.length × imageStride` values
   * @returns `indices.length × imageRegions × imageDim` values (`out` itself, or its prefix)
   */
  gatherImages(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    return this.gather(
      this.store.imageData,
      this.imageStride,
      this.imageRows,
      this.numImages,
      indices,
      out,
      'Images',
    );
  }

  /**
   * Copy the feature vectors of the given captions, in order, into `out` or a new array.
   *
   * @returns `indices.length × captionDim` values
   */
  gatherCaptions(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    const data = this.requireCaptionData();
    return this.gather(data, this.captionDim, this.captionRows, this.numPairs, indices, out, 'Captions');
  }

  /**
   * The image and caption features of the given pairs (pair j = caption j with image
   * `captionToImage[j]`), written into the optional reusable buffers.
   */
  gatherPairs(
    pairs: ArrayLike<number>,
    out: { images?: Float32Array; captions?: Float32Array } = {},
  ): { images: Float32Array; captions: Float32Array } {
    const imgIdx = new Int32Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) {
      const j = pairs[k]!;
      if (!(j >= 0 && j < this.numPairs))
        throw new RangeError(`gatherPairs: pair ${j} outside [0, ${this.numPairs})`);
      imgIdx[k] = this.captionToImage[j]!;
    }
    return {
      images: this.gatherImages(imgIdx, out.images),
      captions: this.gatherCaptions(pairs, out.captions),
    };
  }

  /**
   * All images as one `numImages × imageStride` array: a view of the storage when this dataset's rows
   * are contiguous there (do not modify it), a gathered copy otherwise.
   */
  imageMatrix(): Float32Array {
    return this.matrix(this.store.imageData, this.imageStride, this.imageRows, this.numImages);
  }

  /** All caption features as one `numPairs × captionDim` array (a view when contiguous, else a copy). */
  captionMatrix(): Float32Array {
    return this.matrix(this.requireCaptionData(), this.captionDim, this.captionRows, this.numPairs);
  }

  private matrix(data: Float32Array, stride: number, rows: Int32Array | null, count: number): Float32Array {
    if (!rows) return data.subarray(0, count * stride);
    const first = count > 0 ? rows[0]! : 0;
    let contiguous = true;
    for (let k = 1; k < count && contiguous; k++) contiguous = rows[k] === first + k;
    if (contiguous) return data.subarray(first * stride, (first + count) * stride);
    const out = new Float32Array(count * stride);
    const copy = rowCopier(stride);
    for (let k = 0; k < count; k++) copy(data, rows[k]!, out, k);
    return out;
  }

  // ------------------------------------------------------------------------------ ids and metadata

  /** Index of image i in the dataset the features were loaded into (the root of all views). */
  rootImageIndex(i: number): number {
    return this.imageRow0(i);
  }

  /** Index of pair j in the dataset the features were loaded into. */
  rootPairIndex(j: number): number {
    return this.captionRow0(j);
  }

  /** Class index of image i (undefined without labels). */
  imageLabel(i: number): number | undefined {
    if (!this.labels) return undefined;
    this.imageRow0(i);
    return this.labels[i];
  }

  /** String id of image i, when known. */
  imageId(i: number): string | undefined {
    return this.store.imageIds?.[this.imageRow0(i)];
  }

  /** URL of image i, when known. */
  imageUrl(i: number): string | undefined {
    return this.store.imageUrls?.[this.imageRow0(i)];
  }

  /** String id of caption j, when known. */
  captionId(j: number): string | undefined {
    return this.store.captionIds?.[this.captionRow0(j)];
  }

  /** Text of caption j, when known. */
  captionText(j: number): string | undefined {
    return this.store.captionTexts?.[this.captionRow0(j)];
  }

  /** The captions currently paired with image i (ascending; a view, do not modify). */
  imageCaptions(i: number): Int32Array {
    if (!this.inverse) {
      const counts = new Int32Array(this.numImages + 1);
      const map = this.captionToImage;
      for (let j = 0; j < map.length; j++) counts[map[j]! + 1]! += 1;
      for (let k = 0; k < this.numImages; k++) counts[k + 1] = counts[k + 1]! + counts[k]!;
      const fill = counts.slice(0, this.numImages);
      const captions = new Int32Array(map.length);
      for (let j = 0; j < map.length; j++) captions[fill[map[j]!]!++] = j;
      this.inverse = { offsets: counts, captions };
    }
    this.imageRow0(i);
    return this.inverse.captions.subarray(this.inverse.offsets[i]!, this.inverse.offsets[i + 1]!);
  }

  // ---------------------------------------------------------------------------------------- splits

  /** Names of the splits defined on this dataset. */
  get splitNames(): string[] {
    return [...this.splitDefs.keys()];
  }

  /** Whether a split of that name is defined. */
  hasSplit(name: string): boolean {
    return this.splitDefs.has(name);
  }

  /** Image and pair indices of a split (ascending; do not modify). */
  splitIndices(name: string): { images: Int32Array; pairs: Int32Array } {
    const def = this.splitDefs.get(name);
    if (!def) {
      throw new DataError(
        `dataset '${this.name}' has no split '${name}' (splits: ${this.splitNames.join(', ') || 'none'})`,
      );
    }
    return def;
  }

  /**
   * A view of one split: its images and pairs, renumbered from 0, sharing this dataset's features.
   * `parentImageIndices`/`parentPairIndices` map the view's indices back to this dataset. Cached.
   *
   * @example
   * ```ts
   * const train = data.split('train');
   * train.parentPairIndices![0];   // index in `data` of the first training pair
   * ```
   * @throws DataError when the split is unknown, or a pair of the split is paired with an image outside it
   */
  split(name: string): PairDataset {
    const cached = this.views.get(name);
    if (cached) return cached;
    const def = this.splitIndices(name);
    const toLocal = new Int32Array(this.numImages).fill(-1);
    for (let k = 0; k < def.images.length; k++) toLocal[def.images[k]!] = k;
    const map = new Int32Array(def.pairs.length);
    for (let k = 0; k < def.pairs.length; k++) {
      const j = def.pairs[k]!;
      const local = toLocal[this.captionToImage[j]!]!;
      if (local < 0) {
        throw new DataError(
          `pair ${j} of split '${name}' is paired with image ${this.captionToImage[j]}, which is not in the split`,
          { file: this.name, index: j },
        );
      }
      map[k] = local;
    }
    const compose = (rows: Int32Array | null, idx: Int32Array) => (rows ? idx.map((v) => rows[v]!) : idx);
    let noise: PairNoiseInfo | undefined;
    if (this.noise) {
      const n = this.noise;
      const clean = def.pairs.map((j) => {
        const c = n.cleanCaptionToImage[j]!;
        return c < 0 ? -1 : toLocal[c]!;
      });
      noise = {
        ...n,
        noisy: Uint8Array.from(def.pairs, (j) => n.noisy[j]!),
        cleanCaptionToImage: clean,
        ...(n.noiseType ? { noiseType: Uint8Array.from(def.pairs, (j) => n.noiseType![j]!) } : {}),
      };
    }
    const view = new PairDataset({
      name: this.name,
      store: this.store,
      imageRows: compose(this.imageRows, def.images),
      captionRows: compose(this.captionRows, def.pairs),
      numImages: def.images.length,
      captionToImage: map,
      labels: this.labels ? def.images.map((i) => this.labels![i]!) : undefined,
      splits: new Map(),
      splitName: name,
      parent: this,
      parentImageIndices: def.images,
      parentPairIndices: def.pairs,
      noise,
    });
    this.views.set(name, view);
    return view;
  }

  /** The `train` split view (throws a DataError naming the splits when there is none). */
  get train(): PairDataset {
    return this.split('train');
  }

  /** The `val` split view. */
  get val(): PairDataset {
    return this.split('val');
  }

  /** The `test` split view. */
  get test(): PairDataset {
    return this.split('test');
  }

  /**
   * The same data with other splits (replacing the current ones). A split by images takes all captions
   * currently paired with those images; a split by pairs takes the images of its pairs.
   *
   * @throws DataError for an out-of-range or repeated index, or an empty split
   */
  withSplits(splits: Record<string, SplitSpec>): PairDataset {
    const defs = new Map<string, SplitDef>();
    for (const [name, spec] of Object.entries(splits)) {
      let images: Int32Array;
      let pairs: Int32Array;
      if ('images' in spec) {
        images = checkIndexArray(spec.images, this.numImages, 'image', name);
        const inSplit = new Uint8Array(this.numImages);
        for (const i of images) inSplit[i] = 1;
        const list: number[] = [];
        for (let j = 0; j < this.numPairs; j++) if (inSplit[this.captionToImage[j]!]) list.push(j);
        pairs = Int32Array.from(list);
      } else {
        pairs = checkIndexArray(spec.pairs, this.numPairs, 'pair', name);
        const inSplit = new Uint8Array(this.numImages);
        for (const j of pairs) inSplit[this.captionToImage[j]!] = 1;
        const list: number[] = [];
        for (let i = 0; i < this.numImages; i++) if (inSplit[i]) list.push(i);
        images = Int32Array.from(list);
      }
      if (pairs.length === 0) {
        throw new DataError(`split '${name}' is empty (no pairs): choose larger fractions or other indices`, {
          file: this.name,
        });
      }
      defs.set(name, { images, pairs });
    }
    return this.derive({ splits: defs });
  }

  private derive(changes: Partial<State>): PairDataset {
    return new PairDataset({
      name: this.name,
      store: this.store,
      imageRows: this.imageRows,
      captionRows: this.captionRows,
      numImages: this.numImages,
      captionToImage: this.captionToImage,
      labels: this.labels,
      splits: this.splitDefs,
      splitName: this.splitName,
      parent: this.parent,
      parentImageIndices: this.parentImageIndices,
      parentPairIndices: this.parentPairIndices,
      noise: this.noise,
      ...changes,
    });
  }

  /**
   * The same features with another caption→image map (e.g. with noise), without copying features.
   * Splits keep their pairs and images; parent links are kept.
   *
   * @example
   * ```ts
   * const swapped = data.captionToImage.slice();
   * [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
   * const noisy = data.withCaptionToImage(swapped);   // same features, pairs 0 and 1 re-paired
   * ```
   * @param captionToImage one image index per caption
   * @param noise ground truth to attach (the noise module sets it)
   * @throws DataError when the map has the wrong length or points at a missing image
   */
  withCaptionToImage(captionToImage: Int32Array, noise?: PairNoiseInfo): PairDataset {
    PairDataset.checkMap(captionToImage, this.numPairs, this.numImages, 'captionToImage');
    if (
      noise &&
      (noise.noisy.length !== this.numPairs || noise.cleanCaptionToImage.length !== this.numPairs)
    ) {
      throw new RangeError('withCaptionToImage: the noise info must have one entry per pair');
    }
    return this.derive({ captionToImage, noise });
  }

  // --------------------------------------------------------------------------------------- batches

  /** Number of batches {@link PairDataset.batches} yields for these options. */
  numBatches(options: BatchOptions): number {
    const opts = parseOrThrow(BatchOptionsSchema, options, 'batch options');
    const n = opts.pairs ? opts.pairs.length : this.numPairs;
    return opts.dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
  }

  /**
   * Seeded, shuffled mini-batches over all pairs (or `options.pairs`), each pair exactly once per epoch.
   * The order depends only on (`seed`, `epoch`). Per epoch O(numPairs) work; per batch, views only.
   *
   * @example
   * ```ts
   * for (let epoch = 0; epoch < 3; epoch++) {
   *   for (const b of data.batches({ batchSize: 128, seed: 7, epoch })) {
   *     const imgs = data.gatherImages(b.images, imgBuffer);
   *     const caps = data.gatherCaptions(b.captions, capBuffer);
   *   }
   * }
   * ```
   */
  *batches(options: BatchOptions): Generator<PairBatch, void, undefined> {
    const opts = parseOrThrow(BatchOptionsSchema, options, 'batch options');
    let order: Int32Array;
    if (opts.pairs) {
      order = Int32Array.from(opts.pairs);
      for (let k = 0; k < order.length; k++) {
        if (!(order[k]! >= 0 && order[k]! < this.numPairs) || order[k] !== opts.pairs[k]) {
          throw new RangeError(
            `batches: pairs[${k}] = ${opts.pairs[k]} is not a pair index in [0, ${this.numPairs})`,
          );
        }
      }
    } else {
      order = new Int32Array(this.numPairs);
      for (let k = 0; k < order.length; k++) order[k] = k;
    }
    if (opts.shuffle) new Rng(opts.seed).fork(`batches/epoch-${opts.epoch}`).shuffle(order);
    const images = new Int32Array(order.length);
    for (let k = 0; k < order.length; k++) images[k] = this.captionToImage[order[k]!]!;
    const n = order.length;
    let batch = 0;
    for (let start = 0; start < n; start += opts.batchSize) {
      const end = Math.min(n, start + opts.batchSize);
      if (opts.dropLast && end - start < opts.batchSize) break;
      const pairs = order.subarray(start, end);
      yield {
        batch: batch++,
        size: end - start,
        pairs,
        captions: pairs,
        images: images.subarray(start, end),
      };
    }
  }

  // --------------------------------------------------------------------------------------- summary

  /** Counts, dims, splits and noise, for logs and reports. */
  describe(): DatasetSummary {
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    const counts = new Int32Array(this.numImages);
    for (let j = 0; j < this.numPairs; j++) counts[this.captionToImage[j]!]! += 1;
    for (let i = 0; i < counts.length; i++) {
      min = Math.min(min, counts[i]!);
      max = Math.max(max, counts[i]!);
    }
    const splits: Record<string, { images: number; pairs: number }> = {};
    for (const [name, def] of this.splitDefs)
      splits[name] = { images: def.images.length, pairs: def.pairs.length };
    const summary: DatasetSummary = {
      name: this.name,
      split: this.splitName,
      numImages: this.numImages,
      numPairs: this.numPairs,
      imageDim: this.imageDim,
      imageRegions: this.imageRegions,
      captionDim: this.captionDim,
      numClasses: this.numClasses,
      captionsPerImage: {
        min: this.numImages ? min : 0,
        max,
        mean: this.numImages ? this.numPairs / this.numImages : 0,
      },
      splits,
    };
    if (this.noise) {
      let noisy = 0;
      for (const v of this.noise.noisy) noisy += v;
      summary.noise = {
        protocol: this.noise.protocol,
        kind: this.noise.kind,
        rate: this.noise.rate,
        realisedRate: this.numPairs ? noisy / this.numPairs : 0,
      };
    }
    return summary;
  }
}
