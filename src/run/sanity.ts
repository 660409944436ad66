/**
 * Data sanity checks of a run, before any training: splits that share images or pairs (test leakage;
 * an error unless allowed), and the warnings a report carries — too few test pairs for stable recalls,
 * duplicate pairs, overlapping splits that were allowed.
 *
 * @example
 * ```ts
 * import { checkSplitOverlap, dataWarnings } from 'cleave/run';
 * const overlaps = checkSplitOverlap(data, { allow: false });   // throws a DataError on leakage
 * const warnings = dataWarnings(data);   // ['only 20 test pairs: …']
 * ```
 */
import { createHash } from 'node:crypto';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { DataError } from '../core/errors.js';

/** Fewer test pairs than this get a warning: recalls move in steps of 100 / n %. */
export const MIN_TEST_PAIRS = 100;

/** Two splits that share items. */
export interface SplitOverlap {
  a: string;
  b: string;
  /** Images (of the full dataset) in both. */
  images: number;
  /** Pairs (of the full dataset) in both. */
  pairs: number;
}

/**
 * The overlaps between the `train`, `val` and `test` splits of `data` (by image and by pair).
 *
 * @param options.allow when false (default), any overlap throws a {@link DataError} naming the splits
 *   and the first shared image; when true, the overlaps are returned (for a warning)
 * @example
 * ```ts
 * checkSplitOverlap(data.withSplits({ train: { images: [0, 1] }, test: { images: [1, 2] } }));   // throws
 * ```
 */
export function checkSplitOverlap(data: PairDataset, options: { allow?: boolean } = {}): SplitOverlap[] {
  const names = ['train', 'val', 'test'].filter((n) => data.hasSplit(n));
  const sets = names.map((n) => {
    const { images, pairs } = data.splitIndices(n);
    return { name: n, images: new Set(images), pairs: new Set(pairs) };
  });
  const found: SplitOverlap[] = [];
  for (let x = 0; x < sets.length; x++) {
    for (let y = x + 1; y < sets.length; y++) {
      const a = sets[x]!;
      const b = sets[y]!;
      let images = 0;
      let first = -1;
      for (const i of a.images) {
        if (b.images.has(i)) {
          images++;
          if (first < 0 || i < first) first = i;
        }
      }
      let pairs = 0;
      for (const j of a.pairs) if (b.pairs.has(j)) pairs++;
      if (images === 0 && pairs === 0) continue;
      if (!options.allow) {
        throw new DataError(
          `splits '${a.name}' and '${b.name}' share ${images} images and ${pairs} pairs (first shared image: ${first}); a model evaluated on pairs it trained or was selected on reports inflated recalls: make the splits disjoint, or pass --allow-split-overlap (allowSplitOverlap) to accept it with a warning`,
          { file: data.name, field: 'split', ...(first >= 0 ? { index: first } : {}) },
        );
      }
      found.push({ a: a.name, b: b.name, images, pairs });
    }
  }
  return found;
}

/**
 * Pairs whose image features and caption features are both identical to another pair's.
 * @returns the number of pairs that repeat an earlier one
 */
export function duplicatePairs(data: PairDataset): number {
  if (!data.hasCaptionFeatures) return 0;
  const seen = new Set<string>();
  let repeats = 0;
  const imageHash = new Map<number, string>();
  for (let j = 0; j < data.numPairs; j++) {
    const i = data.captionToImage[j]!;
    let ih = imageHash.get(i);
    if (ih === undefined) {
      const row = data.imageRow(i);
      ih = createHash('sha1')
        .update(new Uint8Array(row.buffer, row.byteOffset, row.byteLength))
        .digest('hex');
      imageHash.set(i, ih);
    }
    const c = data.captionRow(j);
    const key = `${ih}:${createHash('sha1')
      .update(new Uint8Array(c.buffer, c.byteOffset, c.byteLength))
      .digest('hex')}`;
    if (seen.has(key)) repeats++;
    else seen.add(key);
  }
  return repeats;
}

/**
 * The warnings a run report carries about its data (see the module documentation).
 *
 * @param data the dataset with its train/val/test splits
 * @param overlaps allowed overlaps from {@link checkSplitOverlap}
 * @example
 * ```ts
 * dataWarnings(withEvaluationSplits(await loadPairs(bundledDataset('myntra-fashionclip-99'))));
 * // ['only 20 test pairs (fewer than 100): …']
 * ```
 */
export function dataWarnings(data: PairDataset, overlaps: readonly SplitOverlap[] = []): string[] {
  const warnings: string[] = [];
  if (data.hasSplit('test')) {
    const n = data.test.numPairs;
    if (n < MIN_TEST_PAIRS) {
      warnings.push(
        `only ${n} test pair${n === 1 ? '' : 's'} (fewer than ${MIN_TEST_PAIRS}): each recall moves in steps of ${(100 / Math.max(1, n)).toFixed(1)} %, so rSum is not a stable measurement; use a larger test split`,
      );
    }
  }
  for (const o of overlaps) {
    warnings.push(
      `splits '${o.a}' and '${o.b}' share ${o.images} images and ${o.pairs} pairs (allowed by allowSplitOverlap): the test recalls are inflated`,
    );
  }
  const dup = duplicatePairs(data);
  if (dup > 0) {
    warnings.push(
      `${dup} pair${dup === 1 ? ' repeats' : 's repeat'} another pair exactly (same image and caption features): deduplicate the data, or duplicates may sit on both sides of a split`,
    );
  }
  return warnings;
}
