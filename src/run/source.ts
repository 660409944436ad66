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

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { BACKEND_NAMES } from '../core/backend/index.js';
import { BUNDLED_DATASETS, bundledDataset } from '../core/dataset/bundled.js';
import { PairDataset } from '../core/dataset/pair-dataset.js';
import type { RandomSplitOptions } from '../core/dataset/splits.js';
import { randomSplit } from '../core/dataset/splits.js';
import { CleaveError, DataError, OutputError } from '../core/errors.js';
import { outputFileError, writeFileAtomic } from '../core/io/atomic.js';
import { loadClipRetrievalFolder } from '../core/io/clip-retrieval.js';
import { loadPairs, readManifest } from '../core/io/manifest.js';
import {
  isPrecompFolder,
  loadPrecomp,
  type PrecompOptions,
  precompInputFolders,
} from '../core/io/precomp.js';

/** A run's data: a data source string (see the module documentation) or a loaded dataset. */
export const dataInputSchema = z.union([
  z.string().min(1),
  z.custom<PairDataset>((v) => v instanceof PairDataset, 'a PairDataset or a data source string'),
]);

/** A compute backend choice (`auto` or a backend name). */
export const backendChoiceSchema = z.enum(['auto', ...BACKEND_NAMES]);

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

function realish(path: string): string {
  const abs = resolve(path);
  // resolve symlinks of the longest existing prefix, so `a/link/x` and `a/target/x` compare equal
  let head = abs;
  const tail: string[] = [];
  while (!existsSync(head)) {
    const parent = dirname(head);
    if (parent === head) return abs;
    tail.unshift(head.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
    head = parent;
  }
  try {
    return join(realpathSync(head), ...tail);
  } catch {
    return abs;
  }
}

/**
 * Whether `path` equals `folder` or lies inside it (after resolving).
 *
 * @example
 * ```ts
 * isInside('/data/set/run', '/data/set');   // true
 * isInside('/data/settings', '/data/set');  // false
 * ```
 */
export function isInside(path: string, folder: string): boolean {
  const rel = relative(realish(folder), realish(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

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

/** The file in an output folder that lists, relative to it, every file cleave wrote there. */
export const OUTPUT_MANIFEST = '.cleave-outputs.json';

/** System folders that are never an output folder (writing there hangs or changes the machine). */
const SYSTEM_FOLDERS = ['/proc', '/sys', '/dev'];

/** A temporary file of `writeFileAtomic`: `.<name>.<pid>.<8 hex>.tmp`. */
const ATOMIC_TMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Where a run writes: an output folder checked against the run's inputs. {@link OutputGuard.prepare}
 * creates it and probes that it can be written, before any work; {@link OutputGuard.clearPrevious}
 * removes what an earlier run of cleave wrote there (only the files listed in {@link OUTPUT_MANIFEST})
 * and the temporary files of a killed run; {@link OutputGuard.file} names (and records) each output.
 *
 * @example
 * ```ts
 * const out = new OutputGuard('runs/x', resolveDataSource('data/manifest.json'));
 * await out.prepare();          // refuses a file, /proc, an unwritable place, a full disk
 * await out.clearPrevious();    // stale outputs of an earlier run into runs/x
 * await writeFileAtomic(out.file('report.json'), '{}', { protect: out.protect });
 * ```
 */
export class OutputGuard {
  /** The output folder (absolute). */
  readonly dir: string;
  /** Input files, for `writeFileAtomic(..., { protect })`. */
  readonly protect: string[];
  private readonly folders: string[];
  private readonly written = new Set<string>();
  private prepared = false;

  /**
   * @param dir the output folder
   * @param source the run's inputs
   * @throws CleaveError when `dir` is an input folder, lies inside one, or is an input file
   */
  constructor(dir: string, source: Pick<DataSource, 'files' | 'folders'>) {
    this.dir = resolve(dir);
    this.protect = [...source.files];
    this.folders = [...source.folders];
    for (const folder of this.folders) {
      if (isInside(this.dir, folder)) {
        throw new CleaveError(
          `refusing to write into ${dir}: it is ${realish(this.dir) === realish(folder) ? '' : 'inside '}the input folder ${folder}; choose an output folder outside the input`,
        );
      }
    }
    for (const file of this.protect) {
      if (realish(file) === realish(this.dir)) {
        throw new CleaveError(`refusing to write into ${dir}: it is an input file of this run`);
      }
    }
  }

  /**
   * Create the output folder and write (then remove) a probe file in it, so that an output folder that
   * is a file, lies under a file, is a system folder, is not writable or sits on a full disk is refused
   * before any training. With `checkpoints`, a `checkpoints` entry that is a symbolic link or a file is
   * refused too (checkpointing removes old epoch folders in it).
   *
   * @throws OutputError naming the folder and what to do
   */
  async prepare(options: { checkpoints?: boolean } = {}): Promise<void> {
    const real = realish(this.dir);
    for (const sys of SYSTEM_FOLDERS) {
      if (real === sys || real.startsWith(`${sys}/`)) {
        throw new OutputError(
          `refusing to write into ${this.dir}: ${sys} is a system folder, not storage; choose an output folder on a disk (e.g. --out runs/x)`,
          this.dir,
        );
      }
    }
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(this.dir, { throwIfNoEntry: false });
    } catch (error) {
      throw outputFileError(error, this.dir);
    }
    if (st && !st.isDirectory()) {
      throw new OutputError(
        `cannot write into ${this.dir}: it is an existing file, not a folder; choose another output folder`,
        this.dir,
      );
    }
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw outputFileError(error, this.dir);
    }
    const probe = join(this.dir, `.cleave-probe-${process.pid}`);
    try {
      await writeFileAtomic(probe, new Uint8Array(4096));
    } finally {
      await rm(probe, { force: true }).catch(() => undefined);
    }
    if (options.checkpoints) {
      const cp = join(this.dir, 'checkpoints');
      const c = await lstat(cp).catch(() => undefined);
      if (c && !c.isDirectory()) {
        throw new OutputError(
          `refusing to checkpoint into ${cp}: it is ${c.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; cleave removes old epoch folders there, so it only writes into a real folder it created: remove it or choose another --out`,
          cp,
        );
      }
    }
    this.prepared = true;
  }

  /**
   * Remove what an earlier cleave run wrote into the output folder — the files its
   * {@link OUTPUT_MANIFEST} lists (regular files inside the folder only; never a link, never anything
   * else) — and the temporary files of a killed writer (`.<name>.<pid>.<hex>.tmp` of a process that no
   * longer runs) in the folder, `checkpoints/` and `cleaned/`. Then start a new, empty manifest.
   */
  async clearPrevious(): Promise<void> {
    if (!this.prepared) await this.prepare();
    const manifest = join(this.dir, OUTPUT_MANIFEST);
    let listed: unknown[] = [];
    try {
      const raw = JSON.parse(await readFile(manifest, 'utf8')) as { files?: unknown };
      if (Array.isArray(raw.files)) listed = raw.files;
    } catch {
      // no manifest (a new folder, or one from an older cleave): nothing of ours to clear
    }
    for (const rel of listed) {
      if (typeof rel !== 'string' || rel === '' || isAbsolute(rel) || rel.split(/[\\/]/).includes('..'))
        continue;
      const p = resolve(this.dir, rel);
      if (!isInside(p, this.dir) || p === this.dir) continue;
      const st = await lstat(p).catch(() => undefined);
      if (st?.isFile()) await unlink(p).catch(() => undefined);
    }
    await this.removeStaleTemporaries(this.dir, 0);
    this.written.clear();
    this.saveManifest();
  }

  private async removeStaleTemporaries(dir: string, depth: number): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isFile()) {
        const m = ATOMIC_TMP.exec(e.name);
        if (m && !processAlive(Number(m[1]))) await unlink(p).catch(() => undefined);
      } else if (
        e.isDirectory() &&
        depth < 4 &&
        (depth > 0 || e.name === 'checkpoints' || e.name === 'cleaned')
      ) {
        await this.removeStaleTemporaries(p, depth + 1);
      }
    }
  }

  private saveManifest(): void {
    const manifest = join(this.dir, OUTPUT_MANIFEST);
    // named like the atomic writer's temporary files, so a kill here leaves nothing clearPrevious misses
    const tmp = join(this.dir, `.${OUTPUT_MANIFEST}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const text = `${JSON.stringify({ format: 'cleave-outputs', version: 1, files: [...this.written].sort() }, null, 1)}\n`;
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, manifest);
    } catch (error) {
      throw outputFileError(error, manifest);
    }
  }

  /**
   * The absolute path of an output file (relative to the output folder), checked like {@link path},
   * and recorded in the folder's {@link OUTPUT_MANIFEST} (before it is written), so that the next run
   * into this folder can remove it if it does not write it again.
   */
  file(...parts: string[]): string {
    const p = this.path(...parts);
    const rel = relative(this.dir, p).split(sep).join('/');
    if (!this.written.has(rel)) {
      this.written.add(rel);
      if (this.prepared) this.saveManifest();
    }
    return p;
  }

  /**
   * The absolute path of an output file (relative to the output folder), checked: not an input file,
   * not inside an input folder.
   * @throws CleaveError otherwise
   */
  path(...parts: string[]): string {
    const p = resolve(this.dir, ...parts);
    for (const folder of this.folders) {
      if (isInside(p, folder)) {
        throw new CleaveError(`refusing to write ${p}: it is inside the input folder ${folder}`);
      }
    }
    for (const file of this.protect) {
      if (realish(file) === realish(p)) {
        throw new CleaveError(
          `refusing to write ${p}: it is an input of this run; choose another output path`,
        );
      }
    }
    return p;
  }
}
