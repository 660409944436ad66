/**
 * One-pass finiteness check of feature arrays, with an error that names the file, row and column of the
 * first NaN/±Infinity (`images.npy: row 7, column 3 is NaN`).
 *
 * @example
 * ```ts
 * import { assertFinite } from 'cleave/io';
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
  // Scan in chunks: the small hot function is optimised after its first calls (no on-stack replacement
  // in the middle of one long loop), which makes the check about twice as fast on 2 GB arrays.
  const u = new Uint32Array(data.buffer, data.byteOffset, n);
  for (let start = 0; start < n; start += CHUNK) {
    const hit = scanFloat32Bits(u, start, Math.min(n, start + CHUNK));
    if (hit >= 0) return hit;
  }
  return -1;
}

const CHUNK = 1 << 16;
const EXPONENT = 0x7f800000; // exponent bits: all ones means ±Infinity or NaN
const CARRY = 0x00800000; // (bits & EXPONENT) + CARRY reaches 2^31 exactly when the exponent is all ones

function scanFloat32Bits(u: Uint32Array, start: number, end: number): number {
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const hit =
      ((u[i]! & EXPONENT) + CARRY) |
      ((u[i + 1]! & EXPONENT) + CARRY) |
      ((u[i + 2]! & EXPONENT) + CARRY) |
      ((u[i + 3]! & EXPONENT) + CARRY);
    if (hit & 0x80000000) break;
  }
  for (; i < end; i++) if ((u[i]! & EXPONENT) === EXPONENT) return i;
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
