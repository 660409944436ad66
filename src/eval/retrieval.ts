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
import { numberArraySchema } from './arrays.js';
import { type DirectionMetrics, evaluateRange, type RetrievalMetrics, tieRuleSchema } from './ranking.js';
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
  ties: tieRuleSchema.default('pessimistic'),
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
