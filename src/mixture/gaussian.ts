/**
 * The two-component 1-D Gaussian mixture of per-sample losses: the clean/noisy split of DivideMix
 * (Li et al., 2020) and NCR (Huang et al., 2021), kept for comparison with {@link BetaMixture}.
 *
 * It is scikit-learn's `GaussianMixture(n_components=2, max_iter=10, tol=1e-2, reg_covar=5e-4)` — the
 * call those papers make — restricted to one dimension, and the defaults are theirs:
 * - **init** (`'kmeans'`): scikit-learn starts from a k-means partition (random k-means++ seeding).
 *   In one dimension the best two-cluster partition can be found exactly: sort, and take the split
 *   maximising the between-cluster sum of squares n·P²/(n_left·n_right), P the centred prefix sum
 *   (the first maximum on ties). That is the partition k-means aims for, and it is deterministic.
 *   From the one-hot partition the first parameters are computed by an M-step. Explicit
 *   `{ means, variances, weights }` may be given instead.
 * - **M-step**: nₖ = Σ rₖ + 10·ε (ε the float64 epsilon), μₖ = Σ rₖx / nₖ,
 *   σ²ₖ = Σ rₖ(x − μₖ)² / nₖ + `regCovar` (the variance floor), wₖ = nₖ / Σ nⱼ.
 * - **E-step** in log space (logsumexp), no flooring.
 * - **stopping**: after each iteration the mean log-likelihood per value of the parameters that entered
 *   the iteration is compared with the previous one; the loop stops when it moved by at most `tol`.
 *   `logLikelihood` reports the final parameters' (a last E-step).
 *
 * Each iteration is one pass over the values (one `exp` and one `log1p` per value), without allocation.
 * Values must satisfy |x| ≤ 1e100 (a {@link DataError} otherwise: normalise first), so that squares
 * and their sums stay finite; `posterior` accepts any finite value.
 *
 * @example
 * ```ts
 * import { GaussianMixture, normaliseLosses } from 'cleave';
 * const { values } = normaliseLosses(rawLosses, { method: 'minmax', clip: 0 }); // as NCR does
 * const gmm = new GaussianMixture().fit(values);
 * const pClean = gmm.posterior(values);
 * gmm.params; // { means, variances, weights, cleanComponent, iterations, converged, logLikelihood }
 * ```
 */
import { z } from 'zod';
import { DataError, parseOrThrow } from '../core/errors.js';
import {
  baseOptionFields,
  fitStateSchema,
  lowerMeanComponent,
  Mixture1D,
  type PosteriorShape,
} from './base.js';

const finitePair = z.tuple([z.number().finite(), z.number().finite()]);
const positivePair = z.tuple([z.number().positive().finite(), z.number().positive().finite()]);

const gaussianMixtureOptionsSchema = z
  .object({
    maxIter: baseOptionFields.maxIter.default(10),
    tol: baseOptionFields.tol.default(1e-2),
    minSamples: baseOptionFields.minSamples,
    /** Added to every variance (scikit-learn's `reg_covar`): the variance floor (≥ 1e-12). */
    regCovar: z.number().min(1e-12).finite().default(5e-4),
    /** `'kmeans'` (exact 1-D 2-means partition) or explicit starting parameters. */
    init: z
      .union([
        z.literal('kmeans'),
        z.object({ means: finitePair, variances: positivePair, weights: positivePair }).strict(),
      ])
      .default('kmeans'),
  })
  .strict();

/** Options of {@link GaussianMixture} (all optional; defaults are NCR's / DivideMix's). */
export type GaussianMixtureOptions = z.input<typeof gaussianMixtureOptionsSchema>;
/** {@link GaussianMixtureOptions} with defaults applied. */
export type GaussianMixtureConfig = z.output<typeof gaussianMixtureOptionsSchema>;

