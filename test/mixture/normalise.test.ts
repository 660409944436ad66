/**
 * Loss normalisation in closed form (the numpy comparison is in reference.test.ts): the scalings, the
 * percentile definition, re-applying a scaling to new losses, and the documented fallbacks.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { applyScaling, normaliseLosses, percentileSorted } from '../../src/mixture/normalise.js';
import { captureLogs, restoreLoggerAfterEach } from './helpers.js';

restoreLoggerAfterEach();

describe('percentileSorted', () => {
  it('interpolates linearly between order statistics (numpy default)', () => {
    const s = Float64Array.of(1, 2, 3, 4, 10);
    expect(percentileSorted(s, 0)).toBe(1);
    expect(percentileSorted(s, 100)).toBe(10);
    expect(percentileSorted(s, 50)).toBe(3);
    expect(percentileSorted(s, 90)).toBeCloseTo(4 + 0.6 * 6, 14); // h = 3.6
    expect(percentileSorted(s, 5)).toBeCloseTo(1.2, 14); // h = 0.2
    expect(percentileSorted(Float64Array.of(7), 37)).toBe(7);
  });
});

describe('normaliseLosses', () => {
  it("'minmax' maps min → clip and max → 1 − clip, linearly in between", () => {
    const r = normaliseLosses([2, 4, 6, 10], { method: 'minmax', clip: 0 });
    expect([...r.values]).toEqual([0, 0.25, 0.5, 1]);
    expect(r.fitValues).toBe(r.values);
    expect(r.scaling).toEqual({ method: 'minmax', low: 2, high: 10, clip: 0 });
    const clipped = normaliseLosses([2, 4, 6, 10], { method: 'minmax' });
    expect(clipped.values[0]).toBe(1e-4);
    expect(clipped.values[3]).toBe(1 - 1e-4);
  });

  it("'percentile' scales by the 5th/95th percentiles, fits only the values between them, clips to 1e-3", () => {
    const x = Array.from({ length: 101 }, (_, i) => i); // percentiles are exact: 5 and 95
    const r = normaliseLosses(x, { method: 'percentile' });
    expect(r.scaling).toEqual({ method: 'percentile', low: 5, high: 95, clip: 1e-3 });
    expect(r.values).toHaveLength(101);
    expect(r.values[50]).toBeCloseTo(0.5, 15);
    expect(r.values[0]).toBe(1e-3);
    expect(r.values[100]).toBe(1 - 1e-3);
    expect(r.fitValues).toHaveLength(91); // 5..95 inclusive
    expect(r.fitValues[0]).toBe(1e-3);
  });

  it('applyScaling maps later losses with the same scaling', () => {
    const { scaling } = normaliseLosses([1, 3], { method: 'minmax', clip: 0 });
    expect([...applyScaling([0, 1, 2, 3, 5], scaling)]).toEqual([0, 0, 0.5, 1, 1]);
    // a range beyond the float64 maximum still maps without overflow
    const wide = { method: 'minmax' as const, low: -1.5e308, high: 1.5e308, clip: 0 };
    expect([...applyScaling([-1.5e308, 0, 1.5e308], wide)]).toEqual([0, 0.5, 1]);
  });

  it('no spread: every value maps to 0.5, with a warning', () => {
    const logs = captureLogs();
    const r = normaliseLosses([3, 3, 3], { method: 'minmax' });
    expect([...r.values]).toEqual([0.5, 0.5, 0.5]);
    expect(logs.map((l) => l.msg).join(' ')).toMatch(/no spread/);
  });

  it('percentile trimming that keeps nothing falls back to all values, with a warning', () => {
    const logs = captureLogs();
    const r = normaliseLosses([0, 1], { method: 'percentile' }); // percentiles 0.05 and 0.95
    expect(r.fitValues).toHaveLength(2);
    expect(logs.map((l) => l.msg).join(' ')).toMatch(/no loss lies between the percentiles/);
  });

  it('rejects bad input and options', () => {
    expect(() => normaliseLosses([])).toThrow(DataError);
    expect(() => normaliseLosses([1, Number.NaN])).toThrow(/index 1 is NaN/);
    expect(() => normaliseLosses([1, 2], { method: 'percentile', lower: 90, upper: 10 })).toThrow(
      ConfigError,
    );
    expect(() => normaliseLosses([1, 2], { method: 'zscore' } as never)).toThrow(ConfigError);
  });
});
