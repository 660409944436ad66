/**
 * The ranking of an audit: which pair is most suspicious ({@link suspicionOrder}), the bootstrap
 * interval of the estimated noise rate ({@link noiseRateInterval}), and the rows of `pairs.csv` /
 * `pairs.parquet` / `pairs.jsonl` ({@link AuditRow}, {@link RANKING_COLUMNS}). Pure functions;
 * `auditPairs` (audit.ts) trains, scores and writes the files.
 *
 * @example
 * ```ts
 * const order = suspicionOrder([0.9, 0.1, 0.1], [0, 2, 3]);   // Int32Array [2, 1, 0]
 * ```
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import { Rng } from '../core/random.js';
import { VERSION } from '../core/version.js';

/** One pair of the ranking. */
export interface AuditRow {
  rank: number;
  pair: number;
  id: string;
  pClean: number;
  /** cos(image, caption) of the input embeddings; null when the sides do not share a space. */
  inputCosine: number | null;
  /** On a shared space: the model's own per-pair loss before the blend with the input-space score. */
  learnedLoss: number | null;
  /** Mean σ² relative to the dataset's median (probabilistic head), else null. */
  uncertainty: number | null;
  loss: number;
  kept: boolean;
  caption?: string;
  url?: string;
}

/** The median of `v` (the mean of the middle two for an even length). */
export function median(v: Float64Array): number {
  const s = Float64Array.from(v).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : 0.5 * (s[m - 1]! + s[m]!);
}

/**
 * Percentile bootstrap interval of the mean of 1 − P(clean): resample the pairs with replacement
 * (seeded; 1000 draws, fewer above 200 000 pairs so that at most 2·10⁸ values are drawn) and take the
 * `(1 − level)/2` and `(1 + level)/2` quantiles of the resampled means. It measures the sampling
 * uncertainty of the pairs given their P(clean), not the variation between training runs.
 *
 * @example
 * ```ts
 * noiseRateInterval(Float64Array.of(0.9, 0.1, 0.8, 0.95), 0);   // ≈ [0.05, 0.56]
 * ```
 */
export function noiseRateInterval(pClean: ArrayLike<number>, seed: number, level = 0.95): [number, number] {
  const n = pClean.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const draws = Math.max(100, Math.min(1000, Math.floor(2e8 / n)));
  const rng = new Rng(seed).fork('noise-rate-bootstrap');
  const means = new Float64Array(draws);
  for (let b = 0; b < draws; b++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += 1 - pClean[rng.int(n)]!;
    means[b] = sum / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(draws - 1, Math.max(0, Math.round(q * (draws - 1))))]!;
  return [at((1 - level) / 2), at((1 + level) / 2)];
}

/**
 * Ranking order: P(clean) ascending, loss descending, pair index ascending.
 *
 * @example
 * ```ts
 * suspicionOrder([0.9, 0.1, 0.1], [0, 2, 3]);   // Int32Array [2, 1, 0]
 * ```
 */
export function suspicionOrder(pClean: ArrayLike<number>, loss: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: pClean.length }, (_, j) => j);
  return order.sort((a, b) => pClean[a]! - pClean[b]! || loss[b]! - loss[a]! || a - b);
}

/** The ranking's columns, in file order (a file leaves out those no pair has). */
export const RANKING_COLUMNS = [
  'rank',
  'pair',
  'id',
  'p_clean',
  'input_cosine',
  'learned_loss',
  'uncertainty',
  'loss',
  'kept',
  'caption',
  'url',
] as const;

/** The cells of one ranking row, for `columns`. */
export function rowValues(r: AuditRow, columns: readonly string[]): (string | number | boolean | null)[] {
  const all: Record<string, string | number | boolean | null> = {
    rank: r.rank,
    pair: r.pair,
    id: r.id,
    p_clean: r.pClean,
    input_cosine: r.inputCosine,
    learned_loss: r.learnedLoss,
    uncertainty: r.uncertainty,
    loss: r.loss,
    kept: r.kept,
    caption: r.caption ?? null,
    url: r.url ?? null,
  };
  return columns.map((c) => all[c] ?? null);
}

/** The ranking as a Parquet file (one typed column per name in `columns`). */
export function parquetRanking(
  table: ReturnType<typeof rowValues>[],
  columns: readonly string[],
): Uint8Array {
  const types: Record<string, 'INT32' | 'STRING' | 'DOUBLE' | 'BOOLEAN'> = {
    rank: 'INT32',
    pair: 'INT32',
    id: 'STRING',
    p_clean: 'DOUBLE',
    input_cosine: 'DOUBLE',
    learned_loss: 'DOUBLE',
    uncertainty: 'DOUBLE',
    loss: 'DOUBLE',
    kept: 'BOOLEAN',
    caption: 'STRING',
    url: 'STRING',
  };
  const columnData = columns.map((name, c) => ({
    name,
    type: types[name]!,
    data: table.map((row) => row[c] ?? null),
  }));
  return new Uint8Array(parquetWriteBuffer({ columnData, createdBy: `cleave ${VERSION}` }));
}
