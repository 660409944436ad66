/**
 * Long file: one backend: its buffer pool, its native kernels and their registration share the addon
 * and the float32 semantics they must keep equal to the reference cpu kernels.
 *
 * The `cpu-blas` tfjs backend: tfjs's own `MathBackendCPU` with every `cpu` kernel registered under the
 * name `cpu-blas`, and `BatchMatMul` / `_FusedMatMul` replaced by OpenBLAS `cblas_sgemm` through the
 * native addon. All ranks, batch broadcasting (numpy rules), both transposes, fused bias and every fused
 * activation (linear, relu, relu6, elu, leakyrelu, prelu, sigmoid) are supported; other dtypes and
 * unusual bias/prelu shapes fall back to the reference cpu kernels. The hot elementwise kernels of a
 * training step also run natively, with the reference kernels' float32 semantics: broadcast
 * `Add`/`Sub`/`Mul`/`RealDiv`, `Relu`, `Step`, `Square`, `Exp`, and `Sum`/`Mean` over contiguous axes;
 * others run as tight JS loops with the same expressions (`js-kernels.ts`).
 * Large outputs come from a recycling buffer pool ({@link CpuBlasBackend}).
 * The plain `cpu` backend is untouched.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * const blas = loadBlasAddon();
 * if (blas.ok) { registerCpuBlasBackend(blas.addon); await tf.setBackend('cpu-blas'); }
 * ```
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { collapseBroadcast, jsKernels } from './js-kernels.js';
import { ACTIVATION, BINARY_OP, type BlasAddon, UNARY_OP } from './native.js';

/** The registered name of the backend. */
export const CPU_BLAS = 'cpu-blas';

type KernelArgs = Parameters<tf.KernelFunc>[0];
interface MatMulInputs {
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  bias?: tf.TensorInfo;
  preluActivationWeights?: tf.TensorInfo;
}
interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

/** Buffers below this many elements are left to the garbage collector. */
const POOL_MIN_ELEMENTS = 16_384;
/** At most this many bytes wait in the pool, and this many buffers per size. */
const POOL_MAX_BYTES = 256 * 1024 * 1024;
const POOL_MAX_PER_SIZE = 8;

/**
 * tfjs's `MathBackendCPU` with a recycling pool for the large float32 buffers that cpu-blas kernels
 * allocate (matmul outputs, gradients, optimizer outputs). Without it, each training step hands V8
 * tens of MB of fresh ArrayBuffers and "external memory pressure" GCs take a large share of the step.
 *
 * A buffer is recycled only when it is provably unreachable from outside the backend: the pool made it,
 * no live tensor data references it (views such as a slice's `subarray` count), and it was never handed
 * out (`dataSync`/`data`/`bufferSync` go through `readSync`, which marks the buffer as exposed; arrays
 * given to `write`/`move`, such as a user's `tf.tensor(myArray)`, are never pooled).
 */
export class CpuBlasBackend extends MathBackendCPU {
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  private readonly liveRefs = new Map<ArrayBufferLike, number>();
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private readonly exposed = new WeakSet<ArrayBufferLike>();

  /** A float32 buffer of `n` elements with arbitrary contents (callers overwrite every element). */
  alloc(n: number): Float32Array {
    if (n < POOL_MIN_ELEMENTS) return new Float32Array(n);
    const reused = this.pool.get(n)?.pop();
    if (reused) {
      this.pooledBytes -= reused.byteLength;
      return reused;
    }
    const fresh = new Float32Array(n);
    this.owned.add(fresh.buffer);
    return fresh;
  }

