/**
 * Audit pairs whose noise is unknown (e.g. a web-scraped clip-retrieval embedding folder): train on
 * every pair (`refurb` by default), then rank the pairs most-suspicious-first by their clean
 * probability, estimate the noise rate, and write a cleaned subset.
 *
 * Files written into `outDir` (each atomically; the input folder is never touched and an output folder
 * inside it is refused):
 *
 * | file | what |
 * |---|---|
 * | `pairs.csv`, `pairs.parquet`, `pairs.jsonl` | one row per pair, most suspicious first (the `formats` asked for) |
 * | `audit.json` | estimated noise rate, threshold, kept/removed counts, the mixture, timing |
 * | `kept-ids.txt`, `removed-ids.txt` | the pair ids (metadata key, else the pair index), one per line, input order |
 * | `kept.npy` | int32 indices of the kept pairs (input order) |
 * | `noisy.npy` | only for data carrying injected noise: the uint8 truth mask (input order); `report.html` then adds a truth column and the reliability diagram of P(clean) |
 * | `cleaned/` | clip-retrieval input only: the kept pairs in the input's layout — one output shard per input shard, same names (`img_emb_<k>.npy`, `text_emb_<k>.npy`, `metadata_<k>.parquet`) and dtypes; a shard with no kept pair is written empty (0 rows) |
 * | `mixture.svg/.png`, `posterior.svg/.png` | the loss split, and the histogram of P(clean) with the threshold |
 * | `calibration.svg/.png` | only with a known truth (data carrying injected noise): the reliability diagram of P(clean) |
 * | `report.html` | one self-contained page to browse it all (figures, score histograms, a sortable, filterable table with thumbnails, a threshold slider); see `writeHtmlReport` |
 * | `model.json`, `weights.bin`, `history.json`, `config.json` | the model that scored them, its history and config |
 * | `split.json`, `split-scores.npy` | the score scaling, the mixture and the pairs' scores: `cleave score` with this folder as the model (see `split-state`) |
 *
 * Columns of the ranking: `rank` (1 = most suspicious), `pair` (index in the input, 0-based), `id`,
 * `p_clean` (P(clean) from the last split), `input_cosine` (cos of the given image and caption
 * embeddings — the CLIP-score filter — present when `detectSharedSpace` finds the two sides share one
 * space), `learned_loss` (on a shared space: the trained model's own per-pair loss, before it is
 * blended with the input-space score into `loss`; the blend weight is `inputWeight` in `audit.json`),
 * `uncertainty` (for a probabilistic head, empty otherwise: the mean σ² of the pair's image and
 * caption **relative to the dataset's median**, so 1 is a typical pair and 2 twice as uncertain; the
 * median itself is `uncertaintyMedian` in `audit.json`), `loss` (the per-pair score the mixture was
 * fitted to, higher = worse), `kept` (P(clean) > threshold), and `caption` / `url` when the metadata has
 * them. Order: P(clean) ascending, then loss descending, then pair index.
 *
 * `kept-ids.txt` is a join key for img2dataset/clip-retrieval shards: one `key` (the metadata's id column)
 * per line, input order, so `key IN kept-ids.txt` filters the original `.parquet`/`.tar` shards.
 *
 * The ranking's order, rows and Parquet layout, and the noise-rate interval, are `audit-ranking.ts`.
 *
 * @example
 * ```ts
 * import { auditPairs } from 'cleave';
 * const { summary } = await auditPairs({ data: 'scraped-laion/', outDir: 'audit/laion', threshold: 0.5 });
 * console.log(summary.estimatedNoiseRate, summary.kept, summary.removed);
 * ```
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { backendChoiceSchema } from '../core/backend/index.js';
import { ConfigError, DataError, OutputError, parseOrThrow } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { formatCsv } from '../core/io/csv.js';
import { writeNpy } from '../core/io/npy.js';
import { getLogger } from '../core/logger.js';
import { type VegaLiteSpec, writeFigure } from '../core/plot.js';
import { createProgress } from '../core/progress.js';
import { VERSION } from '../core/version.js';
import { rocAuc } from '../eval/detection.js';
import { detectSharedSpace, inputCosines } from '../eval/shared-space.js';
import { expectedCalibrationError } from '../eval/uncertainty.js';
import { plotMixture } from '../mixture/plot.js';
import { deepMerge, resolveTrainerConfig } from '../trainer/config.js';
import { embedDataset } from '../trainer/embed.js';
import { Trainer } from '../trainer/trainer.js';
import {
  type AuditRow,
  RANKING_COLUMNS as COLUMNS,
  median,
  noiseRateInterval,
  parquetRanking,
  rowValues,
  suspicionOrder,
} from './audit-ranking.js';
import { calibrationSpec } from './calibration-figure.js';
import {
  type ClipShard,
  clipShardLayout,
  readClipMetadata,
  writeClipRetrievalFolder,
} from './clip-folder.js';
import { writeHtmlReport } from './html-report.js';
import { type SplitSection, splitSection } from './report.js';
import {
  type DataSource,
  dataInputSchema,
  dataInputSource,
  loadDataInput,
  OutputGuard,
  recommendedTrainerConfig,
} from './source.js';
import { saveSplitState } from './split-state.js';
import {
  callbacksSchema,
  ensureBackend,
  pairUncertainty,
  runMethodAndSeed,
  toJSON,
} from './train-and-report.js';

/** The methods `audit` can run: the trainer methods that split. */
export const AUDIT_METHODS = ['refurb', 'ncr-like'] as const;
/** One of {@link AUDIT_METHODS}. */
export const auditMethodSchema = z.enum(AUDIT_METHODS);
/** The ranking file formats `audit` writes. */
export const AUDIT_FORMATS = ['csv', 'parquet', 'jsonl'] as const;
/** One of {@link AUDIT_FORMATS}. */
export const auditFormatSchema = z.enum(AUDIT_FORMATS);
/** @see auditFormatSchema */
export type AuditFormat = z.output<typeof auditFormatSchema>;

