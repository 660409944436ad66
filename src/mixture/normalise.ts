/**
 * Loss normalisation before fitting a mixture: map raw per-sample losses into (0, 1).
 *
 * Two methods, both returning the {@link LossScaling} that was used so that later losses (a new
 * epoch, a batch) can be mapped the same way with {@link applyScaling}:
 *
 * - `'minmax'`: s(x) = (x − min) / (max − min), then clipped to [`clip`, 1 − `clip`]
 *   (default `clip` 1e-4, the {@link BetaMixture}'s own clip, so the result lies in (0, 1); pass
 *   `clip: 0` for NCR's/DivideMix's plain [0, 1] scaling). Every value is kept for fitting.
 * - `'percentile'` (Arazo et al. 2019, robust to outliers): low = the `lower`th percentile (default 5),
 *   high = the `upper`th (default 95), both with linear interpolation (numpy's default); only the
 *   values in [low, high] are kept for fitting (`fitValues`); s(x) = (x − low) / (high − low),
 *   clipped to [`clip`, 1 − `clip`] (default 1e-3). The reference code differs in three small ways
 *   we do not copy: it adds 1e-5 to low and 1e-6 to the denominator (guards against division by zero;
 *   here a zero range is handled explicitly), and it only replaces values ≤ 0 and ≥ 1 (ours is a true
 *   clip, as the issue specifies).
 *
 * If no loss lies between the two percentiles (possible only for a handful of values), `fitValues`
 * falls back to all values, with a warning.
 * A zero range (all losses equal, or equal percentiles) maps every value to ½ and logs a warning;
 * NaN/±Infinity throws a {@link DataError} naming the index.
 *
 * @example
 * ```ts
 * import { applyScaling, BetaMixture, normaliseLosses } from 'cleave/mixture';
 * const { scaling, fitValues } = normaliseLosses(epochLosses, { method: 'percentile' });
 * const bmm = new BetaMixture().fit(fitValues);
 * const pClean = bmm.monotonePosterior(applyScaling(epochLosses, scaling)); // every sample
 * ```
 */
import { z } from 'zod';
import { DataError, parseOrThrow } from '../core/errors.js';
import { type MixtureInput, mixtureLogger, toFiniteFloat64 } from './base.js';

/** The loss normalisations: `minmax`, or the robust `percentile` variant (see the module documentation). */
export const NORMALISE_METHODS = ['minmax', 'percentile'] as const;
/** One of {@link NORMALISE_METHODS}. */
export const normaliseMethodSchema = z.enum(NORMALISE_METHODS);
/** @see normaliseMethodSchema */
export type NormaliseMethod = z.output<typeof normaliseMethodSchema>;

const normaliseOptionsSchema = z.discriminatedUnion('method', [
  z
    .object({
      method: z.literal('minmax'),
      clip: z.number().min(0).lt(0.5).default(1e-4),
    })
    .strict(),
  z
    .object({
      method: z.literal('percentile'),
      lower: z.number().min(0).max(100).default(5),
      upper: z.number().min(0).max(100).default(95),
      clip: z.number().min(0).lt(0.5).default(1e-3),
    })
    .strict()
    .refine((o) => o.lower < o.upper, { message: 'lower must be below upper', path: ['upper'] }),
]);

/** Options of {@link normaliseLosses}. */
export type NormaliseOptions = z.input<typeof normaliseOptionsSchema>;

/** An affine map into [clip, 1 − clip]: s(x) = clamp((x − low) / (high − low)). */
export interface LossScaling {
  method: NormaliseMethod;
  /** Loss mapped to 0 (before clipping). */
  low: number;
  /** Loss mapped to 1 (before clipping). */
  high: number;
  /** Scaled values are clipped to [clip, 1 − clip]. */
  clip: number;
}

/** Result of {@link normaliseLosses}. */
export interface NormalisedLosses {
  /** The scaling used (to map later losses with {@link applyScaling}). */
  scaling: LossScaling;
  /** Every input value, scaled (same order and length as the input). */
  values: Float64Array;
  /** The scaled values to fit on: all of them for `'minmax'`, those within [low, high] for `'percentile'`. */
  fitValues: Float64Array;
}

/**
 * The linearly interpolated `p`th percentile of sorted values (numpy's default method).
 *
 * @param sorted ascending values (at least one)
 * @param p percentile in [0, 100]
 * @returns the percentile
 *
 * @example
 * ```ts
 * percentileSorted(Float64Array.of(1, 2, 3, 4), 50); // 2.5
 * ```
 */
