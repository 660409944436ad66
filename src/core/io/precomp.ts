/**
 * The `data/<name>_precomp/` layout every NCR-family repository shares (SCAN, NCR, DECL, RCL, BiCro,
 * …), read into a {@link PairDataset}:
 *
 * | file | content |
 * |---|---|
 * | `{split}_ims.npy` | float32 `[N, 36, 2048]` bottom-up region features (or `[N, D]` vectors) |
 * | `{split}_caps.txt` | one raw caption a line, 5 per image in image order (Flickr30K, MS-COCO) |
 * | `{split}_caps.tsv` | `img_id<TAB>caption`, one caption per image (CC152K) |
 * | `{split}_caps.npy` | (cleave's extension) float32 `[numCaptions, D]` caption feature vectors |
 * | `vocab/<name>_precomp_vocab.json` | the published vocabulary (also looked up in `../vocab/`) |
 *
 * Splits: `train` → `train`, `dev` → `val`, `test`/`testall`/`test5k` → `test` (`testall` is MS-COCO's
 * 5,000-image set evaluated as 5 folds of 1,000; pick it with `test: 'testall'`).
 *
 * **Region features are streamed, never read whole**: the file is read `chunkRows` images at a time and
 * mean-pooled over its regions on the fly (Flickr30K's 8.5 GB train file becomes 237 MB). With a
 * `cacheDir` the pooled features are written there (`<name>_<split>_ims.mean.npy` + a `.json` that
 * records the source's size and modification time) and reused while the source is unchanged; the
 * cache may not lie inside the input folder. `pooling: 'none'` keeps all regions (small sets only).
 *
 * The caption → image rule is the NCR loader's: `im_div` = 5 when the image file has fewer rows than
 * there are captions, else 1 (one image row per caption); caption j belongs to image ⌊j / im_div⌋.
 * The `dev` quirk is kept: only the first 1,000 × `im_div` captions (and their 1,000 images) are used,
 * e.g. 5,000 of Flickr30K's 5,070 dev captions.
 *
 * Captions are tokenised (`<start>` words `<end>`, NCR's ids) when a vocabulary is found or given,
 * else one is built from the `train` and `dev` captions (NCR's rule: words seen ≥ 4 times) and, with a
 * `cacheDir`, saved there.
 *
 * @example
 * ```ts
 * import { loadPrecomp } from 'cleave/io';
 * const data = await loadPrecomp('data/f30k_precomp', { cacheDir: 'runs/cache' });
 * data.train.numPairs;    // 145000
 * data.imageDim;          // 2048 (mean of the 36 regions)
 * data.hasCaptionTokens;  // true
 * ```
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { PairDataset } from '../dataset/pair-dataset.js';
import type { SplitSpec, TokenSequences } from '../dataset/types.js';
import { CleaveError, DataError, parseOrThrow } from '../errors.js';
import { getLogger } from '../logger.js';
import { Vocabulary } from '../text/tokenizer.js';
import { readNpy, readNpyHeader } from './npy.js';
import { pooledImages, readAllRegions, regionShape } from './precomp-regions.js';

/** How region features are read: `mean` of the regions (streamed) or `none` (keep `[N, R, D]`). */
export const PRECOMP_POOLINGS = ['mean', 'none'] as const;
/** One of {@link PRECOMP_POOLINGS}. */
export const precompPoolingSchema = z.enum(PRECOMP_POOLINGS);

/** Options of {@link loadPrecomp}. */
export const precompOptionsSchema = z
  .object({
    /** Dataset name (`f30k`, `coco`, `cc152k`, …); default: the folder name without `_precomp`. */
    name: z.string().min(1).optional(),
    /** File prefixes to load; default `train`, `dev` (when present) and the test split. */
    split: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** File prefix of the test split: `test` (default when present) or `testall` (MS-COCO 5K, 5 folds). */
    test: z.string().min(1).optional(),
    /** `mean`: mean of the regions, streamed (default); `none`: keep `[N, R, D]` in memory. */
    pooling: precompPoolingSchema.default('mean'),
    /** Folder for the pooled features (and a built vocabulary); never inside the input folder. */
    cacheDir: z.string().min(1).optional(),
    /** A vocabulary file; default: `vocab/<name>_precomp_vocab.json` here or in `../vocab/`. */
    vocab: z.string().min(1).optional(),
    /** Tokenise the captions (default true). */
    tokens: z.boolean().default(true),
    /** Images per read while pooling. Default 64 (≈ 19 MB of 36 × 2048 regions). */
    chunkRows: z.number().int().positive().default(64),
    /** Refuse NaN/±Infinity in the features. Default true. */
    checkFinite: z.boolean().default(true),
    /** Images kept of the `dev` split (NCR: 1000). */
    devImages: z.number().int().positive().default(1000),
  })
  .strict();
