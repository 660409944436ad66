/**
 * Write pairs as a clip-retrieval embedding folder — the layout `loadClipRetrievalFolder` reads:
 * `img_emb/img_emb_<k>.npy`, `text_emb/text_emb_<k>.npy` (row i ↔ row i) and
 * `metadata/metadata_<k>.parquet`: one shard (`k = 0`) by default, or the shard layout of an input
 * folder ({@link clipShardLayout}: one output shard per input shard, same names and dtypes). Used for the
 * audit's cleaned copy, and to turn any dataset into "scraped pairs".
 *
 * @example
 * ```ts
 * import { bundledDataset, loadPairs } from 'cleave';
 * import { writeClipRetrievalFolder } from 'cleave/run';
 * const data = await loadPairs(bundledDataset('myntra-fashionclip-99'));
 * await writeClipRetrievalFolder('runs/myntra-as-scraped', data);   // caption, url, key from the dataset
 * ```
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { DataError } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { readNpyHeader, writeNpy } from '../core/io/npy.js';
import { getLogger } from '../core/logger.js';
import { VERSION } from '../core/version.js';
import type { OutputGuard } from './output-guard.js';

/** One shard of a clip-retrieval folder: its number (`img_emb_<id>.npy`), rows, and embedding dtype. */
export interface ClipShard {
  id: number;
  rows: number;
  dtype: 'float16' | 'float32';
}

/**
 * The shard layout of a clip-retrieval folder, in shard-number order (what `loadClipRetrievalFolder`
 * concatenates): per `img_emb_<id>.npy`, its row count and dtype (float16 kept, anything else float32).
 *
 * @example
 * ```ts
 * await clipShardLayout('scraped/');   // [{ id: 0, rows: 10000, dtype: 'float16' }, { id: 1, … }]
 * ```
 */
export async function clipShardLayout(folder: string): Promise<ClipShard[]> {
  const dir = join(folder, 'img_emb');
  const shards: ClipShard[] = [];
  for (const name of await readdir(dir)) {
    const m = /^img_emb_(\d+)\.npy$/.exec(name);
    if (!m) continue;
    const h = await readNpyHeader(join(dir, name));
    shards.push({
      id: Number(m[1]),
      rows: h.shape[0] ?? 0,
      dtype: h.dtype === 'float16' ? 'float16' : 'float32',
    });
  }
  return shards.sort((a, b) => a.id - b.id);
}

/** Metadata rows (one object per pair) and, to keep the column types, the Parquet schema they came with. */
export interface ClipMetadata {
  rows: Record<string, unknown>[];
  schema?: SchemaElement[];
}

/** Options of {@link writeClipRetrievalFolder}. */
export interface WriteClipFolderOptions {
  /** The pairs to write, in order (default: all). */
  pairs?: ArrayLike<number>;
  /** Embedding dtype on disk (default float32); ignored for shards of a `shards` layout. */
  dtype?: 'float16' | 'float32';
  /**
   * The input's shard layout ({@link clipShardLayout}), the dataset's pairs being the shards' rows in
   * order: each written pair goes to the output shard of the same number as its input shard, with that
   * shard's dtype; a shard with no written pair is written with 0 rows. Default: one shard, number 0.
   */
  shards?: readonly ClipShard[];
  /**
   * Metadata rows aligned with the dataset's pairs (only `pairs` of them are written), or `'dataset'`
   * (default): caption text, image URL and id (`key`) from the dataset where it has them; `'none'`: no
   * metadata file.
   */
  metadata?: ClipMetadata | 'dataset' | 'none';
  /** Input files that must never be written. */
  protect?: readonly string[];
  /** When given, every path is checked by the run's output guard. */
  guard?: OutputGuard;
}

/**
 * The metadata shards of a clip-retrieval folder that belong to its embedding shards (`metadata_<n>`
 * for each `img_emb_<n>`, in the loader's numeric order), concatenated; undefined without
 * `metadata/`. A stray `metadata_<n>.parquet` with no `img_emb_<n>.npy` is skipped, as the loader
 * skips it, so row k is pair k.
 *
 * @throws DataError naming the shard when a shard (or any of its columns) cannot be read
 * @example
 * ```ts
 * const meta = await readClipMetadata('scraped/');
 * meta?.rows[0];   // { caption: '…', url: '…', key: '…', … }
 * ```
 */
export async function readClipMetadata(folder: string): Promise<ClipMetadata | undefined> {
  const dir = join(folder, 'metadata');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  let imageShards: Set<number>;
  try {
    imageShards = new Set(
      (await readdir(join(folder, 'img_emb')))
        .map((n) => /^img_emb_(\d+)\.npy$/.exec(n))
        .filter((m) => m)
        .map((m) => Number(m![1])),
    );
  } catch {
    imageShards = new Set();
  }
  const shards = names
    .map((n) => ({ n, m: /^metadata_(\d+)\.parquet$/.exec(n) }))
    .filter((x) => x.m && imageShards.has(Number(x.m[1])))
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]));
  if (shards.length === 0) return undefined;
  const rows: Record<string, unknown>[] = [];
  let schema: SchemaElement[] | undefined;
  for (const { n } of shards) {
    try {
      const file = await asyncBufferFromFile(join(dir, n));
      const metadata = await parquetMetadataAsync(file);
      schema ??= metadata.schema;
      rows.push(...(await parquetReadObjects({ file, metadata })));
    } catch (error) {
      throw new DataError(
        `cannot read every metadata column for the cleaned copy (${(error as Error).message}): repair the shard, or pass --no-copy (filteredCopy: false) to skip the cleaned copy`,
        { file: join(dir, n) },
      );
    }
  }
  return schema ? { rows, schema } : { rows };
}

