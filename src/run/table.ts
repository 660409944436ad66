/**
 * Tables of results: Markdown (columns padded so the raw text reads as a table too) and CSV.
 *
 * - {@link markdownTable}: any header + rows.
 * - {@link reportsTable}: one row per run report (method, rSum, R@1/5/10 both ways, split AUC, …), the
 *   demo's and `cleave train`'s summary.
 * - {@link aggregateGrid}, {@link gridMarkdown}, {@link gridCsv}: the experiment grid, one row per
 *   (protocol, noise rate, method), each metric as mean ± sd over seeds (sample standard deviation,
 *   n − 1; just the mean with one seed; `—` when no seed has the value).
 *
 * Number formats: recalls and rSum with 1 decimal, AUCs with 3. CSV keeps full precision, with
 * `<metric>_mean` and `<metric>_sd` columns (sd empty below two seeds).
 *
 * @example
 * ```ts
 * import { markdownTable } from 'cleave/run';
 * markdownTable(['method', 'rSum'], [['vse', '12.0'], ['refurb', '101.5']], ['l', 'r']);
 * // | method |  rSum |
 * // | :----- | ----: |
 * // | vse    |  12.0 |
 * // | refurb | 101.5 |
 * ```
 */
import type { NoiseProtocol } from '../core/dataset/noise-state.js';
import { type CsvValue, formatCsv } from '../core/io/csv.js';
import type { GridCell } from './grid.js';
import type { RunReport } from './report.js';

/** Column alignment: left or right. */
export type Align = 'l' | 'r';

/**
 * A Markdown table with padded columns (width = the longest cell, at least 3).
 * @param align per column (default: first column left, the others right)
 *
 * @example
 * ```ts
 * markdownTable(['a', 'b'], [['x', '1']]);   // '| a   |   b |\n| :-- | --: |\n| x   |   1 |\n'
 * ```
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
): string {
  // one line per row: line breaks and other control characters in a cell (a scraped caption) become
  // spaces, and a '|' is escaped, so a cell never breaks the table
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\|/g, '\\|');
  header = header.map(clean);
  rows = rows.map((r) => r.map(clean));
  const widths = header.map((h, c) => Math.max(3, h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const al = header.map((_, c) => align?.[c] ?? (c === 0 ? 'l' : 'r'));
  const cell = (s: string, c: number) => (al[c] === 'l' ? s.padEnd(widths[c]!) : s.padStart(widths[c]!));
  const line = (cells: readonly string[]) =>
    `| ${header.map((_, c) => cell(cells[c] ?? '', c)).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (al[c] === 'l' ? `:${'-'.repeat(w - 1)}` : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return `${[line(header), rule, ...rows.map(line)].join('\n')}\n`;
}

/**
 * Mean and sample standard deviation (n − 1) of the finite values; NaN where undefined.
 *
 * @example
 * ```ts
 * meanSd([1, 2, 3, 4]);   // { mean: 2.5, sd: 1.29…, n: 4 }
 * ```
 */
export function meanSd(values: readonly (number | null | undefined)[]): {
  mean: number;
  sd: number;
  n: number;
} {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN, n };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, sd: Number.NaN, n };
  const ss = v.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)), n };
}

/**
 * `12.3 ± 0.4` (two or more values), `12.3` (one), `—` (none).
 *
 * @example
 * ```ts
 * formatMeanSd(meanSd([10, 12]), 1);   // '11.0 ± 1.4'
 * ```
 */
export function formatMeanSd(s: { mean: number; sd: number; n: number }, digits: number): string {
  if (s.n === 0) return '—';
  if (s.n === 1 || !Number.isFinite(s.sd)) return s.mean.toFixed(digits);
  return `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`;
}

const fmt = (v: number | null | undefined, digits: number) =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';

/**
 * One row per run: method, noise, rSum, R@1/5/10 both ways, split AUC, estimated / true noise rate,
 * class-level mAP@all both ways (when any run has labels), seconds; under the first shared-space run,
 * a `zero-shot (inputs)` row with what the inputs' own cosine gives on the same pairs.
 * @param runs the label of each run (e.g. the method) and its report
 *
 * @example
 * ```ts
 * console.log(reportsTable([{ label: 'refurb', report }]));
 * ```
 */
