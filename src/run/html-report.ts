/**
 * `report.html`: one self-contained page to browse a run — no server, no network at view time (the
 * figures are inlined SVG, the rows inlined JSON, the script and style inline; only the thumbnails
 * load from the pairs' own URLs, and a link that fails shows the caption alone).
 *
 * What the page shows:
 * - the run's key numbers (pairs, estimated noise rate, kept/removed, truth metrics when known);
 * - the figures the run wrote (`mixture.svg`: loss histogram + fitted mixture; `posterior.svg`);
 * - a histogram of every score column (P(clean), loss, input cosine, uncertainty), kept vs removed;
 * - a **threshold slider**: kept/removed counts (over every pair) and the table's `kept` marks follow it;
 * - the most suspicious pairs (up to `maxRows`, most suspicious first) as a table sortable by any column
 *   (click a header) and filterable by text (id, caption, url) and by kept/removed, with a lazy
 *   thumbnail per row (an image that fails to load is removed: the row keeps its caption);
 * - a link can open a view: `report.html#threshold=0.3&filter=shirt&show=removed&sort=-loss`.
 *
 * Written by `auditPairs` and `trainAndReport` (when the noise truth is known); `cleave report <dir>`
 * (re)writes it from a run folder with {@link writeHtmlReport}.
 *
 * This file reads a run folder into the page's data ({@link htmlReportData}); the page itself (style,
 * script, HTML) is `html-page.ts`'s {@link renderHtmlReport}.
 *
 * @example
 * ```ts
 * import { writeHtmlReport } from 'cleave/run';
 * const path = await writeHtmlReport('runs/audit');   // runs/audit/report.html
 * ```
 */
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { DataError } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { readCsv } from '../core/io/csv.js';
import { readNpy } from '../core/io/npy.js';
import { type Calibration, expectedCalibrationError } from '../eval/uncertainty.js';

import { type HtmlCell, type HtmlReportData, renderHtmlReport } from './html-page.js';

export { type HtmlCell, type HtmlReportData, renderHtmlReport };

/** Options of {@link writeHtmlReport}. */
export interface WriteHtmlReportOptions {
  /** Most rows in the table (the most suspicious ones); default 5000. */
  maxRows?: number;
  /** Input files that must never be written. */
  protect?: readonly string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new DataError(`not readable JSON (${(e as Error).message}); rerun the command that wrote it`, {
      file: path,
    });
  }
}

async function figuresOf(dir: string, names: [string, string][]): Promise<HtmlReportData['figures']> {
  const out: HtmlReportData['figures'] = [];
  for (const [file, title] of names) {
    const p = join(dir, file);
    if (await exists(p)) out.push({ title, svg: await readFile(p, 'utf8') });
  }
  return out;
}

/** Column notes shared by the audit's files and the report. */
export const COLUMN_NOTES: Record<string, string> = {
  rank: '1 = most suspicious',
  pair: 'index of the pair in the input (0-based)',
  id: 'metadata key, else the pair index: the join key of kept-ids.txt',
  p_clean:
    'P(clean) from the split (local-fdr on a shared space, else the mixture); kept iff above the threshold',
  input_cosine:
    'cosine of the given image and caption embeddings (the CLIP-score), when both sides share one space',
  learned_loss:
    "the trained model's own per-pair loss, before its blend with the input-space score into loss (shared space)",
  uncertainty:
    "mean σ² of the pair's image and caption relative to the dataset's median (1 = typical, 2 = twice as uncertain)",
  loss: 'the per-pair score the split was fitted to (higher = worse); on a shared space the input-space score blended with learned_loss',
  kept: 'P(clean) > threshold',
  noisy: 'ground truth: 1 = the pair was made noisy',
};

