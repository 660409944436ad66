/**
 * Where a run's outputs may go: {@link OutputGuard} refuses an output folder that is an input or lies
 * inside one (the inputs come from `resolveDataSource`, source.ts), a system folder, a file, or a place
 * that cannot be written, and keeps a list of what cleave wrote there ({@link OUTPUT_MANIFEST}) so that
 * a rerun removes only its own earlier outputs.
 *
 * @example
 * ```ts
 * const out = new OutputGuard('runs/x', resolveDataSource('data/manifest.json'));
 * await out.prepare();
 * await writeFileAtomic(out.file('report.json'), '{}', { protect: out.protect });
 * ```
 */

import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { OutputError } from '../core/errors.js';
import { outputFileError, writeFileAtomic } from '../core/io/atomic.js';

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
   * @throws OutputError when `dir` is an input folder, lies inside one, or is an input file
   */
  constructor(
    dir: string,
    source: { readonly files: readonly string[]; readonly folders: readonly string[] },
  ) {
    this.dir = resolve(dir);
    this.protect = [...source.files];
    this.folders = [...source.folders];
    for (const folder of this.folders) {
      if (isInside(this.dir, folder)) {
        throw new OutputError(
          `refusing to write into ${dir}: it is ${realish(this.dir) === realish(folder) ? '' : 'inside '}the input folder ${folder}; choose an output folder outside the input`,
          this.dir,
        );
      }
    }
    for (const file of this.protect) {
      if (realish(file) === realish(this.dir)) {
        throw new OutputError(
          `refusing to write into ${dir}: it is an input file of this run; choose another output folder`,
          this.dir,
        );
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
   * @throws OutputError otherwise
   */
  path(...parts: string[]): string {
    const p = resolve(this.dir, ...parts);
    for (const folder of this.folders) {
      if (isInside(p, folder)) {
        throw new OutputError(
          `refusing to write ${p}: it is inside the input folder ${folder}; choose an output path outside the input`,
          p,
        );
      }
    }
    for (const file of this.protect) {
      if (realish(file) === realish(p)) {
        throw new OutputError(
          `refusing to write ${p}: it is an input of this run; choose another output path`,
          p,
        );
      }
    }
    return p;
  }
}
