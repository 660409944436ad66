/**
 * Dataset manifests: one JSON file that says where a dataset's pieces are, validated by zod, and
 * `loadPairs(manifestPath)` that reads them all into a {@link PairDataset}. Relative paths resolve
 * against the manifest's folder; absolute paths work too. A file reference is a string or `{ "path" }`.
 *
 * ```json
 * { "name": "wikipedia-xmodal",
 *   "images":   { "path": "image_sift_bovw128.f32.bin" },         // .npy or .f32.bin (+ .json header)
 *   "captions": { "path": "text_lda10.f32.bin" },
 *   "captionToImage": null,                                          // or an integer .npy/.json/.jsonl/.csv
 *   "labels": { "path": "labels.csv", "column": "class_id", "nameColumn": "class_name" },
 *   "split":  { "path": "labels.csv", "column": "split",
 *               "carve": { "from": "train", "into": "val", "fraction": 0.1, "seed": 0, "stratify": true } } }
 * ```
 *
 * More keys: `images.regions` (R region vectors per image when the file is `[N·R, D]`), `captionTexts`,
 * `imageIds`, `captionIds`, `imageUrls` (`{ path, field }` of a .txt/.jsonl/.csv), `description`, and
 * `clipRetrieval: { folder }` instead of `images`/`captions` for a clip-retrieval embedding folder.
 * `split` is one of: a CSV column of split names (+ optional `carve`); `{ seed, test, val, stratify }`
 * for a seeded random split of images; `{ by: 'images'|'pairs', train: [...], val: [...], test: [...] }`
 * explicit lists; or `{ path }` of a JSON file holding such lists. Labels (CSV column, or an integer
 * .npy/.json) and split columns have one row per image, in image order.
 *
 * @example
 * ```ts
 * import { loadPairs } from 'cleave';
 * const data = await loadPairs('data/wikipedia-xmodal/manifest.json');
 * data.describe().splits;   // { train: {...}, val: {...}, test: {...} }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { PairDataset } from '../dataset/pair-dataset.js';
import {
  carveSchema,
  carveSplit,
  randomSplit,
  randomSplitSchema,
  splitsFromColumn,
} from '../dataset/splits.js';
import type { PairDatasetInit, SplitSpec } from '../dataset/types.js';
import { ConfigError, DataError, inputFileError, parseOrThrow } from '../errors.js';
import { readCaptions, readColumn } from './captions.js';
import { readClipRetrievalFolder } from './clip-retrieval.js';
import { type FeatureArray, readFeatures, readIndices } from './features.js';

const pathFieldSchema = z.string().min(1);
const fileRefSchema = z.union([
  pathFieldSchema.transform((path) => ({ path })),
  z.strictObject({ path: pathFieldSchema }),
]);
const columnRefSchema = z.union([
  pathFieldSchema.transform((path) => ({ path, field: undefined as string | undefined })),
  z.strictObject({ path: pathFieldSchema, field: z.string().optional() }),
]);
const indexListSchema = z.array(z.number().int().nonnegative());
/** A split file lists image indices (all their captions) or pair indices. */
const splitBySchema = z.enum(['images', 'pairs']);

const splitColumnSchema = z.strictObject({
  path: pathFieldSchema,
  column: z.string(),
  /** Carve a seeded subset out of one split into a new one (e.g. val out of an official train). */
  carve: carveSchema
    .extend({
      from: z.string().default('train'),
      into: z.string().default('val'),
    })
    .optional(),
});
const splitListsSchema = z.strictObject({
  by: splitBySchema.default('images'),
  train: indexListSchema,
  val: indexListSchema.optional(),
  test: indexListSchema.optional(),
});
const splitFileSchema = z.strictObject({ path: pathFieldSchema, by: splitBySchema.optional() });