export function reportsTable(runs: readonly { label: string; report: RunReport }[]): string {
  const withMAP = runs.some((r) => r.report.test.classMAP);
  const header = [
    'method',
    'noise',
    'rSum',
    'i2t R@1',
    'i2t R@5',
    'i2t R@10',
    't2i R@1',
    't2i R@5',
    't2i R@10',
    'split AUC',
    'est. noise',
    ...(withMAP ? ['mAP i2t', 'mAP t2i'] : []),
    'seconds',
  ];
  // on a shared space, what doing nothing gives on the same pairs: one row, under the first run with it
  const first = runs.find((r) => r.report.zeroShot && r.report.method !== 'zero-shot');
  const rows = runs.flatMap(({ label, report: r }) => [
    runRow(label, r, withMAP),
    ...(r.zeroShot && first?.report === r
      ? [
          [
            '  zero-shot (inputs)',
            '',
            fmt(r.zeroShot.test.rsum, 1),
            ...(['i2t', 't2i'] as const).flatMap((d) =>
              (['r1', 'r5', 'r10'] as const).map((k) => fmt(r.zeroShot!.test[d][k], 1)),
            ),
            fmt(r.zeroShot.splitAuc, 3),
            '—',
            ...(withMAP ? ['—', '—'] : []),
            '',
          ],
        ]
      : []),
  ]);
  return markdownTable(header, rows);
}

/** One row of {@link reportsTable}. */
function runRow(label: string, r: RunReport, withMAP: boolean): string[] {
  return [
    label,
    r.noise ? `${fmt(100 * (r.noise.rate ?? r.noise.realisedRate), 0)}% ${r.protocol}` : 'none',
    fmt(r.test.rsum, 1),
    fmt(r.test.i2t.r1, 1),
    fmt(r.test.i2t.r5, 1),
    fmt(r.test.i2t.r10, 1),
    fmt(r.test.t2i.r1, 1),
    fmt(r.test.t2i.r5, 1),
    fmt(r.test.t2i.r10, 1),
    fmt(r.split?.auc, 3),
    r.split ? `${fmt(r.split.estimatedNoiseRate, 2)} / ${fmt(r.split.trueNoiseRate, 2)}` : '—',
    ...(withMAP ? [fmt(r.test.classMAP?.i2t.mapAll, 3), fmt(r.test.classMAP?.t2i.mapAll, 3)] : []),
    fmt(r.timing.totalSeconds, 1),
  ];
}

/** A metric of the grid tables. */
export interface GridMetric {
  /** Column stem in the CSV (`<key>_mean`, `<key>_sd`). */
  key: string;
  /** Column title in Markdown. */
  label: string;
  digits: number;
  get(cell: GridCell): number | null | undefined;
}

/** The grid's metrics, in table order. */
export const GRID_METRICS: readonly GridMetric[] = [
  { key: 'i2t_r1', label: 'i2t R@1', digits: 1, get: (c) => c.test.i2t.r1 },
  { key: 'i2t_r5', label: 'i2t R@5', digits: 1, get: (c) => c.test.i2t.r5 },
  { key: 'i2t_r10', label: 'i2t R@10', digits: 1, get: (c) => c.test.i2t.r10 },
  { key: 't2i_r1', label: 't2i R@1', digits: 1, get: (c) => c.test.t2i.r1 },
  { key: 't2i_r5', label: 't2i R@5', digits: 1, get: (c) => c.test.t2i.r5 },
  { key: 't2i_r10', label: 't2i R@10', digits: 1, get: (c) => c.test.t2i.r10 },
  { key: 'rsum', label: 'rSum', digits: 1, get: (c) => c.test.rsum },
  { key: 'split_auc', label: 'split AUC', digits: 3, get: (c) => c.split?.auc },
  {
    key: 'class_map',
    label: 'class mAP',
    digits: 3,
    // mean of the two directions' mAP@all (labelled data only)
    get: (c) => (c.test.classMAP ? (c.test.classMAP.i2t + c.test.classMAP.t2i) / 2 : undefined),
  },
];

