/**
 * What a grid run leaves for readers: the tables (`results.md`, `results.csv`) and the figures
 * (`rsum-vs-noise`, `training-curves`, each `.svg` + `.png`), written atomically into the grid folder
 * from the cells of that grid found in `results.json`.
 *
 * - `rsum-vs-noise`: test rSum (mean over seeds, bars = ± sd) against the noise rate, one line per
 *   method, one panel per protocol.
 * - `results.md` also compares each method with `vse` seed by seed ({@link pairedDifferences}) when the
 *   grid has `vse` and a noisy rate.
 * - `training-curves`: per epoch, validation rSum and split AUC (mean over seeds), one line per method,
 *   one panel per (protocol, noise rate) and metric.
 *
 * @example
 * ```ts
 * const grid = await runGrid({ data: 'wikipedia-xmodal', outDir: 'runs/grid' });
 * const paths = await writeGridOutputs(grid);   // { markdown, csv, figures: [...] }
 * ```
 */
import { writeFileAtomic } from '../core/io/atomic.js';
import { type VegaLiteSpec, writeFigure } from '../core/plot.js';
import type { GridCell, GridRun } from './grid.js';
import {
  aggregateGrid,
  type GridRow,
  gridCsv,
  gridMarkdown,
  meanSd,
  pairedDifferences,
  pairedMarkdown,
  protocolOf,
} from './table.js';

/**
 * The cells of `grid` that finished (a results file may hold cells of other grids too).
 *
 * @example
 * ```ts
 * const cells = gridCells(await runGrid({ data: 'wikipedia-xmodal', outDir: 'runs/grid' }));
 * ```
 */
export function gridCells(grid: GridRun): GridCell[] {
  return grid.finished.map((k) => grid.results.cells[k]!).filter(Boolean);
}

/** One colour per method, in the grid's order, the same in every figure. */
function methodColor(methods: readonly string[]) {
  return {
    field: 'method',
    type: 'nominal' as const,
    ...(methods.length ? { scale: { domain: [...methods] }, sort: [...methods] } : {}),
  };
}

/**
 * Vega-Lite: rSum against noise rate, per method, one panel per protocol.
 *
 * @example
 * ```ts
 * await writeFigure('runs/grid/rsum', rsumVsNoiseSpec(aggregateGrid(cells, grid), grid.methods));
 * ```
 */
export function rsumVsNoiseSpec(rows: readonly GridRow[], methods: readonly string[] = []): VegaLiteSpec {
  const color = methodColor(methods);
  const values = rows.map((r) => {
    const s = r.values.rsum!;
    const sd = Number.isFinite(s.sd) ? s.sd : 0;
    return {
      protocol: r.protocol,
      rate: r.rate,
      method: r.method,
      rsum: s.mean,
      lo: s.mean - sd,
      hi: s.mean + sd,
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Test rSum against the synthetic noise rate (mean ± sd over seeds)',
    data: { values },
    facet: { column: { field: 'protocol', type: 'nominal', title: 'noise protocol' } },
    spec: {
      width: 320,
      height: 240,
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'rate', type: 'quantitative', title: 'noise rate', scale: { domain: [0, 1] } },
            y: { field: 'rsum', type: 'quantitative', title: 'rSum' },
            color,
          },
        },
        {
          mark: { type: 'rule' },
          encoding: {
            x: { field: 'rate', type: 'quantitative' },
            y: { field: 'lo', type: 'quantitative' },
            y2: { field: 'hi' },
            color,
          },
        },
      ],
    },
  };
}

/**
 * Vega-Lite: per-epoch validation rSum and split AUC (mean over seeds).
 *
 * @example
 * ```ts
 * await writeFigure('runs/grid/curves', trainingCurvesSpec(gridCells(grid), grid.methods));
 * ```
 */