  /** Replace the values of a tensor's data in place of a copy (the old buffer may be recycled). */
  replaceValues(dataId: object, values: Float32Array): void {
    const entry = this.data.get(dataId);
    const old = entry.values;
    entry.values = values;
    this.track(values);
    this.untrack(old);
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object {
    const id = super.write(values, shape, dtype);
    this.track(values);
    return id;
  }

  override move(
    dataId: object,
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    super.move(dataId, values, shape, dtype, refCount);
    this.track(values);
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    const values = super.readSync(dataId);
    if (ArrayBuffer.isView(values)) this.exposed.add(values.buffer);
    const own = this.data.get(dataId)?.values;
    if (own && ArrayBuffer.isView(own)) this.exposed.add(own.buffer);
    return values;
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const removed = super.disposeData(dataId, force);
    if (removed && values !== undefined && !this.data.has(dataId)) this.untrack(values);
    return removed;
  }

  override dispose(): void {
    this.pool.clear();
    this.pooledBytes = 0;
    super.dispose();
  }

  private track(values: unknown): void {
    if (!ArrayBuffer.isView(values)) return;
    this.liveRefs.set(values.buffer, (this.liveRefs.get(values.buffer) ?? 0) + 1);
  }

  private untrack(values: unknown): void {
    if (!ArrayBuffer.isView(values)) return;
    const buffer = values.buffer;
    const left = (this.liveRefs.get(buffer) ?? 1) - 1;
    if (left > 0) {
      this.liveRefs.set(buffer, left);
      return;
    }
    this.liveRefs.delete(buffer);
    if (!(values instanceof Float32Array) || !this.owned.has(buffer) || this.exposed.has(buffer)) return;
    if (values.byteOffset !== 0 || values.byteLength !== buffer.byteLength) return;
    if (this.pooledBytes + values.byteLength > POOL_MAX_BYTES) return;
    let list = this.pool.get(values.length);
    if (!list) {
      list = [];
      this.pool.set(values.length, list);
    }
    if (list.length >= POOL_MAX_PER_SIZE) return;
    list.push(values);
    this.pooledBytes += values.byteLength;
  }
}

/** A float32 output buffer from the backend's pool when it has one. */
export function allocOutput(backend: unknown, n: number): Float32Array {
  return backend instanceof CpuBlasBackend ? backend.alloc(n) : new Float32Array(n);
}

/** tfjs prints a "use tfjs-node" hint on a cpu backend's first write; cleave picks backends itself. */
export function silenceNodeHint(backend: unknown): void {
  if (backend instanceof MathBackendCPU) (backend as unknown as { firstUse: boolean }).firstUse = false;
}

/** The Float32Array behind a float32 tensor of a cpu-family backend. */
export function f32Values(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array {
  const values = backend.data.get(t.dataId).values;
  if (values instanceof Float32Array) return values;
  return Float32Array.from(values as ArrayLike<number>);
}

function cpuKernel(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, 'cpu');
  // invariant: registerCpuBlasBackend imports the cpu backend first, so every kernel is there
  if (!k) throw new Error(`internal: cpu-blas: the reference cpu kernel ${name} is not registered`);
  return k.kernelFunc;
}

interface MatMulResult {
  /** [broadcast batch dims..., M, N] */
  shape: number[];
  values: Float32Array;
}

/** Row-major strides of the batch dims of `dims` aligned right against `outDims` (0 where broadcast). */
function broadcastStrides(dims: number[], outDims: number[], matrixSize: number): number[] {
  const strides = new Array<number>(outDims.length).fill(0);
  let stride = matrixSize;
  for (let i = dims.length - 1, o = outDims.length - 1; i >= 0; i--, o--) {
    const d = dims[i]!;
    if (d !== 1) strides[o] = stride;
    stride *= d;
  }
  return strides;
}

/**
 * op(a) · op(b) over broadcast batch dims with BLAS. Exposed for tests and the benchmark.
 *
 * @returns the product's shape `[...broadcast(batchA, batchB), M, N]` and its values
 */
export function blasMatMul(
  addon: BlasAddon,
  a: { shape: number[]; values: Float32Array },
  b: { shape: number[]; values: Float32Array },
  transposeA: boolean,
  transposeB: boolean,
  alloc: (n: number) => Float32Array = (n) => new Float32Array(n),
): MatMulResult {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const ka = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (ka !== kb) {
    // invariant: tf.matMul checks the shapes before any kernel runs; this is tfjs's own kernel error,
    // word for word, for a caller that runs the kernel directly
    throw new Error(
      `Error in matMul: inner shapes (${ka}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const k = ka;
  const aOuter = a.shape.slice(0, -2);
  const bOuter = b.shape.slice(0, -2);
  const outOuter = tf.broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter);
  const batch = tf.util.sizeFromShape(outOuter);
  const aBatch = tf.util.sizeFromShape(aOuter);
  const bBatch = tf.util.sizeFromShape(bOuter);
  const out = alloc(batch * m * n);
  const shape = [...outOuter, m, n];
  if (out.length === 0) return { shape, values: out };
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  if (batch === 1) {
    addon.sgemm(transposeA, transposeB, m, n, k, 1, a.values, lda, b.values, ldb, 0, out, n);
  } else if (bBatch === 1 && !transposeA && aBatch === batch) {
    // [..., M, K] · [K, N]: one tall product of (batch·M) × K by K × N
    addon.sgemm(false, transposeB, batch * m, n, k, 1, a.values, k, b.values, ldb, 0, out, n);
  } else {
    const aStrides = broadcastStrides(aOuter, outOuter, m * k);
    const bStrides = broadcastStrides(bOuter, outOuter, k * n);
    const aOff = new Float64Array(batch);
    const bOff = new Float64Array(batch);
    for (let i = 0; i < batch; i++) {
      let rest = i;
      let ao = 0;
      let bo = 0;
      for (let d = outOuter.length - 1; d >= 0; d--) {
        const size = outOuter[d]!;
        const idx = rest % size;
        rest = (rest - idx) / size;
        ao += idx * aStrides[d]!;
        bo += idx * bStrides[d]!;
      }
      aOff[i] = ao;
      bOff[i] = bo;
    }
    addon.sgemmBatched(transposeA, transposeB, m, n, k, a.values, aOff, b.values, bOff, out);
  }
  return { shape, values: out };
}

function isRowVector(shape: number[], n: number): boolean {
  const size = tf.util.sizeFromShape(shape);
  return size === 1 || (size === n && shape[shape.length - 1] === n);
}

function makeKernels(addon: BlasAddon): tf.KernelConfig[] {
  const cpuBatchMatMul = cpuKernel(tf.BatchMatMul);
  const cpuFusedMatMul = cpuKernel(tf._FusedMatMul);
  const cpuAdd = cpuKernel(tf.Add);
  const cpuPrelu = cpuKernel(tf.Prelu);

  const product = (backend: MathBackendCPU, inputs: MatMulInputs, attrs: MatMulAttrs) =>
    blasMatMul(
      addon,
      { shape: inputs.a.shape, values: f32Values(backend, inputs.a) },
      { shape: inputs.b.shape, values: f32Values(backend, inputs.b) },
      attrs.transposeA,
      attrs.transposeB,
      (n) => allocOutput(backend, n),
    );

  const batchMatMul = (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as MathBackendCPU;
    const inputs = args.inputs as unknown as MatMulInputs;
    if (inputs.a.dtype !== 'float32' || inputs.b.dtype !== 'float32')
      return cpuBatchMatMul(args) as tf.TensorInfo;
    const r = product(backend, inputs, args.attrs as unknown as MatMulAttrs);
    return backend.makeTensorInfo(r.shape, 'float32', r.values);
  };

  const fusedMatMul = (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as MathBackendCPU;
    const inputs = args.inputs as unknown as MatMulInputs;
    const attrs = args.attrs as unknown as MatMulAttrs;
    const { a, b, bias, preluActivationWeights } = inputs;
    const { activation, leakyreluAlpha } = attrs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) {
      return cpuFusedMatMul(args) as tf.TensorInfo;
    }
    const r = product(backend, inputs, attrs);
    const n = r.shape[r.shape.length - 1]!;
    const act = activation ?? 'linear';
    const nativeBias = bias == null || isRowVector(bias.shape, n);
    const nativeAct =
      act !== 'prelu' ||
      (preluActivationWeights != null &&
        preluActivationWeights.dtype === 'float32' &&
        isRowVector(preluActivationWeights.shape, n));
    const code = ACTIVATION[act as keyof typeof ACTIVATION];
    // invariant: tfjs's fused ops accept only the activations in ACTIVATION; tfjs's own kernel error
    if (code === undefined)
      throw new Error(`Activation ${act} has not been implemented for the cpu-blas backend.`);
    const alpha = act === 'prelu' && nativeAct ? f32Values(backend, preluActivationWeights!) : null;
    if (r.values.length === 0) return backend.makeTensorInfo(r.shape, 'float32', r.values);

    if (nativeBias && nativeAct) {
      const biasValues = bias ? f32Values(backend, bias) : null;
      addon.epilogue(r.values, n, biasValues, code, leakyreluAlpha ?? 0.2, alpha);
      return backend.makeTensorInfo(r.shape, 'float32', r.values);
    }
    // unusual shapes: the reference kernels for the bias and/or the prelu, BLAS for the rest
    let current = backend.makeTensorInfo(r.shape, 'float32', r.values);
    if (bias) {
      if (nativeBias) {
        addon.epilogue(r.values, n, f32Values(backend, bias), ACTIVATION.linear, 0, null);
      } else {
        const added = cpuAdd({ inputs: { a: current, b: bias }, backend, attrs: {} }) as tf.TensorInfo;
        backend.disposeIntermediateTensorInfo(current);
        current = added;
      }
    }
    if (act === 'prelu' && !nativeAct) {
      const inputs = { x: current, alpha: preluActivationWeights! };
      const activated = cpuPrelu({ inputs, backend, attrs: {} }) as tf.TensorInfo;
      backend.disposeIntermediateTensorInfo(current);
      return activated;
    }
    if (act !== 'linear') {
      addon.epilogue(f32Values(backend, current), n, null, code, leakyreluAlpha ?? 0.2, alpha);
    }
    return current;
  };

  /** A cpu-blas kernel: `run` computes natively, or returns undefined to use the reference cpu kernel. */
  const native = (
    kernelName: string,
    run: (args: KernelArgs, backend: MathBackendCPU) => tf.TensorInfo | undefined,
  ): tf.KernelConfig => {
    const reference = cpuKernel(kernelName);
    const kernelFunc = (args: KernelArgs) =>
      run(args, args.backend as MathBackendCPU) ?? (reference(args) as tf.TensorInfo);
    return { kernelName, backendName: CPU_BLAS, kernelFunc: kernelFunc as tf.KernelFunc };
  };

  const binary = (kernelName: string, op: number) =>
    native(kernelName, (args, backend) => {
      const { a, b } = args.inputs as unknown as MatMulInputs;
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
      const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = allocOutput(backend, tf.util.sizeFromShape(outShape));
      if (out.length > 0) {
        const { dims, aStrides, bStrides } = collapseBroadcast(a.shape, b.shape, outShape);
        addon.binary(
          op,
          f32Values(backend, a),
          f32Values(backend, b),
          out,
          Float64Array.from(dims),
          Float64Array.from(aStrides),
          Float64Array.from(bStrides),
        );
      }
      return backend.makeTensorInfo(outShape, 'float32', out);
    });

  /** Sum (or Mean, dividing each term first like tfjs's cpu Mean) over one contiguous block of axes. */
  const reduction = (kernelName: string, mean: boolean) =>
    native(kernelName, (args, backend) => {
      const { x } = args.inputs as unknown as { x: tf.TensorInfo };
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      if (x.dtype !== 'float32') return undefined;
      const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
      const contiguous = axes.every((ax, i) => i === 0 || ax === axes[i - 1]! + 1);
      if (axes.length === 0 || !contiguous) return undefined;
      const first = axes[0]!;
      const last = axes[axes.length - 1]!;
      const outer = tf.util.sizeFromShape(x.shape.slice(0, first));
      const reduce = tf.util.sizeFromShape(x.shape.slice(first, last + 1));
      const inner = tf.util.sizeFromShape(x.shape.slice(last + 1));
      const out = allocOutput(backend, outer * inner);
      if (out.length > 0)
        addon.reduceSum(f32Values(backend, x), out, outer, reduce, inner, mean ? reduce : 0);
      const kept = x.shape.map((d, i) => (i >= first && i <= last ? 1 : d));
      const outShape = keepDims ? kept : x.shape.filter((_, i) => i < first || i > last);
      return backend.makeTensorInfo(outShape, 'float32', out);
    });

  const unary = (kernelName: string, op: number) =>
    native(kernelName, (args, backend) => {
      const { x } = args.inputs as unknown as { x: tf.TensorInfo };
      if (x.dtype !== 'float32') return undefined;
      const values = f32Values(backend, x);
      const out = allocOutput(backend, values.length);
      const alpha = (args.attrs as { alpha?: number } | undefined)?.alpha ?? 0;
      if (out.length > 0) addon.unary(op, values, out, alpha);
      return backend.makeTensorInfo(x.shape, 'float32', out);
    });

  // 2-D float32 transposes (what reductions over axis 0, e.g. a column logSumExp, run first) in 32 × 32
  // tiles; tfjs's generic transposeImpl computes every element's index from its coordinates.
  const transpose = native(tf.Transpose, (args, backend) => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    const perm = (args.attrs as { perm: number[] }).perm;
    if (x.dtype !== 'float32' || x.shape.length !== 2 || perm[0] !== 1 || perm[1] !== 0) return undefined;
    const [rows, cols] = x.shape as [number, number];
    const values = f32Values(backend, x);
    const out = allocOutput(backend, values.length);
    const T = 32;
    for (let r0 = 0; r0 < rows; r0 += T) {
      const r1 = Math.min(rows, r0 + T);
      for (let c0 = 0; c0 < cols; c0 += T) {
        const c1 = Math.min(cols, c0 + T);
        for (let r = r0; r < r1; r++) {
          const src = r * cols;
          for (let c = c0; c < c1; c++) out[c * rows + r] = values[src + c]!;
        }
      }
    }
    return backend.makeTensorInfo([cols, rows], 'float32', out);
  });

  return [
    transpose,
    binary(tf.Add, BINARY_OP.add),
    binary(tf.Sub, BINARY_OP.sub),
    binary(tf.Multiply, BINARY_OP.mul),
    binary(tf.RealDiv, BINARY_OP.div),
    reduction(tf.Sum, false),
    reduction(tf.Mean, true),
    unary(tf.Relu, UNARY_OP.relu),
    unary(tf.Step, UNARY_OP.step),
    unary(tf.Square, UNARY_OP.square),
    unary(tf.Exp, UNARY_OP.exp),
    { kernelName: tf.BatchMatMul, backendName: CPU_BLAS, kernelFunc: batchMatMul as tf.KernelFunc },
    { kernelName: tf._FusedMatMul, backendName: CPU_BLAS, kernelFunc: fusedMatMul as tf.KernelFunc },
  ];
}

/** The addon the `cpu-blas` backend was registered with (set by {@link registerCpuBlasBackend}). */
let registeredAddon: BlasAddon | undefined;

/**
 * The native addon behind the active tfjs backend when that backend is `cpu-blas`, else undefined: for
 * fused host-side loops that should use the same native float semantics as the backend's kernels.
 *
 * @example
 * ```ts
 * const addon = activeBlasAddon();
 * if (addon?.maskedLogSumExp) addon.maskedLogSumExp(x, n, null, rowMax, rowSum, colMax, colSum);
 * ```
 */
export function activeBlasAddon(): BlasAddon | undefined {
  return tf.getBackend() === CPU_BLAS ? registeredAddon : undefined;
}

/**
 * Register the `cpu-blas` backend with tfjs (idempotent). It does not switch to it: call
 * `tf.setBackend('cpu-blas')` (or let `initBackend` do it).
 *
 * @param addon the loaded native addon (see `loadBlasAddon`)
 */
export function registerCpuBlasBackend(addon: BlasAddon): void {
  if (tf.findBackendFactory(CPU_BLAS)) return;
  registeredAddon = addon;
  tf.registerBackend(
    CPU_BLAS,
    () => {
      const backend = new CpuBlasBackend();
      silenceNodeHint(backend);
      return backend;
    },
    0,
  );
  const overrides = [...makeKernels(addon), ...jsKernels(CPU_BLAS, allocOutput, cpuKernel)];
  const replaced = new Set(overrides.map((k) => k.kernelName));
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    if (!replaced.has(kernel.kernelName)) tf.registerKernel({ ...kernel, backendName: CPU_BLAS });
  }
  for (const kernel of overrides) tf.registerKernel(kernel);
}
