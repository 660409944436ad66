/**
 * A clean/noisy split with a **known noisy component**: the two-group model of local false discovery
 * rates (Efron 2001; Storey 2002) for per-pair losses whose noise distribution can be sampled.
 *
 * When image and caption vectors share one space, a mismatched pair is, by construction, an image with
 * a random other caption: scoring random pairs samples the noisy pairs' loss distribution f₀ directly.
 * The observed losses follow f = π₀·f₀ + (1 − π₀)·f₁ with the clean density f₁ unknown. Then
 *
 * - **noise rate** π₀ (Storey's estimator): above a threshold λ almost no clean pair remains, so
 *   π₀ = P̂(x > λ) / P̂₀(x > λ), clipped to [0, 1]; λ is the `lambdaQuantile` quantile of the null
 *   sample (default 0.25);
 * - **P(clean | x)** = 1 − min(1, π₀·f₀(x) / f(x)), with f and f₀ Gaussian kernel density estimates
 *   (Silverman's bandwidth, binned on `gridPoints` points); `monotonePosterior` makes it
 *   non-increasing in the loss (running minimum from the smallest loss up).
 *
 * Unlike a two-component mixture fitted to the observed losses alone, this never invents a noisy
 * component: on clean data π₀ ≈ 0 and every pair keeps P(clean) ≈ 1, and P(clean) is calibrated
 * (the mean of 1 − P(clean) estimates the noise rate). No tfjs needed.
 *
 * @example
 * ```ts
 * import { LocalFdrSplit } from 'cleave';
 * // losses of the given pairs, and losses of random (mismatched) pairs on the same scale
 * const split = new LocalFdrSplit().fit(losses, randomPairLosses);
 * split.params.noiseRate;                  // π₀, the estimated share of noisy pairs
 * const pClean = split.monotonePosterior(losses);
 * ```
 */
import { z } from 'zod';
import { DataError, parseOrThrow } from '../core/errors.js';
import type { MixtureInput } from './base.js';

/** Options of {@link LocalFdrSplit}. */
export const localFdrOptionsSchema = z
  .object({
    /** Points of the density grid. */
    gridPoints: z.number().int().min(64).max(100_000).default(2048),
    /** The null quantile used as Storey's λ. */
    lambdaQuantile: z.number().gt(0).lt(1).default(0.25),
  })
  .strict();
/** Options of {@link LocalFdrSplit}, as written. */
export type LocalFdrOptions = z.input<typeof localFdrOptionsSchema>;

const grid = z.array(z.number());
const localFdrStateSchema = z.object({
  type: z.literal('LocalFdrSplit'),
  params: z.custom<LocalFdrParams>(
    (v) => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'local-fdr',
    'local-fdr parameters',
  ),
  lo: z.number(),
  step: z.number().positive(),
  f: grid,
  f0: grid,
  clean: grid,
  monotone: grid,
});
/** A fitted {@link LocalFdrSplit} as JSON (see `toState`). */
export type LocalFdrState = z.output<typeof localFdrStateSchema>;

/** Fitted parameters of a {@link LocalFdrSplit}. */
export interface LocalFdrParams {
  kind: 'local-fdr';
  /** π₀: the estimated share of noisy pairs. */
  noiseRate: number;
  /** Storey's threshold λ. */
  lambda: number;
  /** Kernel bandwidths of the observed and the null density. */
  bandwidth: { observed: number; null: number };
  /** Sample sizes. */
  n: { observed: number; null: number };
  /** The density grid's range. */
  range: [number, number];
}

function finiteCopy(values: MixtureInput, name: string): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new DataError(`${name}: value ${i} is ${out[i]}`, { index: i });
  }
  return out;
}

/** Silverman's rule: 0.9·min(sd, IQR/1.34)·n^(−1/5) (a small floor for constant samples). */
function silverman(sorted: Float64Array): number {
  const n = sorted.length;
  let mean = 0;
  for (const v of sorted) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of sorted) ss += (v - mean) ** 2;
  const sd = Math.sqrt(ss / Math.max(1, n - 1));
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * (n - 1)))]!;
  const iqr = (q(0.75) - q(0.25)) / 1.34;
  const spread = iqr > 0 ? Math.min(sd, iqr) : sd;
  return Math.max(0.9 * spread * n ** -0.2, 1e-6);
}

