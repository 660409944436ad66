/**
 * Elementwise kernels of the `cpu-blas` backend written as monomorphic JS loops: the same float
 * expressions as tfjs's reference cpu kernels, element by element (so their outputs are equal bit for
 * bit), without the reference kernels' costs: a shared closure called per element (`Neg`, `Sigmoid`,
 * `Softplus`, `Log`, `Log1p`, `Sqrt`, `Abs`) and coordinate arithmetic per element for broadcast
 * comparisons (`Equal` … `LessEqual`). On the `[128, 128]` matrices of a training step this is 3–30×
 * faster (`npm run bench -- backend`). Other dtypes (int32 negation, bool or string comparisons) go to
 * the reference kernels.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * for (const k of jsKernels('cpu-blas', (_backend, n) => new Float32Array(n))) tf.registerKernel(k);
 * ```
 */
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

type KernelArgs = Parameters<tf.KernelFunc>[0];
/** A float32 output buffer of `n` elements for `backend` (the caller overwrites every element). */
export type Allocate = (backend: unknown, n: number) => Float32Array;

/**
 * Collapse a broadcast a∘b into the fewest dims: size-1 output dims are dropped and neighbouring dims
 * where a and b both move (or both stay) are merged. Returns the dims and each operand's element
 * strides per dim (0 where it is broadcast).
 *
 * @example
 * ```ts
 * collapseBroadcast([128, 1], [1, 128], [128, 128]);   // { dims: [128, 128], aStrides: [1, 0], bStrides: [0, 1] }
 * ```
 */
export function collapseBroadcast(
  aShape: number[],
  bShape: number[],
  outShape: number[],
): { dims: number[]; aStrides: number[]; bStrides: number[] } {
  const rank = outShape.length;
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const pa = pad(aShape);
  const pb = pad(bShape);
  const dims: number[] = [];
  const moves: [boolean, boolean][] = [];
  for (let d = 0; d < rank; d++) {
    const n = outShape[d]!;
    if (n === 1) continue;
    const am = pa[d] !== 1;
    const bm = pb[d] !== 1;
    const last = moves[moves.length - 1];
    if (last && last[0] === am && last[1] === bm) dims[dims.length - 1]! *= n;
    else {
      dims.push(n);
      moves.push([am, bm]);
    }
  }
  if (dims.length === 0) return { dims: [1], aStrides: [0], bStrides: [0] };
  const aStrides = new Array<number>(dims.length);
  const bStrides = new Array<number>(dims.length);
  let sa = 1;
  let sb = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    const [am, bm] = moves[i]!;
    aStrides[i] = am ? sa : 0;
    bStrides[i] = bm ? sb : 0;
    if (am) sa *= dims[i]!;
    if (bm) sb *= dims[i]!;
  }
  return { dims, aStrides, bStrides };
}

// tfjs's cpu Softplus thresholds (float32 machine epsilon), word for word
const EPSILON = 1.1920928955078125e-7;
const THRESHOLD = Math.log(EPSILON) + 2.0;

/**
 * tfjs's cpu `Softplus` of one value, in double (the kernel stores it rounded to float32): `exp(v)`
 * below the underflow threshold, `v` above the overflow one, `log(1 + exp(v))` between.
 *
 * @example
 * ```ts
 * Math.fround(softplusOf(0));   // the Softplus kernel's value at 0: float32(log 2)
 * ```
 */
export function softplusOf(v: number): number {
  const e = Math.exp(v);
  return v < THRESHOLD ? e : v > -THRESHOLD ? v : Math.log(1.0 + e);
}

/**
 * One loop per op, so each stays monomorphic. Each expression is the reference kernel's: the
 * element read from a Float32Array as a double, the result rounded to float32 when stored.
 */
