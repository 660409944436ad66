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
 * Index of the first NaN or ±Infinity in `data`, or -1 when all values are finite. One pass: float32
 * values are tested on their bits (exponent all ones), four at a time; float64 values by `x - x !== 0`.
 */
export function firstNonFinite(data: Float32Array | Float64Array): number {
  const n = data.length;
  if (data instanceof Float64Array) {
    for (let i = 0; i < n; i++) {
      const x = data[i]!;
      if (x - x !== 0) return i;
    }
    return -1;
  }
  const u = new Uint32Array(data.buffer, data.byteOffset, n);
  const E = 0x7f800000; // exponent bits: all ones means ±Infinity or NaN
  const C = 0x00800000; // (bits & E) + C reaches 2^31 exactly when the exponent is all ones
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const hit = ((u[i]! & E) + C) | ((u[i + 1]! & E) + C) | ((u[i + 2]! & E) + C) | ((u[i + 3]! & E) + C);
    if (hit & 0x80000000) break;
  }
  for (; i < n; i++) if ((u[i]! & E) === E) return i;
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
