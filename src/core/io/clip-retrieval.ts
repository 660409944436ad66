/**
 * A folder of embedding shards as clip-retrieval's `clip-retrieval inference` writes it — the natural
 * input for web-scraped pairs:
 *
 * ```
 * folder/img_emb/img_emb_0.npy     N0 × D image embeddings (float16 or float32)
 * folder/text_emb/text_emb_0.npy   N0 × D caption embeddings, row i ↔ row i of img_emb_0
 * folder/metadata/metadata_0.parquet  N0 rows: caption, url, key, … (optional)
 * folder/img_emb/img_emb_1.npy …   further shards (numbered, possibly zero-padded)
 * ```
 *
 * Shards are concatenated in numeric order into one {@link PairDataset} (one caption per image). Parquet
 * is read with `hyparquet` (uncompressed and snappy pages, the pandas default).
 *
 * @example
 * ```ts
 * import { loadClipRetrievalFolder } from 'cleave/io';
 * const web = await loadClipRetrievalFolder('laion-subset/', { split: { seed: 0, test: 0.1, val: 0.05 } });
 * web.captionText(0);   // the caption of pair 0, from metadata_0.parquet
 * ```
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { z } from 'zod';
import { PairDataset } from '../dataset/pair-dataset.js';
import { randomSplit, randomSplitSchema } from '../dataset/splits.js';
import { DataError, inputFileError, parseOrThrow } from '../errors.js';
import { getLogger } from '../logger.js';
import { readNpy, readNpyHeader } from './npy.js';

/** Options of {@link loadClipRetrievalFolder}. */
export const clipRetrievalOptionsSchema = z.object({
  /** Dataset name (default: the folder name). */
  name: z.string().optional(),
  /** Metadata column holding the caption text. Default `caption`. */
  captionColumn: z.string().default('caption'),
  /** Metadata column holding the image URL. Default `url`. */
  urlColumn: z.string().default('url'),
  /** Metadata column holding a string id per pair. Default `key` (webdataset keys). */
  idColumn: z.string().default('key'),
  /** Refuse NaN/±Infinity in the embeddings. Default true. */
  checkFinite: z.boolean().default(true),
  /** A seeded random split of the pairs; none by default. */
  split: randomSplitSchema.optional(),
});
/** Options of {@link loadClipRetrievalFolder}, as the caller writes them. */
export type ClipRetrievalOptions = z.input<typeof clipRetrievalOptionsSchema>;

/** What a clip-retrieval folder holds, before it becomes a dataset. */
export interface ClipRetrievalParts {
  images: Float32Array;
  captions: Float32Array;
  imageDim: number;
  captionDim: number;
  count: number;
  shards: number;
  captionTexts?: string[];
  imageUrls?: string[];
  ids?: string[];
}

async function listShards(dir: string, prefix: string, ext: string): Promise<Map<number, string>> {
  const pattern = new RegExp(`^${prefix}_(\\d+)\\.${ext}$`);
  const shards = new Map<number, string>();
  for (const name of await readdir(dir)) {
    const m = pattern.exec(name);
    if (!m) continue;
    const id = Number(m[1]);
    if (shards.has(id))
      throw new DataError(`two shards numbered ${id}: ${shards.get(id)} and ${name}`, { file: dir });
    shards.set(id, name);
  }
  return new Map([...shards].sort((a, b) => a[0] - b[0]));
}

