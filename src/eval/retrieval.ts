/**
 * Instance-level cross-modal retrieval metrics: Recall@K both ways, rSum, median and mean rank, on the
 * full set and with the 5-fold "1K" protocol.
 *
 * ## Definitions (exact, including ties)
 * Let `s(i, j)` be the score of image `i` with caption `j` (a dot product by default), and let
 * `g(j)` be the image caption `j` belongs to (`captionToImage`; an image may have any number ≥ 1 of
 * captions).
 * - **text→image**: caption `j` queries all images; its rank is
 *   `1 + #{ images i ≠ g(j) : s(i, j) ≥ s(g(j), j) }`.
 * - **image→text**: image `i` queries all captions; the hit is its *best-scored* own caption, and its
 *   rank is `1 + #{ captions j with g(j) ≠ i : s(i, j) ≥ max_{g(j') = i} s(i, j') }`.
 * - **Ties count against the model** (`ties: 'pessimistic'`, the default): a non-matching item that
 *   scores exactly as high as the match is ranked before it. So ties never flatter the model — a
 *   collapsed model that gives every pair the same score gets rank n, not rank 1 — and the result does
 *   not depend on the order of the items (argsort-based scripts break ties by position).
 *   `ties: 'optimistic'` counts only strictly greater scores (`rank = 1 + #greater`), which places
 *   the match first among equals; it exists for comparison with such scripts on tie-free data (on
 *   continuous embeddings both give the same numbers).
 * - A NaN score of a non-matching item counts as beating the match (it never flatters the model); a
 *   NaN score of a matching pair is an error.
 * - `R@K` = 100 · (queries with rank ≤ K) / queries, in percent. `rsum` = i2t (R@1 + R@5 + R@10) +
 *   t2i (R@1 + R@5 + R@10), whatever `ks` asks for in addition.
 * - `medianRank` = ⌊median of the ranks⌋ (numpy median: mean of the two middle ranks for an even
 *   count), `meanRank` = mean rank; both 1-based, as in the VSE++/SCAN/NCR evaluation scripts
 *   (`floor(median(r0)) + 1` and `mean(r0) + 1` of their 0-based ranks).
 *
 * ## The "1K" protocol
 * {@link scoreRetrievalFolds} splits the images into `folds` (default 5) consecutive, equal parts
 * (boundaries `⌊f·n/folds⌋`), each with all captions of its images, evaluates each part on its own and
 * averages every metric over the folds; `mean.rsum` is the mean of the folds' own rSums. Note: a
 * widely copied evaluation script (VSE++ → SCAN → NCR, `evalrank(fold5=True)`) prints
 * `mean_metrics[10] * 6` as "rsum", i.e. six times the *image→text* average recall, not the mean rSum;
 * numbers from such papers are not comparable to ours when image→text and text→image differ.
 *
 * ## Memory
 * Scores are computed in tiles (image block × caption block) of at most about `blockBytes` (default
 * 64 MiB of float32). Positive pairs are scored in the diagonal tiles first; each score is computed
 * exactly once, and counting runs in plain JavaScript loops over each tile.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import { retrievalMetrics } from 'cleave';
 * // 2 images, 2 captions each (captions 0,1 → image 0; 2,3 → image 1), 2-d unit embeddings
 * const images = new Float32Array([1, 0, 0, 1]);
 * const captions = new Float32Array([1, 0, 0.6, 0.8, 0, 1, 0.8, 0.6]);
 * const m = await retrievalMetrics(images, captions, { dim: 2, captionToImage: 2 });
 * console.log(m.i2t.r1, m.t2i.r1, m.rsum); // 100 50 550
 * ```
 */
import { z } from 'zod';
import { DataError, parseOrThrow } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import { numberArraySchema } from './arrays.js';
import { dotProductScorer, type RetrievalScorer } from './scorer.js';

