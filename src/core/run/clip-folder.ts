/**
 * Write pairs as a clip-retrieval embedding folder — the layout `loadClipRetrievalFolder` reads:
 * `img_emb/img_emb_0.npy`, `text_emb/text_emb_0.npy` (row i ↔ row i) and `metadata/metadata_0.parquet`
 * (one shard). Used for the audit's cleaned copy, and to turn any dataset into "scraped pairs".
 *
 * @example
 * ```ts
 * import { bundledDataset, loadPairs, writeClipRetrievalFolder } from 'cleave';
 * const data = await loadPairs(bundledDataset('myntra-fashionclip-99'));
 * await writeClipRetrievalFolder('runs/myntra-as-scraped', data);   // caption, url, key from the dataset
 * ```
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { VERSION } from '../../version.js';
import type { PairDataset } from '../dataset/pair-dataset.js';
import { DataError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeNpy } from '../io/npy.js';
import { getLogger } from '../logger.js';
import type { OutputGuard } from './source.js';

/** Metadata rows (one object per pair) and, to keep the column types, the Parquet schema they came with. */
export interface ClipMetadata {
  rows: Record<string, unknown>[];
  schema?: SchemaElement[];
}

/** Options of {@link writeClipRetrievalFolder}. */
export interface WriteClipFolderOptions {
  /** The pairs to write, in order (default: all). */
  pairs?: ArrayLike<number>;
  /** Embedding dtype on disk (default float32). */
  dtype?: 'float16' | 'float32';
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
 * Write `pairs` of `data` (image of each pair's caption, and the caption) as a one-shard clip-retrieval
 * folder, each file atomically.
 * @returns the files written, relative to `folder`
 *
 * @example
 * ```ts
 * await writeClipRetrievalFolder('runs/kept-pairs', data, { pairs: [0, 2, 5], dtype: 'float16' });
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
  const dtype = options.dtype ?? 'float32';
  const images = data.gatherImages(Int32Array.from(pairs, (j) => data.captionToImage[j]!));
  const captions = data.gatherCaptions(pairs);
  await writeNpy(at('img_emb', 'img_emb_0.npy'), images, [pairs.length, data.imageStride], {
    dtype,
    protect,
  });
  await writeNpy(at('text_emb', 'text_emb_0.npy'), captions, [pairs.length, data.captionDim], {
    dtype,
    protect,
  });
  const written = ['img_emb/img_emb_0.npy', 'text_emb/text_emb_0.npy'];
  const meta = options.metadata ?? 'dataset';
  if (meta === 'none') return written;
  let bytes: ArrayBuffer;
  const createdBy = `cleave ${VERSION}`;
  if (meta === 'dataset') {
    bytes = parquetWriteBuffer({
      columnData: datasetMetadata(data, pairs).map((c) => ({ ...c, type: 'STRING' as const })),
      createdBy,
    });
  } else {
    const names = meta.schema ? meta.schema.slice(1).map((s) => s.name) : Object.keys(meta.rows[0] ?? {});
    const kept = Array.from(pairs, (j) => meta.rows[j]!);
    const columnData = names.map((name) => ({ name, data: kept.map((r) => r[name] ?? null) }));
    try {
      bytes = parquetWriteBuffer({ columnData, ...(meta.schema ? { schema: meta.schema } : {}), createdBy });
    } catch (error) {
      getLogger('run').warn(
        { error: (error as Error).message },
        'metadata: the input schema could not be reused; column types guessed from the values',
      );
      bytes = parquetWriteBuffer({ columnData, createdBy });
    }
  }
  await writeFileAtomic(at('metadata', 'metadata_0.parquet'), new Uint8Array(bytes), { protect });
  written.push('metadata/metadata_0.parquet');
  return written;
}
