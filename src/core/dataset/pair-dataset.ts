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
import { DataError } from '../errors.js';
import { type BatchOptions, countBatches, type PairBatch, pairBatches } from './batching.js';
import { checkCaptionToImage, checkInit } from './checks.js';
import { checkNoiseInfo, type PairNoiseInfo, restrictNoise } from './noise-state.js';
import { imagesOfPairs, invertPairing, resolveSplits, splitMaps } from './pairing.js';
import { gatherRows, rowMatrix } from './rows.js';
import { classCount, createStore, type Store, vocabSizeOf } from './store.js';
import { summariseDataset } from './summary.js';
import type { DatasetSummary, PairDatasetInit, SplitDef, SplitSpec } from './types.js';

interface State {
  name: string;
  store: Store;
  imageRows: Int32Array | null;
  captionRows: Int32Array | null;
  numImages: number;
  captionToImage: Int32Array;
  labels: Int32Array | undefined;
  splits: Map<string, SplitDef>;
  /** The view links below are absent for a dataset built from arrays. */
  splitName?: string | undefined;
  parent?: PairDataset | undefined;
  parentImageIndices?: Int32Array | undefined;
  parentPairIndices?: Int32Array | undefined;
  noise?: PairNoiseInfo | undefined;
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
    const checked = checkInit(init);
    const { numImages, captionToImage } = checked;
    const store = createStore(init, checked);
    const ds = new PairDataset({
      name: init.name ?? 'pairs',
      store,
      imageRows: null,
      captionRows: null,
      numImages,
      captionToImage,
      labels: init.labels,
      splits: new Map(),
    });
    return init.splits ? ds.withSplits(init.splits) : ds;
  }

  // ---------------------------------------------------------------------------------------- counts

  /** Number of captions (= {@link PairDataset.numPairs}). */
  get numCaptions(): number {
    return this.numPairs;
  }

  /** Number of classes (max label + 1, or the number of class names), 0 without labels. */
  get numClasses(): number {
    return classCount(this.store);
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
    return vocabSizeOf(this.store.tokens);
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
    const data = this.store.imageData;
    return gatherRows(data, this.imageStride, this.imageRows, this.numImages, indices, out, 'Images');
  }

  /**
   * Copy the feature vectors of the given captions, in order, into `out` or a new array.
   *
   * @returns `indices.length × captionDim` values
   */
  gatherCaptions(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    const data = this.requireCaptionData();
    return gatherRows(data, this.captionDim, this.captionRows, this.numPairs, indices, out, 'Captions');
  }

  /**
   * The image and caption features of the given pairs (pair j = caption j with image
   * `captionToImage[j]`), written into the optional reusable buffers.
   */
  gatherPairs(
    pairs: ArrayLike<number>,
    out: { images?: Float32Array; captions?: Float32Array } = {},
  ): { images: Float32Array; captions: Float32Array } {
    const imgIdx = imagesOfPairs(this.captionToImage, pairs);
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
    return rowMatrix(this.store.imageData, this.imageStride, this.imageRows, this.numImages);
  }

  /** All caption features as one `numPairs × captionDim` array (a view when contiguous, else a copy). */
  captionMatrix(): Float32Array {
    return rowMatrix(this.requireCaptionData(), this.captionDim, this.captionRows, this.numPairs);
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
    if (!this.inverse) this.inverse = invertPairing(this.captionToImage, this.numImages);
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
    const maps = splitMaps(def, this.captionToImage, this.numImages, name, this.name);
    const compose = (rows: Int32Array | null, idx: Int32Array) => (rows ? idx.map((v) => rows[v]!) : idx);
    const noise = this.noise ? restrictNoise(this.noise, def.pairs, maps.toLocal) : undefined;
    const view = new PairDataset({
      name: this.name,
      store: this.store,
      imageRows: compose(this.imageRows, def.images),
      captionRows: compose(this.captionRows, def.pairs),
      numImages: def.images.length,
      captionToImage: maps.captionToImage,
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
    return this.derive({ splits: resolveSplits(splits, this.captionToImage, this.numImages, this.name) });
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
    checkCaptionToImage(captionToImage, this.numPairs, this.numImages, 'captionToImage');
    checkNoiseInfo(noise, this.numPairs);
    return this.derive({ captionToImage, noise });
  }

  // --------------------------------------------------------------------------------------- batches

  /** Number of batches {@link PairDataset.batches} yields for these options. */
  numBatches(options: BatchOptions): number {
    return countBatches(this.numPairs, options);
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
    yield* pairBatches(this.captionToImage, options);
  }

  // --------------------------------------------------------------------------------------- summary

  /** Counts, dims, splits and noise, for logs and reports. */
  describe(): DatasetSummary {
    return summariseDataset(this, this.splitDefs);
  }
}