const scoringOptionsShape = {
  /**
   * Which image each caption belongs to: an array (caption j → image `captionToImage[j]`), or a
   * number k meaning k consecutive captions per image (caption j → image ⌊j/k⌋). Default: one caption
   * per image, caption i ↔ image i.
   */
  captionToImage: z.union([z.number().int().positive(), numberArraySchema]).optional(),
  /** Recall cut-offs; 1, 5 and 10 are always reported (they make rSum). */
  ks: z.array(z.number().int().positive()).min(1).default([1, 5, 10]),
  /** Upper bound on the bytes of one score tile (float32). */
  blockBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 2 ** 20),
  /** How a non-matching item that ties with the match is ranked (see the module documentation). */
  ties: z.enum(['pessimistic', 'optimistic']).default('pessimistic'),
  /** Also return every query's rank (`ranks`, 1-based, in query order). */
  keepRanks: z.boolean().default(false),
  /** Also return the time spent scoring vs counting ranks (`timing`). */
  profile: z.boolean().default(false),
};

/** Options of {@link scoreRetrieval}. */
export const scoreRetrievalOptionsSchema = z.object(scoringOptionsShape).strict();
/** Options of {@link scoreRetrieval}, as accepted. */
export type ScoreRetrievalOptions = z.input<typeof scoreRetrievalOptionsSchema>;

/** Options of {@link retrievalMetrics}: the embedding width plus {@link ScoreRetrievalOptions}. */
export const retrievalOptionsSchema = z
  .object({ ...scoringOptionsShape, dim: z.number().int().positive() })
  .strict();
/** Options of {@link retrievalMetrics}, as accepted. */
export type RetrievalOptions = z.input<typeof retrievalOptionsSchema>;

const foldsShape = { folds: z.number().int().min(1).default(5) };
/** Options of {@link scoreRetrievalFolds}. */
export const scoreRetrievalFoldsOptionsSchema = z.object({ ...scoringOptionsShape, ...foldsShape }).strict();
/** Options of {@link scoreRetrievalFolds}, as accepted. */
export type ScoreRetrievalFoldsOptions = z.input<typeof scoreRetrievalFoldsOptionsSchema>;
/** Options of {@link retrievalMetricsFolds}. */
export const retrievalFoldsOptionsSchema = z
  .object({ ...scoringOptionsShape, ...foldsShape, dim: z.number().int().positive() })
  .strict();
/** Options of {@link retrievalMetricsFolds}, as accepted. */
export type RetrievalFoldsOptions = z.input<typeof retrievalFoldsOptionsSchema>;

/** Metrics of one direction (image→text or text→image). Recalls are in percent. */
export interface DirectionMetrics {
  r1: number;
  r5: number;
  r10: number;
  /** ⌊median rank⌋, 1-based. */
  medianRank: number;
  /** Mean rank, 1-based. */
  meanRank: number;
  /** Number of queries (images for i2t, captions for t2i). */
  queries: number;
  /** Every query's 1-based rank, in query order (with `keepRanks`). */
  ranks?: Int32Array;
  /** Recall at any further cut-off asked for in `ks`, e.g. `r50`. */
  [recall: `r${number}`]: number;
}

/** Result of {@link retrievalMetrics} / {@link scoreRetrieval}. */
export interface RetrievalMetrics {
  i2t: DirectionMetrics;
  t2i: DirectionMetrics;
  /** i2t R@1+R@5+R@10 + t2i R@1+R@5+R@10. */
  rsum: number;
  /** With `profile`: milliseconds spent producing scores vs counting ranks. */
  timing?: { scoreMs: number; rankMs: number; tiles: number };
}

/** Result of the fold protocol: each fold's metrics and their mean (mean.rsum = mean of the folds' rSums). */
export interface FoldedRetrievalMetrics {
  folds: RetrievalMetrics[];
  mean: RetrievalMetrics;
}

type Parsed = z.output<typeof scoreRetrievalOptionsSchema>;

/** The caption→image map as an Int32Array, validated against the scorer's counts. */
function resolveCaptionToImage(
  spec: Parsed['captionToImage'],
  nImages: number,
  nCaptions: number,
): Int32Array {
  const out = new Int32Array(nCaptions);
  if (spec === undefined) {
    if (nCaptions !== nImages) {
      throw new DataError(
        `${nCaptions} captions for ${nImages} images: pass captionToImage (an array, or k for k consecutive captions per image)`,
        { file: 'captionToImage' },
      );
    }
    for (let j = 0; j < nCaptions; j++) out[j] = j;
    return out;
  }
  if (typeof spec === 'number') {
    if (nCaptions !== spec * nImages) {
      throw new DataError(
        `captionToImage = ${spec} needs ${spec * nImages} captions for ${nImages} images, got ${nCaptions}`,
        {
          file: 'captionToImage',
        },
      );
    }
    for (let j = 0; j < nCaptions; j++) out[j] = Math.floor(j / spec);
    return out;
  }
  if (spec.length !== nCaptions) {
    throw new DataError(`has ${spec.length} entries, expected one per caption (${nCaptions})`, {
      file: 'captionToImage',
    });
  }
  for (let j = 0; j < nCaptions; j++) {
    const g = spec[j]!;
    if (!Number.isInteger(g) || g < 0 || g >= nImages) {
      throw new DataError(`caption ${j} points to image ${g}, expected an integer in 0..${nImages - 1}`, {
        file: 'captionToImage',
        index: j,
      });
    }
    out[j] = g;
  }
  return out;
}