/** One row of the grid tables: a (protocol, rate, method) over its seeds. */
export interface GridRow {
  protocol: string;
  kind: string;
  rate: number;
  method: string;
  /** Seeds that finished. */
  seeds: number;
  values: Record<string, { mean: number; sd: number; n: number }>;
}

/**
 * The protocol a noise kind follows.
 *
 * @example
 * ```ts
 * protocolOf('shuffle-images');   // 'image-level'
 * ```
 */
export function protocolOf(kind: string): NoiseProtocol {
  return kind === 'shuffle-images' ? 'image-level' : 'caption-level';
}

/**
 * Aggregate finished cells into table rows, ordered by noise kind, rate, method as given. Rate-0
 * cells (no noise) are shared by every kind and appear under each.
 *
 * @example
 * ```ts
 * const rows = aggregateGrid(gridCells(grid), grid);
 * rows[0]?.values.rsum;   // { mean, sd, n }
 * ```
 */
export function aggregateGrid(
  cells: readonly GridCell[],
  grid: { kinds: readonly string[]; rates: readonly number[]; methods: readonly string[] },
): GridRow[] {
  const rows: GridRow[] = [];
  for (const kind of grid.kinds) {
    for (const rate of grid.rates) {
      for (const method of grid.methods) {
        const mine = cells.filter(
          (c) => c.method === method && c.rate === rate && (rate === 0 ? c.kind === null : c.kind === kind),
        );
        if (mine.length === 0) continue;
        const values: GridRow['values'] = {};
        for (const m of GRID_METRICS) values[m.key] = meanSd(mine.map((c) => m.get(c)));
        rows.push({ protocol: protocolOf(kind), kind, rate, method, seeds: mine.length, values });
      }
    }
  }
  return rows;
}

/**
 * The grid as a Markdown table (mean ± sd over seeds).
 *
 * @example
 * ```ts
 * await writeFileAtomic('results.md', gridMarkdown(aggregateGrid(gridCells(grid), grid)));
 * ```
 */
export function gridMarkdown(rows: readonly GridRow[]): string {
  const header = ['protocol', 'noise', 'method', 'seeds', ...GRID_METRICS.map((m) => m.label)];
  const body = rows.map((r) => [
    r.protocol,
    String(r.rate),
    r.method,
    String(r.seeds),
    ...GRID_METRICS.map((m) => formatMeanSd(r.values[m.key]!, m.digits)),
  ]);
  return markdownTable(header, body, ['l', 'r', 'l', 'r', ...GRID_METRICS.map(() => 'r' as const)]);
}

/**
 * The grid as CSV: one row per table row, `<metric>_mean` and `<metric>_sd` columns, full precision.
 *
 * @example
 * ```ts
 * await writeFileAtomic('results.csv', gridCsv(aggregateGrid(gridCells(grid), grid)));
 * ```
 */
export function gridCsv(rows: readonly GridRow[]): string {
  const header = [
    'protocol',
    'kind',
    'rate',
    'method',
    'seeds',
    ...GRID_METRICS.flatMap((m) => [`${m.key}_mean`, `${m.key}_sd`]),
  ];
  const body: CsvValue[][] = rows.map((r) => [
    r.protocol,
    r.kind,
    r.rate,
    r.method,
    r.seeds,
    ...GRID_METRICS.flatMap((m) => [r.values[m.key]!.mean, r.values[m.key]!.sd]),
  ]);
  return formatCsv([header, ...body]);
}

/** One row of {@link pairedDifferences}: a method against the baseline, seed by seed. */
export interface PairedRow {
  protocol: string;
  kind: string;
  rate: number;
  method: string;
  /** The metric compared (a {@link GRID_METRICS} key). */
  metric: string;
  /** Seeds both the method and the baseline finished. */
  n: number;
  /** Mean and sample sd of (method − baseline) over those seeds. */
  mean: number;
  sd: number;
  /** Seeds where the method is ahead / behind (ties count in neither). */
  wins: number;
  losses: number;
  /** Two-sided exact sign test of wins against losses (ties dropped); 1 without untied seeds. */
  signTestP: number;
}

