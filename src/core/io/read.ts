/**
 * Low-level file reading shared by the readers: read a byte range of a file straight into a fresh,
 * exactly-sized `ArrayBuffer` (so typed arrays can view it without another copy), in chunks small enough
 * for one `read` call (a single read is limited to 2 GiB).
 *
 * @example
 * ```ts
 * const buffer = await readRange('images.npy', 128, 4 * 1000 * 512);
 * const rows = new Float32Array(buffer);
 * ```
 */
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataError, inputFileError } from '../errors.js';

/**
 * A whole text file (UTF-8); a missing file, a folder or an unreadable file is a DataError naming it.
 *
 * @example
 * ```ts
 * const text = await readText('captions.txt');
 * ```
 */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw inputFileError(error, path);
  }
}

const CHUNK = 1 << 29; // 512 MiB per read call

/** Read exactly `target.length` bytes at `position` of an open file into `target`. */
export async function readExactly(
  handle: FileHandle,
  target: Uint8Array,
  position: number,
  file: string,
): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const want = Math.min(CHUNK, target.length - done);
    const { bytesRead } = await handle.read(target, done, want, position + done);
    if (bytesRead === 0) {
      throw new DataError(`truncated: expected ${target.length} bytes at offset ${position}, got ${done}`, {
        file,
      });
    }
    done += bytesRead;
  }
}

/**
 * Read `length` bytes of `path` starting at `offset` into a new ArrayBuffer of exactly that size.
 *
 * @throws DataError (naming the file) when the file ends early
 */
export async function readRange(path: string, offset: number, length: number): Promise<ArrayBuffer> {
  let buffer: ArrayBuffer;
  try {
    buffer = new ArrayBuffer(length);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new DataError(
      `needs ${(length / 2 ** 30).toFixed(1)} GiB in one buffer, more than this process can allocate: split the array into smaller shards (e.g. clip-retrieval img_emb_<n>.npy), or run on a machine with more memory`,
      { file: basename(path) },
    );
  }
  const handle = await open(path, 'r');
  try {
    await readExactly(handle, new Uint8Array(buffer), offset, basename(path));
  } finally {
    await handle.close();
  }
  return buffer;
}
