/**
 * Class-level mean average precision, the metric of the classic cross-modal benchmarks (Wikipedia,
 * Pascal Sentence, NUS-WIDE) and of cross-modal hashing: every image queries all texts (and every text
 * all images), and a retrieved item is relevant when it has the query's class label.
 *
 * ## Definitions
 * For one query, let the gallery be ranked by score, highest first, and let `R` be the number of
 * relevant gallery items, `P(k)` the precision of the top k and `rel(k)` ∈ {0, 1} the relevance of the
 * item at position k.
 * - **AP (mAP@all)** = `(1/R) Σ_{k=1..n} P(k) · rel(k)` over the whole ranking.
 * - **AP@R (mAP@R)** = `(1/R) Σ_{k=1..R} P(k) · rel(k)`: the same sum cut at position R and still
 *   divided by R (Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV 2020). A perfect
 *   ranking gives 1; unlike R-precision it rewards putting the relevant items first within the top R.
 * - mAP = the mean over queries that have at least one relevant item (`queries` says how many).
 * - **Ties count against the model**: items with equal scores are ordered irrelevant-first, so the
 *   value never depends on item order and a constant scorer gets the lowest possible AP.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import { classMAP } from 'cleave/eval';
 * const images = new Float32Array([1, 0, 0.9, 0.1, 0, 1]); // 3 images, 2-d
 * const texts = new Float32Array([1, 0, 0, 1]); // 2 texts
 * const m = await classMAP(images, texts, { dim: 2, imageLabels: [0, 0, 1], textLabels: [0, 1] });
 * console.log(m.i2t.mapAll, m.t2i.mapAll); // 1 1
 * ```
 */
import { z } from 'zod';
import { DataError, parseOrThrow } from '../core/errors.js';
import { checkedLabels, numberArraySchema } from './arrays.js';
import { dotProductScorer, type RetrievalScorer } from './scorer.js';

const scoringShape = {
  /** Class label of each image (an integer per row). */
  imageLabels: numberArraySchema,
  /** Class label of each text (an integer per row). */
  textLabels: numberArraySchema,
  /** Upper bound on the bytes of one score block (float32). */
  blockBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 2 ** 20),
};

/** Options of {@link scoreClassMAP}. */
export const scoreClassMAPOptionsSchema = z.object(scoringShape).strict();
/** Options of {@link scoreClassMAP}, as accepted. */
export type ScoreClassMAPOptions = z.input<typeof scoreClassMAPOptionsSchema>;
/** Options of {@link classMAP}. */
export const classMAPOptionsSchema = z.object({ ...scoringShape, dim: z.number().int().positive() }).strict();
/** Options of {@link classMAP}, as accepted. */
export type ClassMAPOptions = z.input<typeof classMAPOptionsSchema>;

/** mAP of one direction. */
export interface MAPMetrics {
  /** Mean AP over the whole ranking (mAP@all). */
  mapAll: number;
  /** Mean AP@R, R = number of relevant items of the query. */
  mapAtR: number;
  /** Queries that had at least one relevant item (the others are left out of the means). */
  queries: number;
}

/** Result of {@link classMAP}: image→text and text→image. */
export interface ClassMAPMetrics {
  i2t: MAPMetrics;
  t2i: MAPMetrics;
}

/**
 * AP and AP@R of one query with pessimistic ties. `relevant` are the scores of relevant items,
 * `irrelevant` of the others (both are reordered in place).
 */
function queryAP(relevant: Float64Array, irrelevant: Float32Array): { ap: number; apAtR: number } {
  const r = relevant.length;
  relevant.sort().reverse();
  irrelevant.sort();
  const nIrr = irrelevant.length;
  let ap = 0;
  let apAtR = 0;
  let below = 0; // irrelevant items with score < current relevant score (ascending pointer)
  for (let t = r - 1; t >= 0; t--) {
    // walk relevant scores from the lowest up so that `below` only grows
    const x = relevant[t]!;
    while (below < nIrr && irrelevant[below]! < x) below++;
    const position = t + 1 + (nIrr - below); // irrelevant items scoring ≥ x come first
    const precision = (t + 1) / position;
    ap += precision;
    if (position <= r) apAtR += precision;
  }
  return { ap: ap / r, apAtR: apAtR / r };
}

interface QueryScores {
  /** Queries in this block. */
  count: number;
  /** Score of query q (0-based in the block) with gallery item g. */
  at(q: number, g: number): number;
}