/**
 * Count, over one tile of scores (`rows × cols`, row-major), the entries above each row's and each
 * column's cut: `!(v <= cut)`, i.e. strictly greater or NaN. Branch-free, so its speed does not depend
 * on the data.
 */
function countTile(
  tile: Float32Array,
  rows: number,
  cols: number,
  rowCut: Float32Array,
  rowOff: number,
  colCut: Float32Array,
  colOff: number,
  rowCount: Int32Array,
  colCount: Int32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const cut = rowCut[rowOff + r]!;
    const base = r * cols;
    let count = 0;
    for (let c = 0; c < cols; c++) {
      const v = tile[base + c]!;
      count += +!(v <= cut);
      colCount[colOff + c]! += +!(v <= colCut[colOff + c]!);
    }
    rowCount[rowOff + r]! += count;
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The largest float32 below `x` (x itself a float32), so that for any float32 v:
 * `v > below(x)` ⟺ `v ≥ x`. This lets one strict comparison count pessimistic ties. For −∞ it
 * returns NaN, which every value passes (`!(v <= NaN)`), as every value is ≥ −∞.
 */
function float32Below(x: number): number {
  if (x === Number.NEGATIVE_INFINITY) return Number.NaN;
  if (x === 0) return -1.401298464324817e-45; // −(smallest subnormal), below both zeros
  f32[0] = x;
  u32[0] = x > 0 ? u32[0]! - 1 : u32[0]! + 1;
  return f32[0]!;
}

/** Recalls at `ks` (plus 1, 5, 10), floor-median and mean of 1-based ranks. */
function directionMetrics(ranks: Int32Array, ks: readonly number[], keepRanks: boolean): DirectionMetrics {
  const n = ranks.length;
  const cutoffs = [...new Set([1, 5, 10, ...ks])].sort((a, b) => a - b);
  const sorted = Int32Array.from(ranks).sort();
  let total = 0;
  for (let i = 0; i < n; i++) total += ranks[i]!;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const out = { medianRank: Math.floor(median), meanRank: total / n, queries: n } as DirectionMetrics;
  // sorted ranks: the number of ranks ≤ K is the insertion point of K + 1
  for (const k of cutoffs) {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! <= k) lo = mid + 1;
      else hi = mid;
    }
    out[`r${k}`] = (100 * lo) / n;
  }
  if (keepRanks) out.ranks = ranks;
  return out;
}

/** The captions of images `[imageStart, imageStart + n)`, grouped by image (stable order). */
function groupCaptions(captionToImage: Int32Array, imageStart: number, n: number) {
  /** perImage[i]..perImage[i+1]: the grouped positions of local image i's captions. */
  const perImage = new Int32Array(n + 1);
  let m = 0;
  for (let j = 0; j < captionToImage.length; j++) {
    const li = captionToImage[j]! - imageStart;
    if (li >= 0 && li < n) {
      perImage[li + 1]!++;
      m++;
    }
  }
  for (let i = 0; i < n; i++) {
    if (perImage[i + 1] === 0) {
      throw new DataError(`image ${imageStart + i} has no caption, so its image→text rank is undefined`, {
        file: 'captionToImage',
        index: imageStart + i,
      });
    }
    perImage[i + 1] = perImage[i + 1]! + perImage[i]!;
  }
  const captionIds = new Int32Array(m); // grouped position → global caption index
  const localOf = new Int32Array(m); // grouped position → local caption index (original order)
  const imageOf = new Int32Array(m); // grouped position → local image index
  const fill = perImage.slice(0, n);
  for (let j = 0, local = 0; j < captionToImage.length; j++) {
    const li = captionToImage[j]! - imageStart;
    if (li < 0 || li >= n) continue;
    const g = fill[li]!++;
    captionIds[g] = j;
    localOf[g] = local++;
    imageOf[g] = li;
  }
  return { m, perImage, captionIds, localOf, imageOf };
}

