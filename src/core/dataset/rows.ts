/**
 * Copying feature rows out of a dataset's shared storage: gathering rows in a given order into a
 * reusable buffer, and whole matrices (a view when the rows are contiguous, else a copy).
 *
 * @example
 * ```ts
 * const data = Float32Array.from([0, 1, 2, 3, 4, 5]);            // 3 rows × 2
 * gatherRows(data, 2, null, 3, [2, 0], undefined, 'Images');      // [4, 5, 0, 1]
 * ```
 */

/** A function copying row `srcRow` of `src` to row `dstRow` of `dst`, rows of `stride` values. */
export function rowCopier(stride: number) {
  return (src: Float32Array, srcRow: number, dst: Float32Array, dstRow: number): void => {
    const s = srcRow * stride;
    const d = dstRow * stride;
    if (stride <= 32) {
      for (let t = 0; t < stride; t++) dst[d + t] = src[s + t]!;
    } else {
      dst.set(src.subarray(s, s + stride), d);
    }
  };
}

/**
 * Copy the rows `indices` (local indices, mapped to storage rows through `rows`) into `out` or a new
 * array.
 *
 * @param rows storage row of each local index, or null for the identity
 * @param count the number of local rows (indices must be below it)
 * @param what `Images` or `Captions`, for the messages
 * @returns `indices.length × stride` values (`out` itself, or its prefix)
 * @throws RangeError when `out` is too small or an index is out of range
 */
export function gatherRows(
  data: Float32Array,
  stride: number,
  rows: Int32Array | null,
  count: number,
  indices: ArrayLike<number>,
  out: Float32Array | undefined,
  what: string,
): Float32Array {
  const n = indices.length;
  const size = n * stride;
  const target = out ?? new Float32Array(size);
  if (target.length < size) {
    throw new RangeError(`gather${what}: the output holds ${target.length} values, ${n} rows need ${size}`);
  }
  const copy = rowCopier(stride);
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    if (!(i >= 0 && i < count))
      throw new RangeError(`gather${what}: index ${i} at position ${k} outside [0, ${count})`);
    copy(data, rows ? rows[i]! : i, target, k);
  }
  return target.length === size ? target : target.subarray(0, size);
}

/**
 * All `count` local rows as one `count × stride` array: a view of `data` when they are contiguous
 * there, a gathered copy otherwise.
 */
export function rowMatrix(
  data: Float32Array,
  stride: number,
  rows: Int32Array | null,
  count: number,
): Float32Array {
  if (!rows) return data.subarray(0, count * stride);
  const first = count > 0 ? rows[0]! : 0;
  let contiguous = true;
  for (let k = 1; k < count && contiguous; k++) contiguous = rows[k] === first + k;
  if (contiguous) return data.subarray(first * stride, (first + count) * stride);
  const out = new Float32Array(count * stride);
  const copy = rowCopier(stride);
  for (let k = 0; k < count; k++) copy(data, rows[k]!, out, k);
  return out;
}
