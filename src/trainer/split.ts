/**
 * The split step: the per-pair losses of the score step → normalised values → a two-component mixture
 * (from `src/mixture`) → P(clean) per pair; plus the loss EMA, the epoch's split record, and a split
 * rebuilt from a checkpoint.
 *
 * | `split.mixture` | fitted to | null sample |
 * |---|---|---|
 * | `beta` | min–max (or percentile) normalised losses | — |
 * | `gaussian` | the same | — |
 * | `local-fdr` | the losses, min–max mapped with the random-pair null through the same map | random mismatched pairs |
 * | `auto` | `local-fdr` on a shared space (infonce / input-cosine score, self / peer source), else `beta` | |
 *
 * @example
 * ```ts
 * const split = fitSplit(0, scores, undefined, config.split, 'beta');
 * split.posterior;   // P(clean) per pair
 * ```
 */
import { splitQuality } from '../eval/detection.js';
import { BetaMixture } from '../mixture/beta.js';
import { GaussianMixture } from '../mixture/gaussian.js';
import { LocalFdrSplit } from '../mixture/local-fdr.js';
import { applyScaling, type LossScaling, normaliseLosses } from '../mixture/normalise.js';
import type { TrainerConfig } from './config.js';
import { type CheckpointState, type SavedSplit, savedSplitArrays } from './state.js';
import type { Relabelled, SplitRecord, SplitResult } from './types.js';

/** The split options of the trainer config (`config.split`). */
export type SplitOptions = TrainerConfig['split'];
/** `split.mixture` resolved. */
export type MixtureKind = 'beta' | 'gaussian' | 'local-fdr';

/**
 * `split.mixture` resolved: `auto` is `local-fdr` on a shared space with a self/peer source and an
 * `infonce` or `input-cosine` score (where random pairs are known noise), else `beta`.
 *
 * @example
 * ```ts
 * mixtureKind(resolveTrainerConfig({}).split, false);   // 'beta'
 * mixtureKind(resolveTrainerConfig({}).split, true);    // 'local-fdr'
 * ```
 */
export function mixtureKind(split: SplitOptions, sharedSpace: boolean): MixtureKind {
  const s = split;
  if (s.mixture !== 'auto') return s.mixture;
  const nullable = s.source !== 'heldout' && (s.score === 'infonce' || s.score === 'input-cosine');
  return sharedSpace && nullable ? 'local-fdr' : 'beta';
}

/**
 * Fit the split of network `net`: normalise the losses, fit the mixture (for `local-fdr`, the
 * two-group model with the random-pair null `nullScores`), P(clean) per pair (monotone in the loss
 * when `split.monotone`).
 *
 * @example
 * ```ts
 * fitSplit(0, Float64Array.from([0.1, 0.2, 0.9, 0.8]), undefined, config.split, 'beta').posterior;
 * ```
 */
export function fitSplit(
  net: number,
  scores: Float64Array,
  nullScores: Float64Array | undefined,
  split: SplitOptions,
  kind: MixtureKind,
): SplitResult {
  const s = split;
  if (kind === 'local-fdr' && nullScores) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of scores) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // one affine map for both samples; the observed ones through applyScaling itself (so a saved
    // split reproduces them exactly), the null ones unclipped (they may reach past the observed range)
    const scaling: LossScaling = { method: 'minmax', low: lo, high: hi, clip: 0 };
    const values = applyScaling(scores, scaling);
    const range = hi - lo;
    const nullValues = nullScores.filter(Number.isFinite).map((v) => (range > 0 ? (v - lo) / range : 0.5));
    const mixture = new LocalFdrSplit().fit(values, nullValues);
    const posterior = s.monotone ? mixture.monotonePosterior(values) : mixture.posterior(values);
    return { net, scores, nullScores, values, scaling, posterior, mixture };
  }
  const { values, fitValues, scaling } = normaliseLosses(scores, { method: s.normalise });
  const mixture = s.mixture === 'gaussian' ? new GaussianMixture() : new BetaMixture();
  mixture.fit(fitValues);
  const posterior = s.monotone ? mixture.monotonePosterior(values) : mixture.posterior(values);
  return { net, scores, values, scaling, posterior, mixture };
}

