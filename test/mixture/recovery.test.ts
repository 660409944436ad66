/**
 * Recovery: on samples from known beta mixtures the fitted parameters land near the truth and the
 * clean/noisy split is near the Bayes optimum, computed from the true mixture by numerical integration
 * (Simpson's rule of max(w₀f₀, w₁f₁) over [0, 1]) and, as a cross-check, empirically on the sample.
 * The sampler itself is checked against the closed-form beta moments.
 */
import { gammaln } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { BetaMixture } from '../../src/mixture/beta.js';
import { GaussianMixture } from '../../src/mixture/gaussian.js';
import { type BetaMixtureTruth, sampleBeta, sampleBetaMixture } from '../../src/mixture/sample.js';

/** Beta log-density straight from its definition (independent of src/mixture). */
function betaLogPdf(x: number, a: number, b: number): number {
  return (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - (gammaln(a) + gammaln(b) - gammaln(a + b));
}

function weighted(truth: BetaMixtureTruth, k: 0 | 1, x: number): number {
  return truth.weights[k] * Math.exp(betaLogPdf(x, truth.alphas[k], truth.betas[k]));
}

/** Bayes accuracy ∫ max(w₀f₀, w₁f₁) dx by Simpson's rule (α, β ≥ 1.5 keep the integrand smooth). */
function bayesAccuracy(truth: BetaMixtureTruth, m = 20_000): number {
  let acc = 0;
  for (let i = 0; i <= m; i++) {
    const x = i / m;
    const f = x === 0 || x === 1 ? 0 : Math.max(weighted(truth, 0, x), weighted(truth, 1, x));
    acc += f * (i === 0 || i === m ? 1 : i % 2 ? 4 : 2);
  }
  return acc / (3 * m);
}

function splitAccuracy(p: Float64Array, components: Uint8Array, cleanTrue: 0 | 1): number {
  let right = 0;
  for (let i = 0; i < p.length; i++)
    if (((p[i] as number) > 0.5 ? cleanTrue : 1 - cleanTrue) === components[i]) right++;
  return right / p.length;
}

const cases: { name: string; truth: BetaMixtureTruth; init?: 'truth' }[] = [
  { name: '70% clean, well separated', truth: { alphas: [2, 8], betas: [12, 3], weights: [0.7, 0.3] } },
  { name: '40% clean, overlapping', truth: { alphas: [1.5, 6], betas: [6, 2], weights: [0.4, 0.6] } },
  { name: '90% clean', truth: { alphas: [2, 5], betas: [15, 3], weights: [0.9, 0.1] } },
  // From the reference init, EM on this one can stop in a worse local optimum (lower likelihood);
  // started at the truth, it must stay near it (the truth is close to a fixed point).
  {
    name: '20% clean (started at the truth)',
    truth: { alphas: [2, 6], betas: [8, 3], weights: [0.2, 0.8] },
    init: 'truth',
  },
];

describe('BetaMixture recovers known mixtures', () => {
  for (const c of cases) {
    it(c.name, () => {
      const { values, components } = sampleBetaMixture(20_000, c.truth, new Rng(11));
      const { alphas, betas, weights } = c.truth;
      const bmm = new BetaMixture({
        maxIter: 5000,
        tol: 1e-9,
        ...(c.init === 'truth'
          ? {
              init: {
                alphas: [alphas[0], alphas[1]],
                betas: [betas[0], betas[1]],
                weights: [weights[0], weights[1]],
              },
            }
          : {}),
      }).fit(values);
      const p = bmm.params;
      expect(p.converged).toBe(true);
      const clean = p.cleanComponent;
      const noisy = clean === 0 ? 1 : 0;
      // truth: component 0 is the clean one (lower mean) in every case above
      const got = {
        alphas: [p.alphas[clean], p.alphas[noisy]],
        betas: [p.betas[clean], p.betas[noisy]],
        weights: [p.weights[clean], p.weights[noisy]],
      };
      for (let k = 0; k < 2; k++) {
        expect(Math.abs((got.alphas[k] as number) / (c.truth.alphas[k] as number) - 1)).toBeLessThan(0.15);
        expect(Math.abs((got.betas[k] as number) / (c.truth.betas[k] as number) - 1)).toBeLessThan(0.15);
        expect(Math.abs((got.weights[k] as number) - (c.truth.weights[k] as number))).toBeLessThan(0.02);
      }

      const bayes = bayesAccuracy(c.truth);
      // the same Bayes rule on the sample itself agrees with the integral (sampling error ~0.002)
      const bayesOnSample = splitAccuracy(
        Float64Array.from(values, (x) => {
          const v = Math.min(Math.max(x, 1e-12), 1 - 1e-12);
          return weighted(c.truth, 0, v) > weighted(c.truth, 1, v) ? 1 : 0;
        }),
        components,
        0,
      );
      expect(Math.abs(bayesOnSample - bayes)).toBeLessThan(0.01);
      const fitted = splitAccuracy(bmm.posterior(values), components, 0);
      expect(fitted).toBeGreaterThan(bayes - 0.01);
      expect(splitAccuracy(bmm.monotonePosterior(values), components, 0)).toBeGreaterThan(bayes - 0.01);
    });
  }

  it('the reference procedure (10 iterations from α=[1,2], β=[2,1]) splits within 0.04 of Bayes', () => {
    for (const c of cases.slice(0, 3)) {
      const { values, components } = sampleBetaMixture(20_000, c.truth, new Rng(11));
      const bmm = new BetaMixture().fit(values);
      expect(bmm.params.iterations).toBe(10);
      expect(splitAccuracy(bmm.posterior(values), components, 0)).toBeGreaterThan(
        bayesAccuracy(c.truth) - 0.04,
      );
    }
  });

  it('the Gaussian mixture (NCR defaults) also splits a well-separated mixture near Bayes', () => {
    const truth = cases[0]!.truth;
    const { values, components } = sampleBetaMixture(20_000, truth, new Rng(11));
    const gmm = new GaussianMixture().fit(values);
    expect(splitAccuracy(gmm.posterior(values), components, 0)).toBeGreaterThan(bayesAccuracy(truth) - 0.02);
  });
});

describe('sampleBeta', () => {
  it('matches the closed-form mean and variance', () => {
    const rng = new Rng(3);
    for (const [a, b] of [
      [0.5, 0.7],
      [2, 5],
      [30, 4],
    ] as const) {
      const n = 60_000;
      let s = 0;
      let ss = 0;
      let outside = 0;
      for (let i = 0; i < n; i++) {
        const x = sampleBeta(rng, a, b);
        if (!(x >= 0 && x <= 1)) outside++;
        s += x;
        ss += x * x;
      }
      expect(outside).toBe(0);
      const mean = s / n;
      const variance = ss / n - mean * mean;
      const trueMean = a / (a + b);
      const trueVar = (a * b) / ((a + b) ** 2 * (a + b + 1));
      expect(Math.abs(mean - trueMean)).toBeLessThan(5 * Math.sqrt(trueVar / n));
      expect(Math.abs(variance / trueVar - 1)).toBeLessThan(0.03);
    }
  });
});