async function readMetadata(
  path: string,
  file: string,
  rows: number,
  columns: { caption: string; url: string; id: string },
): Promise<{ caption?: string[]; url?: string[]; id?: string[] }> {
  let buffer: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    buffer = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new DataError(`not a readable Parquet file (${(error as Error).message})`, { file });
  }
  const n = Number(metadata.num_rows);
  if (n !== rows) throw new DataError(`${n} metadata rows, but the embedding shards have ${rows}`, { file });
  const names = new Set(metadata.schema.map((s) => s.name));
  const wanted = Object.entries(columns).filter(([, col]) => names.has(col));
  if (wanted.length === 0) return {};
  let records: Record<string, unknown>[];
  try {
    records = await parquetReadObjects({ file: buffer, metadata, columns: wanted.map(([, col]) => col) });
  } catch (error) {
    throw new DataError(
      `cannot read columns ${wanted.map(([, c]) => c).join(', ')}: ${(error as Error).message}`,
      {
        file,
      },
    );
  }
  const out: { caption?: string[]; url?: string[]; id?: string[] } = {};
  for (const [key, col] of wanted) {
    out[key as 'caption'] = records.map((r) => {
      const v = r[col];
      return v === null || v === undefined ? '' : String(v);
    });
  }
  return out;
}

/**
 * Read the shards of a clip-retrieval folder (embeddings concatenated, metadata columns collected).
 *
 * @throws DataError naming the shard for missing or unmatched shards, differing dims or row counts,
 *   non-finite values, unreadable Parquet
 */
export async function readClipRetrievalFolder(
  folder: string,
  options: ClipRetrievalOptions = {},
): Promise<ClipRetrievalParts> {
  const opts = parseOrThrow(clipRetrievalOptionsSchema, options, 'clip-retrieval options');
  const imgDir = join(folder, 'img_emb');
  const txtDir = join(folder, 'text_emb');
  const metaDir = join(folder, 'metadata');
  for (const d of [imgDir, txtDir]) {
    if (!existsSync(d))
      throw new DataError(`missing folder ${d} (expected img_emb/ and text_emb/)`, { file: folder });
  }
  const img = await listShards(imgDir, 'img_emb', 'npy');
  const txt = await listShards(txtDir, 'text_emb', 'npy');
  const meta = existsSync(metaDir)
    ? await listShards(metaDir, 'metadata', 'parquet')
    : new Map<number, string>();
  if (existsSync(metaDir)) {
    for (const name of await readdir(metaDir)) {
      const m = /^metadata_\d+\.(\w+)$/.exec(name);
      if (m && m[1]!.toLowerCase() !== 'parquet') {
        throw new DataError(
          `metadata shards must be Parquet (metadata_<n>.parquet), this one is .${m[1]} and would be ignored: convert it to Parquet (pandas: df.to_parquet) or move it out of metadata/`,
          { file: join(metaDir, name) },
        );
      }
    }
  }
  if (img.size === 0) throw new DataError('no img_emb_<n>.npy shards', { file: imgDir });
  for (const id of img.keys()) {
    if (!txt.has(id))
      throw new DataError(`img_emb shard ${img.get(id)} has no text_emb_${id}.npy`, { file: txtDir });
    if (meta.size > 0 && !meta.has(id)) {
      throw new DataError(`img_emb shard ${img.get(id)} has no metadata_${id}.parquet`, { file: metaDir });
    }
  }
  for (const id of txt.keys()) {
    if (!img.has(id))
      throw new DataError(`text_emb shard ${txt.get(id)} has no img_emb_${id}.npy`, { file: imgDir });
  }
  for (const id of meta.keys()) {
    if (!img.has(id)) {
      getLogger('io').warn(
        { file: join(metaDir, meta.get(id)!) },
        `metadata shard ${meta.get(id)} has no img_emb_${id}.npy and is ignored`,
      );
    }
  }

  // Headers first: check shapes, count rows, then fill one buffer per modality.
  let count = 0;
  let imageDim = -1;
  let captionDim = -1;
  const plan: { id: number; rows: number; offset: number }[] = [];
  for (const [id, name] of img) {
    const hi = await readNpyHeader(join(imgDir, name));
    const txtName = txt.get(id)!;
    const ht = await readNpyHeader(join(txtDir, txtName));
    for (const [h, file] of [
      [hi, name],
      [ht, txtName],
    ] as const) {
      if (h.shape.length !== 2)
        throw new DataError(`expected a 2-D [N, D] array, got shape [${h.shape}]`, { file });
    }
    if (hi.shape[0] !== ht.shape[0]) {
      throw new DataError(`${hi.shape[0]} image embeddings but ${txtName} has ${ht.shape[0]} rows`, {
        file: name,
      });
    }
    if (imageDim < 0) imageDim = hi.shape[1]!;
    if (captionDim < 0) captionDim = ht.shape[1]!;
    if (hi.shape[1] !== imageDim)
      throw new DataError(`dim ${hi.shape[1]}, earlier shards have ${imageDim}`, { file: name });
    if (ht.shape[1] !== captionDim) {
      throw new DataError(`dim ${ht.shape[1]}, earlier shards have ${captionDim}`, { file: txtName });
    }
    plan.push({ id, rows: hi.shape[0]!, offset: count });
    count += hi.shape[0]!;
  }
  const images = new Float32Array(count * imageDim);
  const captions = new Float32Array(count * captionDim);
  const texts: string[] = [];
  const urls: string[] = [];
  const ids: string[] = [];
  let hasText = meta.size > 0;
  let hasUrl = meta.size > 0;
  let hasId = meta.size > 0;
  for (const { id, rows, offset } of plan) {
    const a = await readNpy(join(imgDir, img.get(id)!), { as: 'float32', checkFinite: opts.checkFinite });
    images.set(a.data, offset * imageDim);
    const b = await readNpy(join(txtDir, txt.get(id)!), { as: 'float32', checkFinite: opts.checkFinite });
    captions.set(b.data, offset * captionDim);
    if (meta.size > 0) {
      const m = await readMetadata(join(metaDir, meta.get(id)!), meta.get(id)!, rows, {
        caption: opts.captionColumn,
        url: opts.urlColumn,
        id: opts.idColumn,
      });
      if (m.caption) texts.push(...m.caption);
      else hasText = false;
      if (m.url) urls.push(...m.url);
      else hasUrl = false;
      if (m.id) ids.push(...m.id);
      else hasId = false;
    }
  }
  return {
    images,
    captions,
    imageDim,
    captionDim,
    count,
    shards: plan.length,
    ...(hasText ? { captionTexts: texts } : {}),
    ...(hasUrl ? { imageUrls: urls } : {}),
    ...(hasId ? { ids } : {}),
  };
}

