/**
 * `report.json`: what one run measured, in one documented shape shared by the CLI (`cleave train`),
 * the experiment grid and the demo.
 *
 * ```json
 * { "format": "cleave-run-report", "version": 1,
 *   "method": "refurb", "protocol": "caption-level", "seed": 7,
 *   "noise": { "kind": "shuffle", "rate": 0.5, "seed": 7, "realisedRate": 0.5, … },
 *   "test":  { "i2t": { "r1", "r5", "r10", "medianRank", "meanRank" }, "t2i": { … }, "rsum",
 *              "scoring": "match-probability", "byMean": { … }, "classMAP": { … } },
 *   "split": { "auc", "ap", "estimatedNoiseRate", "trueNoiseRate", "predictedNoiseRate",
 *              "precision", "recall", "f1", "ece" },
 *   "lossSplit": { "auc", "ap", "score" },
 *   "uncertainty": { "pearson", "spearman", "auc", "meanClean", "meanNoisy" },
 *   "dataset": { … }, "training": { … }, "timing": { … }, "backend": "cpu-blas", "files": { … } }
 * ```
 *
 * - Recalls are in percent; ranks are 1-based with ties counted against the model.
 * - `protocol` names the noise protocol every number depends on: `caption-level` (NCR's shuffled
 *   captions), `image-level` (shuffled images, DECL/RCL) or `none` (no injected noise).
 * - `split` (quality of the clean/noisy split against the truth mask; `estimatedNoiseRate` = mean of
 *   1 − P(clean), `predictedNoiseRate` = share with P(clean) ≤ 0.5) is present when noise was injected
 *   and the method splits (`refurb`, `ncr-like`).
 * - `lossSplit` (with injected noise, every method): ROC-AUC/AP of the *final* model's per-pair loss at
 *   finding the noisy training pairs — how much of the noise the model memorised.
 * - `uncertainty` (probabilistic head with injected noise): correlation of each training pair's
 *   uncertainty (mean σ² of its image and caption) with being noisy.
 * - JSON has no NaN: an undefined statistic (e.g. an AUC with no noisy pair) is `null`.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * const report = JSON.parse(await readFile('runs/wiki/report.json', 'utf8'));
 * console.log(report.test.rsum, report.split?.auc, report.protocol);
 * ```
 */

import type { NoiseProtocol } from '../core/dataset/noise-state.js';
import type { DatasetSummary } from '../core/dataset/types.js';
import { Rng } from '../core/random.js';
import { averagePrecision, rocAuc, splitQuality } from '../eval/detection.js';
import type { ClassMAPMetrics } from '../eval/map.js';
import type { RetrievalMetrics } from '../eval/ranking.js';
import { expectedCalibrationError } from '../eval/uncertainty.js';
import type { NoiseSummary } from '../noise/inject.js';
import { TRAINER_METHODS, type TrainerMethod } from '../trainer/config.js';

/**
 * Every method a run can use: the trainer's three, the CCA baseline, and `oracle`: the `vse` recipe
 * trained only on the training pairs that are truly clean (it needs injected noise to know them; without
 * noise it is `vse`). The oracle is a reference, not a method: it is what a perfect clean/noisy split
 * that drops the noisy pairs would reach, so `refurb` − `vse` can be read against `oracle` − `vse`.
 */
export const RUN_METHODS = [...TRAINER_METHODS, 'cca', 'oracle'] as const;
/** A run method. */
export type RunMethod = (typeof RUN_METHODS)[number];

/**
 * The trainer method behind a run method (`oracle` trains with `vse`'s recipe), or undefined for `cca`.
 *
 * @example
 * ```ts
 * trainerMethodOf('oracle');   // 'vse'
 * trainerMethodOf('cca');      // undefined
 * ```
 */
export function trainerMethodOf(method: RunMethod): TrainerMethod | undefined {
  if (method === 'cca') return undefined;
  return method === 'oracle' ? 'vse' : method;
}

