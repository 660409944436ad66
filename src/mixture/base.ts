/**
 * The shared EM loop of cleave's 1-D two-component mixtures (scikit-learn's `BaseMixture`, in small).
 *
 * {@link Mixture1D} owns `fit`: validate the values, detect degenerate input, initialise, repeat one
 * fused E+M step until the change is at most `tol` or `maxIter` steps ran, then run a last E-step for
 * the log-likelihood of the final parameters, so that `fit(x).posterior(x)` describes exactly the
 * model that was reported. Each mixture ({@link BetaMixture}, {@link GaussianMixture}) only supplies
 * its E+M step, its densities and its parameters.
 *
 * Conventions shared by both mixtures:
 * - Input: `Float32Array | Float64Array | number[]`; NaN or ±Infinity throws a {@link DataError} naming
 *   the index; outputs are `Float64Array`s (one value per input value, same order).
 * - "Clean" is the component with the lower mean (small loss); `posterior` is P(clean | x). Means
 *   equal up to rounding (relative 1e-9) are a tie, broken towards the heavier component.
 * - Degenerate input (fewer than `minSamples` values, or all values equal) does not fit: the model
 *   falls back to "everything clean" (`posterior` is 1 everywhere), records the reason in
 *   `params.degenerate` and logs a warning.
 *
 * @example
 * ```ts
 * import { BetaMixture } from 'cleave';
 * const bmm = new BetaMixture().fit(losses);       // any Mixture1D
 * const pClean = bmm.monotonePosterior(losses);   // non-increasing in the loss
 * const isClean = bmm.predict(losses, 0.5);       // Uint8Array, 1 = clean
 * ```
 */
import { z } from 'zod';
import { CleaveError, DataError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';

/** Values a mixture accepts: per-sample losses as a typed array or a plain array. */
export type MixtureInput = Float32Array | Float64Array | readonly number[];

/** Zod fields shared by the options of every mixture. */
export const baseOptionFields = {
  /** Maximum number of EM iterations (one E-step + one M-step each). */
  maxIter: z.number().int().min(1).max(1_000_000),
  /** Stop early when the change of an iteration is at most `tol` (0: always run `maxIter`). */
  tol: z.number().min(0),
  /** Fewer values than this is degenerate: no fit, everything clean, a warning. */
  minSamples: z.number().int().min(2).default(10),
};

/** The fitted state common to all mixtures (what scikit-learn keeps in `n_iter_`, `converged_`, …). */
export interface MixtureFitState {
  /** EM iterations run (0 for a degenerate fit). */
  iterations: number;
  /** Whether the `tol` rule stopped the loop before `maxIter` (always false with `tol: 0`). */
  converged: boolean;
  /** Mean log-likelihood per value of the final parameters (null for a degenerate fit). */
  logLikelihood: number | null;
  /** Number of values fitted. */
  nSamples: number;
  /** Why the fit fell back to "everything clean", or null for a regular fit. */
  degenerate: string | null;
}

export const fitStateSchema = z
  .object({
    iterations: z.number().int().min(0),
    converged: z.boolean(),
    logLikelihood: z.number().nullable(),
    nSamples: z.number().int().min(0),
    degenerate: z.string().nullable(),
  })
  .strict();

/** Where the log-odds (clean vs noisy) of a fitted mixture turns, used by `monotonePosterior`. */
export type PosteriorShape =
  /** Non-increasing in x already (or constant). */
  | { kind: 'decreasing' }
  /** Decreasing up to `at`, then increasing: far beyond the noisy mode a value looks cleaner again. */
  | { kind: 'valley'; at: number }
  /** Increasing up to `at`, then decreasing: very small values look less clean than moderate ones. */
  | { kind: 'peak'; at: number };

/**
 * Copy values into a fresh Float64Array, throwing a {@link DataError} on the first NaN/±Infinity.
 *
 * @param values the input values
 * @param what the name used in messages (e.g. `losses`)
 * @returns a new Float64Array (the caller may modify it)
 * @throws DataError on an empty input or a non-finite value, naming its index
 *
 * @example
 * ```ts
 * toFiniteFloat64([0.1, 0.2]); // Float64Array [0.1, 0.2]
 * toFiniteFloat64([0.1, NaN]); // throws DataError: losses: value at index 1 is NaN …
 * ```
 */
export function toFiniteFloat64(values: MixtureInput, what = 'losses'): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      throw new DataError(
        `value at index ${i} is ${typeof v === 'number' ? String(v) : typeof v}; ` +
          'drop or fix non-finite losses before using the mixture',
        { file: what, index: i },
      );
    }
    out[i] = v;
  }
  return out;
}