/** A Gaussian KDE of `x` on the grid lo + k·step (linear binning, then a truncated kernel sum). */
function binnedDensity(x: Float64Array, lo: number, step: number, points: number, h: number): Float64Array {
  const counts = new Float64Array(points);
  for (const v of x) {
    const t = (v - lo) / step;
    const k = Math.min(points - 2, Math.max(0, Math.floor(t)));
    const f = Math.min(1, Math.max(0, t - k));
    counts[k] = counts[k]! + (1 - f);
    counts[k + 1] = counts[k + 1]! + f;
  }
  const reach = Math.min(points, Math.ceil((4 * h) / step));
  const kernel = new Float64Array(reach + 1);
  const norm = 1 / (x.length * h * Math.sqrt(2 * Math.PI));
  for (let d = 0; d <= reach; d++) kernel[d] = norm * Math.exp(-0.5 * ((d * step) / h) ** 2);
  const out = new Float64Array(points);
  for (let k = 0; k < points; k++) {
    const c = counts[k]!;
    if (c === 0) continue;
    const a = Math.max(0, k - reach);
    const b = Math.min(points - 1, k + reach);
    for (let j = a; j <= b; j++) out[j] = out[j]! + c * kernel[Math.abs(j - k)]!;
  }
  return out;
}

/** Storey's π₀ = P̂(x > λ) / P̂₀(x > λ) with λ the `lambdaQuantile` quantile of the null (clipped to [0, 1]). */
export function storeyNoiseRate(
  values: ArrayLike<number>,
  nullValues: ArrayLike<number>,
  lambdaQuantile = 0.25,
): { noiseRate: number; lambda: number } {
  const s0 = Float64Array.from(nullValues).sort();
  const lambda = s0[Math.floor(lambdaQuantile * (s0.length - 1))]!;
  let above = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > lambda) above++;
  let above0 = 0;
  for (const v of s0) if (v > lambda) above0++;
  const noiseRate = above0 === 0 ? 0 : Math.min(1, above / values.length / (above0 / s0.length));
  return { noiseRate, lambda };
}

/**
 * The clean-vs-noisy ROC-AUC a score would reach, estimated **without labels** from a null sample:
 * the observed losses are a π₀ : 1 − π₀ mix of noisy (distributed as the null) and clean ones, so
 * AUC(null vs observed) = π₀·½ + (1 − π₀)·AUC(noisy vs clean), solved for the last term. Ties count ½.
 * NaN when π₀ = 1 (nothing clean to rank).
 *
 * @example
 * ```ts
 * import { estimatedSplitAuc } from 'cleave/mixture';
 * estimatedSplitAuc([0.1, 0.2, 0.9], [0.8, 0.9, 1.0, 0.95]);   // ≈ 1: the clean losses sit below the null
 * ```
 */
export function estimatedSplitAuc(
  values: ArrayLike<number>,
  nullValues: ArrayLike<number>,
  lambdaQuantile = 0.25,
): number {
  const { noiseRate } = storeyNoiseRate(values, nullValues, lambdaQuantile);
  if (noiseRate >= 1) return Number.NaN;
  const n = values.length;
  const m = nullValues.length;
  const all = new Float64Array(n + m);
  all.set(Float64Array.from(values), 0);
  all.set(Float64Array.from(nullValues), n);
  const order = Uint32Array.from(all.keys()).sort((a, b) => all[a]! - all[b]!);
  // mid-ranks of the null values among all, then Mann–Whitney: P(null > observed)
  let rankSumNull = 0;
  for (let k = 0; k < order.length; ) {
    let e = k;
    while (e + 1 < order.length && all[order[e + 1]!] === all[order[k]!]) e++;
    const mid = (k + e) / 2 + 1;
    for (let t = k; t <= e; t++) if (order[t]! >= n) rankSumNull += mid;
    k = e + 1;
  }
  const aucNullAbove = (rankSumNull - (m * (m + 1)) / 2) / (n * m);
  return (aucNullAbove - 0.5 * noiseRate) / (1 - noiseRate);
}

/** The split (see the module documentation). */
export class LocalFdrSplit {
  private readonly options: z.output<typeof localFdrOptionsSchema>;
  private fitted:
    | {
        params: LocalFdrParams;
        lo: number;
        step: number;
        f: Float64Array;
        f0: Float64Array;
        clean: Float64Array;
        monotone: Float64Array;
      }
    | undefined;

  constructor(options: LocalFdrOptions = {}) {
    this.options = parseOrThrow(localFdrOptionsSchema, options, 'local-fdr options');
  }

