/**
 * Does the model know when it is wrong? Two checks against a truth mask of noisy pairs:
 * - {@link uncertaintyQuality}: correlation of each pair's uncertainty (e.g. a PCME head's mean
 *   variance, or 1 − P(clean)) with being noisy — Pearson (the point-biserial correlation, since the
 *   mask is 0/1), Spearman (Pearson of mid-ranks) and the ROC-AUC of ranking noisy pairs first by
 *   uncertainty. Higher is better for all three; undefined (NaN) when either input is constant.
 * - {@link expectedCalibrationError}: calibration of the clean posterior P(clean).
 *
 * ## Expected calibration error (binary, equal-width bins)
 * The event is "the pair is clean" (mask false), its predicted probability is P(clean). With B bins
 * (default 10) of equal width on [0, 1], pair i goes to bin `min(B − 1, ⌊P(clean)_i · B⌋)` (so bin b
 * is [b/B, (b+1)/B), the last one closed). Then
 * `ECE = Σ_b (n_b / n) · |mean P(clean) in b − share of clean pairs in b|` and
 * `MCE = max_b |…|` over non-empty bins. Empty bins are listed with `count: 0` and NaN means.
 * This is the calibration of a probability, not the "confidence = max class probability" ECE of
 * multi-class classifiers.
 *
 * @example
 * ```ts
 * import { expectedCalibrationError, uncertaintyQuality } from 'cleave/eval';
 * const noisy = [false, false, true, true];
 * console.log(uncertaintyQuality([0.1, 0.2, 0.7, 0.9], noisy).spearman); // 0.894…
 * console.log(expectedCalibrationError([0.9, 0.9, 0.1, 0.1], noisy).ece); // ≈ 0.1
 * ```
 */
import { sampleCorrelation } from 'simple-statistics';
import { z } from 'zod';
import { parseOrThrow } from '../core/errors.js';
import { checkedMask, checkedValues, type NumberArray } from './arrays.js';
import { midranks, rocAuc } from './detection.js';

/** Result of {@link uncertaintyQuality}. */
export interface UncertaintyQuality {
  n: number;
  /** Pearson correlation of uncertainty with the 0/1 noisy indicator (point-biserial). */
  pearson: number;
  /** Spearman rank correlation (mid-ranks for ties) of uncertainty with the noisy indicator. */
  spearman: number;
  /** ROC-AUC of finding noisy pairs by high uncertainty (tie-aware). */
  auc: number;
}

function correlation(x: Float64Array, y: Float64Array): number {
  if (x.length < 2) return Number.NaN;
  return sampleCorrelation(Array.from(x), Array.from(y));
}

/**
 * Correlation of each pair's uncertainty with being noisy (see the module documentation).
 *
 * @param uncertainty one finite value per pair, higher = less certain
 * @param isNoisy truth mask, true / 1 = noisy pair
 * @example
 * ```ts
 * import { uncertaintyQuality } from 'cleave/eval';
 * const q = uncertaintyQuality([0.2, 0.1, 0.9, 0.4], [0, 0, 1, 1]);
 * console.log(q.auc); // 1
 * ```
 */
export function uncertaintyQuality(
  uncertainty: NumberArray,
  isNoisy: ArrayLike<boolean | number>,
): UncertaintyQuality {
  const u = checkedValues(uncertainty, 'uncertainty');
  const mask = checkedMask(isNoisy, 'isNoisy', u.length);
  const y = Float64Array.from(mask);
  return {
    n: u.length,
    pearson: correlation(u, y),
    spearman: correlation(midranks(u), midranks(y)),
    auc: rocAuc(u, mask),
  };
}

/** Options of {@link expectedCalibrationError}. */
export const calibrationOptionsSchema = z
  .object({
    /** Number of equal-width bins on [0, 1]. */
    bins: z.number().int().min(1).max(10_000).default(10),
  })
  .strict();
/** Options of {@link expectedCalibrationError}, as accepted. */
export type CalibrationOptions = z.input<typeof calibrationOptionsSchema>;

/** One bin of a reliability diagram. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean P(clean) of the bin's pairs (NaN when empty). */
  meanPosterior: number;
  /** Share of clean pairs in the bin (NaN when empty). */
  cleanFraction: number;
}

/** Result of {@link expectedCalibrationError}. */
export interface Calibration {
  /** Expected calibration error: count-weighted mean gap. */
  ece: number;
  /** Maximum calibration error: largest gap over non-empty bins. */
  mce: number;
  /** The reliability diagram. */
  bins: CalibrationBin[];
}

/**
 * Expected calibration error of the clean posterior, with equal-width bins (see the module
 * documentation for the exact binning).
 *
 * @param posteriorClean P(clean) per pair, in [0, 1]
 * @param isNoisy truth mask, true / 1 = noisy pair
 * @param options `bins` (default 10)
 * @example
 * ```ts
 * import { expectedCalibrationError } from 'cleave/eval';
 * const c = expectedCalibrationError([0.75, 0.75, 0.75, 0.75], [0, 0, 0, 1], { bins: 4 });
 * console.log(c.ece, c.bins[3]?.count); // 0 4
 * ```
 */
export function expectedCalibrationError(
  posteriorClean: NumberArray,
  isNoisy: ArrayLike<boolean | number>,
  options: CalibrationOptions = {},
): Calibration {
  const { bins: nBins } = parseOrThrow(calibrationOptionsSchema, options, 'expectedCalibrationError options');
  const p = checkedValues(posteriorClean, 'posteriorClean', { min: 0, max: 1 });
  const mask = checkedMask(isNoisy, 'isNoisy', p.length);
  const count = new Float64Array(nBins);
  const sumP = new Float64Array(nBins);
  const clean = new Float64Array(nBins);
  for (let i = 0; i < p.length; i++) {
    const b = Math.min(nBins - 1, Math.floor(p[i]! * nBins));
    count[b]!++;
    sumP[b] = sumP[b]! + p[i]!;
    clean[b]! += 1 - mask[i]!;
  }
  let ece = 0;
  let mce = 0;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < nBins; b++) {
    const c = count[b]!;
    const meanPosterior = c > 0 ? sumP[b]! / c : Number.NaN;
    const cleanFraction = c > 0 ? clean[b]! / c : Number.NaN;
    if (c > 0) {
      const gap = Math.abs(meanPosterior - cleanFraction);
      ece += (c / p.length) * gap;
      mce = Math.max(mce, gap);
    }
    bins.push({ lower: b / nBins, upper: (b + 1) / nBins, count: c, meanPosterior, cleanFraction });
  }
  return { ece: p.length > 0 ? ece : Number.NaN, mce, bins };
}