/** Fitted parameters of a {@link GaussianMixture} (component order as fitted). */
export interface GaussianMixtureParams {
  means: [number, number];
  variances: [number, number];
  weights: [number, number];
  /** Index of the component with the lower mean: the clean one. */
  cleanComponent: 0 | 1;
  iterations: number;
  converged: boolean;
  /** Mean log-likelihood per value of the final parameters (null after a degenerate fit). */
  logLikelihood: number | null;
  /** Why the fit fell back to "everything clean", or null. */
  degenerate: string | null;
}

const gaussianMixtureJsonSchema = z
  .object({
    type: z.literal('GaussianMixture'),
    version: z.literal(1),
    options: gaussianMixtureOptionsSchema,
    params: z
      .object({ means: finitePair, variances: positivePair, weights: positivePair })
      .strict()
      .nullable(),
    state: fitStateSchema.nullable(),
  })
  .strict();

/** The JSON form of a {@link GaussianMixture}. */
export type GaussianMixtureJSON = z.output<typeof gaussianMixtureJsonSchema>;
type GaussianParamsJSON = NonNullable<GaussianMixtureJSON['params']>;

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** Largest |value| accepted by `fit` (squares and their sums must stay finite). */
const MAX_MAGNITUDE = 1e100;
/** scikit-learn adds 10·ε to every component's total responsibility. */
const NK_EPS = 10 * Number.EPSILON;

interface GaussianWorkspace {
  /** x − shift per value. */
  d: Float64Array;
  shift: number;
  /** Mean log-likelihood of the previous iteration's E-step. */
  previous: number;
  /** The E-step's weighted sums, reused across iterations. */
  sums: Float64Array;
}

/**
 * The exact best two-cluster partition of 1-D values (maximal between-cluster sum of squares).
 *
 * @param x values with at least two distinct entries
 * @returns the threshold t: values ≤ t form the lower cluster
 *
 * @example
 * ```ts
 * twoMeansThreshold(Float64Array.of(0.1, 0.2, 0.15, 0.9, 0.8)); // 0.2
 * ```
 */
export function twoMeansThreshold(x: Float64Array): number {
  const s = Float64Array.from(x).sort();
  const n = s.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += s[i] as number;
  mean /= n;
  let prefix = 0;
  let best = -1;
  let threshold = s[0] as number;
  for (let k = 1; k < n; k++) {
    prefix += (s[k - 1] as number) - mean;
    if ((s[k - 1] as number) === (s[k] as number)) continue;
    const score = (prefix * prefix) / (k * (n - k));
    if (score > best) {
      best = score;
      threshold = s[k - 1] as number;
    }
  }
  return threshold;
}

/**
 * Two-component 1-D Gaussian mixture fitted by EM (scikit-learn's procedure; see the module docs).
 * The shared API (`fit`, `posterior`, `monotonePosterior`, `pdf`, …) is in {@link Mixture1D}.
 *
 * @example
 * ```ts
 * const gmm = new GaussianMixture({ maxIter: 10, tol: 1e-2, regCovar: 5e-4 }).fit(values);
 * const pClean = gmm.posterior(values);
 * ```
 */
export class GaussianMixture extends Mixture1D<GaussianWorkspace> {
  /** The validated options (defaults applied). */
  readonly options: GaussianMixtureConfig;
  private means: [number, number] = [0, 1];
  private variances: [number, number] = [1, 1];
  private weights: [number, number] = [0.5, 0.5];

  /**
   * @param options see {@link GaussianMixtureOptions}; validated with zod
   * @throws ConfigError naming each invalid option
   */
  constructor(options: GaussianMixtureOptions = {}) {
    const config = parseOrThrow(gaussianMixtureOptionsSchema, options, 'GaussianMixture options');
    super(config);
    this.options = config;
  }

  protected get kind(): string {
    return 'GaussianMixture';
  }

