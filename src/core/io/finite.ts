/**
 * One-pass finiteness check of feature arrays, with an error that names the file, row and column of the
 * first NaN/±Infinity (`images.npy: row 7, column 3 is NaN`).
 *
 * @example
 * ```ts
 * import { assertFinite } from 'cleave';
 * assertFinite(new Float32Array([0, 1, 2, 3]), [2, 2], 'images.npy');   // passes
 * assertFinite(new Float32Array([0, 1, NaN, 3]), [2, 2], 'images.npy'); // DataError: images.npy: row 1, column 0 is NaN
 * ```
 */
import { DataError } from '../errors.js';

/** Human-readable position of flat element `i` of a C-order array of `shape`. */
export function describePosition(
  i: number,
  shape: readonly number[],
): { text: string; row: number; column: number | undefined } {
  if (shape.length <= 1) return { text: `element ${i}`, row: i, column: undefined };
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  const row = Math.floor(i / inner);
  let rest = i - row * inner;
  if (shape.length === 2) return { text: `row ${row}, column ${rest}`, row, column: rest };
  const coords: number[] = [];
  for (let d = shape.length - 1; d >= 1; d--) {
    const size = shape[d]!;
    coords.unshift(rest % size);
    rest = Math.floor(rest / size);
  }
  return { text: `row ${row}, position [${coords.join(', ')}]`, row, column: undefined };
}

/**
 * Index of the first NaN or ±Infinity in `data`, or -1 when all values are finite.
 * One pass, one comparison per value (`x - x` is 0 for every finite `x` and NaN otherwise).
 */
export function firstNonFinite(data: Float32Array | Float64Array): number {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const x = data[i]!;
    if (x - x !== 0) return i;
  }
  return -1;
}

/**
 * Throw a {@link DataError} naming `file`, the row and the column of the first NaN/±Infinity in `data`.
 *
 * @param data values in C order
 * @param shape the array's shape (for the row/column in the message)
 * @param file the file (or source) name for the message
 */
export function assertFinite(
  data: Float32Array | Float64Array,
  shape: readonly number[],
  file: string,
): void {
  const i = firstNonFinite(data);
  if (i < 0) return;
  const x = data[i]!;
  const what = Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  const pos = describePosition(i, shape);
  throw new DataError(`${pos.text} is ${what}; features must be finite`, {
    file,
    index: pos.row,
    ...(pos.column === undefined ? {} : { field: pos.column }),
  });
}