const UNARY_LOOPS: Record<string, (x: Float32Array, o: Float32Array) => void> = {
  [tf.Neg]: (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = x[i]! * -1;
  },
  [tf.Sigmoid]: (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = 1 / (1 + Math.exp(-x[i]!));
  },
  [tf.Softplus]: (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = softplusOf(x[i]!);
  },
  [tf.Log]: (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.log(x[i]!);
  },
  [tf.Log1p]: (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.log1p(x[i]!);
  },
  [tf.Sqrt]: (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.sqrt(x[i]!);
  },
  [tf.Abs]: (x, o) => {
    for (let i = 0; i < x.length; i++) o[i] = Math.abs(x[i]!);
  },
};

type Values = Float32Array | Int32Array;
type Compare = (a: Values, b: Values, o: Uint8Array, dims: number[], as: number[], bs: number[]) => void;

/** A broadcast comparison as one odometer over the collapsed dims; `test` is inlined per op. */
function comparison(test: (x: number, y: number) => boolean): Compare {
  return (a, b, o, dims, as, bs) => {
    const nd = dims.length;
    const len = dims[nd - 1]!;
    const sa = as[nd - 1]!;
    const sb = bs[nd - 1]!;
    const idx = new Array<number>(nd).fill(0);
    let offA = 0;
    let offB = 0;
    for (let out = 0; out < o.length; out += len) {
      for (let j = 0; j < len; j++) o[out + j] = test(a[offA + j * sa]!, b[offB + j * sb]!) ? 1 : 0;
      for (let k = nd - 2; k >= 0; k--) {
        idx[k]! += 1;
        offA += as[k]!;
        offB += bs[k]!;
        if (idx[k]! < dims[k]!) break;
        offA -= as[k]! * dims[k]!;
        offB -= bs[k]! * dims[k]!;
        idx[k] = 0;
      }
    }
  };
}

const COMPARISONS: Record<string, Compare> = {
  [tf.Equal]: comparison((x, y) => x === y),
  [tf.NotEqual]: comparison((x, y) => x !== y),
  [tf.Greater]: comparison((x, y) => x > y),
  [tf.GreaterEqual]: comparison((x, y) => x >= y),
  [tf.Less]: comparison((x, y) => x < y),
  [tf.LessEqual]: comparison((x, y) => x <= y),
};

/** The kernels of this module for `backendName`; each defers to `reference` (the cpu kernel) when it does not apply. */
export function jsKernels(
  backendName: string,
  alloc: Allocate,
  reference: (kernelName: string) => tf.KernelFunc,
): tf.KernelConfig[] {
  const unary = Object.entries(UNARY_LOOPS).map(([kernelName, loop]): tf.KernelConfig => {
    const fallback = reference(kernelName);
    const kernelFunc = (args: KernelArgs) => {
      const { x } = args.inputs as unknown as { x: tf.TensorInfo };
      const backend = args.backend as MathBackendCPU;
      const values = backend.data.get(x.dataId).values;
      if (x.dtype !== 'float32' || !(values instanceof Float32Array)) return fallback(args);
      const out = alloc(backend, values.length);
      loop(values, out);
      return backend.makeTensorInfo(x.shape, 'float32', out);
    };
    return { kernelName, backendName, kernelFunc: kernelFunc as tf.KernelFunc };
  });
  const compare = Object.entries(COMPARISONS).map(([kernelName, loop]): tf.KernelConfig => {
    const fallback = reference(kernelName);
    const kernelFunc = (args: KernelArgs) => {
      const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
      const backend = args.backend as MathBackendCPU;
      const av = backend.data.get(a.dataId).values;
      const bv = backend.data.get(b.dataId).values;
      const typed = (v: unknown) => v instanceof Float32Array || v instanceof Int32Array;
      if (a.dtype !== b.dtype || !typed(av) || !typed(bv)) return fallback(args);
      const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = new Uint8Array(tf.util.sizeFromShape(outShape));
      if (out.length > 0) {
        const { dims, aStrides, bStrides } = collapseBroadcast(a.shape, b.shape, outShape);
        loop(av as Values, bv as Values, out, dims, aStrides, bStrides);
      }
      return backend.makeTensorInfo(outShape, 'bool', out);
    };
    return { kernelName, backendName, kernelFunc: kernelFunc as tf.KernelFunc };
  });
  return [...unary, ...compare];
}
