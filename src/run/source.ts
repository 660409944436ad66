/**
 * Where a run's pairs come from, and where its outputs may go.
 *
 * A *data source* is one string, as the CLI and the experiment scripts take it:
 * - a bundled dataset name (`wikipedia-xmodal`, …; see `bundledDataset`),
 * - a dataset manifest (`*.json`, see `loadPairs`),
 * - a clip-retrieval embedding folder (`img_emb/`, `text_emb/`, optional `metadata/`),
 * - an NCR-family `*_precomp` folder (`{split}_ims.npy`, `{split}_caps.txt|tsv`; see `loadPrecomp`).
 *
 * {@link resolveDataSource} says which it is and lists the run's **inputs** (the manifest and every
 * file it names, the embedding folder, the bundled dataset's folder), so that {@link OutputGuard} can
 * refuse any output path that equals an input file or lies inside an input folder: a run never writes
 * over, or into, what it reads.
 *
 * @example
 * ```ts
 * import { loadDataSource, OutputGuard } from 'cleave/run';
 * const { dataset, source } = await loadDataSource('wikipedia-xmodal');
 * const out = new OutputGuard('runs/wiki', source);   // throws if runs/wiki is inside an input folder
 * await writeFileAtomic(out.path('report.json'), '{}', { protect: out.protect });
 * ```
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { BUNDLED_DATASETS, bundledDataset } from '../core/dataset/bundled.js';
import { PairDataset } from '../core/dataset/pair-dataset.js';
import type { RandomSplitOptions } from '../core/dataset/splits.js';
import { randomSplit } from '../core/dataset/splits.js';
import { DataError } from '../core/errors.js';
import { loadClipRetrievalFolder } from '../core/io/clip-retrieval.js';
import { loadPairs, readManifest } from '../core/io/manifest.js';
import {
  isPrecompFolder,
  loadPrecomp,
  type PrecompOptions,
  precompInputFolders,
} from '../core/io/precomp.js';
import { isInside, OUTPUT_MANIFEST, OutputGuard } from './output-guard.js';

export { isInside, OUTPUT_MANIFEST, OutputGuard };

/** A run's data: a data source string (see the module documentation) or a loaded dataset. */
export const dataInputSchema = z.union([
  z.string().min(1),
  z.custom<PairDataset>((v) => v instanceof PairDataset, 'a PairDataset or a data source string'),
]);

/** What a data source string turned out to be. */
export interface DataSource {
  /** The string as given. */
  spec: string;
  kind: 'bundled' | 'manifest' | 'clip-retrieval' | 'precomp' | 'dataset';
  /** The manifest file or the embedding folder (absolute); undefined for an in-memory dataset. */
  path: string | undefined;
  /** Input files: never written. */
  files: string[];
  /** Input folders: nothing is written inside them. */
  folders: string[];
}

/** The default split of a dataset that has no `test` split: seeded, 20 % test and 10 % validation images. */
export const DEFAULT_SPLIT: RandomSplitOptions = { seed: 0, test: 0.2, val: 0.1 };

/** Every `path`/`folder` string of a manifest, resolved against its folder. */
function manifestInputs(manifestPath: string): { files: string[]; folders: string[] } {
  const files: string[] = [];
  const folders: string[] = [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return { files, folders }; // loadPairs reports the problem with the manifest
  }
  const base = dirname(manifestPath);
  const walk = (v: unknown, key: string | undefined): void => {
    if (typeof v === 'string') {
      if (key === 'path') {
        files.push(resolve(base, v));
        if (v.toLowerCase().endsWith('.f32.bin')) files.push(resolve(base, `${v.slice(0, -4)}.json`));
      } else if (key === 'folder') folders.push(resolve(base, v));
      // a bare string where a file reference is allowed (e.g. "images": "x.npy")
      else if (key && /\.(npy|bin|csv|json|jsonl|txt|parquet)$/i.test(v)) files.push(resolve(base, v));
      return;
    }
    if (Array.isArray(v)) return;
    if (v && typeof v === 'object') for (const [k, w] of Object.entries(v)) walk(w, k);
  };
  walk(raw, undefined);
  return { files, folders };
}

/**
 * Classify a data source string and list its inputs (see the module documentation).
 *
 * @throws DataError when the string is neither a bundled name nor an existing manifest or folder
 * @example
 * ```ts
 * resolveDataSource('wikipedia-xmodal').kind;        // 'bundled'
 * resolveDataSource('scraped/').kind;                // 'clip-retrieval' (has img_emb/ and text_emb/)
 * ```
 */
