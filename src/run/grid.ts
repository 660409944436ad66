/**
 * The synthetic-noise experiment grid: noise rates × noise kinds (protocols) × methods × seeds on one
 * dataset, each cell one {@link trainAndReport} run, resumable.
 *
 * Output folder:
 * - `results.json` — every finished cell under its key (`<kind>|rate=<r>|<method>|seed=<s>`; rate-0
 *   cells are noise-free and shared by all kinds: `clean|rate=0|…`), rewritten atomically after each
 *   cell, so a killed run leaves the last complete version (never half a file);
 * - `cells/<key>/` — each cell's run folder (`report.json`, `history.json`, `posteriors.npy`, …);
 * - `results.md`, `results.csv` — the table (mean ± sd over seeds), and the figures
 *   `rsum-vs-noise.svg/.png` and `training-curves.svg/.png` (see {@link writeGridOutputs}).
 *
 * **Resuming.** A cell whose key is in `results.json` with the same config fingerprint (a hash of
 * the method's resolved trainer config or CCA options, the noise and the evaluation split) is skipped;
 * if the recipe changed, the cell is run again and replaced. A damaged `results.json` is never
 * overwritten: the run stops and says so.
 *
 * @example
 * ```ts
 * import { runGrid, writeGridOutputs } from 'cleave/run';
 * const grid = await runGrid({ data: 'wikipedia-xmodal', outDir: 'runs/grid', rates: [0, 0.5], kinds: ['shuffle'],
 *   methods: ['cca', 'vse', 'refurb'], seeds: [0], config: { epochs: 10 } });
 * await writeGridOutputs(grid);
 * ```
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { backendChoiceSchema } from '../core/backend/index.js';
import { randomSplitSchema } from '../core/dataset/splits.js';
import { ConfigError, DataError, parseOrThrow } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { getLogger } from '../core/logger.js';
import { setProgressScope } from '../core/progress.js';
import { detectSharedSpace } from '../eval/shared-space.js';
import { type NoiseKind, noiseKindSchema } from '../noise/kinds.js';
import { deepMerge, resolveTrainerConfig } from '../trainer/config.js';
import { ccaBaselineOptionsSchema } from './cca-baseline.js';
import { RUN_METHODS, type RunMethod, type RunReport, trainerMethodOf } from './report.js';
import {
  dataInputSchema,
  dataInputSource,
  loadDataInput,
  OutputGuard,
  recommendedTrainerConfig,
  withEvaluationSplits,
} from './source.js';
import { toJSON, trainAndReport } from './train-and-report.js';

/** A noise kind of the grid. */
export type GridNoiseKind = NoiseKind;

/** Options of {@link runGrid}. */
export const gridOptionsSchema = z
  .object({
    /** A bundled dataset name, a manifest, a clip-retrieval folder, or a loaded dataset. */
    data: dataInputSchema,
    outDir: z.string().min(1),
    rates: z.array(z.number().min(0).max(1)).min(1).default([0, 0.2, 0.4, 0.6, 0.8]),
    kinds: z.array(noiseKindSchema).min(1).default(['shuffle', 'shuffle-images']),
    /** Methods to run; `zero-shot` cells are skipped on data without a shared space. */
    methods: z.array(z.enum(RUN_METHODS)).min(1).default(['zero-shot', 'cca', 'vse', 'ncr-like', 'refurb']),
    seeds: z.array(z.number().int()).min(1).default([0, 1, 2]),
    /** Trainer config shared by the trainer methods. */
    config: z.record(z.string(), z.unknown()).default({}),
    /** Per-method overrides, merged over `config`. */
    methodConfig: z.partialRecord(z.enum(RUN_METHODS), z.record(z.string(), z.unknown())).default({}),
    cca: ccaBaselineOptionsSchema.prefault({}),
    /** The split used when the data has no `test` split. */
    evalSplit: randomSplitSchema.optional(),
    /** Keep each cell's model files (default false: they add up). */
    saveModels: z.boolean().default(false),
    /** Each cell's mixture figure. */
    plots: z.boolean().default(true),
    backend: backendChoiceSchema.optional(),
    /** Stop after this many cells were run (not counting skipped ones); for partial runs. */
    maxCells: z.number().int().positive().optional(),
    /** Called after each cell (run or skipped). */
    onCell: z
      .custom<(event: GridCellEvent) => void | Promise<void>>((v) => typeof v === 'function')
      .optional(),
  })
  .strict();