export { type AuditRow, noiseRateInterval, suspicionOrder };

/** Options of {@link auditPairs}. */
export const auditOptionsSchema = z
  .object({
    /** A clip-retrieval folder, a manifest, a bundled dataset name, or a loaded dataset. */
    data: dataInputSchema,
    outDir: z.string().min(1),
    /** `refurb` (default) or `ncr-like`: a method that splits; overrides `config.method`. */
    method: auditMethodSchema.optional(),
    /** The trainer config (validated by the trainer's schema). */
    config: z.record(z.string(), z.unknown()).default({}),
    seed: z.number().int().optional(),
    /** A pair is kept iff P(clean) > threshold. */
    threshold: z.number().min(0).max(1).default(0.5),
    /** Ranking file formats. */
    formats: z.array(auditFormatSchema).min(1).default(['csv', 'parquet']),
    /** Write `cleaned/` (clip-retrieval input only). Default true. */
    filteredCopy: z.boolean().default(true),
    plots: z.boolean().default(true),
    saveModel: z.boolean().default(true),
    /** Write `report.html`. Default true. */
    html: z.boolean().default(true),
    backend: backendChoiceSchema.optional(),
    callbacks: callbacksSchema,
  })
  .strict();
/** Options of {@link auditPairs}, as written. */
export type AuditOptions = z.input<typeof auditOptionsSchema>;

/** `audit.json`. */
export interface AuditSummary {
  format: 'cleave-audit';
  version: 1;
  source: string;
  sourceKind: DataSource['kind'];
  method: (typeof AUDIT_METHODS)[number];
  seed: number;
  pairs: number;
  threshold: number;
  /** Mean of 1 − P(clean) over all pairs. */
  estimatedNoiseRate: number;
  /**
   * 95 % bootstrap interval of `estimatedNoiseRate` over the pairs (see {@link noiseRateInterval}): how
   * much the estimate moves with the sample of pairs, not with the training run.
   */
  estimatedNoiseRateInterval: [number, number];
  /** Share of pairs with P(clean) ≤ threshold (removed). */
  flaggedRate: number;
  kept: number;
  removed: number;
  /** The fitted mixture of the last split. */
  mixture: unknown;
  /** Whether the input sides share one space (then `pairs.*` has `input_cosine`), and why. */
  sharedSpace: { shared: boolean; reason: string };
  /**
   * On a shared space: the weight of the input-space score in `loss` (chosen without labels: the
   * blend with the highest clean-vs-noisy AUC estimated from random pairs; see `split.inputWeight`).
   */
  inputWeight?: number;
  /** Median mean-σ² of the pairs (the `uncertainty` column's unit); null without a probabilistic head. */
  uncertaintyMedian: number | null;
  /** With a known truth mask and a shared space: ROC-AUC of −input_cosine at finding the noisy pairs. */
  inputCosineAuc?: number;
  /** With a known truth mask (data carrying injected noise): split quality. */
  truth?: SplitSection;
  epochs: number;
  seconds: number;
  backend: string;
  cleaveVersion: string;
  createdAt: string;
  files: Record<string, string>;
}

