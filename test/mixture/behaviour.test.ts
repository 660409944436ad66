/**
 * Behaviour of the mixtures beyond the reference numbers: degenerate input (fallbacks and errors),
 * option validation, the `tol` rule, the final E-step, warnings, JSON round trips, and the monotone
 * posterior against the reference code's 100-point lookup table.
 */
import { describe, expect, it } from 'vitest';
import { CleaveError, ConfigError, DataError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/random.js';
import { BetaMixture } from '../../src/mixture/beta.js';
import { GaussianMixture } from '../../src/mixture/gaussian.js';
import { sampleBetaMixture } from '../../src/mixture/sample.js';
import { captureLogs, loadFixture, restoreLoggerAfterEach } from './helpers.js';

restoreLoggerAfterEach();

const makers = [
  { name: 'BetaMixture', make: (o: object = {}) => new BetaMixture(o) },
  { name: 'GaussianMixture', make: (o: object = {}) => new GaussianMixture(o) },
];

const { values: mixed } = sampleBetaMixture(
  2000,
  { alphas: [2, 8], betas: [10, 3], weights: [0.7, 0.3] },
  new Rng(5),
);

describe('degenerate input', () => {
  for (const { name, make } of makers) {
    it(`${name}: all values equal → everything clean, with a warning`, () => {
      const logs = captureLogs();
      const m = make().fit(new Float64Array(50).fill(0.3));
      expect(m.params.degenerate).toMatch(/all 50 values are equal/);
      expect(m.params.iterations).toBe(0);
      expect(m.params.logLikelihood).toBeNull();
      expect([...m.posterior([0, 0.3, 0.9])]).toEqual([1, 1, 1]);
      expect([...m.monotonePosterior([0.9])]).toEqual([1]);
      expect([...m.predict([0.1, 0.9])]).toEqual([1, 1]);
      expect(m.turningPoint()).toEqual({ kind: 'decreasing' });
      expect(m.pdf([0.2, 0.5]).every((v) => Number.isFinite(v))).toBe(true);
      expect(logs.some((l) => /everything clean/.test(l.msg))).toBe(true);
    });

    it(`${name}: fewer than minSamples values → everything clean, with a warning`, () => {
      const logs = captureLogs();
      const m = make().fit([0.1, 0.2, 0.9]);
      expect(m.params.degenerate).toMatch(/too few values \(3 < minSamples 10\)/);
      expect([...m.posterior([0.1, 0.9])]).toEqual([1, 1]);
      expect(logs.length).toBeGreaterThan(0);
      // minSamples is an option
      expect(make({ minSamples: 3 }).fit([0.1, 0.2, 0.9]).params.degenerate).toBeNull();
    });

    it(`${name}: NaN / Infinity / empty input throw a DataError naming the index`, () => {
      expect(() => make().fit([0.1, 0.2, Number.NaN, 0.4])).toThrow(DataError);
      try {
        make().fit(Float32Array.of(0.1, Number.POSITIVE_INFINITY));
        expect.fail('no error');
      } catch (e) {
        expect(e).toBeInstanceOf(DataError);
        expect((e as DataError).index).toBe(1);
        expect((e as Error).message).toMatch(/^losses: value at index 1 is Infinity/);
      }
      expect(() => make().fit([])).toThrow(/empty/);
      const m = make().fit(mixed);
      expect(() => m.posterior([0.5, Number.NaN])).toThrow(/index 1 is NaN/);
    });

    it(`${name}: methods before fit throw a clear error`, () => {
      const m = make();
      expect(m.fitted).toBe(false);
      expect(() => m.posterior([0.1])).toThrow(CleaveError);
      expect(() => m.posterior([0.1])).toThrow(/not fitted; call fit\(\) first/);
      expect(() => m.params).toThrow(/not fitted/);
    });

    it(`${name}: a component collapsing onto one value stays finite`, () => {
      captureLogs();
      // 60% of the losses exactly 0 (a point mass), the rest spread out
      const x = Float64Array.from(mixed, (v, i) => (i % 5 < 3 ? 0 : v));
      const m = make({ maxIter: 200, tol: 1e-9 }).fit(x);
      const p = m.posterior(x);
      expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(Number.isFinite(m.params.logLikelihood)).toBe(true);
      expect(m.posterior([0])[0]).toBeGreaterThan(0.9);
    });
  }

  it('BetaMixture: a component whose variance collapses is floored, with a warning, and stays usable', () => {
    const logs = captureLogs();
    const { values } = sampleBetaMixture(
      300,
      { alphas: [2, 2], betas: [10, 10], weights: [1, 0] },
      new Rng(5),
    );
    const x = [...new Array(100).fill(0.5), ...values];
    const m = new BetaMixture({ maxIter: 200, tol: 1e-9 }).fit(x);
    expect(
      logs.some((l) => /component 1 collapsed \(weighted variance below 1e-12\); floored/.test(l.msg)),
    ).toBe(true);
    const p = m.params;
    for (const v of [...p.alphas, ...p.betas, ...p.weights]) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(p.weights[1]).toBeCloseTo(0.25, 3); // the spike holds the 100 values at 0.5
    const post = m.posterior([0.05, 0.1, 0.5, 0.9]);
    expect(post[0]).toBeGreaterThan(0.99);
    expect(post[2]).toBeLessThan(1e-3);
    const mono = m.monotonePosterior([0.1, 0.5, 0.9]);
    expect(mono[2]).toBeLessThanOrEqual(mono[1] as number);
  });

  it('BetaMixture: values outside [0, 1] are clipped with a warning naming the fix', () => {
    const logs = captureLogs();
    const x = [...mixed.slice(0, 200), -0.5, 3];
    const m = new BetaMixture().fit(x);
    expect(m.params.degenerate).toBeNull();
    expect(logs.some((l) => /2 of 202 values lay outside/.test(l.msg) && /normaliseLosses/.test(l.msg))).toBe(
      true,
    );
    // clipped exactly like the values 0 and 1
    expect(m.posterior([-0.5, 3])).toEqual(m.posterior([0, 1]));
  });

  it('GaussianMixture: |x| > 1e100 is refused at fit (squares would overflow)', () => {
    expect(() => new GaussianMixture().fit([...mixed.slice(0, 20), 1e200])).toThrow(/index 20.*normalise/);
    const m = new GaussianMixture().fit(mixed);
    expect(m.posterior([1e200, -1e300]).every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});

describe('options', () => {
  it('are validated with messages naming each bad path', () => {
    try {
      new BetaMixture({ maxIter: 0, tol: -1, init: { alphas: [0, 1], betas: [2, 1], weights: [0.5, 0.5] } });
      expect.fail('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const paths = (e as ConfigError).issues.map((i) => i.path).sort();
      expect(paths).toEqual(['init.alphas[0]', 'maxIter', 'tol']);
      expect((e as Error).message).toMatch(/^BetaMixture options is not valid/);
    }
    expect(() => new GaussianMixture({ regCovar: 0 })).toThrow(/regCovar/);
    expect(() => new GaussianMixture({ bogus: 1 } as never)).toThrow(ConfigError);
  });

  it('defaults: the reference procedure and the NCR/DivideMix Gaussian mixture', () => {
    expect(new BetaMixture().options).toEqual({
      maxIter: 10,
      tol: 0,
      minSamples: 10,
      clip: 1e-4,
      init: { alphas: [1, 2], betas: [2, 1], weights: [0.5, 0.5] },
    });
    expect(new GaussianMixture().options).toEqual({
      maxIter: 10,
      tol: 1e-2,
      minSamples: 10,
      regCovar: 5e-4,
      init: 'kmeans',
    });
  });
});

describe('the EM loop', () => {
  it('BetaMixture tol: stops at the first iteration where no parameter moved more than tol', () => {
    const tol = 1e-4;
    const stopped = new BetaMixture({ maxIter: 1000, tol }).fit(mixed).params;
    expect(stopped.converged).toBe(true);
    const k = stopped.iterations;
    expect(k).toBeGreaterThan(2);
    const at = (n: number) => new BetaMixture({ maxIter: n, tol: 0 }).fit(mixed).params;
    const moved = (a: ReturnType<typeof at>, b: ReturnType<typeof at>) =>
      Math.max(
        ...[0, 1].flatMap((j) => [
          Math.abs((a.alphas[j] as number) - (b.alphas[j] as number)),
          Math.abs((a.betas[j] as number) - (b.betas[j] as number)),
          Math.abs((a.weights[j] as number) - (b.weights[j] as number)),
        ]),
      );
    expect(moved(at(k - 1), at(k))).toBeLessThanOrEqual(tol);
    expect(moved(at(k - 2), at(k - 1))).toBeGreaterThan(tol);
    expect(at(k).alphas).toEqual(stopped.alphas);
  });

  it('with tol 0 runs exactly maxIter iterations and does not warn', () => {
    const logs = captureLogs();
    const p = new BetaMixture({ maxIter: 7 }).fit(mixed).params;
    expect(p.iterations).toBe(7);
    expect(p.converged).toBe(false);
    expect(logs).toEqual([]);
  });

  it('warns when tol > 0 and maxIter ran out', () => {
    const logs = captureLogs();
    const p = new GaussianMixture({ maxIter: 1, tol: 1e-12 }).fit(mixed).params;
    expect(p.converged).toBe(false);
    expect(logs.some((l) => /did not converge in 1 iterations/.test(l.msg))).toBe(true);
  });

  for (const { name, make } of makers) {
    it(`${name}: logLikelihood is the final parameters' mean log-density (a last E-step)`, () => {
      const m = make().fit(mixed);
      const pdf = m.pdf(mixed);
      let ll = 0;
      for (const v of pdf) ll += Math.log(v);
      expect(Math.abs(ll / pdf.length - (m.params.logLikelihood as number))).toBeLessThan(1e-10);
    });

    it(`${name}: posterior is w_c f_c / (w_c f_c + w_n f_n) and predict thresholds it`, () => {
      const m = make().fit(mixed);
      const q = [0.05, 0.3, 0.45, 0.6, 0.95];
      const { clean, noisy } = m.componentPdfs(q);
      const p = m.posterior(q);
      for (let i = 0; i < q.length; i++) {
        const expected = (clean[i] as number) / ((clean[i] as number) + (noisy[i] as number));
        expect(Math.abs((p[i] as number) - expected)).toBeLessThan(1e-12);
      }
      expect([...m.predict(q, 0.5, { monotone: false })]).toEqual([...p].map((v) => (v > 0.5 ? 1 : 0)));
    });
  }
});

describe('toJSON / fromJSON', () => {
  for (const { name, make } of makers) {
    it(`${name}: round trip through JSON text keeps options, parameters, state and posteriors`, () => {
      const m = make({ maxIter: 25, tol: 1e-6 }).fit(mixed);
      const text = JSON.stringify(m.toJSON());
      const Ctor = name === 'BetaMixture' ? BetaMixture : GaussianMixture;
      const back = Ctor.fromJSON(JSON.parse(text));
      expect(back.toJSON()).toEqual(m.toJSON());
      expect(back.params).toEqual(m.params);
      const q = Float64Array.from({ length: 101 }, (_, i) => i / 100);
      expect(back.posterior(q)).toEqual(m.posterior(q));
      expect(back.monotonePosterior(q)).toEqual(m.monotonePosterior(q));
      // unfitted models round-trip too
      const fresh = Ctor.fromJSON(JSON.parse(JSON.stringify(make().toJSON())));
      expect(fresh.fitted).toBe(false);
    });
  }

  it('rejects malformed JSON with a ConfigError', () => {
    const json = new BetaMixture().fit(mixed).toJSON();
    expect(() => BetaMixture.fromJSON({ ...json, type: 'GaussianMixture' })).toThrow(ConfigError);
    expect(() => BetaMixture.fromJSON({ ...json, params: { ...json.params, alphas: [-1, 2] } })).toThrow(
      /params\.alphas\[0\]/,
    );
    expect(() => GaussianMixture.fromJSON(json)).toThrow(/GaussianMixture JSON is not valid/);
  });
});

describe('monotone posterior vs the reference lookup table', () => {
  it('agrees with the 100-point lookup of Arazo et al. on a fit whose posterior turns back up', () => {
    const { vectors } = loadFixture<{ vectors: Record<string, number[]> }>('vectors.json');
    const m = new BetaMixture().fit(vectors.valley as number[]);
    const shape = m.turningPoint();
    expect(shape.kind).toBe('valley');
    // The reference: lookup over linspace(1e-12, 1 − 1e-12, 100) of the noisy posterior, flattened
    // to its maximum from the argmax on; P(clean) is one minus it.
    const grid = Float64Array.from({ length: 100 }, (_, i) => 1e-12 + (i * (1 - 2e-12)) / 99);
    const noisy = Array.from(m.posterior(grid), (p) => 1 - p);
    const arg = noisy.indexOf(Math.max(...noisy));
    for (let i = arg; i < noisy.length; i++) noisy[i] = noisy[arg] as number;
    const mono = m.monotonePosterior(grid);
    for (let i = 0; i < grid.length; i++) {
      // equal up to the lookup's grid resolution around the turning point
      expect(Math.abs((mono[i] as number) - (1 - (noisy[i] as number)))).toBeLessThan(2e-3);
    }
    // and the plain posterior really turns back up beyond the turning point
    const plain = m.posterior([shape.kind === 'valley' ? shape.at : 0.5, 1]);
    expect(plain[1] as number).toBeGreaterThan((plain[0] as number) + 0.01);
  });
});