function datasetMetadata(data: PairDataset, pairs: ArrayLike<number>): { name: string; data: string[] }[] {
  const cols: { name: string; data: string[] }[] = [];
  const list = Array.from(pairs);
  if (data.hasCaptionTexts) cols.push({ name: 'caption', data: list.map((j) => data.captionText(j) ?? '') });
  if (list.length && data.imageUrl(data.captionToImage[list[0]!]!) !== undefined) {
    cols.push({ name: 'url', data: list.map((j) => data.imageUrl(data.captionToImage[j]!) ?? '') });
  }
  cols.push({
    name: 'key',
    data: list.map(
      (j) => data.captionId(j) ?? data.imageId(data.captionToImage[j]!) ?? String(data.rootPairIndex(j)),
    ),
  });
  return cols;
}

/**
 * Write `pairs` of `data` (image of each pair's caption, and the caption) as a clip-retrieval folder —
 * one shard, or the input's layout (`options.shards`) — each file atomically.
 * @returns the files written, relative to `folder`
 * @throws RangeError when a pair lies outside the `shards` layout
 *
 * @example
 * ```ts
 * await writeClipRetrievalFolder('runs/kept-pairs', data, { pairs: [0, 2, 5], dtype: 'float16' });
 * await writeClipRetrievalFolder('runs/cleaned', data, { pairs: kept, shards: await clipShardLayout('scraped/') });
 * ```
 */
export async function writeClipRetrievalFolder(
  folder: string,
  data: PairDataset,
  options: WriteClipFolderOptions = {},
): Promise<string[]> {
  const pairs = options.pairs
    ? Int32Array.from(options.pairs)
    : Int32Array.from({ length: data.numPairs }, (_, j) => j);
  const at = (...parts: string[]) => {
    const p = join(folder, ...parts);
    return options.guard ? options.guard.file(relative(options.guard.dir, p)) : p;
  };
  const protect = [...(options.protect ?? []), ...(options.guard?.protect ?? [])];
  const layout = options.shards ?? [
    { id: 0, rows: Number.POSITIVE_INFINITY, dtype: options.dtype ?? 'float32' },
  ];
  // the pairs of each shard, in the given order
  const groups = layout.map(() => [] as number[]);
  const ends: number[] = [];
  let end = 0;
  for (const sh of layout) {
    end += sh.rows;
    ends.push(end);
  }
  for (const j of pairs) {
    let k = 0;
    while (k < ends.length && j >= ends[k]!) k++;
    if (k === ends.length) {
      throw new RangeError(`writeClipRetrievalFolder: pair ${j} lies outside the shard layout (${end} rows)`);
    }
    groups[k]!.push(j);
  }
  const written: string[] = [];
  const meta = options.metadata ?? 'dataset';
  for (const [k, sh] of layout.entries()) {
    const group = Int32Array.from(groups[k]!);
    const images = data.gatherImages(Int32Array.from(group, (j) => data.captionToImage[j]!));
    const captions = data.gatherCaptions(group);
    const img = `img_emb_${sh.id}.npy`;
    const txt = `text_emb_${sh.id}.npy`;
    await writeNpy(at('img_emb', img), images, [group.length, data.imageStride], {
      dtype: sh.dtype,
      protect,
    });
    await writeNpy(at('text_emb', txt), captions, [group.length, data.captionDim], {
      dtype: sh.dtype,
      protect,
    });
    written.push(`img_emb/${img}`, `text_emb/${txt}`);
    if (meta === 'none') continue;
    const name = `metadata_${sh.id}.parquet`;
    await writeFileAtomic(at('metadata', name), metadataBytes(data, group, meta), { protect });
    written.push(`metadata/${name}`);
  }
  return written;
}

/** The Parquet bytes of the metadata of `pairs`. */
function metadataBytes(data: PairDataset, pairs: Int32Array, meta: ClipMetadata | 'dataset'): Uint8Array {
  const createdBy = `cleave ${VERSION}`;
  if (meta === 'dataset') {
    return new Uint8Array(
      parquetWriteBuffer({
        columnData: datasetMetadata(data, pairs).map((c) => ({ ...c, type: 'STRING' as const })),
        createdBy,
      }),
    );
  }
  const names = meta.schema ? meta.schema.slice(1).map((s) => s.name) : Object.keys(meta.rows[0] ?? {});
  const kept = Array.from(pairs, (j) => meta.rows[j]!);
  const columnData = names.map((name) => ({ name, data: kept.map((r) => r[name] ?? null) }));
  try {
    return new Uint8Array(
      parquetWriteBuffer({ columnData, ...(meta.schema ? { schema: meta.schema } : {}), createdBy }),
    );
  } catch (error) {
    getLogger('run').warn(
      { error: (error as Error).message },
      'metadata: the input schema could not be reused; column types guessed from the values',
    );
    return new Uint8Array(parquetWriteBuffer({ columnData, createdBy }));
  }
}