const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(1)} %` : 'n/a');
const num = (x: unknown, digits = 3) => (typeof x === 'number' ? x.toFixed(digits) : 'n/a');

/** The ranking of an audit folder, from the first of pairs.jsonl / pairs.parquet / pairs.csv there. */
async function auditRows(dir: string): Promise<{ columns: string[]; rows: HtmlCell[][] }> {
  const jsonl = join(dir, 'pairs.jsonl');
  const parquet = join(dir, 'pairs.parquet');
  const csv = join(dir, 'pairs.csv');
  if (await exists(jsonl)) {
    const objects = (await readFile(jsonl, 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, HtmlCell>);
    const columns = Object.keys(objects[0] ?? {});
    return { columns, rows: objects.map((o) => columns.map((c) => o[c] ?? null)) };
  }
  if (await exists(parquet)) {
    const objects = (await parquetReadObjects({ file: await asyncBufferFromFile(parquet) })) as Record<
      string,
      unknown
    >[];
    const columns = Object.keys(objects[0] ?? {});
    const cell = (v: unknown): HtmlCell =>
      typeof v === 'bigint' ? Number(v) : v === undefined ? null : (v as HtmlCell);
    return { columns, rows: objects.map((o) => columns.map((c) => cell(o[c]))) };
  }
  if (await exists(csv)) {
    const table = await readCsv(csv);
    const numeric = new Set([
      'rank',
      'pair',
      'p_clean',
      'input_cosine',
      'uncertainty',
      'loss',
      'learned_loss',
    ]);
    return {
      columns: table.header,
      rows: table.rows.map((r) =>
        r.map((v, i) => {
          const c = table.header[i]!;
          if (c === 'kept') return v === 'true';
          if (numeric.has(c)) return v === '' ? null : Number(v);
          return v;
        }),
      ),
    };
  }
  throw new DataError('no pairs.jsonl, pairs.parquet or pairs.csv here; rerun cleave audit', { file: dir });
}

/**
 * The page data of a run folder: an audit (`audit.json` + `pairs.*`) or a train run with per-pair
 * posteriors (`report.json` + `posteriors.npy`, and `noisy.npy` when the noise is known).
 *
 * @throws DataError when the folder holds neither
 *
 * @example
 * ```ts
 * const data = await htmlReportData('runs/audit');
 * data.rows.length;
 * ```
 */
export async function htmlReportData(
  runDir: string,
  options: { maxRows?: number } = {},
): Promise<HtmlReportData> {
  const dir = resolve(runDir);
  const maxRows = options.maxRows ?? 5000;
  if (await exists(join(dir, 'audit.json'))) {
    const s = await readJson(join(dir, 'audit.json'));
    const ranking = await auditRows(dir);
    let { columns, rows } = ranking;
    const pCol = columns.indexOf('p_clean');
    if (pCol < 0) throw new DataError('the ranking has no p_clean column; rerun cleave audit', { file: dir });
    // with a known truth (noisy.npy, pair order): a truth column and the reliability of P(clean)
    let calibration: Calibration | undefined;
    const pairCol = columns.indexOf('pair');
    if ((await exists(join(dir, 'noisy.npy'))) && pairCol >= 0) {
      const noisy = Array.from((await readNpy(join(dir, 'noisy.npy'))).data as ArrayLike<number>, Number);
      if (noisy.length === rows.length) {
        columns = [...columns, 'noisy'];
        rows = rows.map((r) => [...r, noisy[Number(r[pairCol])]!]);
        calibration = expectedCalibrationError(
          rows.map((r) => Number(r[pCol])),
          rows.map((r) => Number(r.at(-1))),
        );
      }
    }
    const truth = s.truth as Record<string, unknown> | undefined;
    const facts: [string, string][] = [
      ['source', String(s.source)],
      ['method', `${s.method} (seed ${s.seed}, ${s.epochs} epochs)`],
      ['pairs', String(s.pairs)],
      [
        'estimated noise rate',
        `${pct(s.estimatedNoiseRate)}${Array.isArray(s.estimatedNoiseRateInterval) ? ` (95 % interval ${(s.estimatedNoiseRateInterval as number[]).map((v) => pct(v)).join(' – ')})` : ''}`,
      ],
      [`kept / removed at ${s.threshold}`, `${s.kept} / ${s.removed}`],
    ];
    if (typeof s.inputCosineAuc === 'number') facts.push(['input-cosine AUC (truth)', num(s.inputCosineAuc)]);
    if (truth) {
      facts.push(
        ['true noise rate', pct(truth.trueNoiseRate)],
        ['ROC-AUC / AP (truth)', `${num(truth.auc)} / ${num(truth.ap)}`],
        ['precision / recall of removed (truth)', `${num(truth.precision)} / ${num(truth.recall)}`],
        ['ECE of P(clean) (truth)', num(truth.ece)],
      );
    }
    const figures = await figuresOf(dir, [
      ['mixture.svg', 'per-pair loss: histogram and fitted mixture'],
      ['posterior.svg', 'P(clean) of every pair, with the threshold'],
      ['calibration.svg', 'reliability of P(clean) against the truth'],
    ]);
    // the written reliability figure makes the page's own diagram redundant
    if (figures.some((f) => f.title.startsWith('reliability'))) calibration = undefined;
    return {
      title: `cleave audit: ${String(s.source)}`,
      facts,
      figures,
      columns,
      rows: rows.slice(0, maxRows),
      pClean: rows.map((r) => Number(r[pCol])),
      threshold: typeof s.threshold === 'number' ? s.threshold : 0.5,
      notes: COLUMN_NOTES,
      ...(calibration ? { calibration } : {}),
    };
  }
  if ((await exists(join(dir, 'report.json'))) && (await exists(join(dir, 'posteriors.npy')))) {
    const r = await readJson(join(dir, 'report.json'));
    const post = Array.from((await readNpy(join(dir, 'posteriors.npy'))).data as ArrayLike<number>, Number);
    const noisy = (await exists(join(dir, 'noisy.npy')))
      ? Array.from((await readNpy(join(dir, 'noisy.npy'))).data as ArrayLike<number>, Number)
      : undefined;
    const order = Array.from(post.keys()).sort((a, b) => post[a]! - post[b]! || a - b);
    const columns = ['rank', 'pair', 'p_clean', 'kept', ...(noisy ? ['noisy'] : [])];
    const rows: HtmlCell[][] = order.map((j, k) => [
      k + 1,
      j,
      post[j]!,
      post[j]! > 0.5,
      ...(noisy ? [noisy[j]!] : []),
    ]);
    const split = r.split as Record<string, unknown> | undefined;
    const test = r.test as Record<string, unknown> | undefined;
    const noise = r.noise as Record<string, unknown> | null | undefined;
    const facts: [string, string][] = [
      ['data', String((r.dataset as Record<string, unknown> | undefined)?.source ?? '')],
      ['method', `${r.method} (seed ${r.seed})`],
      ['noise', noise ? `${pct(noise.rate)} ${String(noise.kind)}` : 'none injected'],
      ['training pairs', String(post.length)],
      ['test rSum', num(test?.rsum, 1)],
    ];
    if (split) {
      facts.push(
        ['estimated / true noise rate', `${pct(split.estimatedNoiseRate)} / ${pct(split.trueNoiseRate)}`],
        ['ROC-AUC / AP (truth)', `${num(split.auc)} / ${num(split.ap)}`],
        ['precision / recall of removed', `${num(split.precision)} / ${num(split.recall)}`],
        ['ECE of P(clean)', num(split.ece)],
      );
    }
    const figures = await figuresOf(dir, [
      ['mixture.svg', 'per-pair loss: histogram and fitted mixture'],
      ['calibration.svg', 'reliability of P(clean) against the truth'],
    ]);
    const drawn = figures.some((f) => f.title.startsWith('reliability'));
    return {
      title: `cleave train: ${String(r.method)}`,
      facts,
      figures,
      columns,
      rows: rows.slice(0, maxRows),
      pClean: post,
      threshold: 0.5,
      notes: COLUMN_NOTES,
      ...(noisy && noisy.length === post.length && !drawn
        ? { calibration: expectedCalibrationError(post, noisy) }
        : {}),
    };
  }
  throw new DataError(
    `${runDir}: not a run folder with per-pair results (no audit.json, and no report.json with posteriors.npy); give the --out folder of cleave audit or of cleave train with a splitting method`,
  );
}

/**
 * (Re)write `<runDir>/report.html` from the run's files (see {@link htmlReportData}), atomically.
 * @returns the path written
 * @throws DataError when the folder is not a run folder with per-pair results
 *
 * @example
 * ```ts
 * await writeHtmlReport('runs/audit', { maxRows: 2000 });
 * ```
 */
export async function writeHtmlReport(runDir: string, options: WriteHtmlReportOptions = {}): Promise<string> {
  const data = await htmlReportData(
    runDir,
    options.maxRows !== undefined ? { maxRows: options.maxRows } : {},
  );
  const path = join(resolve(runDir), 'report.html');
  await writeFileAtomic(path, renderHtmlReport(data), { protect: options.protect ?? [] });
  return path;
}
