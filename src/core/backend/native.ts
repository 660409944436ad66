/**
 * Loads cleave's native BLAS addon (`native/build/cleave_blas.node`, built at install time by
 * `scripts/build-native.mjs` against OpenBLAS). The addon is optional: when it is missing or does not
 * load, {@link loadBlasAddon} says why and how to fix it, and the `cpu-blas` backend is unavailable.
 *
 * @example
 * ```ts
 * const blas = loadBlasAddon();
 * if (blas.ok) console.log(blas.addon.info().coreName); else console.log(blas.reason, blas.fix);
 * ```
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What OpenBLAS says about itself. */
export interface BlasInfo {
  /** Threads OpenBLAS uses (`OPENBLAS_NUM_THREADS`, default: all cores). */
  numThreads: number;
  /** Cores OpenBLAS sees. */
  numProcs: number;
  /** Build configuration string, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`. */
  config: string;
  /** The kernel family in use, e.g. `Haswell`. */
  coreName: string;
}

/** The functions of the native addon (row-major float32 throughout; see native/cleave_blas.c). */
export interface BlasAddon {
  /** C = alpha·op(A)·op(B) + beta·C with explicit leading dimensions (cblas_sgemm). */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /** For each i: C[i] (packed m×n) = op(A at aOffsets[i])·op(B at bOffsets[i]); A, B packed. */
  sgemmBatched(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    aOffsets: Float64Array,
    b: Float32Array,
    bOffsets: Float64Array,
    c: Float32Array,
  ): void;
  /** In place on C as [rows, cols]: add `bias` (length cols or 1), then the activation (see ACTIVATION). */
  epilogue(
    c: Float32Array,
    cols: number,
    bias: Float32Array | null,
    activation: number,
    leakyAlpha: number,
    preluAlpha: Float32Array | null,
  ): void;
  /** One Adam(W) step: m, v in place, the new p into `out` (may be p); see cleave_blas.c for the order. */
  adam(
    p: Float32Array,
    out: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    learningRate: number,
    beta1: number,
    beta2: number,
    oneMinusAccBeta1: number,
    oneMinusAccBeta2: number,
    epsilon: number,
    weightDecay: number,
  ): void;
  /**
   * out (packed, shape `dims`) = a ∘ b with ∘ = BINARY_OP[op]; a and b are read with per-dim element
   * strides (0 = broadcast).
   */
  binary(
    op: number,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    dims: Float64Array,
    aStrides: Float64Array,
    bStrides: Float64Array,
  ): void;
  /**
   * out[o, i] = Σ_r x[o, r, i] for x viewed as [outer, reduce, inner] (double accumulator); with
   * `divisor` > 0 each term is first divided by it in float32 (tfjs's cpu Mean).
   */
  reduceSum(
    x: Float32Array,
    out: Float32Array,
    outer: number,
    reduce: number,
    inner: number,
    divisor: number,
  ): void;
  /** out = op(x) elementwise, op = UNARY_OP[…] (`alpha` is Step's value for x ≤ 0). */
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /**
   * Row and column maxima and exp-sums of the row-major `n × n` matrix `x` with the entries (i, j),
   * i ≠ j, `groups[i] === groups[j]` left out (`groups` null: none), as tfjs's cpu `logSumExp` computes
   * them (float32 steps, double sums); the caller takes max + log(sum). Optional: an addon built from
   * older sources lacks it (callers then use the JS loop).
   */
  maskedLogSumExp?(
    x: Float32Array,
    n: number,
    groups: Int32Array | null,
    rowMax: Float32Array,
    rowSum: Float32Array,
    colMax: Float32Array,
    colSum: Float32Array,
  ): void;
  /**
   * The per-pair scorer's row and column log-sum-exps of `scale`·x for the row-major `n × n` block x
   * (the first n² entries), with the same left-out entries as {@link maskedLogSumExp}, into `rowLse`
   * and `colLse` (double): one expf per entry under the block's maximum while the scaled range is
   * under 80, else per-row and per-column maxima. Independent of the thread count.
   */
  blockLogSumExp(
    x: Float32Array,
    n: number,
    scale: number,
    groups: Int32Array | null,
    rowLse: Float64Array,
    colLse: Float64Array,
  ): void;
  info(): BlasInfo;
  setNumThreads(n: number): void;
  /** Interface version of the built addon (see {@link BLAS_ABI}). */
  abi: number;
}

/** The addon interface version this code expects (CLEAVE_BLAS_ABI in cleave_blas.c). */
export const BLAS_ABI = 4;

/** Activation codes understood by {@link BlasAddon.epilogue}. */
export const ACTIVATION = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 3,
  leakyrelu: 4,
  sigmoid: 5,
  prelu: 6,
} as const;

/** Operation codes understood by {@link BlasAddon.binary}. */
export const BINARY_OP = { add: 0, sub: 1, mul: 2, div: 3 } as const;

/** Operation codes understood by {@link BlasAddon.unary}. */
export const UNARY_OP = { relu: 0, step: 1, square: 2, exp: 3 } as const;

/** The outcome of loading the addon: the addon, or why not and how to fix it. */
export type BlasLoad =
  | { ok: true; addon: BlasAddon; path: string; info: BlasInfo }
  | { ok: false; reason: string; fix: string };

/** How to get the addon: what the README and error messages tell the user. */
export const BLAS_FIX =
  'install OpenBLAS and rebuild the addon: `apt-get install libopenblas-dev && npm rebuild cleave` ' +
  "(npm 11 runs a dependency's install script only once allowed: `npm install-scripts approve cleave`; " +
  'inside the cleave repository: `npm run build:native`)';

/** Where the built addon lives (the same relative path from `src/` and from `dist/`). */
export const BLAS_ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/cleave_blas.node', import.meta.url),
);

let cached: BlasLoad | undefined;

/**
 * Load the native BLAS addon once (later calls return the cached outcome).
 *
 * @param path the `.node` file to load (default {@link BLAS_ADDON_PATH}; `CLEAVE_BLAS_ADDON` overrides it)
 * @returns `{ ok: true, addon, info }`, or `{ ok: false, reason, fix }` — it never throws
 */
export function loadBlasAddon(path?: string): BlasLoad {
  if (cached && path === undefined) return cached;
  const file = path ?? process.env.CLEAVE_BLAS_ADDON ?? BLAS_ADDON_PATH;
  let result: BlasLoad;
  if (!existsSync(file)) {
    result = { ok: false, reason: `the native BLAS addon is not built (${file} is missing)`, fix: BLAS_FIX };
  } else {
    try {
      const addon = createRequire(import.meta.url)(file) as BlasAddon;
      if (addon.abi !== BLAS_ABI) {
        result = {
          ok: false,
          reason: `the native BLAS addon is out of date (interface ${addon.abi}, expected ${BLAS_ABI})`,
          fix: BLAS_FIX,
        };
      } else {
        result = { ok: true, addon, path: file, info: addon.info() };
      }
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      result = { ok: false, reason: `the native BLAS addon does not load: ${why}`, fix: BLAS_FIX };
    }
  }
  if (path === undefined) cached = result;
  return result;
}
