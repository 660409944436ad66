/**
 * Parity of the cpu-blas kernels with tfjs's reference cpu kernels (and with numpy where the
 * reference cpu kernel is itself wrong), over random shapes (fast-check), plus gradients.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CPU_BLAS, CpuBlasBackend } from '../../../src/core/backend/cpu-blas.js';
import { collapseBroadcast } from '../../../src/core/backend/js-kernels.js';
import type { BlasAddon } from '../../../src/core/backend/native.js';
import { EXCLUDED, maskedLogSumExp, sameImageMask } from '../../../src/core/losses/batch.js';
import { expectClose, on, randn, requireCpuBlas } from './helpers.js';

let addon: BlasAddon;
beforeAll(async () => {
  addon = await requireCpuBlas();
});

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const tensor = (shape: number[], seed: number, scale = 1) =>
  tf.tensor(randn(seed, size(shape), scale), shape);

/** A batch shape derived from `out`: `drop` leading dims removed, dims in `ones` set to 1. */
function derive(out: number[], drop: number, ones: boolean[]): number[] {
  return out.slice(Math.min(drop, out.length)).map((d, i) => (ones[i] ? 1 : d));
}

const dim = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 9 }) },
  fc.integer({ min: 30, max: 80 }),
);

const matMulCase = fc.record({
  outBatch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
  dropA: fc.integer({ min: 0, max: 2 }),
  dropB: fc.integer({ min: 0, max: 2 }),
  onesA: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
  onesB: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
  m: dim,
  k: dim,
  n: dim,
  transposeA: fc.boolean(),
  transposeB: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('cpu-blas BatchMatMul', () => {
  it('matches the cpu kernel on explicitly broadcast inputs: ranks 2–4, batch broadcasting, transposes', async () => {
    await fc.assert(
      fc.asyncProperty(matMulCase, async (c) => {
        const aBatch = derive(c.outBatch, c.dropA, c.onesA);
        const bBatch = derive(c.outBatch, c.dropB, c.onesB);
        const aMat = c.transposeA ? [c.k, c.m] : [c.m, c.k];
        const bMat = c.transposeB ? [c.n, c.k] : [c.k, c.n];
        const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch);
        const build = () =>
          [tensor([...aBatch, ...aMat], c.seed), tensor([...bBatch, ...bMat], c.seed + 1)] as const;
        const [got] = await on(CPU_BLAS, () => {
          const [a, b] = build();
          const out = tf.matMul(a, b, c.transposeA, c.transposeB);
          expect(out.shape).toEqual([...outBatch, c.m, c.n]);
          return out;
        });
        const [want] = await on('cpu', () => {
          const [a, b] = build();
          const fullA = tf.broadcastTo(a, [...outBatch, ...aMat]);
          const fullB = tf.broadcastTo(b, [...outBatch, ...bMat]);
          return tf.matMul(fullA, fullB, c.transposeA, c.transposeB);
        });
        expectClose(got!, want!, 2e-6 * c.k, 1e-5, `matMul ${JSON.stringify(c)}`);
      }),
      { numRuns: 120, seed: 42 },
    );
  });

  it('follows numpy.matmul broadcasting, where both operands broadcast (fixture from test/reference/blas_matmul.py)', async () => {
    const fixture = JSON.parse(
      readFileSync(
        new URL('../../reference/fixtures/backend/matmul_broadcast.json', import.meta.url),
        'utf8',
      ),
    ) as {
      cases: {
        a: { shape: number[]; values: number[] };
        b: { shape: number[]; values: number[] };
        transposeA: boolean;
        transposeB: boolean;
        out: { shape: number[]; values: number[] };
      }[];
    };
    expect(fixture.cases.length).toBeGreaterThan(0);
    await tf.setBackend(CPU_BLAS);
    for (const c of fixture.cases) {
      const out = tf.matMul(
        tf.tensor(c.a.values, c.a.shape),
        tf.tensor(c.b.values, c.b.shape),
        c.transposeA,
        c.transposeB,
      );
      expect(out.shape).toEqual(c.out.shape);
      expectClose(
        out.dataSync(),
        c.out.values,
        1e-5,
        1e-5,
        `numpy case ${JSON.stringify(c.a.shape)}·${JSON.stringify(c.b.shape)}`,
      );
      out.dispose();
    }
  });

  it('handles empty products and an empty inner dimension (zeros)', async () => {
    await tf.setBackend(CPU_BLAS);
    const zeroK = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4]));
    expect(zeroK.shape).toEqual([3, 4]);
    expect(Array.from(zeroK.dataSync())).toEqual(new Array(12).fill(0));
    const zeroM = tf.matMul(tf.zeros([2, 0, 5]), tf.ones([5, 3]));
    expect(zeroM.shape).toEqual([2, 0, 3]);
  });

  it('falls back to the reference kernel for int32 (exact)', async () => {
    const build = () => [
      tf.tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32'),
      tf.tensor([1, -1, 2, 0, 3, 1], [3, 2], 'int32'),
    ];
    await tf.setBackend(CPU_BLAS);
    const [a, b] = build();
    const got = tf.matMul(a!, b!);
    expect(got.dtype).toBe('int32');
    expect(Array.from(got.dataSync())).toEqual([14, 2, 32, 2]);
  });

  it('rejects inner-dimension mismatches like the cpu kernel', async () => {
    await tf.setBackend(CPU_BLAS);
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2]))).toThrow(/inner shapes/);
  });
});