/**
 * Which component is clean: the one with the lower mean; when the means are equal to within `tie`
 * (indistinguishable up to rounding), the heavier one (the majority is taken as clean), then 0.
 *
 * @example
 * ```ts
 * lowerMeanComponent([0.7, 0.2], [0.5, 0.5], 1e-9); // 1
 * ```
 */
export function lowerMeanComponent(
  means: readonly [number, number],
  weights: readonly [number, number],
  tie: number,
): 0 | 1 {
  if (Math.abs(means[0] - means[1]) > tie) return means[1] < means[0] ? 1 : 0;
  return weights[1] > weights[0] ? 1 : 0;
}

/** The logger of the mixture module. */
export const mixtureLogger = () => getLogger('mixture');

/**
 * Base class of the 1-D two-component mixtures: owns the EM loop, the fitted state, the posterior
 * variants and the input checks. Subclasses implement the abstract hooks on a private workspace.
 *
 * @typeParam W the subclass's per-fit workspace (precomputed arrays)
 *
 * @example
 * ```ts
 * const models: Mixture1D<unknown>[] = [new BetaMixture(), new GaussianMixture()];
 * for (const m of models) console.log(m.fit(values).posterior(values).slice(0, 5));
 * ```
 */
export abstract class Mixture1D<W> {
  /** Maximum EM iterations. */
  protected readonly maxIter: number;
  /** Convergence threshold (its meaning is the subclass's: parameter change or log-likelihood change). */
  protected readonly tol: number;
  /** Minimum number of values for a regular fit. */
  protected readonly minSamples: number;
  /** The fitted state; undefined until `fit` (or `fromJSON`). */
  protected state: MixtureFitState | undefined;

  protected constructor(options: { maxIter: number; tol: number; minSamples: number }) {
    this.maxIter = options.maxIter;
    this.tol = options.tol;
    this.minSamples = options.minSamples;
  }

  /** The class name used in messages and JSON (`BetaMixture`, `GaussianMixture`). */
  protected abstract get kind(): string;
  /**
   * Map validated values into the model's domain (e.g. clip to [ε, 1−ε]) in place; return how many lay
   * outside it. `forFit` is true when called by `fit` (where stricter checks may apply).
   */
  protected abstract enforceSupport(x: Float64Array, forFit: boolean): number;
  /** Build the per-fit workspace from values in the domain and set the initial parameters. */
  protected abstract initialise(x: Float64Array): W;
  /** One fused E-step + M-step; returns the change compared against `tol`. */
  protected abstract emStep(work: W): number;
  /** Mean log-likelihood per value of the current parameters over the workspace (the last E-step). */
  protected abstract finalLogLikelihood(work: W): number;
  /** Set the fallback parameters for degenerate input (values already in the domain). */
  protected abstract setDegenerateParams(x: Float64Array): void;
  /** Index (0 or 1) of the component with the lower mean. */
  protected abstract cleanIndex(): 0 | 1;
  /** Write P(clean | x) for values in the domain into `out`. */
  protected abstract posteriorInto(x: Float64Array, out: Float64Array): void;
  /** Write the weighted density of component `k` for values in the domain into `out`. */
  protected abstract weightedPdfInto(x: Float64Array, k: 0 | 1, out: Float64Array): void;
  /** Where the clean-vs-noisy log-odds of the current parameters turns (closed form). */
  protected abstract posteriorShape(): PosteriorShape;
  /**
   * Write the monotone posterior for values in the domain into `out`, given the `shape`: the posterior
   * at min(x, t) (valley) or max(x, t) (peak), evaluated relative to the turning point so that rounding
   * cannot make it rise and it never crosses the plateau; the posterior itself when decreasing.
   */
  protected abstract monotoneInto(x: Float64Array, out: Float64Array, shape: PosteriorShape): void;

  /** Whether `fit` (or `fromJSON` of a fitted model) has run. */
  get fitted(): boolean {
    return this.state !== undefined;
  }

