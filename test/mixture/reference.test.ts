/**
 * BetaMixture, GaussianMixture and normaliseLosses against the independent numpy/scipy reference
 * (test/reference/mixture_reference.py; rerun it with `python3 test/reference/mixture_reference.py fixtures`).
 * Parameters, posteriors, monotone posteriors and densities must agree to 1e-6 relative.
 */
import { describe, expect, it } from 'vitest';
import { BetaMixture } from '../../src/mixture/beta.js';
import { GaussianMixture, twoMeansThreshold } from '../../src/mixture/gaussian.js';
import { normaliseLosses } from '../../src/mixture/normalise.js';
import { expectClose, loadFixture } from './helpers.js';

interface Shape {
  kind: 'decreasing' | 'valley' | 'peak';
  at: number | null;
}
interface CommonCase {
  name: string;
  options: { maxIter: number; tol: number };
  posteriorData: number[];
  grid: number[];
  posteriorGrid: number[];
  monotoneGrid: number[];
  cleanPdfGrid: number[];
  noisyPdfGrid: number[];
  shape: Shape;
}
interface BetaCase extends CommonCase {
  expected: {
    alphas: number[];
    betas: number[];
    weights: number[];
    iterations: number;
    converged: boolean;
    logLikelihood: number;
    cleanComponent: number;
  };
  monotoneData: number[];
}
interface GaussianCase extends CommonCase {
  expected: {
    means: number[];
    variances: number[];
    weights: number[];
    iterations: number;
    converged: boolean;
    logLikelihood: number;
    cleanComponent: number;
    initThreshold: number;
  };
}

const { vectors } = loadFixture<{ vectors: Record<string, number[]> }>('vectors.json');
const beta = loadFixture<{ cases: BetaCase[] }>('beta.json');
const gaussian = loadFixture<{ cases: GaussianCase[] }>('gaussian.json');
const norm = loadFixture<{
  raw: number[];
  cases: {
    options: { method: 'minmax' | 'percentile'; clip: number; lower?: number; upper?: number };
    low: number;
    high: number;
    values: number[];
    fitValues: number[];
  }[];
}>('normalise.json');

function values(name: string): number[] {
  const v = vectors[name];
  if (!v) throw new Error(`fixture vector ${name} missing`);
  return v;
}

type Model = BetaMixture | GaussianMixture;

/** Everything both mixtures share: state, posteriors, monotone posteriors, densities, turning point. */
function checkAgainstReference(model: Model, c: BetaCase | GaussianCase, x: number[], label: string): void {
  const p = model.params;
  expect(p.degenerate).toBeNull();
  expect(p.iterations).toBe(c.expected.iterations);
  expect(p.converged).toBe(c.expected.converged);
  expect(p.cleanComponent).toBe(c.expected.cleanComponent);
  expectClose(p.weights, c.expected.weights, 1e-6, 0, `${label} weights`);
  expectClose([p.logLikelihood as number], [c.expected.logLikelihood], 1e-6, 1e-12, `${label} ll`);
  const head = x.slice(0, c.posteriorData.length);
  expectClose(model.posterior(head), c.posteriorData, 1e-6, 1e-15, `${label} posterior`);
  expectClose(model.posterior(c.grid), c.posteriorGrid, 1e-6, 1e-15, `${label} posterior grid`);
  expectClose(model.monotonePosterior(c.grid), c.monotoneGrid, 1e-6, 1e-15, `${label} monotone grid`);
  const pdfs = model.componentPdfs(c.grid);
  expectClose(pdfs.clean, c.cleanPdfGrid, 1e-6, 1e-300, `${label} clean pdf`);
  expectClose(pdfs.noisy, c.noisyPdfGrid, 1e-6, 1e-300, `${label} noisy pdf`);
  const mix = c.cleanPdfGrid.map((v, i) => v + (c.noisyPdfGrid[i] as number));
  expectClose(model.pdf(c.grid), mix, 1e-6, 1e-300, `${label} pdf`);
  // closed-form turning point vs the reference's numerical search
  const t = model.turningPoint();
  if (c.shape.kind === 'decreasing') {
    const clip = model instanceof BetaMixture ? model.options.clip : Number.NaN;
    expect(t.kind === 'decreasing' || ('at' in t && (t.at === clip || t.at === 1 - clip))).toBe(true);
  } else {
    expect(t.kind).toBe(c.shape.kind);
    const at = 'at' in t ? t.at : Number.NaN;
    expect(Math.abs(at - (c.shape.at as number))).toBeLessThan(1e-6 * Math.max(1, Math.abs(at)));
  }
}

describe('BetaMixture vs the numpy/scipy reference', () => {
  it('covers the shapes the monotone posterior must handle', () => {
    const kinds = new Set(beta.cases.map((c) => c.shape.kind));
    expect([...kinds].sort()).toEqual(['decreasing', 'peak', 'valley']);
    expect(beta.cases.map((c) => c.name)).toEqual(
      expect.arrayContaining(['well_separated', 'overlapping', 'clean90', 'clean20', 'tiny']),
    );
  });

  for (const c of beta.cases) {
    it(`${c.name} (maxIter ${c.options.maxIter}, tol ${c.options.tol})`, () => {
      const x = values(c.name);
      const bmm = new BetaMixture({ maxIter: c.options.maxIter, tol: c.options.tol, minSamples: 5 }).fit(x);
      const label = `${c.name}/${c.options.maxIter}`;
      expectClose(bmm.params.alphas, c.expected.alphas, 1e-6, 0, `${label} alphas`);
      expectClose(bmm.params.betas, c.expected.betas, 1e-6, 0, `${label} betas`);
      checkAgainstReference(bmm, c, x, label);
      const head = x.slice(0, c.monotoneData.length);
      expectClose(bmm.monotonePosterior(head), c.monotoneData, 1e-6, 1e-15, `${label} monotone`);
    });
  }
});

describe('GaussianMixture vs the numpy reference (scikit-learn formulas, exact 2-means init)', () => {
  for (const c of gaussian.cases) {
    it(`${c.name} (maxIter ${c.options.maxIter}, tol ${c.options.tol})`, () => {
      const x = values(c.name);
      const gmm = new GaussianMixture({ maxIter: c.options.maxIter, tol: c.options.tol }).fit(x);
      const label = `${c.name}/${c.options.maxIter}`;
      expect(twoMeansThreshold(Float64Array.from(x))).toBe(c.expected.initThreshold);
      expectClose(gmm.params.means, c.expected.means, 1e-6, 0, `${label} means`);
      expectClose(gmm.params.variances, c.expected.variances, 1e-6, 0, `${label} variances`);
      checkAgainstReference(gmm, c, x, label);
    });
  }
});

describe('normaliseLosses vs the numpy reference', () => {
  for (const c of norm.cases) {
    it(`${c.options.method} ${JSON.stringify(c.options)}`, () => {
      const r = normaliseLosses(norm.raw, c.options);
      expectClose([r.scaling.low, r.scaling.high], [c.low, c.high], 1e-12, 0, 'low/high');
      expectClose(r.values, c.values, 1e-12, 1e-15, 'values');
      expectClose(r.fitValues, c.fitValues, 1e-12, 1e-15, 'fitValues');
    });
  }
});