  /**
   * The fitted parameters and state.
   * @throws CleaveError before `fit`
   *
   * @example
   * ```ts
   * const { means, variances, weights, cleanComponent } = gmm.params;
   * ```
   */
  get params(): GaussianMixtureParams {
    const state = this.requireState('params');
    return {
      means: [...this.means],
      variances: [...this.variances],
      weights: [...this.weights],
      cleanComponent: this.cleanIndex(),
      iterations: state.iterations,
      converged: state.converged,
      logLikelihood: state.logLikelihood,
      degenerate: state.degenerate,
    };
  }

  protected enforceSupport(x: Float64Array, forFit: boolean): number {
    if (!forFit) return 0;
    for (let i = 0; i < x.length; i++) {
      if (Math.abs(x[i] as number) > MAX_MAGNITUDE) {
        throw new DataError(
          `value at index ${i} is ${x[i]}; GaussianMixture needs |x| ≤ ${MAX_MAGNITUDE} (variances would ` +
            'overflow): normalise the losses first (normaliseLosses)',
          { file: 'losses', index: i },
        );
      }
    }
    return 0;
  }

  protected initialise(x: Float64Array): GaussianWorkspace {
    const n = x.length;
    let shift = 0;
    for (let i = 0; i < n; i++) shift += x[i] as number;
    shift /= n;
    const init = this.options.init;
    if (init === 'kmeans') {
      const t = twoMeansThreshold(x);
      const sums = new Float64Array(6); // per cluster: count, Σd, Σd² (one-hot responsibilities)
      for (let i = 0; i < n; i++) {
        const v = x[i] as number;
        const d = v - shift;
        const o = v <= t ? 0 : 3;
        sums[o] = (sums[o] as number) + 1;
        sums[o + 1] = (sums[o + 1] as number) + d;
        sums[o + 2] = (sums[o + 2] as number) + d * d;
      }
      this.mStep(shift, n, sums);
    } else {
      const s = init.weights[0] + init.weights[1];
      this.means = [...init.means];
      this.variances = [...init.variances];
      this.weights = [init.weights[0] / s, init.weights[1] / s];
    }
    for (let i = 0; i < n; i++) x[i] = (x[i] as number) - shift;
    return { d: x, shift, previous: Number.NEGATIVE_INFINITY, sums: new Float64Array(6) };
  }

  /** M-step from centred sums [Σr₀, Σr₀d, Σr₀d², Σr₁, Σr₁d, Σr₁d²] (d = x − shift). */
  private mStep(shift: number, n: number, s: Float64Array): void {
    const reg = this.options.regCovar;
    const [s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0] = s;
    const nk0 = s0 + NK_EPS;
    const nk1 = s3 + NK_EPS;
    const m0 = s1 / nk0;
    const m1 = s4 / nk1;
    // Σ r (d − m)² / nₖ, expanded; clamped at 0 against rounding before the floor is added.
    const v0 = Math.max(0, (s2 - 2 * m0 * s1 + m0 * m0 * s0) / nk0) + reg;
    const v1 = Math.max(0, (s5 - 2 * m1 * s4 + m1 * m1 * s3) / nk1) + reg;
    const w0 = nk0 / n;
    const w1 = nk1 / n;
    const ws = w0 + w1;
    this.means = [shift + m0, shift + m1];
    this.variances = [v0, v1];
    this.weights = [w0 / ws, w1 / ws];
  }

  /** ln(wₖ·N(x; μₖ, σ²ₖ)) = cₖ − hₖ·(x − μₖ)² as [cₖ, hₖ]. */
  private logCoefficients(k: 0 | 1): [number, number] {
    const v = this.variances[k];
    return [Math.log(this.weights[k]) - HALF_LOG_2PI - 0.5 * Math.log(v), 0.5 / v];
  }