/**
 * The exponential moving average of the losses across epochs, L ← ema·L + (1 − ema)·ℓ; `now` itself
 * when `ema` is 0 or there is no previous `prev`.
 *
 * @example
 * ```ts
 * smoothScores(Float64Array.from([1]), Float64Array.from([0]), 0.9);   // [0.1]
 * ```
 */
export function smoothScores(now: Float64Array, prev: Float64Array | undefined, ema: number): Float64Array {
  return ema > 0 && prev ? now.map((v, j) => ema * prev[j]! + (1 - ema) * v) : now;
}

/**
 * The epoch's split statistics (network 0): implied and predicted noise rates, mean target, pairs
 * trained on, the mixture, and with a known truth mask (`truth[j]` = 1 for a noisy pair) the split's
 * ROC-AUC and average precision.
 *
 * @example
 * ```ts
 * splitRecord(split, relabelled, train.noise?.noisy).auc;
 * ```
 */
export function splitRecord(
  split: SplitResult,
  relabelled: Relabelled,
  truth: ArrayLike<number> | undefined,
): SplitRecord {
  const post = split.posterior;
  let noisy = 0;
  let implied = 0;
  for (const p of post) {
    if (p <= 0.5) noisy++;
    implied += 1 - p;
  }
  let sum = 0;
  for (const y of relabelled.targets) sum += y;
  const record: SplitRecord = {
    estimatedNoiseRate: implied / post.length,
    predictedNoiseRate: noisy / post.length,
    meanTarget: relabelled.targets.length ? sum / relabelled.targets.length : 0,
    pairsTrained: relabelled.pairs.length,
    mixture: split.mixture.toJSON(),
    ...(split.inputWeight !== undefined ? { inputWeight: split.inputWeight } : {}),
  };
  if (truth) {
    const q = splitQuality(post, truth);
    record.auc = q.auc;
    record.ap = q.averagePrecision;
    record.trueNoiseRate = q.trueNoiseRate;
  }
  return record;
}

/**
 * The last splits saved in a checkpoint, rebuilt: their losses and posteriors as saved, each mixture
 * from its JSON; a `local-fdr` split, saved with its null sample, is refitted by `refit`
 * (deterministic on the same losses; undefined for a network that does not exist). Splits whose
 * arrays are missing are left out.
 *
 * @example
 * ```ts
 * const splits = restoreSplits(loaded.splits ?? [], loaded.arrays, config.split, 'beta', () => undefined);
 * ```
 */
export function restoreSplits(
  saved: readonly SavedSplit[],
  arrays: CheckpointState['arrays'],
  split: SplitOptions,
  kind: MixtureKind,
  refit: (net: number, scores: Float64Array, nullScores: Float64Array) => SplitResult | undefined,
): SplitResult[] {
  return saved.flatMap(({ net, mixture, inputWeight, blend }) => {
    const extra = {
      ...(inputWeight !== undefined ? { inputWeight } : {}),
      ...(blend ? { blend } : {}),
    };
    const { scores, posterior, nullScores } = savedSplitArrays(arrays, net);
    if (!scores || !posterior) return [];
    const refitted = nullScores ? refit(net, scores, nullScores) : undefined;
    if (refitted) return [{ ...refitted, posterior, ...extra }];
    const m = kind === 'gaussian' ? GaussianMixture.fromJSON(mixture) : BetaMixture.fromJSON(mixture);
    const { values, scaling } = normaliseLosses(scores, { method: split.normalise });
    return [{ net, scores, values, scaling, posterior, mixture: m, ...extra }];
  });
}