/**
 * Blocks of consecutive images for tiling: at most R images and C captions each (R·C floats ≤ the
 * budget, R ≈ √(budget / captions per image)); an image's captions are never split.
 */
function planBlocks(perImage: Int32Array, n: number, m: number, blockBytes: number) {
  const floats = Math.floor(blockBytes / 4);
  const rowsPerBlock = Math.max(1, Math.min(n, Math.floor(Math.sqrt(floats / (m / n)))));
  const colsPerBlock = Math.max(1, Math.floor(floats / rowsPerBlock));
  const blocks: { i0: number; i1: number }[] = [];
  for (let i0 = 0; i0 < n; ) {
    let i1 = i0 + 1;
    while (i1 < n && i1 - i0 < rowsPerBlock && perImage[i1 + 1]! - perImage[i0]! <= colsPerBlock) i1++;
    blocks.push({ i0, i1 });
    i0 = i1;
  }
  return blocks;
}

/** Evaluate the images `[imageStart, imageEnd)` against all captions that belong to them. */
async function evaluateRange(
  scorer: RetrievalScorer,
  captionToImage: Int32Array,
  imageStart: number,
  imageEnd: number,
  opts: Parsed,
): Promise<RetrievalMetrics> {
  const n = imageEnd - imageStart;
  const { m, perImage, captionIds, localOf, imageOf } = groupCaptions(captionToImage, imageStart, n);
  const imageIds = new Int32Array(n);
  for (let i = 0; i < n; i++) imageIds[i] = imageStart + i;
  const blocks = planBlocks(perImage, n, m, opts.blockBytes);

  const rowTh = new Float32Array(n).fill(Number.NEGATIVE_INFINITY); // best positive score per image
  const colTh = new Float32Array(m); // positive score per caption
  // what an entry must exceed to count: the threshold itself (optimistic), or the float32 just below
  // it, so that ties count too (pessimistic)
  const rowCut = new Float32Array(n);
  const colCut = new Float32Array(m);
  const rowCount = new Int32Array(n);
  const colCount = new Int32Array(m);
  const pessimistic = opts.ties === 'pessimistic';
  const cut = pessimistic ? float32Below : (x: number) => x;
  let scoreMs = 0;
  let rankMs = 0;
  let tiles = 0;
  const tile = async (a: { i0: number; i1: number }, b: { i0: number; i1: number }) => {
    const c0 = perImage[b.i0]!;
    const c1 = perImage[b.i1]!;
    const rows = a.i1 - a.i0;
    const t0 = performance.now();
    const scores = await scorer.scoreBlock(imageIds.subarray(a.i0, a.i1), captionIds.subarray(c0, c1));
    scoreMs += performance.now() - t0;
    tiles++;
    if (scores.length !== rows * (c1 - c0)) {
      throw new DataError(`scoreBlock returned ${scores.length} scores for a ${rows} × ${c1 - c0} block`, {
        file: 'scorer',
      });
    }
    return { scores, c0, c1, rows };
  };

  // 1. diagonal tiles: they hold every positive pair
  for (const b of blocks) {
    const { scores, c0, c1, rows } = await tile(b, b);
    const t0 = performance.now();
    const cols = c1 - c0;
    for (let g = c0; g < c1; g++) {
      const li = imageOf[g]!;
      const v = scores[(li - b.i0) * cols + (g - c0)]!;
      if (Number.isNaN(v)) {
        throw new DataError(
          `the score of image ${imageStart + li} with its caption ${captionIds[g]} is NaN`,
          {
            file: 'scores',
            index: captionIds[g]!,
          },
        );
      }
      colTh[g] = v;
      if (v > rowTh[li]!) rowTh[li] = v;
    }
    for (let i = b.i0; i < b.i1; i++) rowCut[i] = cut(rowTh[i]!);
    for (let g = c0; g < c1; g++) colCut[g] = cut(colTh[g]!);
    countTile(scores, rows, cols, rowCut, b.i0, colCut, c0, rowCount, colCount);
    if (pessimistic) {
      // the counts above include the matches themselves: each caption's own pair, and every caption
      // of an image that ties with the image's best one
      for (let g = c0; g < c1; g++) {
        const li = imageOf[g]!;
        colCount[g]!--;
        if (scores[(li - b.i0) * cols + (g - c0)] === rowTh[li]) rowCount[li]!--;
      }
    }
    rankMs += performance.now() - t0;
  }
  // 2. all other tiles
  for (const b of blocks) {
    for (const a of blocks) {
      if (a === b) continue;
      const { scores, c0, c1, rows } = await tile(a, b);
      const t0 = performance.now();
      countTile(scores, rows, c1 - c0, rowCut, a.i0, colCut, c0, rowCount, colCount);
      rankMs += performance.now() - t0;
    }
  }

  const i2tRanks = new Int32Array(n);
  for (let i = 0; i < n; i++) i2tRanks[i] = rowCount[i]! + 1;
  const t2iRanks = new Int32Array(m);
  for (let g = 0; g < m; g++) t2iRanks[localOf[g]!] = colCount[g]! + 1;
  const i2t = directionMetrics(i2tRanks, opts.ks, opts.keepRanks);
  const t2i = directionMetrics(t2iRanks, opts.ks, opts.keepRanks);
  const result: RetrievalMetrics = { i2t, t2i, rsum: i2t.r1 + i2t.r5 + i2t.r10 + t2i.r1 + t2i.r5 + t2i.r10 };
  getLogger('eval').debug({ images: n, captions: m, tiles, scoreMs, rankMs }, 'retrieval metrics');
  if (opts.profile) result.timing = { scoreMs, rankMs, tiles };
  return result;
}