/** R@1/5/10 (percent), median and mean rank of one direction. */
export interface RecallSummary {
  r1: number;
  r5: number;
  r10: number;
  medianRank: number;
  meanRank: number;
}

/** Retrieval on the test split. */
export interface TestSection {
  i2t: RecallSummary;
  t2i: RecallSummary;
  rsum: number;
  /** How the ranking was scored. */
  scoring: 'cosine' | 'match-probability' | 'cca-cosine';
  /** Probabilistic head: the ranking by the cosine of the means. */
  byMean?: { i2t: RecallSummary; t2i: RecallSummary; rsum: number };
  /** Class-level mAP (mAP@all, mAP@R), when the data has labels. */
  classMAP?: ClassMAPMetrics;
  /** Test images and captions. */
  images: number;
  captions: number;
  /**
   * The fold protocol (`folds` > 1, e.g. 5 folds of 1,000 images on a 5K test set, NCR's `fold5`):
   * consecutive equal parts of the test images with their captions, each ranked on its own; `mean`
   * averages every metric over the folds (its `rsum` is the mean of the folds' rSums).
   */
  folds?: {
    count: number;
    perFold: { i2t: RecallSummary; t2i: RecallSummary; rsum: number; images: number }[];
    mean: { i2t: RecallSummary; t2i: RecallSummary; rsum: number };
  };
}

/** Quality of the clean/noisy split against the injected truth. */
export interface SplitSection {
  auc: number;
  ap: number;
  /** Mean of 1 − P(clean). */
  estimatedNoiseRate: number;
  trueNoiseRate: number;
  /** Share of pairs with P(clean) ≤ 0.5. */
  predictedNoiseRate: number;
  precision: number;
  recall: number;
  f1: number;
  /** Expected calibration error of P(clean) (10 bins). */
  ece: number;
}

/** How well the final model's per-pair loss ranks the noisy training pairs first. */
export interface LossSplitSection {
  auc: number;
  ap: number;
  /** The per-pair score used (`infonce` loss for trained models, `1 − cosine` for CCA). */
  score: string;
  /** How many training pairs were scored (all, or the `lossSplitPairs` subset). */
  pairs: number;
}

/** Uncertainty (mean σ² of a pair's image and caption) against the truth. */
export interface UncertaintySection {
  pearson: number;
  spearman: number;
  auc: number;
  meanClean: number;
  meanNoisy: number;
}

/** The injected noise. */
export interface NoiseSection {
  kind: string;
  rate: number | null;
  seed: number | null;
  realisedRate: number;
  coveredPairs: number;
  noisyPairs: number;
  partial: number | null;
  complete: number | null;
  partialBy: string;
}

/** The whole `report.json` (see the module documentation). */
export interface RunReport {
  format: 'cleave-run-report';
  version: 1;
  method: RunMethod;
  protocol: NoiseProtocol | 'none';
  seed: number;
  noise: NoiseSection | null;
  dataset: {
    name: string;
    source: string;
    sourceKind: string;
    imageDim: number;
    captionDim: number;
    numClasses: number;
    splits: DatasetSummary['splits'];
  };
  test: TestSection;
  split?: SplitSection;
  lossSplit?: LossSplitSection;
  uncertainty?: UncertaintySection;
  /** The shared-space test on the training pairs, and whether the run used it (trainer methods). */
  sharedSpace?: { shared: boolean; used: boolean; alignedShare: number | null; reason: string };
  /**
   * On a shared space: what doing nothing gives on the same test pairs (the inputs' own cosine), and
   * with known noise the split quality of the CLIP-score filter (1 − input cosine) — the baselines a
   * user compares with.
   */
  zeroShot?: { test: { i2t: RecallSummary; t2i: RecallSummary; rsum: number }; splitAuc?: number };
  training: {
    /** Epochs run (0 for CCA). */
    epochs: number;
    /** The epoch whose model was evaluated (best on validation, else the last); −1 for CCA. */
    bestEpoch: number;
    trainPairs: number;
    validationPairs: number;
  };
  timing: { loadSeconds: number; trainSeconds: number; evalSeconds: number; totalSeconds: number };
  backend: string;
  cleaveVersion: string;
  createdAt: string;
  /**
   * Data sanity warnings (too few test pairs, allowed split overlaps, duplicate pairs, a `--resume`
   * without a checkpoint); also logged and printed by the CLI.
   */
  warnings?: string[];
  /** Output files, relative to the run folder. */
  files: Record<string, string>;
}

