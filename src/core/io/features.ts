/**
 * Format-independent readers the manifest loader builds on: feature matrices (`.npy` or `.f32.bin` +
 * `.json`) and integer index arrays (`.npy`, a JSON array, a JSONL field or a CSV column).
 *
 * @example
 * ```ts
 * import { readFeatures, readIndices } from 'cleave/io';
 * const img = await readFeatures('images.npy');          // { data: Float32Array, shape: [N, D] }
 * const c2i = await readIndices('caption_to_image.json');   // Int32Array
 * ```
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { DataError, inputFileError } from '../errors.js';
import { readColumn } from './captions.js';
import { readF32Bin } from './f32bin.js';
import { readNpy } from './npy.js';

/** A feature matrix as read from disk. */
export interface FeatureArray {
  /** Row-major values: `shape[0]` items of `shape[1]` (× `shape[2]`) values each. */
  data: Float32Array;
  /** `[N, D]`, or `[N, R, D]` for R region vectors per item. */
  shape: number[];
  /** The file name, for messages. */
  file: string;
}

/** Options of {@link readFeatures}. */
export interface ReadFeaturesOptions {
  /** Refuse NaN/±Infinity (one pass). Default true. */
  checkFinite?: boolean;
  /** Check the sha256 in a `.f32.bin` header. Default true. */
  verifyChecksum?: boolean;
}

/**
 * Read a feature matrix from `.npy` (`<f4`, `<f8` or `<f2`; converted to float32) or `.f32.bin` (with
 * its `.json` header beside it; the header path works too).
 *
 * @returns float32 values and a 2-D `[N, D]` or 3-D `[N, R, D]` shape
 * @throws DataError for unsupported files, wrong dtypes, other ranks, non-finite values
 */
export async function readFeatures(path: string, options: ReadFeaturesOptions = {}): Promise<FeatureArray> {
  const file = basename(path);
  const checkFinite = options.checkFinite ?? true;
  let data: Float32Array;
  let shape: number[];
  if (file.endsWith('.npy')) {
    ({ data, shape } = await readNpy(path, { as: 'float32', checkFinite }));
  } else if (file.endsWith('.bin') || file.endsWith('.json')) {
    ({ data, shape } = await readF32Bin(path, {
      checkFinite,
      verifyChecksum: options.verifyChecksum ?? true,
    }));
  } else {
    throw new DataError('unsupported feature file: use .npy or .f32.bin (with its .json header)', { file });
  }
  if (shape.length !== 2 && shape.length !== 3) {
    throw new DataError(`expected a 2-D [N, D] or 3-D [N, R, D] array of features, got shape [${shape}]`, {
      file,
    });
  }
  if (shape.slice(1).some((d) => d === 0)) {
    throw new DataError(`features of shape [${shape}] have no values per item`, { file });
  }
  return { data, shape, file };
}

function toIndex(value: unknown, i: number, file: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw new DataError(`entry ${i} is ${JSON.stringify(value)}, not an integer index`, { file, index: i });
  }
  return n;
}

/**
 * Read an integer array: `.npy` (`<i4`, `<i8`, `|u1`; 1-D), `.json` (an array of integers), `.jsonl`
 * (`field` of each line, or the line itself), `.csv` (column `field`), `.txt` (one integer per line).
 *
 * @throws DataError naming the file and entry for a non-integer or a value outside int32
 */
export async function readIndices(path: string, options: { field?: string } = {}): Promise<Int32Array> {
  const file = basename(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const { data, shape } = await readNpy(path, { as: 'int32' });
    if (shape.length !== 1)
      throw new DataError(`expected a 1-D array of indices, got shape [${shape}]`, { file });
    return data;
  }
  let values: unknown[];
  if (ext === '.json') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw inputFileError(error, path);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new DataError(`not valid JSON (${(error as Error).message}): fix the file`, { file });
    }
    const inner =
      options.field && parsed && typeof parsed === 'object' && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)[options.field]
        : parsed;
    if (!Array.isArray(inner)) {
      throw new DataError(
        `expected a JSON array of integers${options.field ? ` under '${options.field}'` : ''}`,
        {
          file,
        },
      );
    }
    values = inner;
  } else {
    values = await readColumn(path, options.field);
  }
  const out = new Int32Array(values.length);
  values.forEach((v, i) => {
    out[i] = toIndex(v, i, file);
  });
  return out;
}