const log = () => getLogger('audit');

/** The histogram of P(clean) with the threshold as a rule. */
function posteriorSpec(p: Float64Array, threshold: number, method: string): VegaLiteSpec {
  const bins = 40;
  const counts = new Array<number>(bins).fill(0);
  for (const v of p) counts[Math.min(bins - 1, Math.floor(v * bins))]! += 1;
  const values = counts.map((count, k) => ({ start: k / bins, end: (k + 1) / bins, count }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `${method}: P(clean) of ${p.length} pairs`, subtitle: `kept iff P(clean) > ${threshold}` },
    width: 520,
    height: 280,
    layer: [
      {
        data: { values },
        mark: { type: 'bar', color: '#1f77b4' },
        encoding: {
          x: {
            field: 'start',
            type: 'quantitative',
            bin: { binned: true },
            title: 'P(clean)',
            scale: { domain: [0, 1] },
          },
          x2: { field: 'end' },
          y: { field: 'count', type: 'quantitative', title: 'pairs' },
        },
      },
      {
        data: { values: [{ threshold }] },
        mark: { type: 'rule', color: '#d62728', strokeDash: [6, 3], size: 2 },
        encoding: { x: { field: 'threshold', type: 'quantitative' } },
      },
    ],
  };
}

/**
 * Refuse a `cleaned/` folder that holds shard files cleave did not write (after clearing its own): the
 * cleaned copy has the input's shards, and a foreign `img_emb_7.npy` beside them would make the folder
 * load wrong.
 */
async function refuseForeignShards(
  out: OutputGuard,
  shards: readonly ClipShard[],
  withMetadata: boolean,
): Promise<void> {
  const ours = new Set<string>();
  for (const { id } of shards) {
    ours.add(`img_emb/img_emb_${id}.npy`);
    ours.add(`text_emb/text_emb_${id}.npy`);
    if (withMetadata) ours.add(`metadata/metadata_${id}.parquet`);
  }
  for (const [sub, pattern] of [
    ['img_emb', /^img_emb_\d+\.npy$/],
    ['text_emb', /^text_emb_\d+\.npy$/],
    ['metadata', /^metadata_\d+\.\w+$/],
  ] as const) {
    const dir = join(out.dir, 'cleaned', sub);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!pattern.test(name) || ours.has(`${sub}/${name}`)) continue;
      const st = await lstat(join(dir, name)).catch(() => undefined);
      if (!st) continue;
      throw new OutputError(
        `${join(dir, name)} was not written by this cleave run and would become a shard of the cleaned copy (the folder would no longer load as these pairs): move it away, or choose another --out`,
        join(dir, name),
      );
    }
  }
}

/**
 * Train on every pair of `data`, rank the pairs by suspicion, write the ranking, the cleaned subset
 * and the figures (see the module documentation).
 *
 * @returns the summary (also `audit.json`) and the ranking (also `pairs.*`)
 * @throws CleaveError when `outDir` is or lies inside the input folder; ConfigError for bad options or
 *   a config whose run ends before the first split
 *
 * @example
 * ```ts
 * const { summary, rows } = await auditPairs({ data: 'scraped/', outDir: 'runs/audit' });
 * rows[0];   // { rank: 1, pair, id, pClean, uncertainty, loss, kept, caption?, url? }
 * ```
 */
