/**
 * The two-component beta mixture of per-sample losses (Arazo et al., ICML 2019), fitted by EM with a
 * weighted method-of-moments M-step — the clean/noisy split that cleave relabels with.
 *
 * The procedure, exactly (defaults reproduce the reference implementation's numbers):
 * 1. clip values to [ε, 1 − ε], ε = `clip` = 1e-4;
 * 2. start from α = [1, 2], β = [2, 1], w = [½, ½] (`init`);
 * 3. E-step: ℓₖ(x) = wₖ·Beta(x; αₖ, βₖ), each floored at 1e-12, normalised into responsibilities rₖ;
 * 4. M-step, per component: weighted mean x̄ₖ and variance s²ₖ of x under rₖ, then
 *    αₖ = x̄ₖ·(x̄ₖ(1 − x̄ₖ)/s²ₖ − 1), βₖ = αₖ(1 − x̄ₖ)/x̄ₖ; wₖ = mean of rₖ;
 * 5. repeat `maxIter` times (default 10), or stop once no α, β or w moved more than `tol` (if `tol` > 0).
 *
 * Implementation: log x and log(1 − x) are computed once per fit; an iteration is one pass over the
 * values (one `exp` per value, responsibilities never stored), lgamma is evaluated once per component
 * per iteration, and nothing is allocated inside the loop.
 *
 * Guards (documented fallbacks, never NaN): a component whose weighted variance falls below 1e-12
 * (all its mass on one value) has it floored there; method-of-moments factors ≤ 0 (variance at the
 * Bernoulli bound) are raised to 1e-9; each is logged once per fit as a warning.
 *
 * @example
 * ```ts
 * import { BetaMixture, normaliseLosses } from 'cleave';
 * const { values } = normaliseLosses(rawLosses, { method: 'minmax' });
 * const bmm = new BetaMixture({ maxIter: 10, tol: 0 }).fit(values);
 * bmm.params;                        // { alphas, betas, weights, cleanComponent, iterations, … }
 * const w = bmm.monotonePosterior(values); // P(clean | loss), non-increasing
 * const json = bmm.toJSON();
 * const again = BetaMixture.fromJSON(JSON.parse(JSON.stringify(json)));
 * ```
 */
import { gammaln } from 'simple-statistics';
import { z } from 'zod';
import { parseOrThrow } from '../core/errors.js';
import {
  baseOptionFields,
  fitStateSchema,
  lowerMeanComponent,
  Mixture1D,
  mixtureLogger,
  type PosteriorShape,
} from './base.js';

const positivePair = z.tuple([z.number().positive().finite(), z.number().positive().finite()]);

/** The reference procedure's starting point. */
const DEFAULT_INIT = { alphas: [1, 2], betas: [2, 1], weights: [0.5, 0.5] } as {
  alphas: [number, number];
  betas: [number, number];
  weights: [number, number];
};

const betaMixtureOptionsSchema = z
  .object({
    maxIter: baseOptionFields.maxIter.default(10),
    tol: baseOptionFields.tol.default(0),
    minSamples: baseOptionFields.minSamples,
    /** Values are clipped to [clip, 1 − clip] before fitting and evaluating. */
    clip: z.number().gt(0).lt(0.5).default(1e-4),
    /** Initial parameters (weights are normalised to sum 1). */
    init: z
      .object({ alphas: positivePair, betas: positivePair, weights: positivePair })
      .strict()
      .default(DEFAULT_INIT),
  })
  .strict();

/** Options of {@link BetaMixture} (all optional; defaults reproduce the reference procedure). */
export type BetaMixtureOptions = z.input<typeof betaMixtureOptionsSchema>;
/** {@link BetaMixtureOptions} with defaults applied. */
export type BetaMixtureConfig = z.output<typeof betaMixtureOptionsSchema>;

/** Fitted parameters of a {@link BetaMixture} (component order as fitted; see `cleanComponent`). */
export interface BetaMixtureParams {
  alphas: [number, number];
  betas: [number, number];
  weights: [number, number];
  /** Index of the component with the lower mean α/(α+β): the clean one. */
  cleanComponent: 0 | 1;
  iterations: number;
  converged: boolean;
  /** Mean log-likelihood per value of the final parameters (null after a degenerate fit). */
  logLikelihood: number | null;
  /** Why the fit fell back to "everything clean", or null. */
  degenerate: string | null;
}

const betaMixtureJsonSchema = z
  .object({
    type: z.literal('BetaMixture'),
    version: z.literal(1),
    options: betaMixtureOptionsSchema,
    params: z
      .object({ alphas: positivePair, betas: positivePair, weights: positivePair })
      .strict()
      .nullable(),
    state: fitStateSchema.nullable(),
  })
  .strict();