const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'prelu', 'sigmoid'] as const;

describe('cpu-blas _FusedMatMul', () => {
  it('matches the cpu kernel for every bias shape and activation', async () => {
    const fusedCase = fc.record({
      batch: fc.integer({ min: 1, max: 3 }),
      broadcastB: fc.boolean(),
      m: dim,
      k: dim,
      n: dim,
      transposeA: fc.boolean(),
      transposeB: fc.boolean(),
      bias: fc.constantFrom('none', 'vector', 'row', 'scalar', 'matrix'),
      activation: fc.constantFrom(...ACTIVATIONS),
      alphaShape: fc.constantFrom('vector', 'scalar', 'matrix'),
      leakyreluAlpha: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
      seed: fc.integer({ min: 0, max: 1e6 }),
    });
    await fc.assert(
      fc.asyncProperty(fusedCase, async (c) => {
        const build = () => {
          const a = tensor([c.batch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])], c.seed);
          const b = tensor(
            [c.broadcastB ? 1 : c.batch, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])],
            c.seed + 1,
          );
          const biasShape = { none: null, vector: [c.n], row: [1, c.n], scalar: [], matrix: [c.m, c.n] }[
            c.bias
          ];
          const bias = biasShape ? tensor(biasShape, c.seed + 2) : undefined;
          const alphaShape = { vector: [c.n], scalar: [], matrix: [c.m, c.n] }[c.alphaShape];
          const preluActivationWeights =
            c.activation === 'prelu' ? tensor(alphaShape, c.seed + 3, 0.3) : undefined;
          return tf.fused.matMul({
            a,
            b,
            transposeA: c.transposeA,
            transposeB: c.transposeB,
            bias,
            activation: c.activation,
            preluActivationWeights,
            leakyreluAlpha: c.leakyreluAlpha,
          });
        };
        const [got] = await on(CPU_BLAS, build);
        const [want] = await on('cpu', build);
        expectClose(got!, want!, 2e-6 * c.k, 1e-5, `fused ${JSON.stringify(c)}`);
      }),
      { numRuns: 150, seed: 7 },
    );
  });
});