/** Options of {@link runGrid}, as written. */
export type GridOptions = z.input<typeof gridOptionsSchema>;

/** One cell's result as stored in `results.json`. */
export interface GridCell {
  key: string;
  method: RunMethod;
  /** The noise kind, or null for the noise-free rate-0 cell. */
  kind: GridNoiseKind | null;
  protocol: RunReport['protocol'];
  rate: number;
  seed: number;
  /** Fingerprint of the cell's recipe; a different one means the cell is stale. */
  fingerprint: string;
  test: {
    i2t: { r1: number; r5: number; r10: number };
    t2i: { r1: number; r5: number; r10: number };
    rsum: number;
    classMAP?: { i2t: number; t2i: number };
  };
  split: { auc: number; ap: number; estimatedNoiseRate: number; trueNoiseRate: number } | null;
  lossSplit: { auc: number } | null;
  /**
   * On a shared space: the zero-shot test rSum and the CLIP-score filter's split AUC on the same
   * pairs (see `RunReport.zeroShot`); absent otherwise and in grids written before it existed.
   */
  zeroShot?: { rsum: number; splitAuc: number | null };
  /** Per epoch: mean loss over networks, validation rSum, split AUC and estimated noise rate (null when absent). */
  epochs: {
    epoch: number;
    phase: string;
    loss: number | null;
    valRsum: number | null;
    splitAuc: number | null;
    estimatedNoiseRate: number | null;
  }[];
  seconds: number;
  finishedAt: string;
  /** The cell's run folder, relative to the grid folder. */
  dir: string;
}

/** `results.json`. */
export interface GridResults {
  format: 'cleave-grid-results';
  version: 1;
  dataset: string;
  cells: Record<string, GridCell>;
}

/** What the `onCell` callback of {@link GridOptions} receives. */
export interface GridCellEvent {
  cell: GridCell;
  /** Whether it was skipped (already in `results.json`). */
  skipped: boolean;
  /** 1-based position in the grid, and the grid's size. */
  index: number;
  total: number;
}

/** A finished (or partial) grid: its folder, its results and the grid it was asked for. */
export interface GridRun {
  outDir: string;
  results: GridResults;
  kinds: GridNoiseKind[];
  rates: number[];
  methods: RunMethod[];
  seeds: number[];
  /** Keys of this grid's cells that are finished. */
  finished: string[];
  /** Cells of this grid not run yet (when stopped by `maxCells`). */
  pending: string[];
}

const log = () => getLogger('grid');

/**
 * The key of a cell.
 *
 * @example
 * ```ts
 * cellKey('shuffle', 0.4, 'refurb', 1);   // 'shuffle|rate=0.4|refurb|seed=1'
 * cellKey('shuffle', 0, 'vse', 0);        // 'clean|rate=0|vse|seed=0'
 * ```
 */
export function cellKey(kind: GridNoiseKind | null, rate: number, method: RunMethod, seed: number): string {
  return `${rate === 0 || kind === null ? 'clean' : kind}|rate=${rate}|${method}|seed=${seed}`;
}

/**
 * A folder name for a key.
 *
 * @example
 * ```ts
 * cellDir('shuffle|rate=0.4|refurb|seed=1');   // 'cells/shuffle_rate-0.4_refurb_seed-1'
 * ```
 */
export function cellDir(key: string): string {
  return `cells/${key.replaceAll('|', '_').replaceAll('=', '-')}`;
}