/** The manifest schema (see the module documentation). */
export const manifestSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    images: z
      .union([
        pathFieldSchema.transform((path) => ({ path, regions: 1 })),
        z.strictObject({ path: pathFieldSchema, regions: z.number().int().positive().default(1) }),
      ])
      .optional(),
    captions: fileRefSchema.optional(),
    clipRetrieval: z
      .strictObject({
        folder: pathFieldSchema,
        captionColumn: z.string().default('caption'),
        urlColumn: z.string().default('url'),
        idColumn: z.string().default('key'),
      })
      .optional(),
    captionToImage: z
      .union([z.null(), columnRefSchema])
      .refine((r) => r === null || /\.(npy|json|jsonl|csv|tsv|txt)$/i.test(r.path), {
        message:
          'expected null (row i of the captions is pair i) or a file of image indices (.npy, .json, .jsonl, .csv, .txt)',
      })
      .default(null),
    captionTexts: columnRefSchema.optional(),
    captionIds: columnRefSchema.optional(),
    imageIds: columnRefSchema.optional(),
    imageUrls: columnRefSchema.optional(),
    labels: z
      .union([
        pathFieldSchema.transform((path) => ({
          path,
          column: undefined as string | undefined,
          nameColumn: undefined as string | undefined,
        })),
        z.strictObject({
          path: pathFieldSchema,
          column: z.string().optional(),
          nameColumn: z.string().optional(),
        }),
      ])
      .optional(),
    split: z.union([splitColumnSchema, randomSplitSchema, splitListsSchema, splitFileSchema]).optional(),
    /**
     * Trainer settings recommended for these features (e.g. `inputPower: 0.5` for histograms, a
     * smaller `embedDim` for low-dimensional views), merged under a run's own config by
     * `trainAndReport`, `cleave train`, the experiment grid and the audit: the run's values win.
     * Validated when a run resolves its config (keys of the trainer config).
     */
    trainer: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((m) => (m.clipRetrieval ? !m.images && !m.captions : m.images && m.captions), {
    message: 'give either "images" and "captions", or "clipRetrieval"',
  });
/** A manifest as written in JSON. */
export type Manifest = z.input<typeof manifestSchema>;

/** Options of {@link loadPairs}. */
export const loadPairsOptionsSchema = z.strictObject({
  /** Refuse NaN/±Infinity in features (one pass per file). Default true. */
  checkFinite: z.boolean().default(true),
  /** Check sha256 checksums in `.f32.bin` headers. Default true. */
  verifyChecksum: z.boolean().default(true),
});
/** Options of {@link loadPairs}, as the caller writes them. */
export type LoadPairsOptions = z.input<typeof loadPairsOptionsSchema>;

/**
 * Class indices from a column of label values: integer values are ordered numerically, others
 * lexicographically; index c is the c-th distinct value. `names` (a parallel column) gives display names.
 *
 * @returns labels (one class index per row) and one display name per class
 */
export function encodeLabels(
  values: readonly string[],
  file: string,
  names?: readonly string[],
): { labels: Int32Array; classNames: string[] } {
  values.forEach((v, i) => {
    if (v.trim() === '') throw new DataError(`row ${i} has an empty label`, { file, index: i });
  });
  const distinct = [...new Set(values.map((v) => v.trim()))];
  const numeric = distinct.every((v) => /^-?\d+$/.test(v));
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  const index = new Map(distinct.map((v, c) => [v, c]));
  const labels = Int32Array.from(values, (v) => index.get(v.trim())!);
  const classNames = [...distinct];
  if (names) {
    const seen = new Map<number, string>();
    labels.forEach((c, i) => {
      const name = names[i]!;
      const before = seen.get(c);
      if (before !== undefined && before !== name) {
        throw new DataError(
          `row ${i}: class ${distinct[c]} is named '${name}', earlier rows say '${before}'`,
          {
            file,
            index: i,
          },
        );
      }
      seen.set(c, name);
    });
    for (const [c, name] of seen) classNames[c] = name;
  }
  return { labels, classNames };
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(
      code === 'ENOENT' ? `${what} not found` : `cannot read ${what}: ${(error as Error).message}`,
      {
        file: path,
      },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DataError(`${what} is not valid JSON (${(error as Error).message})`, { file: path });
  }
}

function rowsOf(f: FeatureArray): number {
  return f.shape[0]!;
}

/**
 * Read and validate a manifest file without loading the data it names.
 *
 * @throws DataError when the file is missing or not JSON; ConfigError when it does not validate
 *
 * @example
 * ```ts
 * const manifest = await readManifest('data/wikipedia-xmodal/manifest.json');
 * manifest.trainer;   // the trainer settings recommended for these features
 * ```
 */
export async function readManifest(manifestPath: string): Promise<z.output<typeof manifestSchema>> {
  const raw = await readJson(manifestPath, 'manifest');
  return parseOrThrow(manifestSchema, raw, basename(manifestPath));
}