describe('cpu-blas gradients', () => {
  it('tf.grads through matMul and fused matMul (bias) equal the cpu backend', async () => {
    const gradCase = fc.record({
      // one batch size for both: tfjs-core's BatchMatMul gradient does not support batch broadcasting
      batch: fc.constantFrom(0, 1, 3),
      m: fc.integer({ min: 1, max: 12 }),
      k: fc.integer({ min: 1, max: 40 }),
      n: fc.integer({ min: 1, max: 12 }),
      transposeA: fc.boolean(),
      transposeB: fc.boolean(),
      fused: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1e6 }),
    });
    await fc.assert(
      fc.asyncProperty(gradCase, async (c) => {
        const batch = c.batch ? [c.batch] : [];
        const aShape = [...batch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])];
        const bShape = [...batch, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])];
        const run = () => {
          const a = tensor(aShape, c.seed);
          const b = tensor(bShape, c.seed + 1);
          const bias = tensor([c.n], c.seed + 2);
          const weights = tensor([...batch, c.m, c.n], c.seed + 3);
          const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => {
            const product = c.fused
              ? tf.fused.matMul({ a: x, b: y, bias: z, transposeA: c.transposeA, transposeB: c.transposeB })
              : tf.add(tf.matMul(x, y, c.transposeA, c.transposeB), z);
            return tf.sum(tf.mul(tf.square(product), weights));
          };
          return tf.grads(f)([a, b, bias]);
        };
        const got = await on(CPU_BLAS, run);
        const want = await on('cpu', run);
        for (let i = 0; i < 3; i++)
          expectClose(got[i]!, want[i]!, 1e-4 * c.k, 1e-4, `grad ${i} ${JSON.stringify(c)}`);
      }),
      { numRuns: 60, seed: 11 },
    );
  });

  it('tf.variableGrads of the L2-normalised hinge loss equal the cpu backend', async () => {
    const run = () => {
      const w = tf.variable(tensor([20, 8], 1, 0.3), true, `w-${tf.getBackend()}`);
      const x = tensor([6, 20], 2);
      const y = tensor([6, 8], 3);
      const { value, grads } = tf.variableGrads(() => {
        const u = tf.mul(tf.matMul(x, w), tf.rsqrt(tf.sum(tf.square(tf.matMul(x, w)), 1, true)));
        const s = tf.matMul(u, y, false, true);
        return tf.mean(tf.relu(tf.add(tf.sub(s, tf.sum(tf.mul(u, y), 1, true)), 0.2))) as tf.Scalar;
      }, [w]);
      const out = [value, grads[w.name]!];
      w.dispose();
      return out;
    };
    const got = await on(CPU_BLAS, run);
    const want = await on('cpu', run);
    expectClose(got[0]!, want[0]!, 1e-6, 1e-5, 'loss');
    expectClose(got[1]!, want[1]!, 1e-6, 1e-4, 'dL/dw');
    expect(Math.max(...got[1]!.map(Math.abs))).toBeGreaterThan(0);
  });
});

