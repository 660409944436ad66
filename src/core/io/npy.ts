/**
 * NumPy `.npy` files: read (format versions 1.0, 2.0 and 3.0) and write (version 1.0, or 2.0/3.0 when the
 * header needs it), byte-compatible with `numpy.save`.
 *
 * Supported dtypes: `<f2` `<f4` `<f8` `<i4` `<i8` `|u1` `|b1`. Big-endian and structured dtypes are refused
 * with a message that says how to convert them. Fortran-order arrays are transposed into C order on read
 * (or refused with `fortranOrder: 'refuse'`). Data of `<f2` comes back widened to a `Float32Array`;
 * `<i8` comes back as a `BigInt64Array` unless `as: 'int32'` narrows it (range-checked).
 *
 * Reading allocates one buffer of exactly the data size and reads the file into it (no extra copy), and
 * checks float data for NaN/±Infinity in a single pass (`checkFinite`, on by default).
 *
 * @example
 * ```ts
 * import { readNpy, writeNpy } from 'cleave/io';
 * await writeNpy('emb.npy', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * const emb = await readNpy('emb.npy', { as: 'float32' });
 * emb.shape;            // [2, 3]
 * emb.data[1 * 3 + 2];  // 6  (row 1, column 2)
 * ```
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { DataError, inputFileError, parseOrThrow } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { assertFinite, describePosition } from './finite.js';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';
import {
  DTYPE_DESCR,
  fail,
  headerBytes,
  NPY_DTYPES,
  type NpyDtype,
  type NpyHeader,
  parseNpyHeader,
} from './npy-header.js';
import { readExactly, readRange } from './read.js';

/** The typed array a dtype is returned in (`float16` is widened to `Float32Array`). */
export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** A decoded `.npy` array: C-order data plus its shape. */
export interface NpyArray<T extends NpyData = NpyData> {
  /** The element type stored in the file. */
  dtype: NpyDtype;
  /** The shape (empty for a 0-d scalar). */
  shape: number[];
  /** All elements in C (row-major) order, also when the file was Fortran order. */
  data: T;
  /** Whether the file was stored in Fortran order (and was transposed on read). */
  fortranOrder: boolean;
  /** The format version of the file, e.g. `'1.0'`. */
  version: string;
}

/** Options of {@link readNpy} and {@link parseNpy}. */
export const npyReadOptionsSchema = z.object({
  /**
   * Convert to one element type: `float32` (from f2/f4/f8), `float64` (from f2/f4/f8), `int32` (from
   * i4/i8/u1/b1, range-checked). A file of another kind is a "wrong dtype" DataError.
   * `native` (default) keeps the stored type.
   */
  as: z.enum(['native', 'float32', 'float64', 'int32']).default('native'),
  /** Refuse NaN/±Infinity in float data (one pass over the values). Default true. */
  checkFinite: z.boolean().default(true),
  /** Fortran-order files: transpose into C order (default) or refuse. */
  fortranOrder: z.enum(['transpose', 'refuse']).default('transpose'),
});
/** Options of {@link readNpy}, as the caller writes them. */
export type NpyReadOptions = z.input<typeof npyReadOptionsSchema>;

/** The typed array {@link readNpy} returns for options `O` (by their `as`). */
export type NpyResultData<O> = O extends { as: 'float32' }
  ? Float32Array
  : O extends { as: 'float64' }
    ? Float64Array
    : O extends { as: 'int32' }
      ? Int32Array
      : NpyData;

function typedView(header: NpyHeader, buffer: ArrayBuffer, byteOffset: number): NpyData {
  const n = header.count;
  switch (header.dtype) {
    case 'float16':
      return float16ToFloat32(new Uint16Array(buffer, byteOffset, n));
    case 'float32':
      return new Float32Array(buffer, byteOffset, n);
    case 'float64':
      return new Float64Array(buffer, byteOffset, n);
    case 'int32':
      return new Int32Array(buffer, byteOffset, n);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, n);
    default:
      return new Uint8Array(buffer, byteOffset, n);
  }
}

/** Reorder a Fortran-order (column-major) array of `shape` into C order. */
function fortranToC<T extends NpyData>(data: T, shape: readonly number[]): T {
  const nd = shape.length;
  if (nd < 2) return data;
  const out = new (data.constructor as new (n: number) => T)(data.length);
  if (nd === 2) {
    const rows = shape[0]!;
    const cols = shape[1]!;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[r * cols + c] = data[c * rows + r]!;
    }
    return out;
  }
  // General case: walk C order with a counter, tracking the Fortran offset.
  const fStride: number[] = [];
  let s = 1;
  for (let d = 0; d < nd; d++) {
    fStride.push(s);
    s *= shape[d]!;
  }
  const idx = new Array<number>(nd).fill(0);
  let fOffset = 0;
  for (let i = 0; i < data.length; i++) {
    out[i] = data[fOffset]!;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]! += 1;
      fOffset += fStride[d]!;
      if (idx[d]! < shape[d]!) break;
      fOffset -= fStride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function int64ToInt32(data: BigInt64Array, shape: readonly number[], file: string): Int32Array {
  const words = new Int32Array(data.buffer, data.byteOffset, data.length * 2);
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const lo = words[2 * i]!;
    if (words[2 * i + 1]! !== lo >> 31) {
      const pos = describePosition(i, shape);
      throw new DataError(`${pos.text} is ${data[i]}, outside the int32 range cleave uses for indices`, {
        file,
        index: pos.row,
      });
    }
    out[i] = lo;
  }
  return out;
}

