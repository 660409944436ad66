/**
 * Property tests (fast-check): for any finite input the mixtures never produce NaN, posteriors lie in
 * [0, 1], a fit does not depend on the order of the values, and the monotone posterior is really
 * non-increasing (compared exactly, no tolerance).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { BetaMixture } from '../../src/mixture/beta.js';
import { GaussianMixture } from '../../src/mixture/gaussian.js';
import { normaliseLosses } from '../../src/mixture/normalise.js';

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const unit = fc.double({ min: 0, max: 1, noNaN: true });
/** Values that look like normalised losses: a few clusters plus noise, sometimes exact ties. */
const lossVector = fc.array(fc.oneof(unit, fc.constantFrom(0, 1, 0.5, 1e-4)), {
  minLength: 10,
  maxLength: 300,
});
/** GaussianMixture accepts |x| ≤ 1e100. */
const moderate = fc.double({ min: -1e100, max: 1e100, noNaN: true });

function allIn01(p: Float64Array): boolean {
  return p.every((v) => v >= 0 && v <= 1);
}

function nonIncreasing(xs: number[], p: Float64Array): boolean {
  const order = xs.map((_, i) => i).sort((a, b) => (xs[a] as number) - (xs[b] as number));
  for (let k = 1; k < order.length; k++) {
    if ((p[order[k] as number] as number) > (p[order[k - 1] as number] as number)) return false;
  }
  return true;
}

const models = [
  { name: 'BetaMixture (reference procedure)', make: () => new BetaMixture() },
  { name: 'BetaMixture (to convergence)', make: () => new BetaMixture({ maxIter: 300, tol: 1e-8 }) },
  { name: 'GaussianMixture', make: () => new GaussianMixture() },
];

describe('mixture properties', () => {
  for (const m of models) {
    it(`${m.name}: posteriors in [0, 1], pdf finite, no NaN, monotone non-increasing`, () => {
      fc.assert(
        fc.property(lossVector, fc.array(finite, { minLength: 1, maxLength: 40 }), (xs, queries) => {
          const model = m.make().fit(xs);
          const probe = [...queries.filter((q) => Math.abs(q) <= 1e100), ...xs, 0, 1, -3, 7];
          const p = model.posterior(probe);
          const mono = model.monotonePosterior(probe);
          const pdf = model.pdf(probe);
          expect(allIn01(p)).toBe(true);
          expect(allIn01(mono)).toBe(true);
          expect(pdf.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
          expect(nonIncreasing(probe, mono)).toBe(true);
          const json = JSON.stringify(model.toJSON());
          expect(json.includes('NaN')).toBe(false);
        }),
        { numRuns: 60 },
      );
    });

    it(`${m.name}: the fit does not depend on the order of the values`, () => {
      fc.assert(
        fc.property(lossVector, fc.integer(), (xs, seed) => {
          const shuffled = new Rng(seed).shuffle([...xs]);
          const a = m.make().fit(xs);
          const b = m.make().fit(shuffled);
          const pa = a.posterior(xs);
          const pb = b.posterior(xs);
          for (let i = 0; i < pa.length; i++) {
            expect(Math.abs((pa[i] as number) - (pb[i] as number))).toBeLessThan(1e-6);
          }
          // (iteration counts may differ: with tol > 0 summation-order rounding can tip the stopping rule)
        }),
        { numRuns: 80 },
      );
    });
  }

  it('BetaMixture: any finite values (any magnitude) fit and evaluate without NaN', () => {
    fc.assert(
      fc.property(fc.array(finite, { minLength: 1, maxLength: 200 }), (xs) => {
        const model = new BetaMixture({ maxIter: 20 }).fit(xs);
        const p = model.params;
        for (const v of [...p.alphas, ...p.betas, ...p.weights])
          expect(Number.isFinite(v) && v > 0).toBe(true);
        expect(allIn01(model.posterior(xs))).toBe(true);
        expect(allIn01(model.monotonePosterior(xs))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('GaussianMixture: any values with |x| ≤ 1e100 fit without NaN; posterior accepts any finite value', () => {
    fc.assert(
      fc.property(fc.array(moderate, { minLength: 1, maxLength: 200 }), fc.array(finite), (xs, queries) => {
        const model = new GaussianMixture().fit(xs);
        const p = model.params;
        for (const v of [...p.means, ...p.variances, ...p.weights]) expect(Number.isFinite(v)).toBe(true);
        expect(allIn01(model.posterior([...xs, ...queries]))).toBe(true);
        expect(allIn01(model.monotonePosterior([...xs, ...queries]))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('normaliseLosses: any finite losses map into [clip, 1 − clip] without NaN', () => {
    fc.assert(
      fc.property(
        fc.array(finite, { minLength: 1, maxLength: 200 }),
        fc.constantFrom('minmax' as const, 'percentile' as const),
        (xs, method) => {
          const r = normaliseLosses(xs, { method });
          const lo = r.scaling.clip;
          for (const v of r.values) expect(v === 0.5 || (v >= lo && v <= 1 - lo)).toBe(true);
          expect(r.fitValues.length).toBeGreaterThan(0);
          expect(r.fitValues.length).toBeLessThanOrEqual(xs.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