  /**
   * One E-step pass: the mean log-likelihood of the current parameters, and the responsibility-weighted
   * centred sums [Σr₀, Σr₀d, Σr₀d², Σr₁, Σr₁d, Σr₁d²] written into `sums`.
   */
  private eStep(work: GaussianWorkspace, sums: Float64Array): number {
    const { d, shift } = work;
    const [c0, h0] = this.logCoefficients(0);
    const [c1, h1] = this.logCoefficients(1);
    const m0 = this.means[0] - shift;
    const m1 = this.means[1] - shift;
    let ll = 0;
    let r0s = 0;
    let r0d = 0;
    let r0dd = 0;
    let r1s = 0;
    let r1d = 0;
    let r1dd = 0;
    const n = d.length;
    for (let i = 0; i < n; i++) {
      const di = d[i] as number;
      const e0 = di - m0;
      const e1 = di - m1;
      const l0 = c0 - h0 * e0 * e0;
      const l1 = c1 - h1 * e1 * e1;
      // logsumexp and responsibilities share one exp: e = exp(−|l0 − l1|) (branch-free).
      const diff = l1 - l0;
      const e = Math.exp(-Math.abs(diff));
      ll += (diff > 0 ? l1 : l0) + Math.log1p(e);
      const big = 1 / (1 + e);
      const small = e * big;
      const r0 = diff > 0 ? small : big;
      const r1 = diff > 0 ? big : small;
      const r0di = r0 * di;
      const r1di = r1 * di;
      r0s += r0;
      r0d += r0di;
      r0dd += r0di * di;
      r1s += r1;
      r1d += r1di;
      r1dd += r1di * di;
    }
    sums[0] = r0s;
    sums[1] = r0d;
    sums[2] = r0dd;
    sums[3] = r1s;
    sums[4] = r1d;
    sums[5] = r1dd;
    return ll / n;
  }

  protected emStep(work: GaussianWorkspace): number {
    const mean = this.eStep(work, work.sums);
    this.mStep(work.shift, work.d.length, work.sums);
    const change = Math.abs(mean - work.previous);
    work.previous = mean;
    return change;
  }

  protected finalLogLikelihood(work: GaussianWorkspace): number {
    return this.eStep(work, work.sums);
  }

  protected setDegenerateParams(x: Float64Array): void {
    let mean = 0;
    for (let i = 0; i < x.length; i++) mean += x[i] as number;
    mean /= x.length;
    let ss = 0;
    for (let i = 0; i < x.length; i++) ss += ((x[i] as number) - mean) ** 2;
    const variance = ss / x.length + this.options.regCovar;
    this.means = [mean, mean];
    this.variances = [variance, variance];
    this.weights = [0.5, 0.5];
  }

  protected cleanIndex(): 0 | 1 {
    const scale = Math.sqrt(Math.max(this.variances[0], this.variances[1]));
    return lowerMeanComponent(this.means, this.weights, 1e-9 * scale);
  }

