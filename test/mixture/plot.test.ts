/**
 * The loss-split figure: its data are right (density histogram integrating to the share of values
 * plotted, components summing to the mixture, posterior series present) and it renders to a
 * non-empty SVG and a valid PNG.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random.js';
import { BetaMixture } from '../../src/mixture/beta.js';
import { GaussianMixture } from '../../src/mixture/gaussian.js';
import { mixturePlotSpec, plotMixture } from '../../src/mixture/plot.js';
import { sampleBetaMixture } from '../../src/mixture/sample.js';
import { readPng } from '../core/plot-helpers.js';
import { loadFixture } from './helpers.js';

interface Layer {
  data?: { values: Record<string, number | string>[] };
  layer?: Layer[];
}

function layers(spec: unknown): Layer[] {
  const out: Layer[] = [];
  const walk = (l: Layer) => {
    if (l.data) out.push(l);
    for (const child of l.layer ?? []) walk(child);
  };
  walk(spec as Layer);
  return out;
}

const { values } = sampleBetaMixture(
  5000,
  { alphas: [2, 8], betas: [10, 3], weights: [0.7, 0.3] },
  new Rng(9),
);

describe('mixturePlotSpec', () => {
  it('histogram on a density scale, components summing to the mixture, posterior in [0, 1]', () => {
    const bmm = new BetaMixture().fit(values);
    const spec = mixturePlotSpec(values, bmm, { bins: 40, gridPoints: 101 });
    const [hist, curves, probs] = layers(spec);
    const bars = hist!.data!.values as { start: number; end: number; density: number }[];
    expect(bars).toHaveLength(40);
    expect(bars[0]!.start).toBe(0);
    expect(bars[39]!.end).toBeCloseTo(1, 12);
    const area = bars.reduce((s, b) => s + b.density * (b.end - b.start), 0);
    expect(area).toBeCloseTo(1, 10); // every value lies in [0, 1]
    const rows = curves!.data!.values as { x: number; y: number; series: string }[];
    const at = (series: string) => rows.filter((r) => r.series === series).map((r) => r.y);
    const clean = at('clean component');
    const noisy = at('noisy component');
    const mixture = at('mixture');
    expect(mixture).toHaveLength(101);
    for (let i = 0; i < mixture.length; i++) {
      expect(mixture[i]).toBeCloseTo((clean[i] as number) + (noisy[i] as number), 12);
    }
    const ps = (probs!.data!.values as { p: number; series: string }[]).filter(
      (r) => r.series === 'P(clean)',
    );
    expect(ps).toHaveLength(101);
    expect(ps.every((r) => r.p >= 0 && r.p <= 1)).toBe(true);
  });

  it('draws the monotone posterior only when it differs (a valley fit)', () => {
    const { vectors } = loadFixture<{ vectors: Record<string, number[]> }>('vectors.json');
    const valley = vectors.valley as number[];
    const series = (v: number[], m: BetaMixture) =>
      new Set((layers(mixturePlotSpec(v, m))[2]!.data!.values as { series: string }[]).map((r) => r.series));
    expect(series(valley, new BetaMixture().fit(valley)).has('P(clean), monotone')).toBe(true);
    expect(series([...values], new BetaMixture().fit(values)).has('P(clean), monotone')).toBe(false);
  });

  it('uses the data range when values leave [0, 1] (e.g. raw losses for the Gaussian mixture)', () => {
    const raw = Float64Array.from(values, (v) => 3 * v - 1);
    const gmm = new GaussianMixture().fit(raw);
    const bars = layers(mixturePlotSpec(raw, gmm, { bins: 10 }))[0]!.data!.values as {
      start: number;
      end: number;
    }[];
    expect(bars[0]!.start).toBe(Math.min(...raw));
    expect(bars[9]!.end).toBeCloseTo(Math.max(...raw), 12);
  });
});

describe('plotMixture', () => {
  it('renders a non-empty SVG and a valid PNG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cleave-mixture-plot-'));
    const bmm = new BetaMixture().fit(values);
    const paths = await plotMixture(join(dir, 'split'), values, bmm, { title: 'epoch 3', scale: 1 });
    const svg = await readFile(paths.svg, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('epoch 3');
    expect(svg).toContain('P(clean | loss)');
    const png = readPng(new Uint8Array(await readFile(paths.png)));
    expect(png.width).toBeGreaterThan(500);
    expect(png.height).toBeGreaterThan(300);
  });
});
