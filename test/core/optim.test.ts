/**
 * createOptimizer / FusedAdam: the same numbers as tf.train.adam on every implementation path (native
 * on cpu-blas, JS loop on cpu, tfjs ops), AdamW against a float64 closed form, state save/restore,
 * flat memory, and the end-to-end reference step on cpu-blas vs tf.train.adam on cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeReferenceStep } from '../../experiments/bench/_reference-step.js';
import { CPU_BLAS } from '../../src/core/backend/cpu-blas.js';
import { ConfigError } from '../../src/core/errors.js';
import { createOptimizer, FusedAdam } from '../../src/core/optim.js';
import { expectClose, randn, requireCpuBlas } from './backend/helpers.js';

beforeAll(async () => {
  await requireCpuBlas();
});

const SHAPES = [[7, 5], [5], [3, 2, 4], [1]];

/** Apply `steps` Adam steps with fixed seeded gradients; return each variable and its moments. */
function train(opt: tf.Optimizer, steps: number, tag: string, shapes = SHAPES): Float32Array[] {
  const vars = shapes.map((s, i) =>
    tf.variable(
      tf.tensor(
        randn(
          100 + i,
          s.reduce((a, b) => a * b, 1),
        ),
        s,
      ),
      true,
      `${tag}-${i}`,
    ),
  );
  for (let t = 0; t < steps; t++) {
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v, i) => {
      grads[v.name] = tf.tensor(randn(1000 * t + i, v.size, 0.1 * (i + 1)), v.shape);
    });
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const out = vars.map((v) => Float32Array.from(v.dataSync()));
  tf.dispose(vars);
  return out;
}

async function withBackend<T>(name: string, f: () => T | Promise<T>): Promise<T> {
  await tf.setBackend(name);
  return f();
}

describe('FusedAdam vs tf.train.adam', () => {
  const cases = [
    { backend: CPU_BLAS, implementation: 'native' as const },
    { backend: CPU_BLAS, implementation: 'auto' as const },
    { backend: 'cpu', implementation: 'js' as const },
    { backend: 'cpu', implementation: 'tf' as const },
  ];
  for (const { backend, implementation } of cases) {
    it(`gives tf.train.adam's float32 numbers over 6 steps (${implementation} on ${backend})`, async () => {
      const want = await withBackend('cpu', () => {
        const opt = tf.train.adam(0.01, 0.8, 0.95);
        const r = train(opt, 6, `ref-${implementation}-${backend}`);
        opt.dispose();
        return r;
      });
      const got = await withBackend(backend, () => {
        const opt = createOptimizer({
          kind: 'adam',
          learningRate: 0.01,
          beta1: 0.8,
          beta2: 0.95,
          implementation,
        });
        const r = train(opt, 6, `fused-${implementation}-${backend}`);
        opt.dispose();
        return r;
      });
      for (let i = 0; i < want.length; i++) {
        // same operations in the same float32 order: equal to the last bit
        expect(Array.from(got[i]!), `variable ${i}`).toEqual(Array.from(want[i]!));
      }
    });
  }

  it('moves every parameter (the comparison is not vacuous)', async () => {
    await tf.setBackend(CPU_BLAS);
    const before = SHAPES.map((s, i) =>
      randn(
        100 + i,
        s.reduce((a, b) => a * b, 1),
      ),
    );
    const after = train(createOptimizer({ kind: 'adam', learningRate: 0.01 }), 2, 'moves');
    for (let i = 0; i < before.length; i++) {
      for (let j = 0; j < before[i]!.length; j++) expect(after[i]![j]).not.toBe(before[i]![j]);
    }
  });
});