  /**
   * Fit to the observed losses and a sample of the noisy losses (random pairs), both on one scale.
   * @throws DataError for non-finite values or fewer than 2 values in either sample
   */
  fit(values: MixtureInput, nullValues: MixtureInput): this {
    const x = finiteCopy(values, 'local-fdr losses');
    const x0 = finiteCopy(nullValues, 'local-fdr null losses');
    if (x.length < 2 || x0.length < 2) {
      throw new DataError(
        `local-fdr: needs at least 2 losses and 2 null losses (got ${x.length}, ${x0.length})`,
      );
    }
    const s = Float64Array.from(x).sort();
    const s0 = Float64Array.from(x0).sort();
    const { noiseRate, lambda } = storeyNoiseRate(x, x0, this.options.lambdaQuantile);
    const h = silverman(s);
    const h0 = silverman(s0);
    const lo = Math.min(s[0]!, s0[0]!) - 4 * Math.max(h, h0);
    const hi = Math.max(s.at(-1)!, s0.at(-1)!) + 4 * Math.max(h, h0);
    const points = this.options.gridPoints;
    const step = (hi - lo) / (points - 1);
    const f = binnedDensity(x, lo, step, points, h);
    const f0 = binnedDensity(x0, lo, step, points, h0);
    const clean = new Float64Array(points);
    for (let k = 0; k < points; k++) {
      const ratio = f[k]! > 0 ? (noiseRate * f0[k]!) / f[k]! : noiseRate > 0 ? 1 : 0;
      clean[k] = 1 - Math.min(1, ratio);
    }
    // non-increasing in the loss; below the first observed loss everything is as clean as there
    const monotone = new Float64Array(points);
    let run = 1;
    for (let k = 0; k < points; k++) {
      if (lo + k * step >= s[0]!) run = Math.min(run, clean[k]!);
      monotone[k] = run;
    }
    this.fitted = {
      params: {
        kind: 'local-fdr',
        noiseRate,
        lambda,
        bandwidth: { observed: h, null: h0 },
        n: { observed: x.length, null: x0.length },
        range: [lo, hi],
      },
      lo,
      step,
      f,
      f0,
      clean,
      monotone,
    };
    return this;
  }

  private require(method: string) {
    if (!this.fitted) throw new DataError(`LocalFdrSplit.${method}: call fit() first`);
    return this.fitted;
  }

  /** The fitted parameters. */
  get params(): LocalFdrParams {
    return structuredClone(this.require('params').params);
  }

  private interpolate(grid: Float64Array, values: MixtureInput, method: string): Float64Array {
    const m = this.require(method);
    const x = finiteCopy(values, `LocalFdrSplit.${method}`);
    const last = grid.length - 1;
    return x.map((v) => {
      const t = (v - m.lo) / m.step;
      if (t <= 0) return grid[0]!;
      if (t >= last) return grid[last]!;
      const k = Math.floor(t);
      const f = t - k;
      return (1 - f) * grid[k]! + f * grid[k + 1]!;
    });
  }

  /** P(clean | x) = 1 − min(1, π₀·f₀(x)/f(x)). */
  posterior(values: MixtureInput): Float64Array {
    return this.interpolate(this.require('posterior').clean, values, 'posterior');
  }

  /** {@link posterior} made non-increasing in the loss. */
  monotonePosterior(values: MixtureInput): Float64Array {
    return this.interpolate(this.require('monotonePosterior').monotone, values, 'monotonePosterior');
  }

  /** The two weighted components at `values`: noisy π₀·f₀, clean max(0, f − π₀·f₀) (for figures). */
  componentPdfs(values: MixtureInput): { clean: Float64Array; noisy: Float64Array } {
    const m = this.require('componentPdfs');
    const pi0 = m.params.noiseRate;
    const noisyGrid = m.f0.map((v) => pi0 * v);
    const cleanGrid = m.f.map((v, k) => Math.max(0, v - noisyGrid[k]!));
    return {
      clean: this.interpolate(cleanGrid, values, 'componentPdfs'),
      noisy: this.interpolate(noisyGrid, values, 'componentPdfs'),
    };
  }

  /** The density of the observed losses at `values`. */
  pdf(values: MixtureInput): Float64Array {
    return this.interpolate(this.require('pdf').f, values, 'pdf');
  }

  /** The fitted parameters as plain JSON (for reports). */
  toJSON(): LocalFdrParams {
    return this.params;
  }

  /**
   * Everything the posterior needs (parameters and the density grids), as plain JSON: what
   * {@link LocalFdrSplit.fromState} rebuilds exactly (for a saved model's split).
   */
  toState(): LocalFdrState {
    const m = this.require('toState');
    return {
      type: 'LocalFdrSplit',
      params: structuredClone(m.params),
      lo: m.lo,
      step: m.step,
      f: Array.from(m.f),
      f0: Array.from(m.f0),
      clean: Array.from(m.clean),
      monotone: Array.from(m.monotone),
    };
  }

  /**
   * Rebuild a fitted split from {@link toState}'s JSON.
   * @throws DataError when the JSON is not such a state
   */
  static fromState(state: unknown): LocalFdrSplit {
    const parsed = localFdrStateSchema.safeParse(state);
    if (!parsed.success) throw new DataError(`not a LocalFdrSplit state: ${parsed.error.issues[0]?.message}`);
    const s = parsed.data;
    const split = new LocalFdrSplit();
    split.fitted = {
      params: s.params,
      lo: s.lo,
      step: s.step,
      f: Float64Array.from(s.f),
      f0: Float64Array.from(s.f0),
      clean: Float64Array.from(s.clean),
      monotone: Float64Array.from(s.monotone),
    };
    return split;
  }
}
