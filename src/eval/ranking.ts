/**
 * The ranking engine behind the retrieval metrics (`retrieval.ts` has the definitions and the public
 * functions): scores are produced in tiles of at most about `blockBytes`, positive pairs first, and
 * each query's rank is counted in branch-free loops over each tile, with ties counted against the
 * model (`pessimistic`) or for it (`optimistic`).
 *
 * @example
 * ```ts
 * const m = await evaluateRange(scorer, captionToImage, 0, scorer.imageCount, {
 *   ks: [1, 5, 10], blockBytes: 64 * 2 ** 20, ties: 'pessimistic', keepRanks: false, profile: false,
 * });
 * m.rsum;
 * ```
 */
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import type { RetrievalScorer } from './scorer.js';

/** How a non-matching item that ties with the match is ranked: before it (`pessimistic`) or after. */
export const TIE_RULES = ['pessimistic', 'optimistic'] as const;
/** One of {@link TIE_RULES}. */
export const tieRuleSchema = z.enum(TIE_RULES);
/** @see tieRuleSchema */
export type TieRule = z.output<typeof tieRuleSchema>;

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

/** What {@link evaluateRange} reads of the retrieval options (all defaults applied). */
export interface RankingOptions {
  /** Recall cut-offs (1, 5 and 10 are always reported). */
  ks: readonly number[];
  /** Upper bound on the bytes of one score tile. */
  blockBytes: number;
  ties: TieRule;
  keepRanks: boolean;
  profile: boolean;
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
export async function evaluateRange(
  scorer: RetrievalScorer,
  captionToImage: Int32Array,
  imageStart: number,
  imageEnd: number,
  opts: RankingOptions,
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
