/**
 * The header of NumPy `.npy` files: the dtypes cleave reads and writes, parsing a header (format
 * versions 1.0, 2.0 and 3.0) and encoding one byte-identical to `numpy.save`'s (version 1.0, or 2.0/3.0
 * when the header needs it). The data around it is `npy.ts`'s concern.
 *
 * @example
 * ```ts
 * import { encodeNpyHeader, parseNpyHeader } from 'cleave/io';
 * const head = encodeNpyHeader('float32', [2, 3]);
 * parseNpyHeader(head).shape;   // [2, 3]
 * ```
 */
import { DataError } from '../errors.js';

/** The element types cleave reads and writes in `.npy` files. */
export const NPY_DTYPES = ['float16', 'float32', 'float64', 'int32', 'int64', 'uint8', 'bool'] as const;
/** One of {@link NPY_DTYPES}. */
export type NpyDtype = (typeof NPY_DTYPES)[number];

/** What the header of a `.npy` file says. */
export interface NpyHeader {
  version: string;
  /** The dtype descriptor as written, e.g. `'<f4'`. */
  descr: string;
  dtype: NpyDtype;
  shape: number[];
  fortranOrder: boolean;
  /** Byte offset of the first element. */
  dataOffset: number;
  /** Bytes per element. */
  itemSize: number;
  /** Number of elements (product of the shape). */
  count: number;
}

/** dtype and item size of each descriptor cleave reads. */
export const DESCR: Record<string, { dtype: NpyDtype; itemSize: number }> = {
  '<f2': { dtype: 'float16', itemSize: 2 },
  '<f4': { dtype: 'float32', itemSize: 4 },
  '<f8': { dtype: 'float64', itemSize: 8 },
  '<i4': { dtype: 'int32', itemSize: 4 },
  '<i8': { dtype: 'int64', itemSize: 8 },
  '|u1': { dtype: 'uint8', itemSize: 1 },
  '<u1': { dtype: 'uint8', itemSize: 1 },
  '>u1': { dtype: 'uint8', itemSize: 1 },
  '|b1': { dtype: 'bool', itemSize: 1 },
};

/** The descriptor cleave writes for each dtype. */
export const DTYPE_DESCR: Record<NpyDtype, string> = {
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  bool: '|b1',
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy's spare header space, reproduced for byte-identical output
const ALIGN = 64;

/** Throw the DataError of a bad `.npy` file. */
export function fail(file: string, message: string): never {
  throw new DataError(message, { file });
}

/**
 * Parse the header of a `.npy` file from its first bytes.
 *
 * @param bytes at least the magic, the version, the header length and the header itself
 * @param file name used in error messages
 * @throws DataError when the magic, version, header or dtype is not one cleave reads
 */
export function parseNpyHeader(bytes: Uint8Array, file = '.npy'): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail(file, 'not a .npy file (the first bytes are not \\x93NUMPY)');
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3)
    fail(file, `unsupported .npy format version ${major}.${minor} (1.0–3.0 are read)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail(file, 'truncated: the header length is missing');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  const dataOffset = start + headerLength;
  if (bytes.length < dataOffset) {
    fail(
      file,
      `truncated: the header says it is ${headerLength} bytes, the file has ${bytes.length - start}`,
    );
  }
  const decoder = new TextDecoder(major === 3 ? 'utf-8' : 'latin1');
  const header = decoder.decode(bytes.subarray(start, dataOffset));

  const descrMatch = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(header);
  if (!descrMatch) {
    if (/['"]descr['"]\s*:\s*\[/.test(header)) {
      fail(file, 'structured (record) dtypes are not supported; save one plain numeric array per file');
    }
    fail(file, `the header has no 'descr' entry: ${header.trim()}`);
  }
  const descr = descrMatch[2]!;
  const known = DESCR[descr === '=f4' ? '<f4' : descr];
  if (!known) {
    if (descr.startsWith('>')) {
      fail(
        file,
        `wrong dtype: big-endian '${descr}' is not supported; convert it with arr.astype('<${descr.slice(1)}')`,
      );
    }
    fail(file, `wrong dtype: '${descr}' is not supported (use <f4, <f8, <f2, <i4, <i8, |u1 or |b1)`);
  }
  const fortranMatch = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  if (!fortranMatch) fail(file, `the header has no 'fortran_order' entry: ${header.trim()}`);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeMatch) fail(file, `the header has no 'shape' entry: ${header.trim()}`);
  const shape = shapeMatch[1]!
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+$/.test(s)) fail(file, `bad shape entry '${s}' in the header`);
      return Number(s);
    });
  const count = shape.reduce((a, b) => a * b, 1);
  return {
    version: `${major}.${minor}`,
    descr,
    dtype: known.dtype,
    shape,
    fortranOrder: fortranMatch[1] === 'True',
    dataOffset,
    itemSize: known.itemSize,
    count,
  };
}

function pythonShape(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * The header bytes for `descr` and `shape`, in format version `requested` (e.g. `'2.0'`) or the
 * oldest that fits, as numpy does.
 *
 * @throws RangeError when the header does not fit the requested version
 */
export function headerBytes(
  descr: string,
  shape: readonly number[],
  requested: string | undefined,
): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pythonShape(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const encoded = new TextEncoder().encode(dict);
  const ascii = encoded.length === dict.length;
  const fits1 = (len: number) => len <= 0xffff;
  const build = (major: number): Uint8Array => {
    const lenBytes = major === 1 ? 2 : 4;
    const hlen = encoded.length + 1;
    const pad = ALIGN - ((8 + lenBytes + hlen) % ALIGN);
    const total = 8 + lenBytes + hlen + pad;
    const out = new Uint8Array(total);
    out.set(MAGIC, 0);
    out[6] = major;
    out[7] = 0;
    const view = new DataView(out.buffer);
    const headerLength = hlen + pad;
    if (major === 1) {
      if (!fits1(headerLength))
        throw new RangeError(`.npy header of ${headerLength} bytes does not fit version 1.0`);
      view.setUint16(8, headerLength, true);
    } else view.setUint32(8, headerLength, true);
    out.set(encoded, 8 + lenBytes);
    out.fill(0x20, 8 + lenBytes + encoded.length, total - 1);
    out[total - 1] = 0x0a;
    return out;
  };
  if (requested) return build(Number(requested[0]));
  if (!ascii) return build(3);
  const hlen = encoded.length + 1;
  return fits1(hlen + ALIGN - ((10 + hlen) % ALIGN)) ? build(1) : build(2);
}

/**
 * The header bytes of a `.npy` file of `shape` and `dtype` (what precedes the data), for writers that
 * stream the data after it.
 *
 * @example
 * ```ts
 * const head = encodeNpyHeader('float32', [29000, 36, 2048]);   // then write 29000·36·2048 float32 values
 * ```
 */
export function encodeNpyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  return headerBytes(DTYPE_DESCR[dtype], shape, undefined);
}