/** Options of {@link loadPrecomp}, as written. */
export type PrecompOptions = z.input<typeof precompOptionsSchema>;

/** The cleave split name of a file prefix (`dev` → `val`, `testall` → `test`). */
export function precompSplitName(prefix: string): string {
  if (prefix === 'dev') return 'val';
  if (prefix === 'testall' || prefix === 'test5k') return 'test';
  return prefix;
}

/**
 * Whether `dir` looks like a `*_precomp` folder (has `train_ims.npy` or `test*_ims.npy`, and captions).
 *
 * @example
 * ```ts
 * isPrecompFolder('data/f30k_precomp');   // true
 * ```
 */
export function isPrecompFolder(dir: string): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
  return ['train', 'test', 'testall'].some(
    (p) =>
      existsSync(join(dir, `${p}_ims.npy`)) &&
      (existsSync(join(dir, `${p}_caps.txt`)) || existsSync(join(dir, `${p}_caps.tsv`))),
  );
}

/** The dataset name of a `*_precomp` folder (`…/f30k_precomp` → `f30k`). */
export function precompName(dir: string): string {
  return basename(resolve(dir)).replace(/_precomp$/, '');
}

/**
 * The input files of a `*_precomp` folder that a run reads (for output protection): the folder
 * itself and the vocabulary folders looked in.
 */
export function precompInputFolders(dir: string): string[] {
  const abs = resolve(dir);
  return [abs, join(abs, 'vocab'), join(dirname(abs), 'vocab')];
}

/** Raw captions (and CC152K image ids) of one split. */
async function readPrecompCaptions(
  dir: string,
  prefix: string,
): Promise<{ texts: string[]; ids?: string[]; file: string }> {
  const txt = join(dir, `${prefix}_caps.txt`);
  const tsv = join(dir, `${prefix}_caps.tsv`);
  if (existsSync(txt)) {
    const lines = (await readFile(txt, 'utf8')).split('\n');
    if (lines.at(-1) === '') lines.pop();
    return { texts: lines.map((l) => l.replace(/\r$/, '').trim()), file: txt };
  }
  if (existsSync(tsv)) {
    const lines = (await readFile(tsv, 'utf8')).split('\n');
    if (lines.at(-1) === '') lines.pop();
    const ids: string[] = [];
    const texts: string[] = [];
    lines.forEach((line, k) => {
      const tab = line.indexOf('\t');
      if (tab < 0) {
        throw new DataError(`line ${k + 1} has no tab: expected img_id<TAB>caption`, {
          file: basename(tsv),
          index: k,
        });
      }
      ids.push(line.slice(0, tab));
      texts.push(
        line
          .slice(tab + 1)
          .replace(/\r$/, '')
          .trim(),
      );
    });
    return { texts, ids, file: tsv };
  }
  throw new DataError(
    `no captions for split '${prefix}': expected ${prefix}_caps.txt or ${prefix}_caps.tsv`,
    {
      file: dir,
    },
  );
}

function findVocab(dir: string, name: string): string | undefined {
  const file = `${name}_precomp_vocab.json`;
  for (const folder of [join(dir, 'vocab'), join(dirname(dir), 'vocab'), dir]) {
    if (existsSync(join(folder, file))) return join(folder, file);
  }
  return undefined;
}

interface SplitPart {
  prefix: string;
  name: string;
  imagePath: string;
  rows: number;
  imDiv: number;
  captions: string[];
  ids: string[] | undefined;
  captionFeatures: string | undefined;
}

/** The default file prefixes of a folder: train, dev and the test split, those present. */
function defaultPrefixes(dir: string, test: string | undefined): string[] {
  const has = (p: string) => existsSync(join(dir, `${p}_ims.npy`));
  const testPrefix = test ?? (has('test') ? 'test' : has('testall') ? 'testall' : 'test');
  return ['train', 'dev', testPrefix].filter(has);
}

