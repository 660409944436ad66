/**
 * The loss-split figure every paper on noisy labels shows: a density-scaled histogram of the
 * (normalised) per-sample losses, both fitted components' weighted densities wₖ·fₖ(x) and their sum
 * on the same axis, and the posterior P(clean | x) (plain and, where it differs, monotone) on a second
 * axis from 0 to 1.
 *
 * {@link mixturePlotSpec} builds the Vega-Lite spec (data inline, so it can be saved and re-rendered
 * anywhere); {@link plotMixture} renders it to `<basePath>.svg` and `<basePath>.png`.
 *
 * @example
 * ```ts
 * import { BetaMixture, plotMixture } from 'cleave/mixture';
 * const bmm = new BetaMixture().fit(values);
 * await plotMixture('runs/7/epoch-5-split', values, bmm, { title: 'epoch 5' });
 * ```
 */
import { z } from 'zod';
import { parseOrThrow } from '../core/errors.js';
import { type FigurePaths, type RenderOptions, type VegaLiteSpec, writeFigure } from '../core/plot.js';
import { type MixtureInput, toFiniteFloat64 } from './base.js';

/** What the figure needs from a fitted mixture ({@link BetaMixture} and {@link GaussianMixture} qualify). */
export interface PlottableMixture {
  posterior(values: MixtureInput): Float64Array;
  monotonePosterior(values: MixtureInput): Float64Array;
  componentPdfs(values: MixtureInput): { clean: Float64Array; noisy: Float64Array };
}

const plotOptionsSchema = z
  .object({
    /** Histogram bins over the domain. */
    bins: z.number().int().min(2).max(1000).default(50),
    /** Points at which the curves are evaluated. */
    gridPoints: z.number().int().min(10).max(10_000).default(201),
    /** x range; default [0, 1] when all values lie there, else [min, max]. */
    domain: z
      .tuple([z.number().finite(), z.number().finite()])
      .refine(([a, b]) => a < b, { message: 'domain must be [low, high] with low < high' })
      .optional(),
    title: z.string().default('Per-sample loss: two-component mixture'),
    xTitle: z.string().default('normalised loss'),
    width: z.number().int().min(100).max(4000).default(520),
    height: z.number().int().min(100).max(4000).default(320),
    /** Draw the monotone posterior too (only drawn where it differs from the plain one). */
    showMonotone: z.boolean().default(true),
  })
  .strict();

/** Options of {@link mixturePlotSpec} and {@link plotMixture}. */
export type MixturePlotOptions = z.input<typeof plotOptionsSchema>;

const SERIES = ['clean component', 'noisy component', 'mixture', 'P(clean)', 'P(clean), monotone'] as const;
const COLOURS = ['#2ca02c', '#d62728', '#555555', '#1f77b4', '#9467bd'];
const DASHES = [
  [1, 0],
  [1, 0],
  [4, 3],
  [1, 0],
  [6, 3],
];

/**
 * The Vega-Lite spec of the loss-split figure.
 *
 * @param values the losses the model was fitted on (same scale)
 * @param model a fitted mixture
 * @param options bins, grid, domain, titles, size (see {@link MixturePlotOptions})
 * @returns a self-contained Vega-Lite spec (render it with {@link cleave!renderVegaLite})
 * @throws DataError on non-finite values; CleaveError when the model is not fitted
 *
 * @example
 * ```ts
 * const { svg, png } = await renderVegaLite(mixturePlotSpec(values, bmm, { bins: 40 }));
 * ```
 */
