/**
 * Atomic file output: write to a temporary file in the same folder, flush it, then rename it over the
 * target, so a reader never sees half a file and a crash never leaves one behind.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from 'cleave';
 * await writeFileAtomic('out/report.json', JSON.stringify(report, null, 2));
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CleaveError } from '../errors.js';

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
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
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