/**
 * Load a `*_precomp` folder (see the module documentation).
 *
 * @param dir the folder, e.g. `data/f30k_precomp`
 * @param options see {@link precompOptionsSchema}
 * @returns a dataset with splits `train`, `val` (from `dev`) and `test` (those loaded)
 * @throws DataError naming the file for missing files, caption counts that do not fit the images,
 *   bad dtypes or non-finite values; CleaveError when `cacheDir` lies inside the input folder
 * @example
 * ```ts
 * const coco = await loadPrecomp('data/coco_precomp', { test: 'testall', cacheDir: 'runs/cache' });
 * const testOnly = await loadPrecomp('data/f30k_precomp', { split: 'test' });
 * ```
 */
export async function loadPrecomp(dir: string, options: PrecompOptions = {}): Promise<PairDataset> {
  const opts = parseOrThrow(precompOptionsSchema, options, 'loadPrecomp options');
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new DataError('not a folder: give a *_precomp folder with {split}_ims.npy and {split}_caps.txt', {
      file: dir,
    });
  }
  if (opts.cacheDir) {
    const rel = relative(abs, resolve(opts.cacheDir));
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
      throw new CleaveError(
        `refusing to cache pooled features in ${opts.cacheDir}: it is inside the input folder ${dir}; choose a folder beside the output`,
      );
    }
  }
  const name = opts.name ?? precompName(abs);
  const prefixes =
    opts.split === undefined
      ? defaultPrefixes(abs, opts.test)
      : Array.isArray(opts.split)
        ? opts.split
        : [opts.split];
  if (prefixes.length === 0) {
    throw new DataError('has no {split}_ims.npy files (train_ims.npy, dev_ims.npy, test_ims.npy)', {
      file: dir,
    });
  }
  const log = getLogger('precomp');

  const parts: SplitPart[] = [];
  for (const prefix of prefixes) {
    const imagePath = join(abs, `${prefix}_ims.npy`);
    if (!existsSync(imagePath)) {
      throw new DataError(`no image features for split '${prefix}' (expected ${prefix}_ims.npy)`, {
        file: dir,
      });
    }
    const header = await readNpyHeader(imagePath);
    const { fileRows } = regionShape(header, basename(imagePath));
    const { texts, ids } = await readPrecompCaptions(abs, prefix);
    // NCR's loader: rkiros data has one row per image and 5 captions each; otherwise a row per caption
    const imDiv = fileRows !== texts.length ? 5 : 1;
    let captions = texts;
    let rows: number;
    if (prefix === 'dev') {
      const keep = Math.min(texts.length, opts.devImages * imDiv);
      captions = texts.slice(0, keep);
      rows = Math.ceil(keep / imDiv);
    } else {
      rows = texts.length / imDiv;
    }
    if (!Number.isInteger(rows) || rows > fileRows || (prefix !== 'dev' && rows !== fileRows)) {
      throw new DataError(
        `${texts.length} captions do not fit ${fileRows} images: expected 5 captions per image (${fileRows * 5}) or one per image row (${fileRows})`,
        { file: basename(join(abs, `${prefix}_caps.${ids ? 'tsv' : 'txt'}`)) },
      );
    }
    const capNpy = join(abs, `${prefix}_caps.npy`);
    parts.push({
      prefix,
      name: precompSplitName(prefix),
      imagePath,
      rows,
      imDiv,
      captions,
      ids: ids?.slice(0, captions.length),
      captionFeatures: existsSync(capNpy) ? capNpy : undefined,
    });
  }
  const names = parts.map((p) => p.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup)
    throw new DataError(`two loaded splits both become '${dup}' (${prefixes.join(', ')})`, { file: dir });

  // images: pooled (streamed) or all regions, written into one array
  const numImages = parts.reduce((s, p) => s + p.rows, 0);
  const numCaptions = parts.reduce((s, p) => s + p.captions.length, 0);
  let imageData: Float32Array | undefined;
  let imageDim = 0;
  let regions = 1;
  let imageOffset = 0;
  for (const p of parts) {
    const got =
      opts.pooling === 'mean'
        ? await pooledImages(p.imagePath, p.rows, opts, `${name}_${p.prefix}_ims`)
        : await readAllRegions(p.imagePath, p.rows, opts.checkFinite);
    if (!imageData) {
      imageDim = got.dim;
      regions = got.regions;
      imageData = new Float32Array(numImages * regions * imageDim);
    } else if (got.dim !== imageDim || got.regions !== regions) {
      throw new DataError(
        `image features are ${got.regions}×${got.dim}, the first split's are ${regions}×${imageDim}`,
        { file: basename(p.imagePath) },
      );
    }
    imageData.set(got.data, imageOffset * regions * imageDim);
    imageOffset += p.rows;
    log.info(
      {
        split: p.prefix,
        images: p.rows,
        captions: p.captions.length,
        imDiv: p.imDiv,
        cached: 'cached' in got && got.cached,
      },
      'precomp split loaded',
    );
  }

  // caption features (cleave's {split}_caps.npy), all splits or none
  let captionData: Float32Array | undefined;
  let captionDim = 0;
  const withFeatures = parts.filter((p) => p.captionFeatures).length;
  if (withFeatures > 0 && withFeatures < parts.length) {
    const missing = parts.find((p) => !p.captionFeatures)!;
    throw new DataError(`has caption features for some splits but not ${missing.prefix}_caps.npy`, {
      file: dir,
    });
  }
  if (withFeatures > 0) {
    let offset = 0;
    for (const p of parts) {
      const arr = await readNpy(p.captionFeatures!, { as: 'float32', checkFinite: opts.checkFinite });
      const rows = arr.shape[0] ?? 0;
      const dim = arr.shape.length === 2 ? arr.shape[1]! : 0;
      if (arr.shape.length !== 2 || rows < p.captions.length) {
        throw new DataError(
          `expected caption features of shape [${p.captions.length}, dim], got [${arr.shape}]`,
          { file: basename(p.captionFeatures!) },
        );
      }
      if (!captionData) {
        captionDim = dim;
        captionData = new Float32Array(numCaptions * dim);
      } else if (dim !== captionDim) {
        throw new DataError(`caption features are ${dim}-d, the first split's ${captionDim}-d`, {
          file: basename(p.captionFeatures!),
        });
      }
      captionData.set(arr.data.subarray(0, p.captions.length * dim), offset * dim);
      offset += p.captions.length;
    }
  }

  const allCaptions = parts.flatMap((p) => p.captions);
  let tokens: TokenSequences | undefined;
  if (opts.tokens) {
    const vocabPath = opts.vocab ?? findVocab(abs, name);
    let vocab: Vocabulary;
    if (vocabPath) vocab = await Vocabulary.load(vocabPath);
    else {
      const source = parts
        .filter((p) => p.prefix === 'train' || p.prefix === 'dev')
        .flatMap((p) => p.captions);
      vocab = Vocabulary.build(source.length > 0 ? source : allCaptions, { threshold: 4 });
      if (opts.cacheDir) await vocab.save(join(opts.cacheDir, `${name}_precomp_vocab.json`));
      log.info({ words: vocab.size }, 'no vocabulary file found: built one from the train/dev captions');
    }
    tokens = vocab.encodeAll(allCaptions);
  }

  const captionToImage = new Int32Array(numCaptions);
  const splits: Record<string, SplitSpec> = {};
  let i0 = 0;
  let j0 = 0;
  for (const p of parts) {
    for (let j = 0; j < p.captions.length; j++) captionToImage[j0 + j] = i0 + Math.floor(j / p.imDiv);
    splits[p.name] = { images: Int32Array.from({ length: p.rows }, (_, k) => i0 + k) };
    i0 += p.rows;
    j0 += p.captions.length;
  }
  const imageIds = parts.every((p) => p.ids && p.imDiv === 1) ? parts.flatMap((p) => p.ids!) : undefined;
  return PairDataset.fromArrays({
    name,
    images: { data: imageData!, dim: imageDim, regions },
    captions: {
      ...(captionData ? { data: captionData, dim: captionDim } : {}),
      ...(tokens ? { tokens } : {}),
    },
    captionToImage,
    captionTexts: allCaptions,
    ...(imageIds ? { imageIds } : {}),
    splits,
  });
}