/** JSON with sorted keys (a stable text for hashing). */
function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJSON((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * A short hash of a value's stable JSON.
 *
 * @example
 * ```ts
 * fingerprint({ b: 1, a: 2 }) === fingerprint({ a: 2, b: 1 });   // true (keys sorted)
 * ```
 */
export function fingerprint(v: unknown): string {
  return createHash('sha256').update(stableJSON(v)).digest('hex').slice(0, 16);
}

/**
 * Read `results.json` of a grid folder (an empty result set when there is none).
 * @throws DataError when the file exists but is not a grid results file
 *
 * @example
 * ```ts
 * const results = await readGridResults('runs/grid/results.json', 'wikipedia-xmodal');
 * Object.keys(results.cells).length;
 * ```
 */
export async function readGridResults(path: string, dataset: string): Promise<GridResults> {
  if (!existsSync(path)) return { format: 'cleave-grid-results', version: 1, dataset, cells: {} };
  let value: GridResults;
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as GridResults;
  } catch (error) {
    throw new DataError(
      `is not valid JSON (${(error as Error).message}); it is left as it is: move it away to start the grid afresh`,
      { file: path },
    );
  }
  if (value?.format !== 'cleave-grid-results' || typeof value.cells !== 'object' || value.cells === null) {
    throw new DataError('is not a cleave grid results file (format "cleave-grid-results")', { file: path });
  }
  if (value.dataset !== dataset) {
    throw new ConfigError(
      `${path} holds results on '${value.dataset}', not '${dataset}': use another output folder for this dataset`,
      [{ path: 'data', message: `the folder's results are on '${value.dataset}'` }],
    );
  }
  return value;
}

function cellFromReport(
  key: string,
  spec: { kind: GridNoiseKind | null; rate: number; method: RunMethod; seed: number; fingerprint: string },
  report: RunReport,
  history: Awaited<ReturnType<typeof trainAndReport>>['history'],
): GridCell {
  const t = report.test;
  const pick = (d: { r1: number; r5: number; r10: number }) => ({ r1: d.r1, r5: d.r5, r10: d.r10 });
  const finite = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    key,
    ...spec,
    protocol: report.protocol,
    test: {
      i2t: pick(t.i2t),
      t2i: pick(t.t2i),
      rsum: t.rsum,
      ...(t.classMAP ? { classMAP: { i2t: t.classMAP.i2t.mapAll, t2i: t.classMAP.t2i.mapAll } } : {}),
    },
    split: report.split
      ? {
          auc: report.split.auc,
          ap: report.split.ap,
          estimatedNoiseRate: report.split.estimatedNoiseRate,
          trueNoiseRate: report.split.trueNoiseRate,
        }
      : null,
    lossSplit: report.lossSplit ? { auc: report.lossSplit.auc } : null,
    ...(report.zeroShot
      ? { zeroShot: { rsum: report.zeroShot.test.rsum, splitAuc: finite(report.zeroShot.splitAuc) } }
      : {}),
    epochs: history.map((h) => ({
      epoch: h.epoch,
      phase: h.phase,
      loss: h.loss.length ? finite(h.loss.reduce((a, b) => a + b, 0) / h.loss.length) : null,
      valRsum: finite(h.validation?.rsum),
      splitAuc: finite(h.split?.auc),
      estimatedNoiseRate: finite(h.split?.estimatedNoiseRate),
    })),
    seconds: report.timing.totalSeconds,
    finishedAt: report.createdAt,
    dir: cellDir(key),
  };
}

/**
 * Run the grid (see the module documentation): every cell not yet in `results.json` (or stale) is
 * trained and evaluated, and `results.json` is rewritten atomically after each.
 *
 * @throws ConfigError for bad options or configs (before any cell runs); DataError for a damaged results file
 *
 * @example
 * ```ts
 * const grid = await runGrid({ data: 'wikipedia-xmodal', outDir: 'runs/grid', rates: [0, 0.5], seeds: [0] });
 * grid.finished.length;
 * ```
 */