describe('cpu-blas elementwise kernels', () => {
  const shapeWithBroadcast = fc
    .record({
      out: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 4 }),
      dropA: fc.integer({ min: 0, max: 4 }),
      dropB: fc.integer({ min: 0, max: 4 }),
      onesA: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      onesB: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    })
    .map((r) => ({ a: derive(r.out, r.dropA, r.onesA), b: derive(r.out, r.dropB, r.onesB) }));

  it('Add, Sub, Mul, Div with broadcasting equal the cpu kernels exactly', async () => {
    const ops = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div } as const;
    await fc.assert(
      fc.asyncProperty(
        shapeWithBroadcast,
        fc.constantFrom(...(Object.keys(ops) as (keyof typeof ops)[])),
        fc.integer({ min: 0, max: 1e6 }),
        async ({ a, b }, op, seed) => {
          const run = () => ops[op](tensor(a, seed), tensor(b, seed + 1));
          const [got] = await on(CPU_BLAS, run);
          const [want] = await on('cpu', run);
          expect(Array.from(got!)).toEqual(Array.from(want!));
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });

  it('Relu, Step and Square equal the cpu kernels exactly (random values and the special ones)', async () => {
    const special = [0, -0, 1, -1, Infinity, -Infinity, Number.NaN, 1e-40, -1e-40, 3.4e38];
    const run = () => {
      const x = tf.concat([tf.tensor(special), tensor([5000], 9)]);
      return [tf.relu(x), tf.step(x), tf.step(x, 0.25), tf.square(x)];
    };
    const got = await on(CPU_BLAS, run);
    const want = await on('cpu', run);
    for (let i = 0; i < got.length; i++) expect(Array.from(got[i]!)).toEqual(Array.from(want[i]!));
    expect(Object.is(got[0]![1], 0)).toBe(true); // relu(-0) is +0, as Math.max(0, -0)
  });

  it('Exp and 2-D Transpose equal the cpu kernels exactly; other transposes fall back to them', async () => {
    const special = [0, -0, 1, -1, 88.7, 88.8, -103, -104, Infinity, -Infinity, Number.NaN, 1e-40];
    const run = () => {
      const x = tf.concat([tf.tensor(special), tensor([5000], 11)]);
      const m = tensor([37, 70], 12);
      return [
        tf.exp(x),
        tf.exp(tf.mul(x, 10)),
        tf.transpose(m),
        tf.logSumExp(m, 0),
        tf.transpose(tensor([3, 4, 5], 13), [2, 0, 1]),
      ];
    };
    const got = await on(CPU_BLAS, run);
    const want = await on('cpu', run);
    for (let i = 0; i < got.length; i++) expect(Array.from(got[i]!)).toEqual(Array.from(want[i]!));
  });

  it('the JS-loop kernels (Neg, Sigmoid, Softplus, Log, Log1p, Sqrt, Abs) equal the cpu kernels exactly', async () => {
    const special = [0, -0, 1, -1, 13.8, 13.9, 15.9, 16, -15.9, -16, 88.8, -104];
    const edge = [Infinity, -Infinity, Number.NaN, 1e-40, -1e-40, 3.4e38, -3.4e38];
    const run = () => {
      const x = tf.concat([tf.tensor([...special, ...edge]), tensor([5000], 21, 8)]);
      const positive = tf.abs(x);
      return [
        tf.neg(x),
        tf.sigmoid(x),
        tf.softplus(x),
        tf.log(positive),
        tf.log1p(positive),
        tf.log1p(tf.mul(x, 0.1)),
        tf.sqrt(positive),
        tf.sqrt(x),
        tf.abs(x),
      ];
    };
    const got = await on(CPU_BLAS, run);
    const want = await on('cpu', run);
    for (let i = 0; i < got.length; i++)
      expect(Array.from(got[i]!), `output ${i}`).toEqual(Array.from(want[i]!));
    // int32 negation falls back to the reference kernel
    await tf.setBackend(CPU_BLAS);
    const n = tf.neg(tf.tensor([1, -2, 3], [3], 'int32'));
    expect(n.dtype).toBe('int32');
    expect(Array.from(n.dataSync())).toEqual([-1, 2, -3]);
  });

  it('broadcast comparisons equal the cpu kernels exactly, for float32 and int32', async () => {
    const ops = {
      equal: tf.equal,
      notEqual: tf.notEqual,
      greater: tf.greater,
      greaterEqual: tf.greaterEqual,
      less: tf.less,
      lessEqual: tf.lessEqual,
    } as const;
    await fc.assert(
      fc.asyncProperty(
        shapeWithBroadcast,
        fc.constantFrom(...(Object.keys(ops) as (keyof typeof ops)[])),
        fc.constantFrom('float32', 'int32'),
        fc.integer({ min: 0, max: 1e6 }),
        async ({ a, b }, op, dtype, seed) => {
          // coarse values so that ties (equal entries) are common
          const coarse = (shape: number[], s: number) => tf.cast(tf.round(tensor(shape, s, 2)), dtype);
          const run = () => tf.cast(ops[op](coarse(a, seed), coarse(b, seed + 1)), 'float32');
          const [got] = await on(CPU_BLAS, run);
          const [want] = await on('cpu', run);
          expect(Array.from(got!)).toEqual(Array.from(want!));
        },
      ),
      { numRuns: 200, seed: 5 },
    );
    await tf.setBackend(CPU_BLAS);
    const nan = tf.equal(tf.tensor([Number.NaN, 1]), tf.tensor([Number.NaN, 1]));
    expect(nan.dtype).toBe('bool');
    expect(Array.from(nan.dataSync())).toEqual([0, 1]);
  });

  it('handles zeros, infinities and NaN like the cpu kernels', async () => {
    const run = () => {
      const a = tf.tensor([0, -0, 1, -1, Infinity, Number.NaN], [6]);
      const b = tf.tensor([0, 0, 0, -Infinity, Infinity, 2], [6]);
      return [tf.div(a, b), tf.mul(a, b), tf.sub(a, b), tf.add(a, b)];
    };
    const got = await on(CPU_BLAS, run);
    const want = await on('cpu', run);
    for (let i = 0; i < got.length; i++) expect(Array.from(got[i]!)).toEqual(Array.from(want[i]!));
  });

  it('falls back to the cpu kernels for int32', async () => {
    await tf.setBackend(CPU_BLAS);
    const out = tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([10], [1], 'int32'));
    expect(out.dtype).toBe('int32');
    expect(Array.from(out.dataSync())).toEqual([11, 12, 13]);
  });

  it('Sum and Mean over any axes (keepDims or not) match the cpu kernels', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.boolean(),
        fc.constantFrom('sum', 'mean'),
        fc.integer({ min: 0, max: 1e6 }),
        async (shape, pick, keepDims, op, seed) => {
          const axes = shape.map((_, i) => i).filter((i) => pick[i]);
          const axis = axes.length === 0 ? undefined : axes;
          const run = () => (op === 'sum' ? tf.sum : tf.mean)(tensor(shape, seed), axis, keepDims);
          const [got] = await on(CPU_BLAS, run);
          const [want] = await on('cpu', run);
          expectClose(got!, want!, 1e-6, 1e-6, `${op} ${JSON.stringify({ shape, axis, keepDims })}`);
        },
      ),
      { numRuns: 200, seed: 5 },
    );
  });

  it('collapses broadcast shapes to the fewest dims', () => {
    expect(collapseBroadcast([128, 1024], [1024], [128, 1024])).toEqual({
      dims: [128, 1024],
      aStrides: [1024, 1],
      bStrides: [0, 1],
    });
    expect(collapseBroadcast([4, 5, 6], [4, 5, 6], [4, 5, 6])).toEqual({
      dims: [120],
      aStrides: [1],
      bStrides: [1],
    });
    expect(collapseBroadcast([8, 1], [8, 3], [8, 3])).toEqual({
      dims: [8, 3],
      aStrides: [1, 0],
      bStrides: [3, 1],
    });
    expect(collapseBroadcast([], [], [])).toEqual({ dims: [1], aStrides: [0], bStrides: [0] });
  });

  it('the native functions reject operands too small for the shapes given', () => {
    const small = new Float32Array(3);
    expect(() => addon.sgemm(false, false, 2, 2, 2, 1, small, 2, small, 2, 0, small, 2)).toThrow(/too small/);
    expect(() =>
      addon.binary(
        0,
        small,
        small,
        new Float32Array(4),
        Float64Array.of(4),
        Float64Array.of(1),
        Float64Array.of(1),
      ),
    ).toThrow(/do not match/);
    expect(() => addon.reduceSum(small, new Float32Array(2), 1, 2, 1, 0)).toThrow(/do not match/);
    expect(() => addon.unary(0, small, new Float32Array(4), 0)).toThrow(/do not match/);
  });
});

