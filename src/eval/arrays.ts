/**
 * Small input checks and conversions shared by the evaluation functions: row-major matrices given as
 * plain typed arrays, per-item scores and truth masks. Every failure is a {@link DataError} that names
 * the input, the row and the column, e.g. `captionEmbeddings: row 7, column 3 is NaN`.
 *
 * @example
 * ```ts
 * import { l2NormalizeRows } from 'cleave/eval';
 * const unit = l2NormalizeRows(new Float32Array([3, 4, 0, 2]), 2); // [0.6, 0.8, 0, 1]
 * ```
 */
import { z } from 'zod';
import { DataError } from '../core/errors.js';

/** A list of numbers: a typed array or a plain array. */
export type NumberArray = ArrayLike<number>;

/** zod schema for a list of numbers (typed array or plain array); the values are checked later. */
export const numberArraySchema = z.custom<NumberArray>(
  (v) => (ArrayBuffer.isView(v) && !(v instanceof DataView)) || Array.isArray(v),
  { message: 'Expected a typed array or an array of numbers' },
);

/**
 * Number of rows of a row-major matrix stored in `data` with `dim` columns; throws when the length
 * is not a multiple of `dim` or when any value is NaN or infinite.
 */
export function checkedRows(data: NumberArray, dim: number, name: string): number {
  if (data.length % dim !== 0) {
    throw new DataError(`length ${data.length} is not a multiple of dim ${dim}`, { file: name });
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      const row = Math.floor(i / dim);
      const col = i - row * dim;
      throw new DataError(`row ${row}, column ${col} is ${v}`, { file: name, index: row, field: col });
    }
  }
  return data.length / dim;
}

/** A copy of `values` as a Float64Array, after checking the length and that every value is finite (and in `[min, max]` when given). */
export function checkedValues(
  values: NumberArray,
  name: string,
  range: { length?: number; min?: number; max?: number } = {},
): Float64Array {
  if (range.length !== undefined && values.length !== range.length) {
    throw new DataError(`has ${values.length} values, expected ${range.length}`, { file: name });
  }
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (
      !Number.isFinite(v) ||
      (range.min !== undefined && v < range.min) ||
      (range.max !== undefined && v > range.max)
    ) {
      const bounds =
        range.min !== undefined || range.max !== undefined
          ? ` (expected ${range.min ?? '-∞'}..${range.max ?? '∞'})`
          : '';
      throw new DataError(`item ${i} is ${v}${bounds}`, { file: name, index: i });
    }
    out[i] = v;
  }
  return out;
}

/** A truth mask as a Uint8Array of 0/1, after checking its length and that each entry is a boolean or 0/1. */
export function checkedMask(mask: ArrayLike<boolean | number>, name: string, length: number): Uint8Array {
  if (mask.length !== length) {
    throw new DataError(`has ${mask.length} entries, expected ${length}`, { file: name });
  }
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const v = mask[i];
    if (v === true || v === 1) out[i] = 1;
    else if (v !== false && v !== 0) {
      throw new DataError(`item ${i} is ${String(v)}, expected true/false or 1/0`, { file: name, index: i });
    }
  }
  return out;
}

/** Integer labels (one per item) as an Int32Array, after checking that each is a finite integer. */
export function checkedLabels(labels: NumberArray, name: string, length: number): Int32Array {
  if (labels.length !== length) {
    throw new DataError(`has ${labels.length} labels, expected ${length} (one per row)`, { file: name });
  }
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const v = labels[i]!;
    if (!Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) {
      throw new DataError(`item ${i} is ${v}, expected an integer label`, { file: name, index: i });
    }
    out[i] = v;
  }
  return out;
}

/**
 * Scale every row of a row-major matrix to unit Euclidean length (so that dot products are cosines).
 * Rows of zeros stay zero. Returns a new Float32Array; the input is not changed.
 *
 * @param data row-major matrix, `rows × dim`
 * @param dim number of columns
 * @example
 * ```ts
 * import { l2NormalizeRows } from 'cleave/eval';
 * l2NormalizeRows(new Float32Array([3, 4]), 2); // Float32Array [0.6, 0.8]
 * ```
 */
export function l2NormalizeRows(data: NumberArray, dim: number): Float32Array {
  const rows = checkedRows(data, dim, 'l2NormalizeRows input');
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let ss = 0;
    for (let c = 0; c < dim; c++) ss += data[base + c]! * data[base + c]!;
    const scale = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let c = 0; c < dim; c++) out[base + c] = data[base + c]! * scale;
  }
  return out;
}