/**
 * R@1/5/10, median and mean rank of both directions and rSum.
 *
 * @example
 * ```ts
 * const { i2t, t2i, rsum } = recallSummary(await retrievalMetrics(img, cap, { dim: 64 }));
 * ```
 */
export function recallSummary(m: RetrievalMetrics): { i2t: RecallSummary; t2i: RecallSummary; rsum: number } {
  const pick = (d: RetrievalMetrics['i2t']): RecallSummary => ({
    r1: d.r1,
    r5: d.r5,
    r10: d.r10,
    medianRank: d.medianRank,
    meanRank: d.meanRank,
  });
  return { i2t: pick(m.i2t), t2i: pick(m.t2i), rsum: m.rsum };
}

/**
 * The `noise` section from the noise module's summary.
 *
 * @example
 * ```ts
 * const noise = noiseSection(injectNoise(data, { rate: 0.5, kind: 'shuffle', seed: 7 }).summary);
 * ```
 */
export function noiseSection(s: NoiseSummary): NoiseSection {
  return {
    kind: s.kind,
    rate: s.rate,
    seed: s.seed,
    realisedRate: s.realisedRate,
    coveredPairs: s.coveredPairs,
    noisyPairs: s.noisyPairs,
    partial: s.partial,
    complete: s.complete,
    partialBy: s.partialBy,
  };
}

/**
 * The `split` section: P(clean) per training pair against the truth mask.
 *
 * @example
 * ```ts
 * splitSection(new Float64Array([0.9, 0.2, 0.8, 0.1]), Uint8Array.from([0, 1, 0, 1])).auc;   // 1
 * ```
 */
export function splitSection(posterior: ArrayLike<number>, noisy: Uint8Array): SplitSection {
  const q = splitQuality(posterior, noisy);
  return {
    auc: q.auc,
    ap: q.averagePrecision,
    estimatedNoiseRate: q.estimatedNoiseRate,
    trueNoiseRate: q.trueNoiseRate,
    predictedNoiseRate: q.predictedNoiseRate,
    precision: q.precision,
    recall: q.recall,
    f1: q.f1,
    ece: expectedCalibrationError(posterior, noisy).ece,
  };
}

/**
 * The `lossSplit` section: higher per-pair loss should mean noisy.
 *
 * @example
 * ```ts
 * lossSplitSection([0.1, 2.5, 0.3], Uint8Array.from([0, 1, 0]), 'infonce').auc;   // 1
 * ```
 */
export function lossSplitSection(
  losses: ArrayLike<number>,
  noisy: Uint8Array,
  score: string,
): LossSplitSection {
  return { auc: rocAuc(losses, noisy), ap: averagePrecision(losses, noisy), score, pairs: losses.length };
}

/**
 * The training pairs the `lossSplit` section rescores: all of them (undefined) when there are at most
 * `cap`, else `cap` pairs drawn from `seed`, in pair order.
 *
 * @example
 * ```ts
 * lossSplitSubset(1000, 20_000, 0);            // undefined: every pair
 * lossSplitSubset(145_000, 20_000, 0)!.length; // 20000
 * ```
 */
export function lossSplitSubset(numPairs: number, cap: number, seed: number): Int32Array | undefined {
  if (numPairs <= cap) return undefined;
  return new Rng(seed).fork('loss-split').sample(numPairs, cap).sort();
}
