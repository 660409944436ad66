import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/random.js';
import { estimatedSplitAuc, LocalFdrSplit, storeyNoiseRate } from '../../src/mixture/local-fdr.js';

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 on erf, |error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    t *
      (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
      Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
const density = (x: number, mu: number, sd: number) =>
  Math.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI));

/** Clean losses N(0, sd²), noisy N(1, sd²): `n` observed at noise rate `rate`, and `m` null draws. */
function sample(n: number, rate: number, m: number, sd: number, seed: number) {
  const rng = new Rng(seed);
  const noisy = new Uint8Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    noisy[i] = rng.float() < rate ? 1 : 0;
    values[i] = (noisy[i] ? 1 : 0) + sd * rng.normal();
  }
  const nulls = new Float64Array(m);
  for (let i = 0; i < m; i++) nulls[i] = 1 + sd * rng.normal();
  return { values, nulls, noisy };
}

describe('LocalFdrSplit', () => {
  it('estimates the noise rate and a calibrated P(clean) (two normals, closed-form posterior)', () => {
    for (const rate of [0.1, 0.3, 0.5, 0.8]) {
      const sd = 0.25;
      const { values, nulls, noisy } = sample(5000, rate, 20_000, sd, 11);
      const split = new LocalFdrSplit().fit(values, nulls);
      const truthRate = noisy.reduce((a, b) => a + b, 0) / noisy.length;
      expect(Math.abs(split.params.noiseRate - truthRate), `rate ${rate}`).toBeLessThan(0.03);
      const post = split.monotonePosterior(values);
      // against the exact posterior of the generating mixture
      let err = 0;
      for (let i = 0; i < values.length; i++) {
        const x = values[i]!;
        const c = (1 - rate) * density(x, 0, sd);
        const exact = c / (c + rate * density(x, 1, sd));
        err += Math.abs(post[i]! - exact);
      }
      expect(err / values.length, `rate ${rate}`).toBeLessThan(0.03);
      // the implied noise rate agrees with the truth too
      const implied = post.reduce((a, p) => a + (1 - p), 0) / post.length;
      expect(Math.abs(implied - truthRate), `rate ${rate}`).toBeLessThan(0.04);
      for (let k = 1; k < 200; k++) {
        const a = split.monotonePosterior([k / 100 - 0.5])[0]!;
        const b = split.monotonePosterior([(k + 1) / 100 - 0.5])[0]!;
        expect(b).toBeLessThanOrEqual(a);
      }
    }
  });

  it('finds no noise in clean data, and everything noisy when the data is the null', () => {
    const clean = sample(3000, 0, 10_000, 0.25, 5);
    const split = new LocalFdrSplit().fit(clean.values, clean.nulls);
    expect(split.params.noiseRate).toBeLessThan(0.01);
    const post = split.monotonePosterior(clean.values);
    expect(post.filter((p) => p > 0.9).length / post.length).toBeGreaterThan(0.98);
    const allNoisy = sample(3000, 1, 10_000, 0.25, 6);
    const s2 = new LocalFdrSplit().fit(allNoisy.values, allNoisy.nulls);
    expect(s2.params.noiseRate).toBeGreaterThan(0.95);
    expect(s2.posterior(allNoisy.values).reduce((a, p) => a + p, 0) / 3000).toBeLessThan(0.1);
  });

  it('storeyNoiseRate follows its formula', () => {
    const { noiseRate, lambda } = storeyNoiseRate([0, 0, 5, 6], [4, 5, 6, 7, 8], 0.25);
    expect(lambda).toBe(5); // the element at floor(0.25 · 4) of the sorted null
    // P̂(x > 5) = 1/4, P̂₀(x > 5) = 3/5
    expect(noiseRate).toBeCloseTo(0.25 / 0.6, 12);
  });

  it('estimatedSplitAuc matches the labelled AUC and the closed form Φ(Δ/(σ√2))', () => {
    const sd = 0.35; // well separated, as CLIP pairs are (Storey's π₀ is biased up when clean losses reach past λ)
    const { values, nulls, noisy } = sample(6000, 0.4, 30_000, sd, 3);
    const est = estimatedSplitAuc(values, nulls);
    let wins = 0;
    let pairs = 0;
    const clean = values.filter((_, i) => !noisy[i]);
    const bad = values.filter((_, i) => noisy[i]);
    for (const b of bad.subarray(0, 600)) {
      for (const c of clean.subarray(0, 600)) {
        wins += b > c ? 1 : b === c ? 0.5 : 0;
        pairs++;
      }
    }
    const closed = phi(1 / (sd * Math.SQRT2));
    expect(Math.abs(est - closed)).toBeLessThan(0.015);
    expect(Math.abs(est - wins / pairs)).toBeLessThan(0.02);
    expect(estimatedSplitAuc([0.1, 0.2, 0.9], [0.8, 0.9, 1.0, 0.95])).toBeGreaterThan(0.9);
  });

  it('rejects non-finite values and use before fit', () => {
    expect(() => new LocalFdrSplit().fit([0.1, Number.NaN, 0.3], [1, 2])).toThrow(DataError);
    expect(() => new LocalFdrSplit().fit([0.1], [1, 2])).toThrow(/at least 2/);
    expect(() => new LocalFdrSplit().posterior([0.5])).toThrow(/fit\(\) first/);
  });
});