describe('cpu-blas buffer pool', () => {
  const n = 256;
  const inputs = () => [tensor([n, n], 1), tensor([n, n], 2), tensor([n, n], 3)] as const;
  const valuesOf = (backend: CpuBlasBackend, t: tf.Tensor) => backend.data.get(t.dataId).values;

  async function setup() {
    await tf.setBackend(CPU_BLAS);
    const backend = tf.backend();
    expect(backend).toBeInstanceOf(CpuBlasBackend);
    return backend as CpuBlasBackend;
  }
  /** Churn the pool: many products of the same size, disposed at once. */
  const churn = (x: tf.Tensor, y: tf.Tensor) => {
    for (let i = 0; i < 6; i++) tf.matMul(x, y).dispose();
  };

  it('recycles the buffer of a disposed product', async () => {
    const backend = await setup();
    const [x, y, z] = inputs();
    const first = tf.matMul(x, y);
    const buffer = valuesOf(backend, first);
    first.dispose();
    const second = tf.matMul(x, z);
    expect(valuesOf(backend, second)).toBe(buffer);
    tf.dispose([x, y, z, second]);
  });

  it('never recycles a buffer a slice still views', async () => {
    const backend = await setup();
    const [x, y, z] = inputs();
    const [want] = await on('cpu', () => tf.slice(tf.matMul(x, y), [0, 0], [n / 2, n]));
    await tf.setBackend(CPU_BLAS);
    const product = tf.matMul(x, y);
    const half = tf.slice(product, [0, 0], [n / 2, n]);
    product.dispose();
    churn(x, z);
    expectClose(half.dataSync(), want!, 1e-3, 1e-5, 'slice after churn');
    expect(backend).toBeInstanceOf(CpuBlasBackend);
    tf.dispose([x, y, z, half]);
  });

  it('never recycles an array handed out by dataSync() or data()', async () => {
    await setup();
    const [x, y, z] = inputs();
    const a = tf.matMul(x, y);
    const read = a.dataSync();
    const copy = read.slice();
    a.dispose();
    const b = tf.matMul(x, y);
    const readAsync = await b.data();
    const copyAsync = readAsync.slice();
    b.dispose();
    churn(x, z);
    expectClose(read, copy, 0, 0, 'dataSync() array after churn');
    expectClose(readAsync as Float32Array, copyAsync as Float32Array, 0, 0, 'data() array after churn');
    tf.dispose([x, y, z]);
  });

  it("never recycles a user's array given to tf.tensor", async () => {
    await setup();
    const [x, , z] = inputs();
    const mine = new Float32Array(n * n).fill(3);
    const t = tf.add(tf.tensor(mine, [n, n]), 0);
    tf.tensor(mine, [n, n]).dispose();
    t.dispose();
    churn(x, z);
    expect(mine.every((v) => v === 3)).toBe(true);
    tf.dispose([x, z]);
  });
});

