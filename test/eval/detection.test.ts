import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { averagePrecision, rocAuc, splitQuality } from '../../src/eval/detection.js';
import { expectedCalibrationError, uncertaintyQuality } from '../../src/eval/uncertainty.js';
import { expectClose, fixture, num } from './fixtures.js';

interface RefCase {
  name: string;
  posteriorClean: number[];
  isNoisy: number[];
  uncertainty: number[];
  threshold: number;
  bins: number;
  split: Record<string, number>;
  uncertainty_quality: { pearson: number; spearman: number; auc: number };
  calibration: {
    ece: number;
    mce: number;
    bins: { count: number; meanPosterior?: number; cleanFraction?: number }[];
  };
}
const { cases } = fixture<{ cases: RefCase[] }>('detection.json');

describe('splitQuality against the numpy/scipy reference', () => {
  for (const c of cases) {
    it(`${c.name}: AUC (pair count = scipy Mann–Whitney), AP, P/R/F1, noise rates`, () => {
      const q = splitQuality(c.posteriorClean, c.isNoisy, { threshold: c.threshold });
      for (const [key, value] of Object.entries(c.split)) {
        expectClose(q[key as keyof typeof q], value, 1e-9, `${c.name} ${key}`);
      }
    });
  }

  it('orientation: a perfect split has AUC 1, AP 1; the reversed one AUC 0', () => {
    const noisy = [1, 1, 0, 0, 0];
    const good = splitQuality([0.1, 0.2, 0.9, 0.8, 0.7], noisy);
    expect(good.auc).toBe(1);
    expect(good.averagePrecision).toBe(1);
    expect(good.f1).toBe(1);
    expect(splitQuality([0.9, 0.8, 0.1, 0.2, 0.3], noisy).auc).toBe(0);
  });

  it('P(clean) = threshold exactly is predicted noisy', () => {
    const q = splitQuality([0.5, 0.9], [1, 0]);
    expect(q.recall).toBe(1);
    expect(q.precision).toBe(1);
  });

  it('AUC is NaN without one of the classes; inputs are validated', () => {
    expect(splitQuality([0.2, 0.4], [0, 0]).auc).toBeNaN();
    expect(() => splitQuality([0.2, 1.5], [0, 1])).toThrow(/posteriorClean: item 1 is 1.5/);
    expect(() => splitQuality([0.2, 0.5], [0, 2])).toThrow(DataError);
    expect(() => splitQuality([0.2], [0, 1])).toThrow(/isNoisy: has 2 entries, expected 1/);
  });

  it('rocAuc equals the pair-counting definition (property, with ties)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { minLength: 2, maxLength: 40 }),
        (items) => {
          const scores = items.map(([s]) => s);
          const pos = items.map(([, p]) => p);
          let wins = 0;
          let pairs = 0;
          for (let i = 0; i < items.length; i++)
            for (let j = 0; j < items.length; j++)
              if (pos[i] && !pos[j]) {
                pairs++;
                wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
              }
          const auc = rocAuc(scores, pos);
          if (pairs === 0) expect(auc).toBeNaN();
          else expectClose(auc, wins / pairs, 1e-12, 'auc');
          const ap = averagePrecision(scores, pos);
          if (pos.some(Boolean)) expect(ap).toBeGreaterThan(0);
          if (pos.some(Boolean)) expect(ap).toBeLessThanOrEqual(1 + 1e-12);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('uncertainty quality and calibration against the reference', () => {
  for (const c of cases) {
    it(`${c.name}: Pearson, Spearman (scipy), AUC`, () => {
      const u = uncertaintyQuality(c.uncertainty, c.isNoisy);
      expectClose(u.pearson, c.uncertainty_quality.pearson, 1e-9, 'pearson');
      expectClose(u.spearman, c.uncertainty_quality.spearman, 1e-9, 'spearman');
      expectClose(u.auc, c.uncertainty_quality.auc, 1e-9, 'auc');
    });

    it(`${c.name}: ECE / MCE with ${c.bins} equal-width bins`, () => {
      const cal = expectedCalibrationError(c.posteriorClean, c.isNoisy, { bins: c.bins });
      expectClose(cal.ece, c.calibration.ece, 1e-9, 'ece');
      expectClose(cal.mce, c.calibration.mce, 1e-9, 'mce');
      expect(cal.bins.map((b) => b.count)).toEqual(c.calibration.bins.map((b) => b.count));
      cal.bins.forEach((b, i) => {
        const ref = c.calibration.bins[i]!;
        expectClose(b.meanPosterior, num(ref.meanPosterior), 1e-9, `bin ${i} mean`);
        expectClose(b.cleanFraction, num(ref.cleanFraction), 1e-9, `bin ${i} clean`);
      });
    });
  }

  it('a perfectly calibrated posterior has ECE 0', () => {
    // bin [0.2, 0.3): mean 0.25, 1 of 4 clean; bin [0.7, 0.8): mean 0.75, 3 of 4 clean
    const p = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
    const noisy = [0, 1, 1, 1, 0, 0, 0, 1];
    expect(expectedCalibrationError(p, noisy).ece).toBe(0);
  });
});