describe('FusedAdam with weight decay (AdamW)', () => {
  /** Decoupled weight decay in float64, written from the AdamW paper (Loshchilov & Hutter, Alg. 2). */
  function adamwReference(p0: Float32Array, grads: Float32Array[], lr: number, wd: number): Float64Array {
    const [b1, b2, eps] = [0.9, 0.999, 1e-7];
    const p = Float64Array.from(p0);
    const m = new Float64Array(p.length);
    const v = new Float64Array(p.length);
    grads.forEach((g, t) => {
      for (let i = 0; i < p.length; i++) {
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        const mHat = m[i]! / (1 - b1 ** (t + 1));
        const vHat = v[i]! / (1 - b2 ** (t + 1));
        p[i] = p[i]! - lr * (mHat / (Math.sqrt(vHat) + eps)) - lr * wd * p[i]!;
      }
    });
    return p;
  }

  for (const [backend, implementation] of [
    [CPU_BLAS, 'native'],
    ['cpu', 'js'],
    ['cpu', 'tf'],
  ] as const) {
    it(`matches the float64 AdamW closed form (${implementation} on ${backend})`, async () => {
      await tf.setBackend(backend);
      const p0 = randn(1, 50);
      const grads = [0, 1, 2, 3, 4].map((t) => randn(10 + t, 50, 0.5));
      const w = tf.variable(tf.tensor(p0), true, `adamw-${implementation}`);
      const opt = createOptimizer({ kind: 'adam', learningRate: 0.05, weightDecay: 0.1, implementation });
      for (const g of grads) {
        const gt = tf.tensor(g);
        opt.applyGradients([{ name: w.name, tensor: gt }]);
        gt.dispose();
      }
      const want = adamwReference(p0, grads, 0.05, 0.1);
      expectClose(w.dataSync(), want, 2e-6, 1e-5, 'AdamW');
      // and decay really acted: without it the result differs by ~lr·wd·p per step
      const noDecay = adamwReference(p0, grads, 0.05, 0);
      expect(Math.abs(w.dataSync()[0]! - noDecay[0]!)).toBeGreaterThan(1e-3 * Math.abs(p0[0]!));
      w.dispose();
      opt.dispose();
    });
  }
});