/**
 * Read a dataset manifest (see the module documentation) and everything it names.
 *
 * @param manifestPath the manifest JSON file
 * @param options finiteness and checksum checks (see {@link loadPairsOptionsSchema})
 * @returns the dataset, with its splits defined (`data.split('train')`, `data.train`, …)
 * @throws ConfigError for a manifest that does not validate; DataError (naming the file and index) for bad
 *   data: non-finite values, mismatched counts between files, truncated files, wrong dtypes, captions
 *   pointing at missing images, empty splits
 */
export async function loadPairs(manifestPath: string, options: LoadPairsOptions = {}): Promise<PairDataset> {
  const opts = parseOrThrow(loadPairsOptionsSchema, options, 'loadPairs options');
  try {
    return await loadManifestPairs(manifestPath, opts);
  } catch (error) {
    throw inputFileError(error);
  }
}

async function loadManifestPairs(
  manifestPath: string,
  opts: z.output<typeof loadPairsOptionsSchema>,
): Promise<PairDataset> {
  const manifest = await readManifest(manifestPath);
  const base = dirname(resolve(manifestPath));
  const at = (p: string) => resolve(base, p);
  const readOpts = { checkFinite: opts.checkFinite, verifyChecksum: opts.verifyChecksum };

  const init: PairDatasetInit = {
    name: manifest.name,
    images: { data: new Float32Array(0), dim: 1 },
    captions: {},
  };
  let numImages: number;
  let numCaptions: number;
  let imageFile: string;
  let captionFile: string;
  if (manifest.clipRetrieval) {
    const c = manifest.clipRetrieval;
    const parts = await readClipRetrievalFolder(at(c.folder), { ...c, checkFinite: opts.checkFinite });
    init.images = { data: parts.images, dim: parts.imageDim };
    init.captions = { data: parts.captions, dim: parts.captionDim };
    if (parts.captionTexts) init.captionTexts = parts.captionTexts;
    if (parts.imageUrls) init.imageUrls = parts.imageUrls;
    if (parts.ids) {
      init.imageIds = parts.ids;
      init.captionIds = parts.ids;
    }
    numImages = numCaptions = parts.count;
    imageFile = captionFile = c.folder;
  } else {
    const imgRef = manifest.images!;
    const images = await readFeatures(at(imgRef.path), readOpts);
    imageFile = images.file;
    let regions = imgRef.regions;
    let dim: number;
    if (images.shape.length === 3) {
      if (imgRef.regions !== 1 && imgRef.regions !== images.shape[1]) {
        throw new DataError(
          `the manifest says ${imgRef.regions} regions, the file has shape [${images.shape}]`,
          {
            file: imageFile,
          },
        );
      }
      regions = images.shape[1]!;
      dim = images.shape[2]!;
      numImages = images.shape[0]!;
    } else {
      dim = images.shape[1]!;
      if (rowsOf(images) % regions !== 0) {
        throw new DataError(`${rowsOf(images)} rows are not a whole number of images of ${regions} regions`, {
          file: imageFile,
        });
      }
      numImages = rowsOf(images) / regions;
    }
    init.images = { data: images.data, dim, regions };
    const captions = await readFeatures(at(manifest.captions!.path), readOpts);
    captionFile = captions.file;
    if (captions.shape.length !== 2) {
      throw new DataError(`caption features must be 2-D [N, D], got shape [${captions.shape}]`, {
        file: captionFile,
      });
    }
    init.captions = { data: captions.data, dim: captions.shape[1]! };
    numCaptions = rowsOf(captions);
  }

  // Caption → image map.
  if (manifest.captionToImage === null) {
    if (numCaptions !== numImages) {
      throw new DataError(
        `${captionFile} has ${numCaptions} captions but ${imageFile} has ${numImages} images; with "captionToImage": null row i of each is one pair (give a captionToImage file otherwise)`,
        { file: captionFile },
      );
    }
    init.captionToImage = null;
  } else {
    const ref = manifest.captionToImage;
    const file = basename(ref.path);
    const map = await readIndices(at(ref.path), ref.field ? { field: ref.field } : {});
    if (map.length !== numCaptions) {
      throw new DataError(`${map.length} entries, but ${captionFile} has ${numCaptions} captions`, { file });
    }
    for (let j = 0; j < map.length; j++) {
      if (map[j]! < 0 || map[j]! >= numImages) {
        throw new DataError(
          `caption ${j} points at image ${map[j]}, but ${imageFile} has ${numImages} images`,
          {
            file,
            index: j,
          },
        );
      }
    }
    init.captionToImage = map;
  }

  // Per-item strings.
  const strings = async (
    ref: { path: string; field?: string | undefined } | undefined,
    expected: number,
    what: string,
  ) => {
    if (!ref) return undefined;
    const values =
      what === 'captionTexts'
        ? await readCaptions(at(ref.path), ref.field ? { field: ref.field } : {})
        : (await readColumn(at(ref.path), ref.field)).map((v) => String(v));
    if (values.length !== expected) {
      throw new DataError(
        `${values.length} ${what} for ${expected} ${what.startsWith('image') ? 'images' : 'captions'}`,
        {
          file: basename(ref.path),
        },
      );
    }
    return values;
  };
  const captionTexts = await strings(manifest.captionTexts, numCaptions, 'captionTexts');
  if (captionTexts) init.captionTexts = captionTexts;
  const captionIds = await strings(manifest.captionIds, numCaptions, 'captionIds');
  if (captionIds) init.captionIds = captionIds;
  const imageIds = await strings(manifest.imageIds, numImages, 'imageIds');
  if (imageIds) init.imageIds = imageIds;
  const imageUrls = await strings(manifest.imageUrls, numImages, 'imageUrls');
  if (imageUrls) init.imageUrls = imageUrls;

  // Labels (one per image).
  if (manifest.labels) {
    const ref = manifest.labels;
    const file = basename(ref.path);
    const ext = extname(ref.path).toLowerCase();
    let encoded: { labels: Int32Array; classNames: string[] };
    if (ext === '.npy' || ext === '.json') {
      encoded = encodeLabels(Array.from(await readIndices(at(ref.path)), String), file);
    } else {
      if (!ref.column)
        throw new ConfigError(`${basename(manifestPath)}: labels.column is needed for ${file}`);
      const values = (await readColumn(at(ref.path), ref.column)).map(String);
      const names = ref.nameColumn ? (await readColumn(at(ref.path), ref.nameColumn)).map(String) : undefined;
      encoded = encodeLabels(values, file, names);
    }
    if (encoded.labels.length !== numImages) {
      throw new DataError(`${encoded.labels.length} labels, but ${imageFile} has ${numImages} images`, {
        file,
      });
    }
    init.labels = encoded.labels;
    init.classNames = encoded.classNames;
  }

  const dataset = PairDataset.fromArrays(init);
  if (!manifest.split) return dataset;
  const splits = await resolveSplits(manifest.split, numImages, init.labels, at);
  return dataset.withSplits(splits);
}