  /**
   * Fit the mixture by EM.
   *
   * @param values per-sample losses (for {@link BetaMixture}: normalised into [0, 1], see {@link normaliseLosses})
   * @returns this, fitted
   * @throws DataError on an empty input or a non-finite value
   *
   * @example
   * ```ts
   * const bmm = new BetaMixture().fit(Float32Array.from(losses));
   * bmm.params.iterations; // 10
   * ```
   */
  fit(values: MixtureInput): this {
    const x = toFiniteFloat64(values);
    const n = x.length;
    if (n === 0) throw new DataError('no values to fit (empty array)', { file: 'losses' });
    const changed = this.enforceSupport(x, true);
    if (changed > 0) {
      mixtureLogger().warn(
        { changed, n },
        `${this.kind}.fit: ${changed} of ${n} values lay outside the model's domain and were clipped; ` +
          'normalise losses first (normaliseLosses)',
      );
    }
    const reason = this.degenerateReason(x);
    if (reason) {
      this.setDegenerateParams(x);
      this.state = { iterations: 0, converged: false, logLikelihood: null, nSamples: n, degenerate: reason };
      mixtureLogger().warn(
        { n, reason },
        `${this.kind}.fit: ${reason}; falling back to "everything clean" (posterior 1 for every value)`,
      );
      return this;
    }

    const work = this.initialise(x);
    let iterations = 0;
    let converged = false;
    while (iterations < this.maxIter) {
      const change = this.emStep(work);
      iterations++;
      if (this.tol > 0 && change <= this.tol) {
        converged = true;
        break;
      }
    }
    const logLikelihood = this.finalLogLikelihood(work);
    this.state = { iterations, converged, logLikelihood, nSamples: n, degenerate: null };
    if (this.tol > 0 && !converged) {
      mixtureLogger().warn(
        { iterations, tol: this.tol },
        `${this.kind}.fit did not converge in ${iterations} iterations (tol ${this.tol}); ` +
          'raise maxIter or tol if this matters',
      );
    }
    return this;
  }

  /** Why `x` (already in the domain) cannot be fitted, or undefined. */
  private degenerateReason(x: Float64Array): string | undefined {
    if (x.length < this.minSamples) {
      return `too few values (${x.length} < minSamples ${this.minSamples})`;
    }
    let lo = x[0] as number;
    let hi = lo;
    for (let i = 1; i < x.length; i++) {
      const v = x[i] as number;
      if (v < lo) lo = v;
      else if (v > hi) hi = v;
    }
    if (lo === hi) return `all ${x.length} values are equal (${lo})`;
    return undefined;
  }

  /** The JSON snapshot shared by the mixtures: type, version, options, parameters and fitted state. */
  protected snapshot<T extends string, O, P>(
    type: T,
    options: O,
    params: P,
  ): { type: T; version: 1; options: O; params: P | null; state: MixtureFitState | null } {
    return {
      type,
      version: 1,
      options: structuredClone(options),
      params: this.state ? params : null,
      state: this.state ? { ...this.state } : null,
    };
  }

  /** Restore a validated snapshot: `apply` sets the parameters, then the fitted state is set. */
  protected restore<P>(
    snapshot: { params: P | null; state: MixtureFitState | null },
    apply: (params: P) => void,
  ): this {
    if (snapshot.params && snapshot.state) {
      apply(snapshot.params);
      this.state = { ...snapshot.state };
    }
    return this;
  }

  /** The fitted state, or a clear error before `fit`. */
  protected requireState(method: string): MixtureFitState {
    if (!this.state)
      throw new CleaveError(`${this.kind}.${method}: the model is not fitted; call fit() first`);
    return this.state;
  }

  private prepare(values: MixtureInput, method: string): Float64Array {
    this.requireState(method);
    const x = toFiniteFloat64(values);
    this.enforceSupport(x, false);
    return x;
  }

  /**
   * P(clean | x) for each value: the plain Bayes posterior of the lower-mean component, computed in
   * log space (never NaN). 1 everywhere after a degenerate fit.
   *
   * @param values losses (same scale as the fitted ones)
   * @returns Float64Array of probabilities in [0, 1], one per value
   * @throws DataError on a non-finite value; CleaveError before `fit`
   *
   * @example
   * ```ts
   * const pClean = new BetaMixture().fit(values).posterior(values);
   * ```
   */
  posterior(values: MixtureInput): Float64Array {
    const x = this.prepare(values, 'posterior');
    const out = new Float64Array(x.length);
    if (this.state?.degenerate) return out.fill(1);
    this.posteriorInto(x, out);
    return out;
  }