describe('cpu-blas fused masked log-sum-exp (the per-pair InfoNCE scores)', () => {
  it("the native kernel equals the cpu kernels' dense logSumExp with −1e9 on the masked entries", async () => {
    expect(typeof addon.maskedLogSumExp).toBe('function');
    const n = 700; // ≥ 512: split over OpenBLAS's threads (rows and columns), sums in serial order
    const groups = Int32Array.from({ length: n }, (_, i) => (i * 7) % 101);
    const x = () => tf.mul(tensor([n, n], 21), 4) as tf.Tensor2D;
    const fused = () => {
      const a = maskedLogSumExp(x(), groups);
      const b = maskedLogSumExp(x());
      return [a.row, a.col, b.row, b.col];
    };
    const dense = () => {
      const l = tf.add(x(), tf.mul(sameImageMask(groups), EXCLUDED));
      return [tf.logSumExp(l, 1), tf.logSumExp(l, 0), tf.logSumExp(x(), 1), tf.logSumExp(x(), 0)];
    };
    const got = await on(CPU_BLAS, fused);
    const want = await on('cpu', dense);
    const wantBlas = await on(CPU_BLAS, dense);
    for (let i = 0; i < got.length; i++) {
      expect(Array.from(got[i]!)).toEqual(Array.from(want[i]!));
      expect(Array.from(got[i]!)).toEqual(Array.from(wantBlas[i]!));
    }
  });

  it('checks its argument sizes', () => {
    const v = new Float32Array(4);
    expect(() => addon.maskedLogSumExp!(new Float32Array(9), 2, null, v, v, v, v)).toThrow(/sizes/);
  });
});