describe('FusedAdam behaviour', () => {
  it('keeps data shared with another tensor intact (copy instead of in-place)', async () => {
    await tf.setBackend(CPU_BLAS);
    const init = tf.tensor([1, 2, 3]);
    const w = tf.variable(init, true, 'shared-init');
    const opt = createOptimizer({ kind: 'adam', learningRate: 0.5 });
    opt.applyGradients({ [w.name]: tf.tensor([1, 1, 1]) });
    expect(Array.from(init.dataSync())).toEqual([1, 2, 3]);
    // first Adam step moves by ≈ lr·sign(g) (float32 bias corrections: within 1e-5)
    expectClose(w.dataSync(), [0.5, 1.5, 2.5], 1e-5);
    tf.dispose([init, w]);
    opt.dispose();
  });

  it('leaves arrays read earlier with dataSync() unchanged', async () => {
    await tf.setBackend(CPU_BLAS);
    const w = tf.variable(tf.tensor([1, 2, 3]), true, 'snapshot');
    const before = w.dataSync();
    createOptimizer({ kind: 'adam', learningRate: 0.5 }).applyGradients({ [w.name]: tf.tensor([1, 1, 1]) });
    expect(Array.from(before)).toEqual([1, 2, 3]);
    expect(w.dataSync()[0]).toBeCloseTo(0.5, 4);
    w.dispose();
  });

  it('exposes its state like tf.train.adam: iterations, then every m, then every v', async () => {
    const state = async (backend: string, opt: tf.Optimizer) => {
      await tf.setBackend(backend);
      const tag = opt instanceof FusedAdam ? 'state-fused' : 'state-tf';
      const w1 = tf.variable(tf.tensor(randn(3, 6)), true, `${tag}-a`);
      const w2 = tf.variable(tf.tensor(randn(4, 6)), true, `${tag}-b`);
      for (let t = 0; t < 3; t++) {
        opt.applyGradients({
          [w1.name]: tf.tensor(randn(50 + t, 6)),
          [w2.name]: tf.tensor(randn(60 + t, 6)),
        });
      }
      const saved = await opt.getWeights();
      const out = saved.map((s) => ({
        name: s.name.replace(tag, ''),
        values: Array.from(s.tensor.dataSync()),
      }));
      tf.dispose([w1, w2]);
      return out;
    };
    const want = await state('cpu', tf.train.adam(0.02));
    const got = await state(CPU_BLAS, createOptimizer({ kind: 'adam', learningRate: 0.02 }));
    expect(got.map((s) => s.name)).toEqual(['iter', '-a/m', '-b/m', '-a/v', '-b/v']);
    expect(got).toEqual(want);
  });

  it('resumes exactly: 3 steps + save/restore + 2 steps = 5 steps', async () => {
    await tf.setBackend(CPU_BLAS);
    const grad = (t: number) => tf.tensor(randn(70 + t, 8));
    const a = tf.variable(tf.tensor(randn(9, 8)), true, 'resume-x');
    const optA = createOptimizer({ kind: 'adam', learningRate: 0.03 });
    for (let t = 0; t < 5; t++) optA.applyGradients({ [a.name]: grad(t) });

    const b = tf.variable(tf.tensor(randn(9, 8)), true, 'resume-y');
    const optB = createOptimizer({ kind: 'adam', learningRate: 0.03 });
    for (let t = 0; t < 3; t++) optB.applyGradients({ [b.name]: grad(t) });
    const state = (await optB.getWeights()).map((s) => ({ name: s.name, tensor: s.tensor.clone() }));
    const optC = createOptimizer({ kind: 'adam', learningRate: 0.03 });
    await optC.setWeights(state);
    for (let t = 3; t < 5; t++) optC.applyGradients({ [b.name]: grad(t) });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
  });

  it('skips variables whose gradient is missing and keeps the tensor count flat', async () => {
    await tf.setBackend(CPU_BLAS);
    const w = tf.variable(tf.ones([4, 4]), true, 'flat-w');
    const u = tf.variable(tf.ones([4]), true, 'flat-u');
    const opt = createOptimizer({ kind: 'adam' });
    const step = () =>
      opt.minimize(() => tf.sum(tf.square(tf.matMul(w, tf.reshape(u, [4, 1])))) as tf.Scalar, false, [w, u]);
    step();
    const count = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(count);
    const before = Array.from(u.dataSync());
    opt.applyGradients([{ name: w.name, tensor: tf.ones([4, 4]) }]);
    expect(Array.from(u.dataSync())).toEqual(before);
    tf.dispose([w, u]);
    opt.dispose();
  });

  it('validates its options', () => {
    expect(() => createOptimizer({ kind: 'adam', learningRate: -1 })).toThrow(ConfigError);
    expect(() => createOptimizer({ kind: 'adam', beta1: 1 })).toThrow(/beta1/);
    expect(() => createOptimizer({ kind: 'sgd' } as never)).toThrow(ConfigError);
  });

  it("refuses 'native' on a backend without the BLAS addon", async () => {
    await tf.setBackend('cpu');
    const w = tf.variable(tf.ones([2]), true, 'native-on-cpu');
    const opt = createOptimizer({ kind: 'adam', implementation: 'native' });
    expect(() => opt.applyGradients({ [w.name]: tf.ones([2]) })).toThrow(/cpu-blas/);
    w.dispose();
  });
});

describe('the reference training step', () => {
  it('on cpu-blas with the fused Adam follows plain cpu with tf.train.adam', async () => {
    const run = async (backend: string, fused: boolean) => {
      await tf.setBackend(backend);
      const optimizer = fused ? createOptimizer({ kind: 'adam', learningRate: 1e-3 }) : tf.train.adam(1e-3);
      const step = makeReferenceStep({
        batch: 16,
        imageDim: 64,
        textDim: 48,
        embedDim: 32,
        optimizer,
        seed: 3,
      });
      const losses = [0, 1, 2, 3, 4].map(() => step.run());
      const weights = step.variables.map((v) => Float32Array.from(v.dataSync()));
      const tensors = tf.memory().numTensors;
      step.run();
      const leak = tf.memory().numTensors - tensors;
      step.dispose();
      optimizer.dispose();
      return { losses, weights, leak };
    };
    const want = await run('cpu', false);
    const got = await run(CPU_BLAS, true);
    expectClose(got.losses, want.losses, 1e-6, 1e-5, 'losses');
    expect(got.losses[4]!).toBeLessThan(got.losses[0]!);
    for (let i = 0; i < got.weights.length; i++)
      expectClose(got.weights[i]!, want.weights[i]!, 2e-5, 1e-4, `weights ${i}`);
    expect(got.leak).toBe(0);
  });
});