export function trainingCurvesSpec(
  cells: readonly GridCell[],
  methods: readonly string[] = [],
): VegaLiteSpec {
  const color = methodColor(methods);
  const groups = new Map<
    string,
    { setting: string; method: string; epoch: number; metric: string; v: number[] }
  >();
  for (const c of cells) {
    const setting = c.kind === null ? 'no noise' : `${protocolOf(c.kind)} ${c.rate}`;
    for (const e of c.epochs) {
      for (const [metric, value] of [
        ['validation rSum', e.valRsum],
        ['split AUC', e.splitAuc],
      ] as const) {
        if (value === null || !Number.isFinite(value)) continue;
        const key = `${setting}|${c.method}|${e.epoch}|${metric}`;
        const g = groups.get(key) ?? { setting, method: c.method, epoch: e.epoch + 1, metric, v: [] };
        g.v.push(value);
        groups.set(key, g);
      }
    }
  }
  const values = [...groups.values()].map((g) => ({
    setting: g.setting,
    method: g.method,
    epoch: g.epoch,
    metric: g.metric,
    value: meanSd(g.v).mean,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Per epoch: validation rSum and split AUC (mean over seeds)',
    data: { values },
    facet: {
      row: { field: 'metric', type: 'nominal', title: null },
      column: { field: 'setting', type: 'nominal', title: 'noise' },
    },
    spec: {
      width: 220,
      height: 160,
      mark: { type: 'line', point: { size: 12 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color,
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** Where {@link writeGridOutputs} wrote. */
export interface GridOutputPaths {
  markdown: string;
  csv: string;
  figures: string[];
}

/**
 * Write the tables and figures of a grid (see the module documentation).
 * @param options.plots write the figures (default true)
 *
 * @example
 * ```ts
 * const { markdown, csv, figures } = await writeGridOutputs(grid, { plots: true });
 * ```
 */
export async function writeGridOutputs(
  grid: GridRun,
  options: { plots?: boolean } = {},
): Promise<GridOutputPaths> {
  const cells = gridCells(grid);
  const rows = aggregateGrid(cells, grid);
  const dir = grid.outDir;
  const title = `# Synthetic noise: ${grid.results.dataset}\n\nTest retrieval (recalls in %, rSum) and split AUC, mean ± sd over seeds (${grid.seeds.join(', ')}). Protocols: caption-level = shuffled captions (NCR), image-level = shuffled images (DECL/RCL); rate-0 rows are the same noise-free runs under both.${grid.pending.length ? ` **Partial: ${grid.pending.length} cells not run yet.**` : ''}\n\n`;
  const markdown = `${dir}/results.md`;
  const csv = `${dir}/results.csv`;
  const pairedText = grid.methods.includes('vse')
    ? (['rsum', 'class_map'] as const)
        .map((metric) => {
          const paired = pairedDifferences(cells, grid, 'vse', metric);
          const label = metric === 'rsum' ? 'test rSum' : 'test class mAP (mean of both directions)';
          return paired.length
            ? `\n\n## Paired against \`vse\`: ${label}\n\nEach method minus \`vse\` on the same seed (same noise draw, same initialisation seed), mean ± sd over the seeds both finished; "ahead / behind" counts seeds; the sign test is two-sided and exact.\n\n${pairedMarkdown(paired, 'vse')}`
            : '';
        })
        .join('')
    : '';
  await writeFileAtomic(markdown, `${title}${gridMarkdown(rows)}${pairedText}`);
  await writeFileAtomic(csv, gridCsv(rows));
  const figures: string[] = [];
  if ((options.plots ?? true) && rows.length > 0) {
    const a = await writeFigure(`${dir}/rsum-vs-noise`, rsumVsNoiseSpec(rows, grid.methods));
    const b = await writeFigure(`${dir}/training-curves`, trainingCurvesSpec(cells, grid.methods));
    figures.push(a.svg, a.png, b.svg, b.png);
  }
  return { markdown, csv, figures };
}
