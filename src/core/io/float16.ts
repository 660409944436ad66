/**
 * IEEE 754 half precision (binary16) ⇄ float32 conversion, for `.npy` files of dtype `<f2` (the default
 * of clip-retrieval's embedding shards). Node 20 has no `Float16Array`, so halves travel as `Uint16Array`.
 *
 * @example
 * ```ts
 * import { float16ToFloat32, float32ToFloat16 } from 'cleave/io';
 * const halves = float32ToFloat16(new Float32Array([1, 0.1, 65504]));   // Uint16Array [0x3c00, 0x2e66, 0x7bff]
 * float16ToFloat32(halves);                                                 // Float32Array [1, 0.0999755859375, 65504]
 * ```
 */

let decodeTable: Float32Array | undefined;

/** Value of one binary16 bit pattern. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function table(): Float32Array {
  if (!decodeTable) {
    decodeTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) decodeTable[h] = halfValue(h);
  }
  return decodeTable;
}

/**
 * Widen binary16 bit patterns to float32 (exact: every half is a float32).
 *
 * @param halves the bit patterns, one per value
 * @param out optional destination of the same length
 * @returns `out` (or a new Float32Array) holding the values
 */
export function float16ToFloat32(halves: Uint16Array, out = new Float32Array(halves.length)): Float32Array {
  const t = table();
  for (let i = 0; i < halves.length; i++) out[i] = t[halves[i]!]!;
  return out;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/**
 * Round one number to the nearest binary16 (ties to even, as NumPy's `astype(np.float16)` does) and
 * return its bit pattern. Values beyond ±65504 (after rounding) become ±Infinity; NaN stays NaN.
 */
export function toFloat16Bits(value: number): number {
  scratch[0] = value;
  const x = scratchBits[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 112; // exponent - 127 + 15
  if (halfExponent >= 31) return sign | 0x7c00;
  let bits: number;
  let dropped: number; // number of low bits dropped from the (full) mantissa
  let source: number;
  if (halfExponent > 0) {
    source = mantissa;
    dropped = 13;
    bits = (halfExponent << 10) | (mantissa >>> 13);
  } else {
    source = mantissa | 0x800000; // make the implicit leading 1 explicit
    dropped = 126 - exponent; // ≥ 14
    if (dropped > 24) return sign; // below half the smallest subnormal: rounds to ±0
    bits = source >>> dropped;
  }
  const roundBit = (source >>> (dropped - 1)) & 1;
  const sticky = source & ((1 << (dropped - 1)) - 1);
  if (roundBit && (sticky || bits & 1)) bits += 1; // a carry into the exponent is the right answer
  return sign | bits;
}

/**
 * Round float32 values to binary16 bit patterns (ties to even).
 *
 * @param values the values to convert
 * @returns one bit pattern per value
 */
export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]!);
  return out;
}