export function percentileSorted(sorted: Float64Array, p: number): number {
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  const t = h - lo;
  if (t === 0) return a;
  const diff = b - a;
  if (!Number.isFinite(diff)) return a * (1 - t) + b * t; // a range beyond the float64 maximum
  // numpy's lerp: from the nearer end, so t = 1 gives b exactly.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * Map losses with a {@link LossScaling}: s(x) = clamp((x − low) / (high − low), clip, 1 − clip);
 * ½ for every value when high = low.
 *
 * @param values raw losses
 * @param scaling from {@link normaliseLosses}
 * @returns Float64Array of scaled values
 * @throws DataError on a non-finite value
 *
 * @example
 * ```ts
 * applyScaling([0, 5, 10, 20], { method: 'minmax', low: 0, high: 10, clip: 0 }); // [0, 0.5, 1, 1]
 * ```
 */
export function applyScaling(values: MixtureInput, scaling: LossScaling): Float64Array {
  const x = toFiniteFloat64(values);
  if (!(scaling.high > scaling.low)) return x.fill(0.5);
  // A range beyond the float64 maximum is handled in halves (x − low then overflows to ±∞ at worst,
  // which the clip absorbs; ∞/∞ cannot occur because the halved range is finite).
  const halve = !Number.isFinite(scaling.high - scaling.low);
  const f = halve ? 0.5 : 1;
  const low = scaling.low * f;
  const range = scaling.high * f - low;
  const lo = scaling.clip;
  const hi = 1 - scaling.clip;
  for (let i = 0; i < x.length; i++) {
    const s = ((x[i] as number) * f - low) / range;
    x[i] = s < lo ? lo : s > hi ? hi : s;
  }
  return x;
}

/**
 * Normalise raw losses into (0, 1) for a mixture fit (see the module documentation for the methods).
 *
 * @param values raw per-sample losses (at least one, all finite)
 * @param options `{ method: 'minmax', clip? }` or `{ method: 'percentile', lower?, upper?, clip? }`
 * @returns `{ scaling, values, fitValues }`
 * @throws DataError on an empty input or a non-finite value; ConfigError on invalid options
 *
 * @example
 * ```ts
 * const { values, fitValues, scaling } = normaliseLosses(losses, { method: 'percentile' });
 * ```
 */
export function normaliseLosses(
  values: MixtureInput,
  options: NormaliseOptions = { method: 'minmax' },
): NormalisedLosses {
  const opts = parseOrThrow(normaliseOptionsSchema, options, 'normaliseLosses options');
  const x = toFiniteFloat64(values);
  if (x.length === 0) throw new DataError('no losses to normalise (empty array)', { file: 'losses' });
  let low: number;
  let high: number;
  if (opts.method === 'minmax') {
    low = x[0] as number;
    high = low;
    for (let i = 1; i < x.length; i++) {
      const v = x[i] as number;
      if (v < low) low = v;
      else if (v > high) high = v;
    }
  } else {
    const sorted = Float64Array.from(x).sort();
    low = percentileSorted(sorted, opts.lower);
    high = percentileSorted(sorted, opts.upper);
  }
  const scaling: LossScaling = { method: opts.method, low, high, clip: opts.clip };
  if (!(high > low)) {
    mixtureLogger().warn(
      { low, high, n: x.length },
      'normaliseLosses: the losses have no spread (all equal); every value maps to 0.5',
    );
  }
  const scaled = applyScaling(x, scaling);
  if (opts.method === 'minmax') return { scaling, values: scaled, fitValues: scaled };
  let kept = 0;
  for (let i = 0; i < x.length; i++) if ((x[i] as number) >= low && (x[i] as number) <= high) kept++;
  if (kept === 0) {
    // Only possible for a handful of values (the percentiles fall strictly between two of them).
    mixtureLogger().warn(
      { n: x.length, low, high },
      'normaliseLosses: no loss lies between the percentiles (too few values); fitting on all of them',
    );
    return { scaling, values: scaled, fitValues: scaled };
  }
  const fitValues = new Float64Array(kept);
  let j = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (v >= low && v <= high) fitValues[j++] = scaled[i] as number;
  }
  return { scaling, values: scaled, fitValues };
}