  /**
   * P(clean | x) made non-increasing in x, the version to relabel with.
   *
   * The clean-vs-noisy log-odds of these mixtures has at most one turning point `t` (found in closed
   * form). When it is a minimum (a *valley*: far beyond the noisy mode the posterior turns back up and
   * a huge loss would look clean again) values above `t` get the posterior at `t`; this is what the
   * lookup table of Arazo et al. (2019) does on a 100-point grid, here exact. When it is a maximum
   * (a *peak*: values far below the clean mode look less clean) values below `t` get the posterior
   * at `t`. Elsewhere it equals {@link posterior}. Near `t` it is evaluated relative to `t` (so that
   * rounding cannot make it rise), and it never crosses the plateau value.
   *
   * @param values losses (same scale as the fitted ones)
   * @returns Float64Array of probabilities in [0, 1], non-increasing in the value
   *
   * @example
   * ```ts
   * const weights = new BetaMixture().fit(values).monotonePosterior(values); // soft labels
   * ```
   */
  monotonePosterior(values: MixtureInput): Float64Array {
    const x = this.prepare(values, 'monotonePosterior');
    const out = new Float64Array(x.length);
    if (this.state?.degenerate) return out.fill(1);
    this.monotoneInto(x, out, this.posteriorShape());
    return out;
  }

  /**
   * Where P(clean | x) of the fitted model turns (closed form; see {@link monotonePosterior}).
   *
   * @returns `{ kind: 'decreasing' }`, or `{ kind: 'valley' | 'peak', at }` with the turning point
   *   (for a {@link BetaMixture} clamped into [clip, 1 − clip])
   * @throws CleaveError before `fit`
   *
   * @example
   * ```ts
   * const t = bmm.turningPoint(); // e.g. { kind: 'valley', at: 0.83 }
   * ```
   */
  turningPoint(): PosteriorShape {
    const state = this.requireState('turningPoint');
    return state.degenerate ? { kind: 'decreasing' } : this.posteriorShape();
  }

  /**
   * Hard split: 1 where P(clean | x) > `threshold`, else 0.
   *
   * @param values losses
   * @param threshold probability threshold in [0, 1] (default 0.5)
   * @param options.monotone use {@link monotonePosterior} (default true)
   * @returns Uint8Array, 1 = clean
   *
   * @example
   * ```ts
   * const clean = gmm.predict(values, 0.5); // NCR's split: P(clean) > 0.5
   * ```
   */
  predict(values: MixtureInput, threshold = 0.5, options: { monotone?: boolean } = {}): Uint8Array {
    const p = (options.monotone ?? true) ? this.monotonePosterior(values) : this.posterior(values);
    const out = new Uint8Array(p.length);
    for (let i = 0; i < p.length; i++) out[i] = (p[i] as number) > threshold ? 1 : 0;
    return out;
  }

  /**
   * The weighted component densities wₖ·fₖ(x), keyed clean/noisy (they sum to {@link pdf}).
   *
   * @param values points to evaluate (clipped into the model's domain like `fit` does)
   * @returns `{ clean, noisy }`, one Float64Array each
   *
   * @example
   * ```ts
   * const { clean, noisy } = bmm.componentPdfs([0.1, 0.5, 0.9]);
   * ```
   */
  componentPdfs(values: MixtureInput): { clean: Float64Array; noisy: Float64Array } {
    const x = this.prepare(values, 'componentPdfs');
    const c = this.cleanIndex();
    const clean = new Float64Array(x.length);
    const noisy = new Float64Array(x.length);
    this.weightedPdfInto(x, c, clean);
    this.weightedPdfInto(x, c === 0 ? 1 : 0, noisy);
    return { clean, noisy };
  }

  /**
   * The mixture density Σₖ wₖ·fₖ(x) at each value.
   *
   * @param values points to evaluate (clipped into the model's domain like `fit` does)
   * @returns Float64Array of densities (≥ 0)
   *
   * @example
   * ```ts
   * const density = bmm.pdf([0.1, 0.5, 0.9]);
   * ```
   */
  pdf(values: MixtureInput): Float64Array {
    const { clean, noisy } = this.componentPdfs(values);
    for (let i = 0; i < clean.length; i++) clean[i] = (clean[i] as number) + (noisy[i] as number);
    return clean;
  }
}
