/**
 * Raw little-endian float32 files with a JSON header beside them: `features.f32.bin` holds the values
 * (row-major, one item per row), `features.json` says `{ "shape": [N, D], "dtype": "float32", ... }`
 * and optionally `sha256` (of the .bin) and a `description`. This is the format of the bundled datasets.
 *
 * @example
 * ```ts
 * import { readF32Bin, writeF32Bin } from 'cleave/io';
 * await writeF32Bin('out/img.f32.bin', new Float32Array([1, 2, 3, 4]), [2, 2], { description: 'toy' });
 * const { data, shape } = await readF32Bin('out/img.f32.bin');   // shape [2, 2]; header in out/img.json
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, DataError, inputFileError, parseOrThrow } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { assertFinite } from './finite.js';
import { readRange } from './read.js';

/** The JSON header of a `.f32.bin` file. Unknown keys are kept. */
export const f32HeaderSchema = z.looseObject({
  /** The .bin file this header describes (relative to the header's folder); optional. */
  file: z.string().optional(),
  /** Only `float32` is stored in this format; use `.npy` for anything else. */
  dtype: z.literal('float32'),
  byteOrder: z.literal('little').default('little'),
  /** Dimensions, outermost first: `[N, D]`, or `[N, R, D]` for R region vectors per item. */
  shape: z.array(z.number().int().nonnegative()).min(1),
  /** Size of the .bin in bytes (checked when given). */
  bytes: z.number().int().nonnegative().optional(),
  /** Hex SHA-256 of the .bin (checked when given, unless `verifyChecksum: false`). */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  description: z.string().optional(),
});
/** A parsed `.f32.bin` header. */
export type F32Header = z.output<typeof f32HeaderSchema>;

/** Options of {@link readF32Bin}. */
export const f32ReadOptionsSchema = z.object({
  /** Refuse NaN/±Infinity (one pass). Default true. */
  checkFinite: z.boolean().default(true),
  /** Check the header's `sha256` when it has one. Default true. */
  verifyChecksum: z.boolean().default(true),
});
/** Options of {@link readF32Bin}, as the caller writes them. */
export type F32ReadOptions = z.input<typeof f32ReadOptionsSchema>;

/** The header path that belongs to a `.f32.bin` path: `x.f32.bin` → `x.json` (also `x.bin` → `x.json`). */
export function f32HeaderPath(binPath: string): string {
  const name = basename(binPath);
  const stem = name.endsWith('.f32.bin') ? name.slice(0, -8) : name.replace(/\.bin$/, '');
  return join(dirname(binPath), `${stem}.json`);
}

/**
 * Read a raw float32 file and its JSON header. `path` may name the `.f32.bin` or the `.json` header.
 *
 * @returns the values (row-major), the shape and the parsed header
 * @throws DataError for a missing/invalid header, a size that does not match the shape (truncated file),
 *   a wrong checksum, a dtype other than float32, or a NaN/±Infinity (naming row and column)
 */
export async function readF32Bin(
  path: string,
  options: F32ReadOptions = {},
): Promise<{ data: Float32Array; shape: number[]; header: F32Header }> {
  const opts = parseOrThrow(f32ReadOptionsSchema, options, 'readF32Bin options');
  const isHeader = path.endsWith('.json');
  const headerPath = isHeader ? path : f32HeaderPath(path);
  const headerName = basename(headerPath);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(headerPath, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && code !== 'ENOENT') throw inputFileError(error, headerPath);
    const why = code === 'ENOENT' ? 'is missing' : 'is not valid JSON';
    throw new DataError(`the JSON header of ${basename(path)} ${why} (expected ${headerName} beside it)`, {
      file: headerName,
    });
  }
  if (raw && typeof raw === 'object' && 'dtype' in raw && raw.dtype !== 'float32') {
    throw new DataError(`wrong dtype '${String(raw.dtype)}': .f32.bin files hold float32 only`, {
      file: headerName,
    });
  }
  let header: F32Header;
  try {
    header = parseOrThrow(f32HeaderSchema, raw, headerName);
  } catch (error) {
    if (error instanceof ConfigError) throw new DataError(error.message, { file: headerName });
    throw error;
  }
  const binPath = isHeader
    ? resolve(dirname(headerPath), header.file ?? `${basename(headerPath, '.json')}.f32.bin`)
    : path;
  const file = basename(binPath);
  const shape = header.shape;
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * 4;
  let size: number;
  try {
    size = (await stat(binPath)).size;
  } catch (error) {
    throw inputFileError(error, binPath);
  }
  if (size !== expected) {
    const what = size < expected ? 'truncated' : 'too long';
    throw new DataError(
      `${what}: ${headerName} says shape [${shape}] = ${expected} bytes of float32, the file has ${size}`,
      { file },
    );
  }
  if (header.bytes !== undefined && header.bytes !== size) {
    throw new DataError(`${headerName} says ${header.bytes} bytes, the file has ${size}`, { file });
  }
  const buffer = await readRange(binPath, 0, expected);
  const bytes = new Uint8Array(buffer);
  if (opts.verifyChecksum && header.sha256) {
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== header.sha256) {
      throw new DataError(`checksum mismatch: sha256 is ${digest}, ${headerName} says ${header.sha256}`, {
        file,
      });
    }
  }
  const data = new Float32Array(buffer);
  if (opts.checkFinite) assertFinite(data, shape, file);
  return { data, shape, header };
}

/** Options of {@link writeF32Bin}. */
export const f32WriteOptionsSchema = z.object({
  description: z.string().optional(),
  /** Paths that must never be written (a run's inputs). */
  protect: z.array(z.string()).default([]),
});
/** Options of {@link writeF32Bin}, as the caller writes them. */
export type F32WriteOptions = z.input<typeof f32WriteOptionsSchema>;

/**
 * Write a float32 array as `.f32.bin` plus its `.json` header (shape, dtype, byte order, bytes, sha256),
 * both atomically.
 *
 * @param binPath the `.f32.bin` destination; the header goes to {@link f32HeaderPath}
 * @param data the values, row-major
 * @param shape the shape; its product must equal `data.length`
 */
export async function writeF32Bin(
  binPath: string,
  data: Float32Array,
  shape: readonly number[],
  options: F32WriteOptions = {},
): Promise<void> {
  const opts = parseOrThrow(f32WriteOptionsSchema, options, 'writeF32Bin options');
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new RangeError(`writeF32Bin: shape [${shape}] does not hold ${data.length} values`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const header = {
    file: basename(binPath),
    dtype: 'float32',
    byteOrder: 'little',
    order: 'row-major (C), one item per row',
    shape: [...shape],
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ...(opts.description ? { description: opts.description } : {}),
  };
  await writeFileAtomic(binPath, bytes, { protect: opts.protect });
  await writeFileAtomic(f32HeaderPath(binPath), `${JSON.stringify(header, null, 2)}\n`, {
    protect: opts.protect,
  });
}