/** The JSON form of a {@link BetaMixture} (`toJSON` / `fromJSON`). */
export type BetaMixtureJSON = z.output<typeof betaMixtureJsonSchema>;
type BetaParamsJSON = NonNullable<BetaMixtureJSON['params']>;

/** ln of the 1e-12 floor applied to each weighted likelihood in the E-step. */
const LOG_FLOOR = Math.log(1e-12);
/** Smallest weighted variance a component may take. */
const MIN_VARIANCE = 1e-12;
/** Smallest method-of-moments factor x̄(1 − x̄)/s² − 1. */
const MIN_MOMENT_FACTOR = 1e-9;

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
function logBeta(a: number, b: number): number {
  return gammaln(a) + gammaln(b) - gammaln(a + b);
}

interface BetaWorkspace {
  /** ln x per value. */
  lx: Float64Array;
  /** ln(1 − x) per value. */
  l1x: Float64Array;
  /** x − shift per value (centred for accurate one-pass moments). */
  d: Float64Array;
  shift: number;
  warned: Set<string>;
}

/**
 * Two-component beta mixture on [0, 1] fitted by EM with weighted method-of-moments M-steps.
 * See the module documentation for the exact procedure; the shared API is in {@link Mixture1D}.
 *
 * @example
 * ```ts
 * const bmm = new BetaMixture({ maxIter: 10, tol: 0, init: { alphas: [1, 2], betas: [2, 1], weights: [0.5, 0.5] } });
 * bmm.fit(losses);
 * const pClean = bmm.posterior(losses);
 * ```
 */
export class BetaMixture extends Mixture1D<BetaWorkspace> {
  /** The validated options (defaults applied). */
  readonly options: BetaMixtureConfig;
  private alphas: [number, number];
  private betas: [number, number];
  private weights: [number, number];

  /**
   * @param options see {@link BetaMixtureOptions}; validated with zod
   * @throws ConfigError naming each invalid option
   */
  constructor(options: BetaMixtureOptions = {}) {
    const config = parseOrThrow(betaMixtureOptionsSchema, options, 'BetaMixture options');
    super(config);
    this.options = config;
    [this.alphas, this.betas, this.weights] = BetaMixture.initial(config);
  }

  private static initial(config: BetaMixtureConfig): [[number, number], [number, number], [number, number]] {
    const { alphas, betas, weights } = config.init;
    const s = weights[0] + weights[1];
    return [
      [alphas[0], alphas[1]],
      [betas[0], betas[1]],
      [weights[0] / s, weights[1] / s],
    ];
  }

  protected get kind(): string {
    return 'BetaMixture';
  }

  /**
   * The fitted parameters and state.
   * @throws CleaveError before `fit`
   *
   * @example
   * ```ts
   * const { alphas, betas, weights, cleanComponent } = bmm.params;
   * ```
   */
  get params(): BetaMixtureParams {
    const state = this.requireState('params');
    return {
      alphas: [...this.alphas],
      betas: [...this.betas],
      weights: [...this.weights],
      cleanComponent: this.cleanIndex(),
      iterations: state.iterations,
      converged: state.converged,
      logLikelihood: state.logLikelihood,
      degenerate: state.degenerate,
    };
  }

