/**
 * How well a clean/noisy split matches the truth, for synthetic noise where the noisy pairs are known.
 *
 * ## Orientation
 * - `posteriorClean[i]` is the model's **P(clean)** of pair i (e.g. the beta mixture's posterior of the
 *   low-loss component), in [0, 1].
 * - `isNoisy[i]` is the **truth mask: true / 1 marks a noisy pair** (what noise injection reports).
 * - Detection treats **noisy as the positive class**, ranked by *low* P(clean): ROC-AUC and average
 *   precision measure how well noisy pairs come first when sorted by ascending P(clean).
 * - At the threshold (default 0.5) a pair is **predicted clean iff P(clean) > threshold** and predicted
 *   noisy otherwise (as NCR's `prob > p_threshold`); precision, recall and F1 are those of the noisy
 *   predictions.
 *
 * ## Definitions
 * - **ROC-AUC** = P(score of a random noisy pair > score of a random clean pair) + ½ P(tie): the
 *   Mann–Whitney U statistic divided by (noisy × clean), computed with mid-ranks so ties count ½.
 *   NaN when either class is empty.
 * - **Average precision** = Σ over distinct score thresholds, from the highest, of
 *   (recall gained at the threshold) × (precision at the threshold); tied scores enter together
 *   (scikit-learn's `average_precision_score`, no interpolation). NaN without noisy pairs.
 * - precision / recall / F1 with 0/0 taken as 0.
 * - `estimatedNoiseRate` = mean of 1 − P(clean) (the noise rate the posteriors imply),
 *   `predictedNoiseRate` = share predicted noisy at the threshold, `trueNoiseRate` = share of the mask.
 *
 * @example
 * ```ts
 * import { splitQuality } from 'cleave';
 * const q = splitQuality([0.9, 0.8, 0.3, 0.6], [false, false, true, true]);
 * console.log(q.auc, q.recall, q.trueNoiseRate); // 1 0.5 0.5
 * ```
 */
import { z } from 'zod';
import { parseOrThrow } from '../core/errors.js';
import { checkedMask, checkedValues, type NumberArray } from './arrays.js';

/** Indices that sort `values` ascending (stable). */
export function ascendingOrder(values: Float64Array): Uint32Array {
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => values[a]! - values[b]! || a - b);
}