export async function runGrid(options: GridOptions): Promise<GridRun> {
  const opts = parseOrThrow(gridOptionsSchema, options, 'grid options');
  const source = dataInputSource(opts.data);
  const out = new OutputGuard(opts.outDir, source);
  const resultsPath = out.path('results.json');

  // Every cell's recipe first: a bad config stops the grid before any training. The dataset's
  // recommended trainer settings go under the run's config (and into each cell's fingerprint).
  const recommended = await recommendedTrainerConfig(source);
  const recipes = new Map<RunMethod, { config: Record<string, unknown>; resolved: unknown }>();
  for (const method of opts.methods) {
    if (method === 'cca') {
      const cca = parseOrThrow(
        ccaBaselineOptionsSchema,
        { ...opts.cca, ...(opts.methodConfig.cca ?? {}) },
        'cca options',
      );
      recipes.set(method, { config: cca, resolved: cca });
    } else {
      const config = deepMerge(
        deepMerge(deepMerge(recommended, opts.config), opts.methodConfig[method] ?? {}),
        { method: trainerMethodOf(method) },
      );
      const resolved = resolveTrainerConfig({ ...config, seed: 0 }, `trainer config (${method})`);
      recipes.set(method, { config, resolved });
    }
  }

  const loaded = await loadDataInput(opts.data, source);
  const data = withEvaluationSplits(loaded, opts.evalSplit);
  const dataset = typeof opts.data === 'string' ? source.spec : data.name;
  const results = await readGridResults(resultsPath, dataset);
  const shared = detectSharedSpace(data.train);
  if (opts.methods.includes('zero-shot') && !shared.shared) {
    log().info({ reason: shared.reason }, 'zero-shot cells skipped');
  }

  const plan: { kind: GridNoiseKind | null; rate: number; method: RunMethod; seed: number; key: string }[] =
    [];
  const seen = new Set<string>();
  for (const kind of opts.kinds) {
    for (const rate of opts.rates) {
      for (const seed of opts.seeds) {
        for (const method of opts.methods) {
          // without noise the oracle is vse: no cell of its own
          if (rate === 0 && method === 'oracle') continue;
          // zero-shot needs image and caption vectors in one space
          if (method === 'zero-shot' && !shared.shared) continue;
          const k = rate === 0 ? null : kind;
          const key = cellKey(k, rate, method, seed);
          if (seen.has(key)) continue;
          seen.add(key);
          plan.push({ kind: k, rate, method, seed, key });
        }
      }
    }
  }

  const finished: string[] = [];
  const pending: string[] = [];
  let ran = 0;
  for (const [n, cell] of plan.entries()) {
    const recipe = recipes.get(cell.method)!;
    const print = fingerprint({
      recipe: recipe.resolved,
      noise: cell.kind ? { kind: cell.kind, rate: cell.rate } : null,
      evalSplit: opts.evalSplit ?? null,
    });
    const stored = results.cells[cell.key];
    const event = { index: n + 1, total: plan.length };
    if (stored && stored.fingerprint === print) {
      finished.push(cell.key);
      log().info({ cell: cell.key, ...event }, 'cell already finished: skipped');
      await opts.onCell?.({ cell: stored, skipped: true, ...event });
      continue;
    }
    if (opts.maxCells !== undefined && ran >= opts.maxCells) {
      pending.push(cell.key);
      continue;
    }
    if (stored) log().warn({ cell: cell.key }, 'the recipe changed since this cell ran: running it again');
    const label = `cell ${n + 1}/${plan.length} ${cell.method} ${cell.kind ?? 'clean'} ${cell.rate}`;
    setProgressScope(label);
    log().info({ cell: cell.key, ...event }, 'cell start');
    let run: Awaited<ReturnType<typeof trainAndReport>>;
    try {
      run = await trainAndReport({
        data,
        ...(cell.kind ? { noise: { rate: cell.rate, kind: cell.kind, seed: cell.seed } } : {}),
        method: cell.method,
        seed: cell.seed,
        ...(cell.method === 'cca' ? { cca: recipe.config } : { config: recipe.config }),
        outDir: out.path(cellDir(cell.key)),
        saveModel: opts.saveModels,
        plots: opts.plots,
        ...(opts.backend ? { backend: opts.backend } : {}),
      });
    } finally {
      setProgressScope(undefined);
    }
    const result = cellFromReport(
      cell.key,
      { kind: cell.kind, rate: cell.rate, method: cell.method, seed: cell.seed, fingerprint: print },
      run.report,
      run.history,
    );
    results.cells[cell.key] = result;
    await writeFileAtomic(resultsPath, toJSON(results), { protect: out.protect });
    ran++;
    finished.push(cell.key);
    log().info(
      {
        cell: cell.key,
        rsum: result.test.rsum,
        splitAuc: result.split?.auc,
        seconds: result.seconds,
        ...event,
      },
      'cell done',
    );
    await opts.onCell?.({ cell: result, skipped: false, ...event });
  }
  return {
    outDir: out.dir,
    results,
    kinds: [...opts.kinds],
    rates: [...opts.rates],
    methods: [...opts.methods],
    seeds: [...opts.seeds],
    finished,
    pending,
  };
}
