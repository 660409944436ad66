/**
 * The relabel rules as pure functions: closed-form targets for small posteriors, no trainer and no
 * tensors. Each expectation is the rule's formula written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { resolveTrainerConfig } from '../../src/trainer/config.js';
import {
  denseTargets,
  hardTargets,
  ncrNoisyEnters,
  ncrTargets,
  relabelTargets,
  softTargets,
  splitFrozen,
} from '../../src/trainer/relabel.js';

const post = Float64Array.from([0.9, 0.2, 0.6, 0.05]);
const f = (xs: number[]) => xs.map(Math.fround);
/** NCR's corrected label of a clean-side pair: w + (1 − w)·p_model. */
const corrected = (w: number, p: number) => w + (1 - w) * p;

describe('soft', () => {
  it('y = P(clean) for every pair without a floor', () => {
    const r = softTargets(post, { floor: 0 });
    expect(Array.from(r.pairs)).toEqual([0, 1, 2, 3]);
    expect(Array.from(r.targets)).toEqual(f([0.9, 0.2, 0.6, 0.05]));
  });

  it('a floor drops the pairs below it (and keeps one exactly at it)', () => {
    const r = softTargets(Float64Array.from([0.9, 0.2, 0.6, 0.05, 0.1]), { floor: 0.1 });
    expect(Array.from(r.pairs)).toEqual([0, 1, 2, 4]);
    expect(Array.from(r.targets)).toEqual(f([0.9, 0.2, 0.6, 0.1]));
  });
});

describe('hard', () => {
  it('y = 1 above the threshold, 0 at or below it', () => {
    const r = hardTargets(Float64Array.from([0.9, 0.2, 0.5, 0.51]), { threshold: 0.5, floor: 0 });
    expect(Array.from(r.targets)).toEqual([1, 0, 0, 1]);
    expect(Array.from(r.pairs)).toEqual([0, 1, 2, 3]);
  });

  it('the floor applies before the threshold', () => {
    const r = hardTargets(post, { threshold: 0.5, floor: 0.3 });
    expect(Array.from(r.pairs)).toEqual([0, 2]);
    expect(Array.from(r.targets)).toEqual([1, 1]);
  });
});

describe('ncr', () => {
  const evidence = Float64Array.from([0.5, 0.4, 0.25, 0.8]);

  it('clean side: w + (1 − w)·p_model; noisy side: p_model once it enters', () => {
    const r = ncrTargets(post, evidence, { threshold: 0.5, floor: 0, noisyEnters: true });
    expect(Array.from(r.pairs)).toEqual([0, 1, 2, 3]);
    expect(Array.from(r.targets)).toEqual(f([corrected(0.9, 0.5), 0.4, corrected(0.6, 0.25), 0.8]));
  });

  it('before the noisy side enters, only the clean side trains', () => {
    const r = ncrTargets(post, evidence, { threshold: 0.5, floor: 0, noisyEnters: false });
    expect(Array.from(r.pairs)).toEqual([0, 2]);
    expect(Array.from(r.targets)).toEqual(f([corrected(0.9, 0.5), corrected(0.6, 0.25)]));
  });

  it('the floor drops pairs from either side', () => {
    const r = ncrTargets(post, evidence, { threshold: 0.5, floor: 0.1, noisyEnters: true });
    expect(Array.from(r.pairs)).toEqual([0, 1, 2]);
  });

  it('the noisy side enters at the second half when noisyLate, always otherwise', () => {
    expect(ncrNoisyEnters(4, 10, true)).toBe(false);
    expect(ncrNoisyEnters(5, 10, true)).toBe(true);
    expect(ncrNoisyEnters(4, 11, true)).toBe(false);
    expect(ncrNoisyEnters(5, 11, true)).toBe(true);
    expect(ncrNoisyEnters(0, 10, false)).toBe(true);
  });
});

describe('relabelTargets (the configured rule)', () => {
  const at = { epoch: 2, epochs: 10 };

  it('dispatches on relabel.rule', () => {
    const soft = relabelTargets(post, resolveTrainerConfig({}).relabel, at);
    expect(Array.from(soft.targets)).toEqual(f([0.9, 0.2, 0.6, 0.05]));
    const hard = relabelTargets(post, resolveTrainerConfig({ relabel: { rule: 'hard' } }).relabel, at);
    expect(Array.from(hard.targets)).toEqual([1, 0, 1, 0]);
    const ncr = resolveTrainerConfig({ method: 'ncr-like' }).relabel;
    const evidence = Float64Array.from([0, 0, 0, 0]);
    expect(Array.from(relabelTargets(post, ncr, { ...at, evidence }).pairs)).toEqual([0, 2]);
    const late = relabelTargets(post, ncr, { epoch: 5, epochs: 10, evidence });
    expect(Array.from(late.pairs)).toEqual([0, 1, 2, 3]);
  });

  it("ncr without the model's evidence is a ConfigError", () => {
    const ncr = resolveTrainerConfig({ method: 'ncr-like' }).relabel;
    expect(() => relabelTargets(post, ncr, at)).toThrow(/needs the model's match evidence/);
  });
});

describe('denseTargets and splitFrozen', () => {
  it('dense targets put each target at its pair and 0 at dropped pairs', () => {
    const r = softTargets(post, { floor: 0.3 });
    expect(Array.from(denseTargets(r, 4))).toEqual(f([0.9, 0, 0.6, 0]));
  });

  it('the split freezes freezeAfter epochs after the warm-up; 0 never freezes', () => {
    expect(splitFrozen(11, 10, 2)).toBe(false);
    expect(splitFrozen(12, 10, 2)).toBe(true);
    expect(splitFrozen(1000, 10, 0)).toBe(false);
    expect(splitFrozen(0, 0, 1)).toBe(false);
    expect(splitFrozen(1, 0, 1)).toBe(true);
  });
});