/**
 * Retrieval metrics from any {@link RetrievalScorer} (see the module documentation for the exact
 * definitions). Use it for scores that are not dot products, e.g. a probabilistic head's match
 * probability; {@link retrievalMetrics} is the dot-product shortcut.
 *
 * @param scorer the score source; `captionToImage` must cover its `captionCount` captions
 * @param options see {@link ScoreRetrievalOptions}
 * @returns `{ i2t, t2i, rsum }` with recalls in percent
 * @throws DataError when an image has no caption, an index is out of range, or a positive score is NaN
 * @example
 * ```ts
 * import { matrixScorer, scoreRetrieval } from 'cleave/eval';
 * // 2 images × 3 captions; captions 0, 1 → image 0, caption 2 → image 1
 * const scores = new Float32Array([0.9, 0.2, 0.5, 0.1, 0.7, 0.4]);
 * const m = await scoreRetrieval(matrixScorer(scores, 2, 3), { captionToImage: [0, 0, 1] });
 * console.log(m.i2t.r1, m.t2i.r1); // 50 33.333333333333336
 * ```
 */
export async function scoreRetrieval(
  scorer: RetrievalScorer,
  options: ScoreRetrievalOptions = {},
): Promise<RetrievalMetrics> {
  const opts = parseOrThrow(scoreRetrievalOptionsSchema, options, 'retrieval options');
  const c2i = resolveCaptionToImage(opts.captionToImage, scorer.imageCount, scorer.captionCount);
  return evaluateRange(scorer, c2i, 0, scorer.imageCount, opts);
}

/** Mean of several results, field by field (rsum = mean of the rSums). */
function meanMetrics(results: RetrievalMetrics[]): RetrievalMetrics {
  const mean = (pick: (r: RetrievalMetrics) => DirectionMetrics) => {
    const out = {} as DirectionMetrics;
    for (const key of Object.keys(pick(results[0]!)) as (keyof DirectionMetrics)[]) {
      if (key === 'ranks') continue;
      let s = 0;
      for (const r of results) s += pick(r)[key] as number;
      (out as unknown as Record<string, number>)[key] = s / results.length;
    }
    return out;
  };
  let rsum = 0;
  for (const r of results) rsum += r.rsum;
  return { i2t: mean((r) => r.i2t), t2i: mean((r) => r.t2i), rsum: rsum / results.length };
}