function accumulate(
  block: QueryScores,
  queryLabels: Int32Array,
  queryOffset: number,
  galleryLabels: Int32Array,
  sums: { ap: number; apAtR: number; queries: number },
): void {
  const n = galleryLabels.length;
  for (let q = 0; q < block.count; q++) {
    const label = queryLabels[queryOffset + q]!;
    let r = 0;
    for (let g = 0; g < n; g++) if (galleryLabels[g] === label) r++;
    if (r === 0) continue;
    const relevant = new Float64Array(r);
    const irrelevant = new Float32Array(n - r);
    for (let g = 0, a = 0, b = 0; g < n; g++) {
      const v = block.at(q, g);
      if (Number.isNaN(v)) {
        throw new DataError(`score of query ${queryOffset + q} with item ${g} is NaN`, { file: 'scores' });
      }
      if (galleryLabels[g] === label) relevant[a++] = v;
      else irrelevant[b++] = v;
    }
    const { ap, apAtR } = queryAP(relevant, irrelevant);
    sums.ap += ap;
    sums.apAtR += apAtR;
    sums.queries++;
  }
}

function range(start: number, end: number): Int32Array {
  const out = new Int32Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}

const finish = (s: { ap: number; apAtR: number; queries: number }): MAPMetrics => ({
  mapAll: s.ap / s.queries,
  mapAtR: s.apAtR / s.queries,
  queries: s.queries,
});

/**
 * Class-level mAP (mAP@all and mAP@R, both directions) from any {@link RetrievalScorer} whose images
 * and captions are the two views. See the module documentation for the definitions.
 *
 * @example
 * ```ts
 * import { matrixScorer, scoreClassMAP } from 'cleave/eval';
 * const scores = new Float32Array([0.9, 0.1, 0.2, 0.8]); // 2 images × 2 texts
 * const m = await scoreClassMAP(matrixScorer(scores, 2, 2), { imageLabels: [3, 4], textLabels: [3, 4] });
 * console.log(m.i2t.mapAtR); // 1
 * ```
 */
export async function scoreClassMAP(
  scorer: RetrievalScorer,
  options: ScoreClassMAPOptions,
): Promise<ClassMAPMetrics> {
  const opts = parseOrThrow(scoreClassMAPOptionsSchema, options, 'classMAP options');
  const nI = scorer.imageCount;
  const nT = scorer.captionCount;
  const imageLabels = checkedLabels(opts.imageLabels, 'imageLabels', nI);
  const textLabels = checkedLabels(opts.textLabels, 'textLabels', nT);
  const floats = Math.floor(opts.blockBytes / 4);
  const allImages = range(0, nI);
  const allTexts = range(0, nT);

  const i2t = { ap: 0, apAtR: 0, queries: 0 };
  const rowsPerBlock = Math.max(1, Math.floor(floats / nT));
  for (let i0 = 0; i0 < nI; i0 += rowsPerBlock) {
    const i1 = Math.min(nI, i0 + rowsPerBlock);
    const s = await scorer.scoreBlock(allImages.subarray(i0, i1), allTexts);
    accumulate({ count: i1 - i0, at: (q, g) => s[q * nT + g]! }, imageLabels, i0, textLabels, i2t);
  }
  const t2i = { ap: 0, apAtR: 0, queries: 0 };
  const colsPerBlock = Math.max(1, Math.floor(floats / nI));
  for (let t0 = 0; t0 < nT; t0 += colsPerBlock) {
    const t1 = Math.min(nT, t0 + colsPerBlock);
    const cols = t1 - t0;
    const s = await scorer.scoreBlock(allImages, allTexts.subarray(t0, t1));
    accumulate({ count: cols, at: (q, g) => s[g * cols + q]! }, textLabels, t0, imageLabels, t2i);
  }
  return { i2t: finish(i2t), t2i: finish(t2i) };
}

/**
 * Class-level mAP of image and text embeddings, scored by dot products on the active tfjs backend
 * (normalise the rows first for cosine similarity). See the module documentation for the definitions.
 *
 * @param imageEmbeddings row-major `nImages × dim`
 * @param textEmbeddings row-major `nTexts × dim`
 * @param options `dim`, `imageLabels`, `textLabels` (one integer class per row), `blockBytes`
 * @returns `{ i2t: { mapAll, mapAtR, queries }, t2i: { … } }`
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import { classMAP } from 'cleave/eval';
 * const eye = new Float32Array([1, 0, 0, 1]);
 * const m = await classMAP(eye, eye, { dim: 2, imageLabels: [0, 1], textLabels: [0, 1] });
 * console.log(m.t2i.mapAll); // 1
 * ```
 */
export async function classMAP(
  imageEmbeddings: ArrayLike<number>,
  textEmbeddings: ArrayLike<number>,
  options: ClassMAPOptions,
): Promise<ClassMAPMetrics> {
  const { dim, ...rest } = parseOrThrow(classMAPOptionsSchema, options, 'classMAP options');
  const scorer = dotProductScorer(imageEmbeddings, textEmbeddings, dim);
  try {
    return await scoreClassMAP(scorer, rest);
  } finally {
    scorer.dispose?.();
  }
}