export async function auditPairs(
  options: AuditOptions,
): Promise<{ summary: AuditSummary; rows: AuditRow[]; outDir: string }> {
  const opts = parseOrThrow(auditOptionsSchema, options, 'audit options');
  const started = performance.now();
  const { method, seed } = runMethodAndSeed(opts);
  if (method !== 'refurb' && method !== 'ncr-like') {
    throw new ConfigError(
      `method: the audit needs a method that splits the pairs (refurb or ncr-like), got '${method}'`,
      [{ path: 'method', message: 'use refurb or ncr-like' }],
    );
  }
  const source = dataInputSource(opts.data);
  const config = resolveTrainerConfig(
    deepMerge(await recommendedTrainerConfig(source), { ...opts.config, method, seed }),
    'trainer config',
  );
  if (config.epochs <= config.warmupEpochs) {
    throw new ConfigError(
      `epochs (${config.epochs}) must exceed warmupEpochs (${config.warmupEpochs}): the audit needs at least one split`,
      [{ path: 'epochs', message: `must exceed warmupEpochs (${config.warmupEpochs})` }],
    );
  }
  const out = new OutputGuard(opts.outDir, source);
  const cleanedCopy = opts.filteredCopy && source.kind === 'clip-retrieval';
  // the cleaned copy's folder too, before any training
  if (cleanedCopy) out.path('cleaned');
  await out.prepare();
  const backend = await ensureBackend(opts.backend);
  const loaded = await loadDataInput(opts.data, source);
  // every pair is audited: the splits of a manifest (if any) are ignored
  const data = loaded.splitNames.length ? loaded.withSplits({}) : loaded;
  // every input the outputs need is read before training, so a bad column fails now, not after it
  const metadata = cleanedCopy ? await readClipMetadata(source.path!) : undefined;
  const shards = cleanedCopy ? await clipShardLayout(source.path!) : [];
  if (metadata && metadata.rows.length !== data.numPairs) {
    throw new DataError(
      `${metadata.rows.length} metadata rows for ${data.numPairs} pairs: the metadata shards do not match the embedding shards; repair them, or pass --no-copy`,
      { file: join(source.path!, 'metadata') },
    );
  }
  await out.clearPrevious();
  if (cleanedCopy) await refuseForeignShards(out, shards, metadata !== undefined);
  log().info({ source: source.spec, pairs: data.numPairs, method, seed, backend }, 'audit start');

  const trainer = new Trainer(config, { callbacks: opts.callbacks });
  const fit = await trainer.fit(data);
  const protect = { protect: out.protect };
  const files: Record<string, string> = {};
  let rows: AuditRow[];
  let summary: AuditSummary;
  try {
    const split = fit.split!;
    const post = fit.posterior!;
    const loss = split.scores;
    const emb = embedDataset(fit.model, data);
    const rawUncertainty = pairUncertainty(emb, data);
    const uncertaintyMedian = rawUncertainty ? median(rawUncertainty) : null;
    const uncertainty =
      rawUncertainty && uncertaintyMedian ? rawUncertainty.map((u) => u / uncertaintyMedian) : rawUncertainty;
    const shared = detectSharedSpace(data, { seed });
    const cosines = shared.shared ? inputCosines(data) : undefined;
    log().info({ reason: shared.reason }, 'input space');
    const order = suspicionOrder(post, loss);
    const progress = createProgress(order.length, 'ranking');
    rows = Array.from(order, (j, k) => {
      const row: AuditRow = {
        rank: k + 1,
        pair: j,
        id: data.captionId(j) ?? data.imageId(data.captionToImage[j]!) ?? String(j),
        pClean: post[j]!,
        inputCosine: cosines ? cosines[j]! : null,
        learnedLoss: split.learned ? split.learned[j]! : null,
        uncertainty: uncertainty ? uncertainty[j]! : null,
        loss: loss[j]!,
        kept: post[j]! > opts.threshold,
      };
      const caption = data.captionText(j);
      const url = data.imageUrl(data.captionToImage[j]!);
      if (caption !== undefined) row.caption = caption;
      if (url !== undefined) row.url = url;
      if (k % 4096 === 0) progress.tick(Math.min(4096, order.length - k));
      return row;
    });
    progress.stop();
    const columns = COLUMNS.filter(
      (c) =>
        (c !== 'caption' || data.hasCaptionTexts) &&
        (c !== 'url' || rows.some((r) => r.url !== undefined)) &&
        (c !== 'input_cosine' || cosines !== undefined) &&
        (c !== 'learned_loss' || split.learned !== undefined),
    );

    const table = rows.map((r) => rowValues(r, columns));
    if (opts.formats.includes('csv')) {
      const csv = formatCsv([columns, ...table]);
      await writeFileAtomic(out.file('pairs.csv'), csv, protect);
      files.csv = 'pairs.csv';
    }
    if (opts.formats.includes('jsonl')) {
      const lines = table.map((row) =>
        JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, row[i]]))),
      );
      await writeFileAtomic(out.file('pairs.jsonl'), `${lines.join('\n')}\n`, protect);
      files.jsonl = 'pairs.jsonl';
    }
    if (opts.formats.includes('parquet')) {
      await writeFileAtomic(out.file('pairs.parquet'), parquetRanking(table, columns), protect);
      files.parquet = 'pairs.parquet';
    }

    const keptIdx: number[] = [];
    const removedIdx: number[] = [];
    for (let j = 0; j < data.numPairs; j++) (post[j]! > opts.threshold ? keptIdx : removedIdx).push(j);
    const idOf = (j: number) => data.captionId(j) ?? data.imageId(data.captionToImage[j]!) ?? String(j);
    await writeFileAtomic(out.file('kept-ids.txt'), keptIdx.map((j) => `${idOf(j)}\n`).join(''), protect);
    await writeFileAtomic(
      out.file('removed-ids.txt'),
      removedIdx.map((j) => `${idOf(j)}\n`).join(''),
      protect,
    );
    const kept = Int32Array.from(keptIdx);
    await writeNpy(out.file('kept.npy'), kept, [kept.length], protect);
    if (data.noise) {
      await writeNpy(out.file('noisy.npy'), data.noise.noisy, [data.noise.noisy.length], protect);
      files.noisy = 'noisy.npy';
    }
    Object.assign(files, { keptIds: 'kept-ids.txt', removedIds: 'removed-ids.txt', kept: 'kept.npy' });
    if (cleanedCopy) {
      const written = await writeClipRetrievalFolder(out.path('cleaned'), data, {
        pairs: kept,
        shards,
        metadata: metadata ?? 'none',
        guard: out,
      });
      files.cleaned = 'cleaned/';
      log().info({ files: written }, 'cleaned copy written');
    }

    if (opts.plots) {
      for (const f of ['mixture.svg', 'mixture.png', 'posterior.svg', 'posterior.png']) out.file(f);
      await plotMixture(out.path('mixture'), split.values, split.mixture, {
        title: `${method}: per-pair loss split (${data.numPairs} pairs)`,
        protect: out.protect,
      });
      await writeFigure(out.path('posterior'), posteriorSpec(post, opts.threshold, method), protect);
      if (data.noise) {
        const cal = expectedCalibrationError(post, data.noise.noisy);
        for (const f of ['calibration.svg', 'calibration.png']) out.file(f);
        await writeFigure(out.path('calibration'), calibrationSpec(cal, method), protect);
        Object.assign(files, { calibrationSvg: 'calibration.svg', calibrationPng: 'calibration.png' });
      }
      Object.assign(files, {
        mixtureSvg: 'mixture.svg',
        mixturePng: 'mixture.png',
        posteriorSvg: 'posterior.svg',
        posteriorPng: 'posterior.png',
      });
    }
    if (opts.saveModel) {
      out.file('model.json');
      out.file('weights.bin');
      await fit.model.save(out.dir, protect);
      out.file('split.json');
      out.file('split-scores.npy');
      await saveSplitState(out.dir, split, config, data, protect);
      Object.assign(files, {
        model: 'model.json',
        weights: 'weights.bin',
        split: 'split.json',
        splitScores: 'split-scores.npy',
      });
    }
    await writeFileAtomic(out.file('history.json'), toJSON(fit.history), protect);
    await writeFileAtomic(out.file('config.json'), toJSON(config), protect);
    Object.assign(files, { history: 'history.json', config: 'config.json' });

    let impliedNoise = 0;
    for (const p of post) impliedNoise += 1 - p;
    summary = {
      format: 'cleave-audit',
      version: 1,
      source: source.spec,
      sourceKind: source.kind,
      method,
      seed,
      pairs: data.numPairs,
      threshold: opts.threshold,
      estimatedNoiseRate: impliedNoise / post.length,
      estimatedNoiseRateInterval: noiseRateInterval(post, seed),
      flaggedRate: removedIdx.length / post.length,
      kept: keptIdx.length,
      removed: removedIdx.length,
      mixture: split.mixture.toJSON(),
      sharedSpace: { shared: shared.shared, reason: shared.reason },
      ...(split.inputWeight !== undefined ? { inputWeight: split.inputWeight } : {}),
      uncertaintyMedian,
      ...(data.noise && cosines
        ? {
            inputCosineAuc: rocAuc(
              cosines.map((c) => -c),
              data.noise.noisy,
            ),
          }
        : {}),
      ...(data.noise ? { truth: splitSection(post, data.noise.noisy) } : {}),
      epochs: fit.history.length,
      seconds: (performance.now() - started) / 1000,
      backend,
      cleaveVersion: VERSION,
      createdAt: new Date().toISOString(),
      files: { ...files, summary: 'audit.json', ...(opts.html ? { report: 'report.html' } : {}) },
    };
    await writeFileAtomic(out.file('audit.json'), toJSON(summary), protect);
    if (opts.html) {
      out.file('report.html');
      await writeHtmlReport(out.dir, protect);
    }
  } finally {
    for (const m of new Set([fit.model, ...fit.models])) m.dispose();
    trainer.dispose();
  }
  log().info(
    { estimatedNoiseRate: summary.estimatedNoiseRate, kept: summary.kept, removed: summary.removed },
    'audit done',
  );
  return { summary, rows, outDir: out.dir };
}