/**
 * The fold protocol ("1K" on a 5K test set): `folds` consecutive equal parts of the images, each
 * with its own captions, evaluated separately and averaged (see the module documentation, including
 * the note on the published "rsum = 6 × i2t average").
 *
 * @returns `{ folds, mean }`; `mean.rsum` is the mean of the folds' rSums
 * @example
 * ```ts
 * import { matrixScorer, scoreRetrievalFolds } from 'cleave/eval';
 * const identity = new Float32Array(16).map((_, k) => (k % 5 === 0 ? 1 : 0)); // 4 × 4
 * const { folds, mean } = await scoreRetrievalFolds(matrixScorer(identity, 4, 4), { folds: 2 });
 * console.log(folds.length, mean.rsum); // 2 600
 * ```
 */
export async function scoreRetrievalFolds(
  scorer: RetrievalScorer,
  options: ScoreRetrievalFoldsOptions = {},
): Promise<FoldedRetrievalMetrics> {
  const { folds: count, ...opts } = parseOrThrow(
    scoreRetrievalFoldsOptionsSchema,
    options,
    'retrieval options',
  );
  const n = scorer.imageCount;
  if (count > n) {
    throw new DataError(`cannot split ${n} images into ${count} folds`, { file: 'retrieval options' });
  }
  const c2i = resolveCaptionToImage(opts.captionToImage, n, scorer.captionCount);
  const folds: RetrievalMetrics[] = [];
  for (let f = 0; f < count; f++) {
    folds.push(
      await evaluateRange(scorer, c2i, Math.floor((f * n) / count), Math.floor(((f + 1) * n) / count), opts),
    );
  }
  return { folds, mean: meanMetrics(folds) };
}

async function withDotScorer<T>(
  images: ArrayLike<number>,
  captions: ArrayLike<number>,
  dim: number,
  run: (scorer: RetrievalScorer) => Promise<T>,
): Promise<T> {
  const scorer = dotProductScorer(images, captions, dim);
  try {
    return await run(scorer);
  } finally {
    scorer.dispose?.();
  }
}

/**
 * Retrieval metrics of image and caption embeddings; scores are dot products (normalise the rows
 * first for cosine similarity, e.g. with `l2NormalizeRows`), computed block-wise by matmul on the
 * active tfjs backend. See the module documentation for the exact rank and tie definitions.
 *
 * @param imageEmbeddings row-major `nImages × dim`
 * @param captionEmbeddings row-major `nCaptions × dim`
 * @param options `dim`, `captionToImage` (default: caption i ↔ image i; a number k: k consecutive
 *   captions per image), `ks`, `blockBytes`, `keepRanks`, `profile`
 * @returns `{ i2t: { r1, r5, r10, medianRank, meanRank, queries }, t2i: { … }, rsum }`, recalls in percent
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import { retrievalMetrics } from 'cleave';
 * const images = new Float32Array([1, 0, 0, 1]);
 * const captions = new Float32Array([0.9, 0.1, 0.2, 0.8]);
 * const m = await retrievalMetrics(images, captions, { dim: 2 });
 * console.log(m.rsum); // 600
 * ```
 */
export async function retrievalMetrics(
  imageEmbeddings: ArrayLike<number>,
  captionEmbeddings: ArrayLike<number>,
  options: RetrievalOptions,
): Promise<RetrievalMetrics> {
  const { dim, ...rest } = parseOrThrow(retrievalOptionsSchema, options, 'retrievalMetrics options');
  return withDotScorer(imageEmbeddings, captionEmbeddings, dim, (s) => scoreRetrieval(s, rest));
}

/**
 * {@link retrievalMetrics} with the fold protocol (default 5 folds: "1K" on a 5K test set).
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import { retrievalMetricsFolds } from 'cleave/eval';
 * const eye = new Float32Array(100).map((_, k) => (k % 11 === 0 ? 1 : 0)); // 10 one-hot rows
 * const { mean } = await retrievalMetricsFolds(eye, eye, { dim: 10, folds: 5 });
 * console.log(mean.rsum); // 600
 * ```
 */
export async function retrievalMetricsFolds(
  imageEmbeddings: ArrayLike<number>,
  captionEmbeddings: ArrayLike<number>,
  options: RetrievalFoldsOptions,
): Promise<FoldedRetrievalMetrics> {
  const { dim, ...rest } = parseOrThrow(
    retrievalFoldsOptionsSchema,
    options,
    'retrievalMetricsFolds options',
  );
  return withDotScorer(imageEmbeddings, captionEmbeddings, dim, (s) => scoreRetrievalFolds(s, rest));
}