/**
 * Load a clip-retrieval embedding folder as a {@link PairDataset}: pair i = caption embedding i with
 * image embedding i; caption texts, URLs and keys come from the Parquet metadata when present.
 *
 * @param folder the folder holding `img_emb/`, `text_emb/` and optionally `metadata/`
 * @param options column names, finiteness check, an optional seeded split (see {@link clipRetrievalOptionsSchema})
 */
export async function loadClipRetrievalFolder(
  folder: string,
  options: ClipRetrievalOptions = {},
): Promise<PairDataset> {
  const opts = parseOrThrow(clipRetrievalOptionsSchema, options, 'clip-retrieval options');
  let parts: ClipRetrievalParts;
  try {
    parts = await readClipRetrievalFolder(folder, options);
  } catch (error) {
    throw inputFileError(error);
  }
  const dataset = PairDataset.fromArrays({
    name:
      opts.name ??
      (folder
        .replace(/[/\\]+$/, '')
        .split(/[/\\]/)
        .pop() ||
        'clip-retrieval'),
    images: { data: parts.images, dim: parts.imageDim },
    captions: { data: parts.captions, dim: parts.captionDim },
    captionToImage: null,
    ...(parts.captionTexts ? { captionTexts: parts.captionTexts } : {}),
    ...(parts.imageUrls ? { imageUrls: parts.imageUrls } : {}),
    ...(parts.ids ? { imageIds: parts.ids, captionIds: parts.ids } : {}),
  });
  if (!opts.split) return dataset;
  const s = randomSplit(parts.count, opts.split);
  return dataset.withSplits(
    Object.fromEntries(Object.entries(s).map(([name, images]) => [name, { images: images as Int32Array }])),
  );
}
