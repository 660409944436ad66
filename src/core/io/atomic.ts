/**
 * Atomic file output: write to a temporary file in the same folder, flush it, then rename it over the
 * target, so a reader never sees half a file and a crash never leaves one behind.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from 'cleave/io';
 * await writeFileAtomic('out/report.json', JSON.stringify(report, null, 2));
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CleaveError, OutputError } from '../errors.js';
import { injectedWriteFault } from './fault-injection.js';

/**
 * Write `data` to `path` atomically (temp file + fsync + rename), creating the folder if needed.
 *
 * @param path the destination file
 * @param data text (written as UTF-8) or bytes
 * @param options.protect paths that must never be written (a run's inputs); writing one of them throws
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { protect?: readonly string[] } = {},
): Promise<void> {
  assertNotProtected(path, options.protect ?? []);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'w');
    try {
      const fault = injectedWriteFault(path);
      if (fault) {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        await handle.writeFile(bytes.subarray(0, bytes.length >> 1));
        throw fault;
      }
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw outputFileError(error, path);
  }
}

/**
 * A filesystem error met while writing `path` as an {@link OutputError} that names the path and what
 * to do (a full disk, a read-only or forbidden place, a file where a folder should be); other errors
 * are returned unchanged.
 *
 * @example
 * ```ts
 * try { await mkdir(dir); } catch (e) { throw outputFileError(e, dir); }
 * ```
 */
export function outputFileError(error: unknown, path: string): unknown {
  if (error instanceof CleaveError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  const what: Record<string, string> = {
    ENOSPC: 'the disk is full: free some space or choose an output folder on another disk',
    EDQUOT: 'the disk quota is exceeded: free some space or choose an output folder on another disk',
    EROFS: 'the file system is read-only: choose a writable output folder',
    EACCES: 'permission denied: choose an output folder you can write to',
    EPERM: 'operation not permitted: choose an output folder you can write to',
    ENOTDIR: 'a part of this path is a file, not a folder: choose another output folder',
    EEXIST: 'a file is in the way where a folder is needed: choose another output folder',
    EISDIR: 'a folder is in the way where a file is written: remove it or choose another output folder',
    EIO: 'an input/output error from the disk: check the disk, or choose another output folder',
    ENAMETOOLONG: 'the path is too long: choose a shorter output folder',
  };
  const message = code ? what[code] : undefined;
  return message ? new OutputError(`cannot write ${path}: ${message}`, path) : error;
}

/** Throw when `path` is one of the `protect`ed paths (compared after resolving). */
export function assertNotProtected(path: string, protect: readonly string[]): void {
  const target = resolve(path);
  for (const p of protect) {
    if (resolve(p) === target) {
      throw new CleaveError(
        `refusing to write ${path}: it is an input of this run; choose another output path`,
      );
    }
  }
}
