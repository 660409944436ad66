import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xa = Array.from({ length: 20 }, () => a.uint32());
    const xb = Array.from({ length: 20 }, () => b.uint32());
    const xc = Array.from({ length: 20 }, () => c.uint32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });

  it('forks are reproducible, independent of the parent position, and differ by label', () => {
    const a = new Rng(3);
    const f1 = a.fork('noise').uint32();
    a.uint32();
    a.uint32();
    expect(a.fork('noise').uint32()).toBe(f1);
    expect(new Rng(3).fork('init').uint32()).not.toBe(f1);
    expect(new Rng(4).fork('noise').uint32()).not.toBe(f1);
    expect(new Rng(3).fork('noise').fork('x').uint32()).not.toBe(new Rng(3).fork('x').uint32());
  });

  it('fillUniform is the float() stream, value for value, and leaves the generator where float() would', () => {
    const fast = new Rng(5).fork('x');
    const slow = new Rng(5).fork('x');
    slow.normal(); // a cached spare normal must survive both paths alike
    fast.normal();
    const got = fast.fillUniform(new Float64Array(1001));
    const want = Float64Array.from({ length: 1001 }, () => slow.float());
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(fast.normal()).toBe(slow.normal());
    expect(fast.uint32()).toBe(slow.uint32());
    const scaled = new Rng(6).fillUniform(new Float32Array(50), -2, 3);
    const ref = new Rng(6);
    expect(Array.from(scaled)).toEqual(
      Array.from(Float32Array.from({ length: 50 }, () => -2 + 5 * ref.float())),
    );
  });

  it('float() is uniform on [0,1): mean, variance and decile counts match (chi-square)', () => {
    const rng = new Rng(11);
    const n = 200_000;
    const bins = new Array(10).fill(0);
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.float();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      sumSq += x * x;
      bins[Math.floor(x * 10)]++;
    }
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sumSq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
    const expected = n / 10;
    const chi2 = bins.reduce((acc, b) => acc + (b - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.88); // chi-square, 9 dof, p = 0.001
  });

  it('int(n) is unbiased and in range', () => {
    const rng = new Rng(5);
    const counts = new Array(7).fill(0);
    const n = 70_000;
    for (let i = 0; i < n; i++) counts[rng.int(7)]++;
    const chi2 = counts.reduce((acc, c) => acc + (c - n / 7) ** 2 / (n / 7), 0);
    expect(chi2).toBeLessThan(22.46); // 6 dof, p = 0.001
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(2.5)).toThrow(RangeError);
  });

  it('normal() has mean 0 and variance 1', () => {
    const rng = new Rng(9);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
  });

  it('permutation() holds each index once', () => {
    const perm = new Rng(1).permutation(1000);
    expect(Array.from(perm).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const sample = new Rng(1).sample(50, 10);
    expect(new Set(sample).size).toBe(10);
    expect(() => new Rng(1).sample(5, 6)).toThrow(RangeError);
  });

  it('rejects non-finite seeds', () => {
    expect(() => new Rng(Number.NaN)).toThrow(/finite/);
  });
});