export function resolveDataSource(spec: string): DataSource {
  if ((BUNDLED_DATASETS as readonly string[]).includes(spec) && !existsSync(spec)) {
    const manifest = bundledDataset(spec);
    const inputs = manifestInputs(manifest);
    return {
      spec,
      kind: 'bundled',
      path: manifest,
      files: [manifest, ...inputs.files],
      folders: [dirname(manifest), ...inputs.folders],
    };
  }
  if (!existsSync(spec)) {
    throw new DataError(
      `not found: give a dataset manifest (.json), a clip-retrieval embedding folder, or a bundled dataset name (${BUNDLED_DATASETS.join(', ')})`,
      { file: spec },
    );
  }
  const abs = resolve(spec);
  if (statSync(abs).isDirectory()) {
    if (existsSync(join(abs, 'img_emb')) && existsSync(join(abs, 'text_emb'))) {
      return { spec, kind: 'clip-retrieval', path: abs, files: [], folders: [abs] };
    }
    if (existsSync(join(abs, 'manifest.json'))) return resolveDataSource(join(abs, 'manifest.json'));
    if (isPrecompFolder(abs)) {
      return { spec, kind: 'precomp', path: abs, files: [], folders: precompInputFolders(abs) };
    }
    throw new DataError(
      'is a folder without img_emb/ and text_emb/ (a clip-retrieval folder), a manifest.json, or {split}_ims.npy + {split}_caps.txt (a *_precomp folder)',
      {
        file: spec,
      },
    );
  }
  const inputs = manifestInputs(abs);
  return { spec, kind: 'manifest', path: abs, files: [abs, ...inputs.files], folders: inputs.folders };
}

/**
 * The source descriptor of a dataset given in memory (no files to protect).
 *
 * @example
 * ```ts
 * new OutputGuard('runs/x', inMemorySource(dataset));   // nothing to protect
 * ```
 */
export function inMemorySource(dataset: PairDataset): DataSource {
  return { spec: dataset.name, kind: 'dataset', path: undefined, files: [], folders: [] };
}

/**
 * The trainer settings a source recommends: its manifest's `trainer` section ({} for clip-retrieval
 * folders, in-memory data and manifests without one). Merge it *under* a run's config.
 *
 * @example
 * ```ts
 * const config = deepMerge(await recommendedTrainerConfig(resolveDataSource('wikipedia-xmodal')), { epochs: 5 });
 * ```
 */
export async function recommendedTrainerConfig(source: DataSource): Promise<Record<string, unknown>> {
  if (
    source.kind === 'clip-retrieval' ||
    source.kind === 'precomp' ||
    source.kind === 'dataset' ||
    !source.path
  )
    return {};
  return (await readManifest(source.path)).trainer ?? {};
}

/**
 * Load a data source (see {@link resolveDataSource}) into a {@link PairDataset}.
 *
 * @param spec bundled name, manifest path or clip-retrieval folder
 * @returns the dataset as stored (its own splits, if any) and the source descriptor
 *
 * @example
 * ```ts
 * const { dataset, source } = await loadDataSource('wikipedia-xmodal');
 * source.kind;   // 'bundled'
 * ```
 */
export async function loadDataSource(
  spec: string,
  options: DataLoadOptions = {},
): Promise<{ dataset: PairDataset; source: DataSource }> {
  const source = resolveDataSource(spec);
  return { dataset: await loadResolvedSource(source, options), source };
}

/** How some sources are read: `precomp` options for a `*_precomp` folder (see `loadPrecomp`). */
export interface DataLoadOptions {
  precomp?: PrecompOptions;
}

function loadResolvedSource(source: DataSource, options: DataLoadOptions = {}): Promise<PairDataset> {
  if (source.kind === 'clip-retrieval') return loadClipRetrievalFolder(source.path!);
  if (source.kind === 'precomp') return loadPrecomp(source.path!, options.precomp ?? {});
  return loadPairs(source.path!);
}

/** A run's `data` option: a data source string or a loaded dataset. */
export type DataInput = z.output<typeof dataInputSchema>;

/**
 * The source descriptor of a run's `data` option: resolved from a string (nothing is read yet), or
 * the descriptor of an in-memory dataset. Resolve first, so a bad source fails before any work.
 *
 * @example
 * ```ts
 * const source = dataInputSource('wikipedia-xmodal');   // kind 'bundled'
 * const data = await loadDataInput('wikipedia-xmodal', source);
 * ```
 */
export function dataInputSource(data: DataInput): DataSource {
  return typeof data === 'string' ? resolveDataSource(data) : inMemorySource(data);
}

/**
 * Load a run's `data` option from the source {@link dataInputSource} resolved for it (without
 * resolving it again); a loaded dataset is returned as it is.
 */
export async function loadDataInput(
  data: DataInput,
  source: DataSource,
  options: DataLoadOptions = {},
): Promise<PairDataset> {
  return typeof data === 'string' ? loadResolvedSource(source, options) : data;
}

/**
 * The dataset with train/val/test splits: unchanged when it has a `test` split, otherwise a seeded
 * random split of its images ({@link DEFAULT_SPLIT} unless `split` is given; stratified by class when
 * the data has labels and `stratify` is not set).
 *
 * @example
 * ```ts
 * const data = withEvaluationSplits(await loadClipRetrievalFolder('scraped/'));
 * data.splitNames;   // ['train', 'val', 'test']
 * ```
 */
export function withEvaluationSplits(
  dataset: PairDataset,
  split: RandomSplitOptions = DEFAULT_SPLIT,
): PairDataset {
  if (dataset.hasSplit('test') && dataset.hasSplit('train')) return dataset;
  const stratify = split.stratify ?? Boolean(dataset.labels);
  const parts = randomSplit(dataset.numImages, { ...split, stratify }, stratify ? dataset.labels : undefined);
  const specs: Record<string, { images: Int32Array }> = {};
  for (const [name, images] of Object.entries(parts)) {
    if (images && images.length > 0) specs[name] = { images };
  }
  return dataset.withSplits(specs);
}