export function mixturePlotSpec(
  values: MixtureInput,
  model: PlottableMixture,
  options: MixturePlotOptions = {},
): VegaLiteSpec {
  const opts = parseOrThrow(plotOptionsSchema, options, 'mixturePlotSpec options');
  const x = toFiniteFloat64(values);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let [a, b] = opts.domain ?? (lo >= 0 && hi <= 1 ? [0, 1] : [lo, hi]);
  if (!(b > a)) [a, b] = [a - 0.5, a + 0.5];

  // Density-scaled histogram: count / (n · bin width), so it integrates to 1 like the curves.
  const width = (b - a) / opts.bins;
  const counts = new Float64Array(opts.bins);
  let inside = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (v < a || v > b) continue;
    const k = Math.min(opts.bins - 1, Math.floor((v - a) / width));
    counts[k] = (counts[k] as number) + 1;
    inside++;
  }
  const histogram = Array.from(counts, (c, k) => ({
    start: a + k * width,
    end: a + (k + 1) * width,
    density: x.length > 0 ? c / (x.length * width) : 0,
  }));
  const maxDensity = histogram.reduce((m, h) => Math.max(m, h.density), 0);

  const grid = new Float64Array(opts.gridPoints);
  for (let i = 0; i < grid.length; i++) grid[i] = a + ((b - a) * i) / (grid.length - 1);
  const { clean, noisy } = model.componentPdfs(grid);
  const plain = model.posterior(grid);
  const monotone = model.monotonePosterior(grid);
  const differs = opts.showMonotone && monotone.some((m, i) => Math.abs(m - (plain[i] as number)) > 1e-9);

  const curves: { x: number; y: number; series: string }[] = [];
  const probabilities: { x: number; p: number; series: string }[] = [];
  let maxCurve = 0;
  for (let i = 0; i < grid.length; i++) {
    const gx = grid[i] as number;
    const c = clean[i] as number;
    const nz = noisy[i] as number;
    curves.push({ x: gx, y: c, series: SERIES[0] });
    curves.push({ x: gx, y: nz, series: SERIES[1] });
    curves.push({ x: gx, y: c + nz, series: SERIES[2] });
    if (i > 0 && i < grid.length - 1) maxCurve = Math.max(maxCurve, c + nz);
    probabilities.push({ x: gx, p: plain[i] as number, series: SERIES[3] });
    if (differs) probabilities.push({ x: gx, p: monotone[i] as number, series: SERIES[4] });
  }
  // Densities of components with α < 1 diverge at the edges; keep the histogram readable.
  const yMax = Math.max(maxDensity, Math.min(maxCurve, 2 * maxDensity || maxCurve)) * 1.05 || 1;

  const xScale = { domain: [a, b] };
  const shown = differs ? SERIES.length : SERIES.length - 1;
  const legend = { orient: 'top' as const, columns: 3, symbolStrokeWidth: 2.5 };
  // colour and dash share the field, domain and legend, so vega-lite merges them into one legend
  const bySeries = <T>(range: readonly T[]) => ({
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: { domain: SERIES.slice(0, shown), range: range.slice(0, shown) },
    legend,
  });
  const colour = bySeries(COLOURS);
  const dash = bySeries(DASHES);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title, subtitle: `${x.length} values, ${inside} within the plotted range` },
    width: opts.width,
    height: opts.height,
    layer: [
      {
        layer: [
          {
            data: { values: histogram },
            mark: { type: 'rect', color: '#c7c7c7', stroke: '#ffffff', strokeWidth: 0.5, clip: true },
            encoding: {
              x: { field: 'start', type: 'quantitative', scale: xScale, title: opts.xTitle },
              x2: { field: 'end' },
              y: { field: 'density', type: 'quantitative', scale: { domain: [0, yMax] }, title: 'density' },
              y2: { datum: 0 },
            },
          },
          {
            data: { values: curves },
            mark: { type: 'line', strokeWidth: 2, clip: true },
            encoding: {
              x: { field: 'x', type: 'quantitative', scale: xScale },
              y: { field: 'y', type: 'quantitative', scale: { domain: [0, yMax] } },
              color: colour,
              strokeDash: dash,
            },
          },
        ],
      },
      {
        data: { values: probabilities },
        mark: { type: 'line', strokeWidth: 2, clip: true },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xScale },
          y: {
            field: 'p',
            type: 'quantitative',
            scale: { domain: [0, 1] },
            axis: { orient: 'right', title: 'P(clean | loss)' },
          },
          color: colour,
          strokeDash: dash,
        },
      },
    ],
    resolve: { scale: { y: 'independent' } },
  } as VegaLiteSpec;
}

/**
 * Render the loss-split figure to `<basePath>.svg` and `<basePath>.png` (atomically).
 *
 * @param basePath output path without extension
 * @param values the losses the model was fitted on
 * @param model a fitted mixture
 * @param options figure options ({@link MixturePlotOptions}) plus render options (`scale`, `fontFiles`, `protect`)
 * @returns the paths written
 *
 * @example
 * ```ts
 * const { png } = await plotMixture('out/split', values, new BetaMixture().fit(values));
 * ```
 */
export async function plotMixture(
  basePath: string,
  values: MixtureInput,
  model: PlottableMixture,
  options: MixturePlotOptions & RenderOptions & { protect?: readonly string[] } = {},
): Promise<FigurePaths> {
  const { scale, fontFiles, fontFamily, protect, ...figure } = options;
  const spec = mixturePlotSpec(values, model, figure);
  return writeFigure(basePath, spec, {
    ...(scale !== undefined ? { scale } : {}),
    ...(fontFiles !== undefined ? { fontFiles } : {}),
    ...(fontFamily !== undefined ? { fontFamily } : {}),
    ...(protect !== undefined ? { protect } : {}),
  });
}