  protected posteriorInto(x: Float64Array, out: Float64Array): void {
    const c = this.cleanIndex();
    const nz = c === 0 ? 1 : 0;
    const [cc, hc] = this.logCoefficients(c);
    const [cn, hn] = this.logCoefficients(nz);
    const mc = this.means[c];
    const mn = this.means[nz];
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      const ec = v - mc;
      const en = v - mn;
      let logOdds = cc - cn - (hc * ec * ec - hn * en * en);
      // Far out (|x| ~ 1e150 and beyond) both squares overflow: take the limit instead of ∞ − ∞.
      if (Number.isNaN(logOdds)) logOdds = this.tailLogOdds(v, hc, hn, mc, mn, cc - cn);
      out[i] = 1 / (1 + Math.exp(-logOdds));
    }
  }

  /** The log-odds' limit far from both means: the broader component wins; equal widths: the nearer mean. */
  private tailLogOdds(v: number, hc: number, hn: number, mc: number, mn: number, base: number): number {
    if (hc !== hn) return hc < hn ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    if (mc === mn) return base; // identical shapes: the log-odds is the constant ln(w_c / w_n)
    return v > mc / 2 + mn / 2 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }

  protected weightedPdfInto(x: Float64Array, k: 0 | 1, out: Float64Array): void {
    const [c, h] = this.logCoefficients(k);
    const m = this.means[k];
    for (let i = 0; i < x.length; i++) {
      const e = (x[i] as number) - m;
      out[i] = Math.exp(c - h * e * e);
    }
  }

  protected posteriorShape(): PosteriorShape {
    // ℓ'(x) = x·(1/σ²ₙ − 1/σ²c) + μc/σ²c − μₙ/σ²ₙ: linear, one root unless the variances are equal.
    const c = this.cleanIndex();
    const nz = c === 0 ? 1 : 0;
    const pc = 1 / this.variances[c];
    const pn = 1 / this.variances[nz];
    const slope = pn - pc;
    const at = (this.means[nz] * pn - this.means[c] * pc) / slope;
    if (slope === 0 || !Number.isFinite(at)) return { kind: 'decreasing' };
    return { kind: slope > 0 ? 'valley' : 'peak', at };
  }

  protected monotoneInto(x: Float64Array, out: Float64Array, shape: PosteriorShape): void {
    const c = this.cleanIndex();
    const nz = c === 0 ? 1 : 0;
    const [cc, hc] = this.logCoefficients(c);
    const [cn, hn] = this.logCoefficients(nz);
    if (shape.kind === 'decreasing') {
      // Equal variances: ℓ(x) = C − hc·(μₙ − μc)·(2x − μc − μₙ), linear and decreasing (constant
      // when the means tie: a rounding-level slope of the wrong sign is dropped).
      const mc = this.means[c];
      const mn = this.means[nz];
      const slope = Math.max(hc * (mn - mc), 0);
      for (let i = 0; i < x.length; i++) {
        const linear = slope === 0 ? 0 : slope * (2 * (x[i] as number) - mc - mn);
        out[i] = 1 / (1 + Math.exp(-(cc - cn - linear)));
      }
      return;
    }
    // ℓ(x) = ℓ(t) + (hₙ − hc)·(x − t)²: exact for the parabola, so the result is exactly monotone.
    const t = shape.at;
    const et = t - this.means[c];
    const en = t - this.means[nz];
    const atT = cc - cn - (hc * et * et - hn * en * en);
    const curvature = hn - hc;
    const valley = shape.kind === 'valley';
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      const d = (valley ? Math.min(v, t) : Math.max(v, t)) - t;
      out[i] = 1 / (1 + Math.exp(-(atT + curvature * d * d)));
    }
  }

  /**
   * A JSON-ready snapshot: options, parameters and fitted state.
   * @returns {@link GaussianMixtureJSON}; `params` and `state` are null before `fit`
   *
   * @example
   * ```ts
   * const json = JSON.stringify(gmm.toJSON());
   * ```
   */
  toJSON(): GaussianMixtureJSON {
    const { means, variances, weights } = this;
    return this.snapshot('GaussianMixture', this.options, {
      means: [means[0], means[1]],
      variances: [variances[0], variances[1]],
      weights: [weights[0], weights[1]],
    } satisfies GaussianParamsJSON);
  }

  /**
   * Rebuild a model from {@link GaussianMixture.toJSON} output (validated with zod).
   * @param json the parsed JSON
   * @returns a GaussianMixture with the same options, parameters and state
   * @throws ConfigError when the JSON does not validate
   *
   * @example
   * ```ts
   * const gmm = GaussianMixture.fromJSON(JSON.parse(json));
   * ```
   */
  static fromJSON(json: unknown): GaussianMixture {
    const parsed = parseOrThrow(gaussianMixtureJsonSchema, json, 'GaussianMixture JSON');
    const model = new GaussianMixture(parsed.options);
    return model.restore(parsed, (p) => {
      model.means = [...p.means];
      model.variances = [...p.variances];
      model.weights = [...p.weights];
    });
  }
}