type SplitManifest = NonNullable<z.output<typeof manifestSchema>['split']>;

async function resolveSplits(
  split: SplitManifest,
  numImages: number,
  labels: Int32Array | undefined,
  at: (p: string) => string,
): Promise<Record<string, SplitSpec>> {
  if ('column' in split) {
    const file = basename(split.path);
    const values = (await readColumn(at(split.path), split.column)).map(String);
    if (values.length !== numImages) {
      throw new DataError(`${values.length} split values for ${numImages} images`, { file });
    }
    const byName = splitsFromColumn(values, file);
    if (split.carve) {
      const { from, into, ...carve } = split.carve;
      const source = byName[from];
      if (!source) throw new DataError(`no '${from}' rows to carve '${into}' from`, { file });
      if (byName[into])
        throw new DataError(`split '${into}' exists already; carve into another name`, { file });
      const { kept, carved } = carveSplit(source, carve, labels);
      byName[from] = kept;
      byName[into] = carved;
    }
    return Object.fromEntries(Object.entries(byName).map(([name, images]) => [name, { images }]));
  }
  if ('seed' in split) {
    const s = randomSplit(numImages, split, labels);
    return Object.fromEntries(
      Object.entries(s).map(([name, images]) => [name, { images: images as Int32Array }]),
    );
  }
  let lists: z.output<typeof splitListsSchema>;
  if ('train' in split) lists = split;
  else {
    const fromFile = parseOrThrow(
      splitListsSchema,
      await readJson(at(split.path), 'split file'),
      basename(split.path),
    );
    lists = split.by ? { ...fromFile, by: split.by } : fromFile;
  }
  const out: Record<string, SplitSpec> = {};
  for (const name of ['train', 'val', 'test'] as const) {
    const list = lists[name];
    if (list) out[name] = lists.by === 'images' ? { images: list } : { pairs: list };
  }
  return out;
}