  protected enforceSupport(x: Float64Array, _forFit: boolean): number {
    const lo = this.options.clip;
    const hi = 1 - lo;
    let outside = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      if (v < 0 || v > 1) outside++;
      if (v >= hi) x[i] = hi;
      else if (v <= lo) x[i] = lo;
    }
    return outside;
  }

  protected initialise(x: Float64Array): BetaWorkspace {
    [this.alphas, this.betas, this.weights] = BetaMixture.initial(this.options);
    const n = x.length;
    const lx = new Float64Array(n);
    const l1x = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i] as number;
      lx[i] = Math.log(v);
      l1x[i] = Math.log1p(-v);
      sum += v;
    }
    const shift = sum / n;
    for (let i = 0; i < n; i++) x[i] = (x[i] as number) - shift;
    return { lx, l1x, d: x, shift, warned: new Set() };
  }

  protected emStep(work: BetaWorkspace): number {
    const { lx, l1x, d } = work;
    const [a0, a1] = this.alphas;
    const [b0, b1] = this.betas;
    const [w0, w1] = this.weights;
    // E-step coefficients: ln(wₖ·Beta(x; αₖ, βₖ)) = cₖ + (αₖ − 1)·ln x + (βₖ − 1)·ln(1 − x).
    const c0 = Math.log(w0) - logBeta(a0, b0);
    const c1 = Math.log(w1) - logBeta(a1, b1);
    const p0 = a0 - 1;
    const q0 = b0 - 1;
    const p1 = a1 - 1;
    const q1 = b1 - 1;
    let r0s = 0;
    let r0d = 0;
    let r0dd = 0;
    let r1s = 0;
    let r1d = 0;
    let r1dd = 0;
    const n = d.length;
    for (let i = 0; i < n; i++) {
      const u = lx[i] as number;
      const v = l1x[i] as number;
      // Floor each weighted likelihood at 1e-12 (in log space), then normalise:
      // r = 1 / (1 + e^−|Δ|) for the larger one, e^−|Δ| / (1 + e^−|Δ|) for the other (branch-free).
      const l0 = Math.max(c0 + p0 * u + q0 * v, LOG_FLOOR);
      const l1 = Math.max(c1 + p1 * u + q1 * v, LOG_FLOOR);
      const diff = l1 - l0;
      const e = Math.exp(-Math.abs(diff));
      const big = 1 / (1 + e);
      const small = e * big;
      const r0 = diff > 0 ? small : big;
      const r1 = diff > 0 ? big : small;
      const di = d[i] as number;
      const r0di = r0 * di;
      const r1di = r1 * di;
      r0s += r0;
      r0d += r0di;
      r0dd += r0di * di;
      r1s += r1;
      r1d += r1di;
      r1dd += r1di * di;
    }
    // M-step: weighted method of moments per component; weights = mean responsibility.
    const [na0, nb0] = this.momentFit(r0s, r0d, r0dd, work, 0);
    const [na1, nb1] = this.momentFit(r1s, r1d, r1dd, work, 1);
    const total = r0s + r1s;
    const nw0 = r0s / total;
    const nw1 = r1s / total;
    const change = Math.max(
      Math.abs(na0 - a0),
      Math.abs(na1 - a1),
      Math.abs(nb0 - b0),
      Math.abs(nb1 - b1),
      Math.abs(nw0 - w0),
      Math.abs(nw1 - w1),
    );
    this.alphas = [na0, na1];
    this.betas = [nb0, nb1];
    this.weights = [nw0, nw1];
    return change;
  }

  /** Method-of-moments (α, β) from the centred weighted sums of one component, with the guards. */
  private momentFit(sw: number, swd: number, swdd: number, work: BetaWorkspace, k: 0 | 1): [number, number] {
    const md = swd / sw;
    const mean = work.shift + md;
    let variance = swdd / sw - md * md;
    if (!(variance > MIN_VARIANCE)) {
      variance = MIN_VARIANCE;
      this.warnOnce(work, `component ${k} collapsed (weighted variance below ${MIN_VARIANCE}); floored`);
    }
    let factor = (mean * (1 - mean)) / variance - 1;
    if (!(factor > MIN_MOMENT_FACTOR)) {
      factor = MIN_MOMENT_FACTOR;
      this.warnOnce(work, `component ${k} has a variance at the Bernoulli bound; moment factor raised`);
    }
    const alpha = mean * factor;
    return [alpha, (alpha * (1 - mean)) / mean];
  }

  private warnOnce(work: BetaWorkspace, message: string): void {
    if (work.warned.has(message)) return;
    work.warned.add(message);
    mixtureLogger().warn(`BetaMixture.fit: ${message}`);
  }

  protected finalLogLikelihood(work: BetaWorkspace): number {
    const { lx, l1x } = work;
    const [a0, a1] = this.alphas;
    const [b0, b1] = this.betas;
    const c0 = Math.log(this.weights[0]) - logBeta(a0, b0);
    const c1 = Math.log(this.weights[1]) - logBeta(a1, b1);
    let total = 0;
    for (let i = 0; i < lx.length; i++) {
      const u = lx[i] as number;
      const v = l1x[i] as number;
      const l0 = c0 + (a0 - 1) * u + (b0 - 1) * v;
      const l1 = c1 + (a1 - 1) * u + (b1 - 1) * v;
      total += l0 > l1 ? l0 + Math.log1p(Math.exp(l1 - l0)) : l1 + Math.log1p(Math.exp(l0 - l1));
    }
    return total / lx.length;
  }

  protected setDegenerateParams(_x: Float64Array): void {
    [this.alphas, this.betas, this.weights] = BetaMixture.initial(this.options);
  }

  protected cleanIndex(): 0 | 1 {
    const m0 = this.alphas[0] / (this.alphas[0] + this.betas[0]);
    const m1 = this.alphas[1] / (this.alphas[1] + this.betas[1]);
    return lowerMeanComponent([m0, m1], this.weights, 1e-9 * Math.max(m0, m1));
  }

  /** ln(wₖ·Beta(x; αₖ, βₖ)) coefficients [c, α − 1, β − 1] of component k. */
  private logCoefficients(k: 0 | 1): [number, number, number] {
    const a = this.alphas[k];
    const b = this.betas[k];
    return [Math.log(this.weights[k]) - logBeta(a, b), a - 1, b - 1];
  }

  /**
   * Clean-vs-noisy log-odds as ℓ(x) = C + Δα·ln x + Δβ·ln(1 − x) ([C, Δα, Δβ]). When Δα ≤ 0 ≤ Δβ
   * both terms are non-increasing, so the rounded sum is non-increasing too.
   */
  private logOdds(): [number, number, number] {
    const c = this.cleanIndex();
    const [cc, pc, qc] = this.logCoefficients(c);
    const [cn, pn, qn] = this.logCoefficients(c === 0 ? 1 : 0);
    return [cc - cn, pc - pn, qc - qn];
  }

  protected posteriorInto(x: Float64Array, out: Float64Array): void {
    const [c, da, db] = this.logOdds();
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      out[i] = 1 / (1 + Math.exp(-(c + da * Math.log(v) + db * Math.log1p(-v))));
    }
  }

  protected monotoneInto(x: Float64Array, out: Float64Array, shape: PosteriorShape): void {
    const [c, da, db] = this.logOdds();
    if (shape.kind === 'decreasing') {
      // Δα ≤ 0 ≤ Δβ here, except when the means tie (then both are rounding-level and dropped):
      // each term is non-increasing, so the rounded sum is too.
      const a = Math.min(da, 0);
      const b = Math.max(db, 0);
      for (let i = 0; i < x.length; i++) {
        const v = x[i] as number;
        out[i] = 1 / (1 + Math.exp(-(c + a * Math.log(v) + b * Math.log1p(-v))));
      }
      return;
    }
    const t = shape.at;
    const atT = c + da * Math.log(t) + db * Math.log1p(-t);
    const valley = shape.kind === 'valley';
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      const xc = valley ? Math.min(v, t) : Math.max(v, t);
      // ℓ(xc) − ℓ(t) = Δα·ln(xc/t) + Δβ·ln((1 − xc)/(1 − t)), accurate near t; ≥ 0 (valley) / ≤ 0 (peak).
      const rise = da * Math.log1p((xc - t) / t) + db * Math.log1p((t - xc) / (1 - t));
      const delta = valley ? Math.max(rise, 0) : Math.min(rise, 0);
      out[i] = 1 / (1 + Math.exp(-(atT + delta)));
    }
  }

  protected weightedPdfInto(x: Float64Array, k: 0 | 1, out: Float64Array): void {
    const [c, p, q] = this.logCoefficients(k);
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      out[i] = Math.exp(c + p * Math.log(v) + q * Math.log1p(-v));
    }
  }

  protected posteriorShape(): PosteriorShape {
    // ℓ'(x) = Δα/x − Δβ/(1 − x) has its one root at Δα/(Δα + Δβ) when Δα and Δβ share a sign.
    const [, da, db] = this.logOdds();
    if ((da < 0 && db < 0) || (da > 0 && db > 0)) {
      const lo = this.options.clip;
      const at = Math.min(1 - lo, Math.max(lo, da / (da + db)));
      return { kind: da < 0 ? 'valley' : 'peak', at };
    }
    return { kind: 'decreasing' };
  }

  /**
   * A JSON-ready snapshot: options, parameters and fitted state.
   * @returns {@link BetaMixtureJSON}; `params` and `state` are null before `fit`
   *
   * @example
   * ```ts
   * await writeFileAtomic('bmm.json', JSON.stringify(bmm.toJSON()));
   * ```
   */
  toJSON(): BetaMixtureJSON {
    const { alphas, betas, weights } = this;
    return this.snapshot('BetaMixture', this.options, {
      alphas: [alphas[0], alphas[1]],
      betas: [betas[0], betas[1]],
      weights: [weights[0], weights[1]],
    } satisfies BetaParamsJSON);
  }

  /**
   * Rebuild a model from {@link BetaMixture.toJSON} output (validated with zod).
   * @param json the parsed JSON
   * @returns a BetaMixture with the same options, parameters and state
   * @throws ConfigError when the JSON does not validate
   *
   * @example
   * ```ts
   * const bmm = BetaMixture.fromJSON(JSON.parse(readFileSync('bmm.json', 'utf8')));
   * ```
   */
  static fromJSON(json: unknown): BetaMixture {
    const parsed = parseOrThrow(betaMixtureJsonSchema, json, 'BetaMixture JSON');
    const model = new BetaMixture(parsed.options);
    return model.restore(parsed, (p) => {
      model.alphas = [...p.alphas];
      model.betas = [...p.betas];
      model.weights = [...p.weights];
    });
  }
}