/** 1-based ranks with ties given the mean of the ranks they span (mid-ranks). */
export function midranks(values: Float64Array): Float64Array {
  const order = ascendingOrder(values);
  const ranks = new Float64Array(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}

/**
 * Tie-aware ROC-AUC of `scores` for the `positives` mask (higher score = more likely positive): the
 * Mann–Whitney U of the positives over (positives × negatives); tied pairs count ½.
 *
 * @returns the AUC in [0, 1], NaN when a class is empty
 * @example
 * ```ts
 * import { rocAuc } from 'cleave/eval';
 * rocAuc([0.1, 0.4, 0.4, 0.9], [0, 1, 0, 1]); // 0.875
 * ```
 */
export function rocAuc(scores: NumberArray, positives: ArrayLike<boolean | number>): number {
  const s = checkedValues(scores, 'scores');
  const pos = checkedMask(positives, 'positives', s.length);
  const ranks = midranks(s);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < s.length; i++) {
    if (pos[i]) {
      nPos++;
      rankSum += ranks[i]!;
    }
  }
  const nNeg = s.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Average precision of `scores` for the `positives` mask (higher score = more likely positive), with
 * tied scores entering the ranking together (scikit-learn's definition, no interpolation).
 *
 * @returns AP in [0, 1], NaN without positives
 * @example
 * ```ts
 * import { averagePrecision } from 'cleave/eval';
 * averagePrecision([0.9, 0.8, 0.7], [1, 0, 1]); // (1 + 2/3) / 2
 * ```
 */
export function averagePrecision(scores: NumberArray, positives: ArrayLike<boolean | number>): number {
  const s = checkedValues(scores, 'scores');
  const pos = checkedMask(positives, 'positives', s.length);
  let nPos = 0;
  for (let i = 0; i < s.length; i++) nPos += pos[i]!;
  if (nPos === 0) return Number.NaN;
  const order = ascendingOrder(s);
  let tp = 0;
  let seen = 0;
  let ap = 0;
  for (let end = order.length; end > 0; ) {
    // one group of tied scores, taken from the top
    let start = end - 1;
    while (start > 0 && s[order[start - 1]!] === s[order[end - 1]!]) start--;
    let gained = 0;
    for (let k = start; k < end; k++) gained += pos[order[k]!]!;
    tp += gained;
    seen += end - start;
    ap += (gained / nPos) * (tp / seen);
    end = start;
  }
  return ap;
}

/** Options of {@link splitQuality}. */
export const splitQualityOptionsSchema = z
  .object({
    /** A pair is predicted clean iff P(clean) > threshold. */
    threshold: z.number().min(0).max(1).default(0.5),
  })
  .strict();
/** Options of {@link splitQuality}, as accepted. */
export type SplitQualityOptions = z.input<typeof splitQualityOptionsSchema>;

/** Result of {@link splitQuality}. */
export interface SplitQuality {
  /** Pairs evaluated. */
  n: number;
  /** Noisy pairs in the truth mask. */
  noisy: number;
  /** ROC-AUC of detecting noisy pairs by low P(clean) (tie-aware). */
  auc: number;
  /** Average precision of detecting noisy pairs by low P(clean). */
  averagePrecision: number;
  /** The threshold used: predicted clean iff P(clean) > threshold. */
  threshold: number;
  /** Of the pairs predicted noisy, the share truly noisy. */
  precision: number;
  /** Of the truly noisy pairs, the share predicted noisy. */
  recall: number;
  f1: number;
  /** Mean of 1 − P(clean). */
  estimatedNoiseRate: number;
  /** Share of pairs predicted noisy at the threshold. */
  predictedNoiseRate: number;
  /** Share of noisy pairs in the truth mask. */
  trueNoiseRate: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/**
 * Quality of a clean/noisy split against the truth (see the module documentation for the orientation:
 * posteriors are P(clean), the mask marks noisy pairs, noisy is the positive class).
 *
 * @param posteriorClean P(clean) per pair, in [0, 1]
 * @param isNoisy truth mask, true / 1 = noisy pair
 * @param options `threshold` (default 0.5): predicted clean iff P(clean) > threshold
 * @example
 * ```ts
 * import { splitQuality } from 'cleave';
 * const q = splitQuality(new Float64Array([0.95, 0.1, 0.7, 0.2]), [0, 1, 0, 0]);
 * console.log(q.auc, q.precision, q.recall, q.f1); // 1 0.5 1 0.6666666666666666
 * ```
 */
export function splitQuality(
  posteriorClean: NumberArray,
  isNoisy: ArrayLike<boolean | number>,
  options: SplitQualityOptions = {},
): SplitQuality {
  const { threshold } = parseOrThrow(splitQualityOptionsSchema, options, 'splitQuality options');
  const p = checkedValues(posteriorClean, 'posteriorClean', { min: 0, max: 1 });
  const noisyMask = checkedMask(isNoisy, 'isNoisy', p.length);
  const n = p.length;
  const noisiness = new Float64Array(n);
  let noisy = 0;
  let tp = 0;
  let predicted = 0;
  let impliedNoise = 0;
  for (let i = 0; i < n; i++) {
    noisiness[i] = -p[i]!; // exact negation: keeps every tie and every order of P(clean)
    const truth = noisyMask[i]!;
    const flagged = !(p[i]! > threshold);
    noisy += truth;
    predicted += +flagged;
    tp += +(flagged && truth === 1);
    impliedNoise += 1 - p[i]!;
  }
  const precision = ratio(tp, predicted);
  const recall = ratio(tp, noisy);
  return {
    n,
    noisy,
    auc: rocAuc(noisiness, noisyMask),
    averagePrecision: averagePrecision(noisiness, noisyMask),
    threshold,
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    estimatedNoiseRate: impliedNoise / n,
    predictedNoiseRate: predicted / n,
    trueNoiseRate: noisy / n,
  };
}