/**
 * Two-sided exact sign test: the probability, with fair coin flips, of a split of `wins + losses`
 * at least as uneven as the one seen.
 *
 * @example
 * ```ts
 * signTestP(10, 0);   // 2 / 1024 ≈ 0.00195
 * signTestP(5, 5);    // 1
 * ```
 */
export function signTestP(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  const k = Math.min(wins, losses);
  // P(X ≤ k) for X ~ Binomial(n, 1/2), summed in log space so large n cannot overflow
  let logC = 0; // log C(n, 0)
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

/**
 * Each method against a baseline, seed by seed: in a grid the same seed gives every method the same
 * noise draw and the same initialisation seed, so the per-seed difference removes the variance they
 * share and is the fair way to say "A beats B". Rows for every noisy (kind, rate) where the baseline
 * has cells, one per other method with at least one shared seed.
 *
 * @param baseline the method compared against (default `vse`)
 * @param metric a {@link GRID_METRICS} key (default `rsum`)
 *
 * @example
 * ```ts
 * const rows = pairedDifferences(gridCells(grid), grid);
 * rows.find((r) => r.method === 'refurb');   // { mean: 14.0, wins: 10, losses: 0, signTestP: 0.002, … }
 * ```
 */
export function pairedDifferences(
  cells: readonly GridCell[],
  grid: { kinds: readonly string[]; rates: readonly number[]; methods: readonly string[] },
  baseline = 'vse',
  metric = 'rsum',
): PairedRow[] {
  const m = GRID_METRICS.find((g) => g.key === metric);
  if (!m)
    throw new RangeError(
      `pairedDifferences: unknown metric '${metric}' (use ${GRID_METRICS.map((g) => g.key).join(', ')})`,
    );
  const rows: PairedRow[] = [];
  for (const kind of grid.kinds) {
    for (const rate of grid.rates) {
      if (rate === 0) continue;
      const at = (method: string) =>
        new Map(
          cells
            .filter((c) => c.method === method && c.rate === rate && c.kind === kind)
            .map((c) => [c.seed, m.get(c)] as const),
        );
      const base = at(baseline);
      if (base.size === 0) continue;
      for (const method of grid.methods) {
        if (method === baseline) continue;
        const diffs: number[] = [];
        for (const [seed, v] of at(method)) {
          const b = base.get(seed);
          if (typeof v === 'number' && typeof b === 'number' && Number.isFinite(v) && Number.isFinite(b)) {
            diffs.push(v - b);
          }
        }
        if (diffs.length === 0) continue;
        const s = meanSd(diffs);
        const wins = diffs.filter((d) => d > 0).length;
        const losses = diffs.filter((d) => d < 0).length;
        rows.push({
          protocol: protocolOf(kind),
          kind,
          rate,
          method,
          metric,
          n: s.n,
          mean: s.mean,
          sd: s.sd,
          wins,
          losses,
          signTestP: signTestP(wins, losses),
        });
      }
    }
  }
  return rows;
}

/**
 * {@link pairedDifferences} as a Markdown table.
 *
 * @example
 * ```ts
 * console.log(pairedMarkdown(pairedDifferences(gridCells(grid), grid), 'vse'));
 * ```
 */
export function pairedMarkdown(rows: readonly PairedRow[], baseline = 'vse'): string {
  const metric = GRID_METRICS.find((m) => m.key === (rows[0]?.metric ?? 'rsum'));
  const header = [
    'protocol',
    'noise',
    'method',
    'seeds',
    `Δ ${metric?.label ?? rows[0]?.metric} vs ${baseline}`,
    'ahead / behind',
    'sign test p',
  ];
  const body = rows.map((r) => [
    r.protocol,
    String(r.rate),
    r.method,
    String(r.n),
    formatMeanSd(r, metric?.digits ?? 1),
    `${r.wins} / ${r.losses}`,
    r.signTestP < 0.001 ? '< 0.001' : r.signTestP.toFixed(3),
  ]);
  return markdownTable(header, body, ['l', 'r', 'l', 'r', 'r', 'r', 'r']);
}