function convert(array: NpyArray, as: z.output<typeof npyReadOptionsSchema>['as'], file: string): NpyData {
  const { data, dtype } = array;
  if (as === 'native') return data;
  const isFloat = dtype === 'float16' || dtype === 'float32' || dtype === 'float64';
  if (as === 'float32' || as === 'float64') {
    if (!isFloat) {
      fail(file, `wrong dtype: expected floating point values (<f4, <f8 or <f2), got ${DTYPE_DESCR[dtype]}`);
    }
    if (as === 'float32') {
      if (data instanceof Float32Array) return data;
      const out = Float32Array.from(data as Float64Array);
      return out;
    }
    return data instanceof Float64Array ? data : Float64Array.from(data as Float32Array);
  }
  if (isFloat) fail(file, `wrong dtype: expected integers (<i4, <i8, |u1), got ${DTYPE_DESCR[dtype]}`);
  if (data instanceof Int32Array) return data;
  if (data instanceof BigInt64Array) return int64ToInt32(data, array.shape, file);
  return Int32Array.from(data as Uint8Array);
}

function finish<O>(
  header: NpyHeader,
  data: NpyData,
  options: z.output<typeof npyReadOptionsSchema>,
  file: string,
): NpyArray<NpyResultData<O>> {
  if (header.fortranOrder && options.fortranOrder === 'refuse') {
    fail(file, 'Fortran-order arrays are refused here; save it with np.ascontiguousarray(arr)');
  }
  const cOrder = header.fortranOrder ? fortranToC(data, header.shape) : data;
  const array: NpyArray = {
    dtype: header.dtype,
    shape: header.shape,
    data: cOrder,
    fortranOrder: header.fortranOrder,
    version: header.version,
  };
  if (options.checkFinite && (cOrder instanceof Float32Array || cOrder instanceof Float64Array)) {
    assertFinite(cOrder, header.shape, file);
  }
  const converted = convert(array, options.as, file);
  if (options.checkFinite && header.dtype === 'float64' && converted instanceof Float32Array) {
    const i = converted.findIndex((x) => !Number.isFinite(x));
    if (i >= 0) {
      const pos = describePosition(i, header.shape);
      throw new DataError(`${pos.text} is ${cOrder[i]}, which does not fit in float32`, {
        file,
        index: pos.row,
      });
    }
  }
  return { ...array, data: converted as NpyResultData<O> };
}

/** Bytes of data the header promises; throws when the file holds fewer (truncated) or more. */
function checkDataSize(header: NpyHeader, fileSize: number, file: string): number {
  const dataBytes = header.count * header.itemSize;
  const available = fileSize - header.dataOffset;
  if (available < dataBytes) {
    fail(
      file,
      `truncated: the header promises ${dataBytes} bytes of data (shape [${header.shape}]), the file has ${available}`,
    );
  }
  if (available > dataBytes) {
    fail(file, `${available - dataBytes} unexpected bytes after the data of shape [${header.shape}]`);
  }
  return dataBytes;
}

/**
 * Decode a `.npy` file held in memory. The result is a view of `bytes` (no copy) when the data is C order,
 * needs no conversion and is aligned for its element type; otherwise it is copied.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(await readFile('emb.npy'));
 * const { data, shape } = parseNpy(bytes, { as: 'float32' });
 * ```
 * @param bytes the whole file
 * @param options see {@link npyReadOptionsSchema}
 * @param file name used in error messages
 */
export function parseNpy<const O extends NpyReadOptions = Record<never, never>>(
  bytes: Uint8Array,
  options?: O,
  file = '.npy',
): NpyArray<NpyResultData<O>> {
  const opts = parseOrThrow(npyReadOptionsSchema, options ?? {}, 'readNpy options');
  const header = parseNpyHeader(bytes, file);
  checkDataSize(header, bytes.length, file);
  const offset = bytes.byteOffset + header.dataOffset;
  let data: NpyData;
  if (offset % header.itemSize === 0) {
    data = typedView(header, bytes.buffer as ArrayBuffer, offset);
  } else {
    const copy = bytes.slice(header.dataOffset);
    data = typedView(header, copy.buffer, 0);
  }
  return finish<O>(header, data, opts, file);
}

/**
 * Read only the header of a `.npy` file (cheap: the first few hundred bytes).
 *
 * @example
 * ```ts
 * const h = await readNpyHeader('img_emb_0.npy');   // { dtype: 'float16', shape: [10000, 512], ... }
 * ```
 */
