/**
 * Seeded pseudo-random numbers: every random choice in cleave flows from one seed through an {@link Rng}.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, 128-bit state, passes
 * PractRand), seeded through splitmix32 so that nearby seeds give unrelated streams. It is pure
 * JavaScript and integer-exact, so the same seed gives the same numbers on every platform and backend.
 *
 * Use {@link Rng.fork} to derive independent, named sub-streams (`rng.fork('noise')`,
 * `rng.fork('init')`), so that adding a random draw in one part of the code does not change the
 * numbers of another.
 *
 * @example
 * ```ts
 * import { Rng } from 'cleave';
 * const rng = new Rng(7);
 * rng.float();            // uniform in [0, 1)
 * rng.int(10);            // integer in [0, 10)
 * rng.permutation(5);     // Int32Array, a random permutation of 0..4
 * const init = rng.fork('init');  // independent stream, same for the same seed and label
 * ```
 */

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a hash of a string, used to turn fork labels into seeds. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded random number generator (sfc32). See the module documentation. */
export class Rng {
  /** The seed this generator was made from (for logs and reports). */
  readonly seed: number;
  /** The stream id this generator was forked into (0 for a root generator). */
  readonly stream: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  /**
   * @param seed any finite number; non-integers and negatives are folded into 32-bit words.
   * @param stream sub-stream id; {@link Rng.fork} sets it, users normally leave it at 0.
   * @throws RangeError when the seed is NaN or infinite.
   */
  constructor(seed: number, stream = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
    this.seed = seed;
    this.stream = stream >>> 0;
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    const mix = splitmix32(lo ^ Math.imul(hi, 0x9e3779b1) ^ Math.imul(this.stream, 0x85ebca77));
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** Next raw 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.uint32();
    while (x >= limit) x = this.uint32();
    return x % n;
  }

  /** Standard normal draw (Box–Muller, the spare value cached). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    let u = this.float();
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Shuffle an array or typed array in place (Fisher–Yates) and return it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A uniformly random permutation of `0..n-1`. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /** `k` distinct integers drawn uniformly from `0..n-1`, in random order. */
  sample(n: number, k: number): Int32Array {
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new RangeError(`Rng.sample: k must be an integer in [0, ${n}], got ${k}`);
    }
    const perm = this.permutation(n);
    return perm.slice(0, k);
  }

  /** Fill an array with uniform floats in [low, high). */
  fillUniform<T extends Float32Array | Float64Array>(out: T, low = 0, high = 1): T {
    const span = high - low;
    // float() twice-inlined over local state: the same stream, without a call and four field
    // writes per draw
    let { a, b, c, d } = this;
    for (let i = 0; i < out.length; i++) {
      let t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      const hi = (t >>> 0) >>> 5;
      t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      const lo = (t >>> 0) >>> 6;
      out[i] = low + span * ((hi * 67108864 + lo) / 9007199254740992);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return out;
  }

  /** Fill an array with normal draws of the given mean and standard deviation. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /**
   * An independent generator derived from this one's seed and a label. Forking does not advance this
   * generator, so `new Rng(s).fork('x')` always gives the same stream.
   */
  fork(label: string): Rng {
    const h = hashString(label);
    return new Rng(this.seed, (Math.imul(this.stream, 0x01000193) ^ h) >>> 0);
  }
}
