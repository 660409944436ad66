/**
 * Region features of a `*_precomp` folder (`{split}_ims.npy`, float32 `[N, R, D]`): streamed and
 * mean-pooled `chunkRows` images at a time, never read whole; the pooled-feature cache (`<name>.mean.npy`
 * plus a `.json` recording the source's size and modification time); and the whole-regions read of
 * `pooling: 'none'`. `precomp.ts` is the folder's loader.
 *
 * @example
 * ```ts
 * import { poolRegionsNpy } from 'cleave/io';
 * const pooled = await poolRegionsNpy('data/f30k_precomp/train_ims.npy', { chunkRows: 256 });
 * pooled.dim;   // 2048, pooled.data holds N × 2048 means
 * ```
 */
import { existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { DataError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { assertFinite } from './finite.js';
import { readNpy, readNpyHeader, writeNpy } from './npy.js';
import type { NpyHeader } from './npy-header.js';
import { readExactly } from './read.js';

/** Options of {@link poolRegionsNpy}. */
export interface PoolRegionsOptions {
  /** Read only the first `rows` images (default all). */
  rows?: number;
  /** Images per read (default 64). */
  chunkRows?: number;
  /** Refuse NaN/±Infinity (default true). */
  checkFinite?: boolean;
}

/**
 * Mean-pool a float32 `.npy` of region features `[N, R, D]` over its regions, streaming it
 * `chunkRows` images at a time (memory: the output plus one chunk). A 2-D `[N, D]` file is read as it
 * is (row by row, same memory bound).
 *
 * @returns `[rows, D]` pooled features
 * @throws DataError naming the file for another dtype, Fortran order, a truncated file or NaN/Inf
 * @example
 * ```ts
 * const { data, rows, regions, dim } = await poolRegionsNpy('f30k_precomp/train_ims.npy');
 * // rows 29000, regions 36, dim 2048; data.length === 29000 * 2048
 * ```
 */
export async function poolRegionsNpy(
  path: string,
  options: PoolRegionsOptions = {},
): Promise<{ data: Float32Array; rows: number; regions: number; dim: number; fileRows: number }> {
  const file = basename(path);
  const header = await readNpyHeader(path);
  const { regions, dim, fileRows } = regionShape(header, file);
  checkSize(header, file);
  const rows = Math.min(options.rows ?? fileRows, fileRows);
  const chunkRows = Math.max(1, options.chunkRows ?? 64);
  const stride = regions * dim;
  const out = new Float32Array(rows * dim);
  const chunk = new Float32Array(Math.min(chunkRows, Math.max(rows, 1)) * stride);
  const bytes = new Uint8Array(chunk.buffer);
  const handle = await open(path, 'r');
  try {
    for (let r0 = 0; r0 < rows; r0 += chunkRows) {
      const n = Math.min(chunkRows, rows - r0);
      const view = bytes.subarray(0, n * stride * 4);
      await readExactly(handle, view, header.dataOffset + r0 * stride * 4, file);
      const values = chunk.subarray(0, n * stride);
      if (options.checkFinite ?? true) {
        try {
          assertFinite(values, [n, regions, dim], file);
        } catch (error) {
          if (error instanceof DataError && error.index !== undefined) {
            throw new DataError(`image ${r0 + error.index} has a non-finite value (NaN or ±Infinity)`, {
              file,
              index: r0 + error.index,
            });
          }
          throw error;
        }
      }
      if (regions === 1) {
        out.set(values, r0 * dim);
        continue;
      }
      const scale = 1 / regions;
      for (let i = 0; i < n; i++) {
        const o = (r0 + i) * dim;
        const target = out.subarray(o, o + dim);
        target.set(values.subarray(i * stride, i * stride + dim));
        for (let r = 1; r < regions; r++) {
          const s = i * stride + r * dim;
          for (let d = 0; d < dim; d++) target[d] = target[d]! + values[s + d]!;
        }
        for (let d = 0; d < dim; d++) target[d] = target[d]! * scale;
      }
    }
  } finally {
    await handle.close();
  }
  return { data: out, rows, regions, dim, fileRows };
}

/** Regions and width per image, and image rows, of a region file's header. */
export function regionShape(
  header: NpyHeader,
  file: string,
): { regions: number; dim: number; fileRows: number } {
  if (header.dtype !== 'float32') {
    throw new DataError(
      `wrong dtype: region features must be float32 (<f4), got ${header.descr}; convert with arr.astype('<f4')`,
      { file },
    );
  }
  if (header.fortranOrder) {
    throw new DataError('Fortran-order region features cannot be streamed; save np.ascontiguousarray(arr)', {
      file,
    });
  }
  const s = header.shape;
  if (s.length === 3) return { fileRows: s[0]!, regions: s[1]!, dim: s[2]! };
  if (s.length === 2) return { fileRows: s[0]!, regions: 1, dim: s[1]! };
  throw new DataError(`expected image features of shape [N, regions, dim] or [N, dim], got [${s}]`, { file });
}

function checkSize(header: NpyHeader & { fileSize: number }, file: string): void {
  const want = header.dataOffset + header.count * header.itemSize;
  if (header.fileSize !== want) {
    throw new DataError(
      header.fileSize < want
        ? `truncated: the header promises ${header.count * header.itemSize} bytes of data (shape [${header.shape}]), the file has ${header.fileSize - header.dataOffset}`
        : `${header.fileSize - want} unexpected bytes after the data of shape [${header.shape}]`,
      { file },
    );
  }
}

const cacheInfoSchema = z.object({
  format: z.literal('cleave-pooled-cache'),
  source: z.string(),
  size: z.number(),
  mtimeMs: z.number(),
  rows: z.number().int(),
  pooling: z.literal('mean'),
});

/** What {@link pooledImages} reads of the loader's options. */
export interface PooledImagesOptions {
  /** Folder of the pooled-feature cache; none means no cache. */
  cacheDir?: string | undefined;
  chunkRows?: number | undefined;
  checkFinite?: boolean | undefined;
}

/** Pooled features of one split, from the cache when it is fresh, else streamed (and cached). */
export async function pooledImages(
  path: string,
  rows: number,
  opts: PooledImagesOptions,
  cacheName: string,
): Promise<{ data: Float32Array; dim: number; regions: number; cached: boolean }> {
  const stat = statSync(path);
  const source = resolve(path);
  const cachePath = opts.cacheDir ? join(opts.cacheDir, `${cacheName}.mean.npy`) : undefined;
  if (cachePath && existsSync(cachePath) && existsSync(`${cachePath}.json`)) {
    try {
      const info = cacheInfoSchema.parse(JSON.parse(await readFile(`${cachePath}.json`, 'utf8')));
      if (
        info.source === source &&
        info.size === stat.size &&
        info.mtimeMs === stat.mtimeMs &&
        info.rows === rows
      ) {
        const cached = await readNpy(cachePath, { as: 'float32', checkFinite: false });
        if (cached.shape.length === 2 && cached.shape[0] === rows) {
          return { data: cached.data, dim: cached.shape[1]!, regions: 1, cached: true };
        }
      }
    } catch {
      // a stale or damaged cache is rebuilt below
    }
  }
  const pooled = await poolRegionsNpy(path, {
    rows,
    chunkRows: opts.chunkRows,
    checkFinite: opts.checkFinite,
  });
  if (cachePath) {
    await writeNpy(cachePath, pooled.data, [rows, pooled.dim], { protect: [path] });
    const info = {
      format: 'cleave-pooled-cache',
      source,
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      rows,
      pooling: 'mean',
    };
    await writeFileAtomic(`${cachePath}.json`, `${JSON.stringify(info, null, 2)}\n`);
  }
  return { data: pooled.data, dim: pooled.dim, regions: 1, cached: false };
}

/** All regions of the first `rows` images of a region file, read whole (`pooling: 'none'`). */
export async function readAllRegions(path: string, rows: number, checkFinite: boolean) {
  const file = basename(path);
  const header = await readNpyHeader(path);
  const { regions, dim } = regionShape(header, file);
  checkSize(header, file);
  const data = new Float32Array(rows * regions * dim);
  const handle = await open(path, 'r');
  try {
    await readExactly(handle, new Uint8Array(data.buffer), header.dataOffset, file);
  } finally {
    await handle.close();
  }
  if (checkFinite) assertFinite(data, [rows, regions, dim], file);
  return { data, dim, regions };
}