export async function readNpyHeader(path: string): Promise<NpyHeader & { fileSize: number }> {
  const file = basename(path);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw inputFileError(error, path);
  }
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(size, 12));
    await readExactly(handle, head, 0, file);
    const view = new DataView(head.buffer);
    let total = head.length;
    if (head.length >= 10 && head[6] === 1) total = 10 + view.getUint16(8, true);
    else if (head.length >= 12 && (head[6] === 2 || head[6] === 3)) total = 12 + view.getUint32(8, true);
    const bytes = new Uint8Array(Math.min(size, total));
    await readExactly(handle, bytes, 0, file);
    return { ...parseNpyHeader(bytes, file), fileSize: size };
  } finally {
    await handle.close();
  }
}

/**
 * Read a `.npy` file. The data is read straight into one buffer of its own size (aligned, no extra copy);
 * float data is checked for NaN/±Infinity in one pass unless `checkFinite: false`.
 *
 * @param path the file
 * @param options see {@link npyReadOptionsSchema}
 * @returns the C-order data and its shape
 * @throws DataError naming the file (and row/column) for truncated files, wrong dtypes, non-finite values
 */
export async function readNpy<const O extends NpyReadOptions = Record<never, never>>(
  path: string,
  options?: O,
): Promise<NpyArray<NpyResultData<O>>> {
  const opts = parseOrThrow(npyReadOptionsSchema, options ?? {}, 'readNpy options');
  const file = basename(path);
  try {
    const header = await readNpyHeader(path);
    const dataBytes = checkDataSize(header, header.fileSize, file);
    const buffer = await readRange(path, header.dataOffset, dataBytes);
    return finish<O>(header, typedView(header, buffer, 0), opts, file);
  } catch (error) {
    throw inputFileError(error, path);
  }
}

/** Options of {@link encodeNpy} / {@link writeNpy}. */
export const npyWriteOptionsSchema = z.object({
  /**
   * The dtype to store. Defaults to the natural one of the array (`Float32Array` → `<f4`, `Float64Array`
   * → `<f8`, `Int32Array` → `<i4`, `BigInt64Array` → `<i8`, `Uint8Array` → `|u1`). Allowed conversions:
   * float arrays → `float16`/`float32`/`float64`, `Int32Array` → `int64`, `Uint8Array` → `bool`.
   */
  dtype: z.enum(NPY_DTYPES).optional(),
  /** Format version; by default the oldest that fits (1.0 almost always), as numpy does. */
  version: z.enum(['1.0', '2.0', '3.0']).optional(),
  /** Paths that must never be written (a run's inputs). */
  protect: z.array(z.string()).default([]),
});
/** Options of {@link writeNpy}, as the caller writes them. */
export type NpyWriteOptions = z.input<typeof npyWriteOptionsSchema>;

function naturalDtype(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'uint8';
}

function encodeData(data: NpyData, dtype: NpyDtype): Uint8Array {
  const source = naturalDtype(data);
  const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (dtype === source) return bytesOf(data);
  if (dtype === 'float16' && (source === 'float32' || source === 'float64')) {
    return bytesOf(float32ToFloat16(data as Float32Array));
  }
  if (dtype === 'float32' && source === 'float64') return bytesOf(Float32Array.from(data as Float64Array));
  if (dtype === 'float64' && source === 'float32') return bytesOf(Float64Array.from(data as Float32Array));
  if (dtype === 'int64' && source === 'int32') {
    const out = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = BigInt((data as Int32Array)[i]!);
    return bytesOf(out);
  }
  if (dtype === 'bool' && source === 'uint8') {
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = (data as Uint8Array)[i]! ? 1 : 0;
    return out;
  }
  throw new RangeError(`encodeNpy: cannot store a ${data.constructor.name} as ${dtype}`);
}

/**
 * Encode an array as the bytes of a `.npy` file, byte-identical to `numpy.save` of the same array.
 *
 * @example
 * ```ts
 * const bytes = encodeNpy(Int32Array.from([3, 1, 2]), [3], { dtype: 'int64' });   // a <i8 .npy file
 * ```
 * @param data the elements in C order
 * @param shape the shape (default: 1-D of `data.length`); its product must equal `data.length`
 * @param options see {@link npyWriteOptionsSchema}
 */
export function encodeNpy(
  data: NpyData,
  shape: readonly number[] = [data.length],
  options: NpyWriteOptions = {},
): Uint8Array {
  const opts = parseOrThrow(npyWriteOptionsSchema, options, 'writeNpy options');
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || count !== data.length) {
    throw new RangeError(`encodeNpy: shape [${shape}] does not hold ${data.length} elements`);
  }
  const dtype = opts.dtype ?? naturalDtype(data);
  const head = headerBytes(DTYPE_DESCR[dtype], shape, opts.version);
  const body = encodeData(data, dtype);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/**
 * Write an array to a `.npy` file (atomically; never over a protected input).
 *
 * @param path the destination
 * @param data the elements in C order
 * @param shape the shape (default 1-D)
 * @param options see {@link npyWriteOptionsSchema}
 */
export async function writeNpy(
  path: string,
  data: NpyData,
  shape: readonly number[] = [data.length],
  options: NpyWriteOptions = {},
): Promise<void> {
  const bytes = encodeNpy(data, shape, options);
  await writeFileAtomic(path, bytes, { protect: options.protect ?? [] });
}
