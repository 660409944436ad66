/**
 * Seeded draws from beta distributions and beta mixtures: synthetic per-sample losses with known
 * clean/noisy labels, for tests, benchmarks and experiments.
 *
 * Gamma variates use Marsaglia & Tsang (2000) (with the u^(1/a) boost for shape < 1); a beta variate
 * is X / (X + Y) with X ~ Gamma(α), Y ~ Gamma(β). Every draw comes from the given {@link Rng}.
 *
 * @example
 * ```ts
 * import { Rng } from 'cleave';
 * import { sampleBetaMixture } from 'cleave/mixture';
 * const { values, components } = sampleBetaMixture(10_000, {
 *   alphas: [2, 8], betas: [8, 2], weights: [0.7, 0.3] }, new Rng(7));
 * ```
 */
import type { Rng } from '../core/random.js';

/**
 * One Gamma(shape, 1) variate.
 *
 * @param rng the random source
 * @param shape shape parameter (> 0)
 * @returns a non-negative number
 *
 * @example
 * ```ts
 * sampleGamma(new Rng(1), 2.5);
 * ```
 */
export function sampleGamma(rng: Rng, shape: number): number {
  if (!(shape > 0) || !Number.isFinite(shape)) {
    throw new RangeError(`sampleGamma: shape must be a positive finite number, got ${shape}`);
  }
  if (shape < 1) return sampleGamma(rng, shape + 1) * rng.float() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = rng.normal();
    const t = 1 + c * z;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng.float();
    if (u < 1 - 0.0331 * z ** 4) return d * v;
    if (Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * One Beta(α, β) variate.
 *
 * @param rng the random source
 * @param alpha α > 0
 * @param beta β > 0
 * @returns a number in [0, 1]
 *
 * @example
 * ```ts
 * sampleBeta(new Rng(1), 2, 5);
 * ```
 */
export function sampleBeta(rng: Rng, alpha: number, beta: number): number {
  const x = sampleGamma(rng, alpha);
  const y = sampleGamma(rng, beta);
  return x + y > 0 ? x / (x + y) : 0.5;
}

/** A two-component beta mixture's parameters (weights need not sum to 1; they are normalised). */
export interface BetaMixtureTruth {
  alphas: readonly [number, number];
  betas: readonly [number, number];
  weights: readonly [number, number];
}

/**
 * `n` draws from a two-component beta mixture, with the component of each draw.
 *
 * @param n number of draws
 * @param truth the mixture's α, β and weights
 * @param rng the random source
 * @returns `{ values, components }`: Float64Array of draws in [0, 1], Uint8Array of component indices
 *
 * @example
 * ```ts
 * const { values, components } = sampleBetaMixture(1000,
 *   { alphas: [2, 6], betas: [6, 2], weights: [0.8, 0.2] }, new Rng(3));
 * ```
 */
export function sampleBetaMixture(
  n: number,
  truth: BetaMixtureTruth,
  rng: Rng,
): { values: Float64Array; components: Uint8Array } {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`sampleBetaMixture: n must be an integer ≥ 0, got ${n}`);
  const w0 = truth.weights[0] / (truth.weights[0] + truth.weights[1]);
  const values = new Float64Array(n);
  const components = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = rng.float() < w0 ? 0 : 1;
    components[i] = k;
    values[i] = sampleBeta(rng, truth.alphas[k], truth.betas[k]);
  }
  return { values, components };
}
