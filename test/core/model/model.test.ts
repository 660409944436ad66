import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../../src/core/errors.js';
import { infoNCELoss } from '../../../src/core/losses/infonce.js';
import { matchLoss, vibLoss } from '../../../src/core/losses/match.js';
import { tripletLoss } from '../../../src/core/losses/triplet.js';
import {
  closedFormDistance,
  gaussianSamples,
  sampleNoise,
  squaredDistances,
} from '../../../src/core/model/distance.js';
import { seededDropout } from '../../../src/core/model/layers.js';
import { CrossModalModel, inverseSoftplus, MODEL_FORMAT } from '../../../src/core/model/model.js';
import { Rng } from '../../../src/core/random.js';
import { type EncoderFixture, expectClose, fixture, t2 } from './helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cleave-model-'));
});
beforeEach(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const small = {
  image: { inputDim: 10, hidden: 16, dropout: 0.2 },
  text: { inputDim: 7, hidden: 16, dropout: 0.2, pooling: 'attention' as const, attentionHidden: 5 },
  embedDim: 6,
  seed: 5,
};

function weightsOf(model: CrossModalModel): Record<string, number[]> {
  const w = model.getWeights();
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(w)) out[k] = Array.from(v.dataSync());
  tf.dispose(w);
  return out;
}

function inputs(seed: number) {
  return {
    images: tf.randomNormal([4, 10], 0, 1, 'float32', seed) as tf.Tensor2D,
    captions: tf.randomNormal([4, 3, 7], 0, 1, 'float32', seed + 1) as tf.Tensor3D,
  };
}

describe('CrossModalModel forward pass against the numpy reference', () => {
  const F = fixture<EncoderFixture>('encoder.json');

  it('reproduces attention pooling (masked), layer norm, gelu/tanh, skip, L2 norm, log σ², distance and p', () => {
    const model = CrossModalModel.fromConfig(F.config);
    const weights: tf.NamedTensorMap = {};
    for (const [name, w] of Object.entries(F.weights))
      weights[name] = tf.tensor(w.values, w.shape, 'float32');
    model.setWeights(weights);
    const images = tf.tensor3d(F.images);
    const mask = t2(F.imageMask);
    const captions = t2(F.captions);
    const img = model.embedImages(images, { mask });
    const cap = model.embedCaptions(captions);
    expectClose(model.imageEncoder.poolingWeights(images, mask), F.poolingWeights, 1e-6, 1e-4);
    expectClose(img.mean, F.imageMean, 1e-5, 1e-4);
    expectClose(img.logSigma2!, F.imageLogSigma2, 1e-5, 1e-4);
    expectClose(cap.mean, F.captionMean, 1e-5, 1e-4);
    expectClose(cap.logSigma2!, F.captionLogSigma2, 1e-5, 1e-4);
    expectClose(model.distance(img, cap), F.distance, 1e-5, 1e-4);
    expectClose(model.matchProbability(img, cap), F.matchProbability, 1e-6, 1e-4);
    expect(model.temperature()).toBeCloseTo(F.temperature, 6);
    // the means have unit norm
    expectClose(tf.sum(tf.square(img.mean), 1), [1, 1, 1], 1e-6);
    model.dispose();
  });
});

describe('config and initialisation', () => {
  it('applies documented defaults and rejects bad configs with the offending path', () => {
    const model = new CrossModalModel({ image: { inputDim: 4 }, text: { inputDim: 3 } });
    const c = model.getConfig();
    expect(c).toMatchObject({
      embedDim: 256,
      head: 'deterministic',
      image: {
        inputDim: 4,
        depth: 2,
        hidden: 512,
        dropout: 0.1,
        layerNorm: true,
        activation: 'relu',
        skip: true,
      },
      match: { initScale: 5, initShift: 5, learnable: true },
      temperature: { init: 0.07, learnable: true, maxScale: 100 },
      seed: 0,
    });
    expect(c.uncertainty.logSigma2Init).toBeCloseTo(Math.log(0.05 / 256), 12);
    model.dispose();
    expect(() => new CrossModalModel({ image: { inputDim: 4 }, text: { inputDim: 0 } })).toThrow(ConfigError);
    expect(() => new CrossModalModel({ image: { inputDim: 4 }, text: { inputDim: 3, dropout: 1 } })).toThrow(
      /text\.dropout/,
    );
    expect(() =>
      CrossModalModel.fromConfig({ image: { inputDim: 4 }, text: { inputDim: 3 }, extra: 1 }),
    ).toThrow(/extra/);
  });

  it('getConfig → JSON → fromConfig rebuilds an identical model (config and every initial weight)', () => {
    for (const head of ['deterministic', 'probabilistic'] as const) {
      const a = new CrossModalModel({ ...small, head });
      const b = CrossModalModel.fromConfig(JSON.parse(JSON.stringify(a.getConfig())));
      expect(b.getConfig()).toEqual(a.getConfig());
      expect(b.weightNames).toEqual(a.weightNames);
      expect(weightsOf(b)).toEqual(weightsOf(a));
      a.dispose();
      b.dispose();
    }
  });

  it('seeded initialisation is reproducible, differs across seeds, and follows Glorot/He limits', () => {
    const a = weightsOf(new CrossModalModel({ ...small, head: 'probabilistic' }));
    const b = weightsOf(new CrossModalModel({ ...small, head: 'probabilistic' }));
    const c = weightsOf(new CrossModalModel({ ...small, head: 'probabilistic', seed: 6 }));
    expect(a).toEqual(b);
    expect(a['image/mean/dense_0/kernel']).not.toEqual(c['image/mean/dense_0/kernel']);
    // He uniform for the relu hidden layer: U(±√(6/fanIn)); Glorot for the output layer: U(±√(6/(in+out)))
    const he = Math.sqrt(6 / 10);
    const glorot = Math.sqrt(6 / (16 + 6));
    const hidden = a['image/mean/dense_0/kernel']!;
    const out = a['image/mean/out/kernel']!;
    expect(Math.max(...hidden.map(Math.abs))).toBeLessThanOrEqual(he);
    expect(Math.max(...hidden.map(Math.abs))).toBeGreaterThan(0.8 * he);
    expect(Math.max(...out.map(Math.abs))).toBeLessThanOrEqual(glorot);
    expect(a['image/mean/dense_0/bias']!.every((v) => v === 0)).toBe(true);
    expect(a['image/mean/norm_0/gamma']!.every((v) => v === 1)).toBe(true);
    // learnable scalars start where the config says (a = softplus(raw) = 5, b = 5, τ = 0.07)
    expect(a['match/scale_raw']![0]).toBeCloseTo(inverseSoftplus(5), 5);
    expect(Math.log1p(Math.exp(a['match/scale_raw']![0]!))).toBeCloseTo(5, 5);
    expect(a['match/shift']![0]).toBe(5);
    expect(a['contrastive/log_scale']![0]).toBeCloseTo(Math.log(1 / 0.07), 5);
    // the uncertainty output bias starts at logSigma2Init
    const init = Math.fround(Math.log(0.05 / 6));
    expect(a['image/uncertainty/out/bias']!.every((v) => v === init)).toBe(true);
  });

  it('a larger He-initialised kernel has the uniform variance limit²/3', () => {
    const model = new CrossModalModel({
      image: { inputDim: 200, hidden: 300 },
      text: { inputDim: 3 },
      embedDim: 2,
    });
    const w = weightsOf(model)['image/mean/dense_0/kernel']!;
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    const expected = 6 / 200 / 3;
    expect(Math.abs(variance - expected) / expected).toBeLessThan(0.02); // 60k draws: sd of the ratio ≈ 0.005
    model.dispose();
  });
});

describe('heads', () => {
  it('deterministic: unit-norm points, no log σ², cosine similarity; probabilistic-only methods throw', () => {
    const model = new CrossModalModel(small);
    const { images, captions } = inputs(1);
    const img = model.embedImages(images);
    const cap = model.embedCaptions(captions);
    expect(img.logSigma2).toBeUndefined();
    expect(img.mean.shape).toEqual([4, 6]);
    expectClose(tf.norm(img.mean, 2, 1), [1, 1, 1, 1], 1e-6);
    const s = model.similarity(img, cap);
    expectClose(s, tf.matMul(img.mean, cap.mean, false, true).arraySync() as number[][], 1e-7);
    expectClose(model.retrievalScores(img, cap), s.arraySync() as number[][], 1e-7);
    expect(() => model.matchLogProbs(img, cap)).toThrow(/probabilistic/);
    expect(() => model.matchLogProbs(img, cap)).toThrow(ConfigError);
    expect(() => model.uncertainty(img)).toThrow(/probabilistic/);
    expect(() => model.uncertainty(img)).toThrow(ConfigError);
    expect(() => model.embedImages(tf.zeros([2, 9]))).toThrow(/image encoder: expected input \[B, 10\]/);
    expect(() => model.embedImages(tf.zeros([2, 9]))).toThrow(DataError);
    model.dispose();
  });

  it('probabilistic: shapes of μ, log σ², uncertainty, distances and match probabilities (Bi ≠ Bc)', () => {
    const model = new CrossModalModel({ ...small, head: 'probabilistic' });
    const img = model.embedImages(tf.randomNormal([3, 10], 0, 1, 'float32', 2));
    const cap = model.embedCaptions(tf.randomNormal([5, 2, 7], 0, 1, 'float32', 3));
    expect(img.logSigma2!.shape).toEqual([3, 6]);
    expect(cap.logSigma2!.shape).toEqual([5, 6]);
    // meansOnly skips the uncertainty branch: the same means, bit for bit, and no log σ²
    const meansOnly = model.embedCaptions(tf.randomNormal([5, 2, 7], 0, 1, 'float32', 3), {
      meansOnly: true,
    });
    expect(meansOnly.logSigma2).toBeUndefined();
    expect(Array.from(meansOnly.mean.dataSync())).toEqual(Array.from(cap.mean.dataSync()));
    const u = model.uncertainty(img);
    expect(u.shape).toEqual([3]);
    expectClose(u, Array.from(tf.mean(tf.exp(img.logSigma2!), 1).dataSync()), 1e-7);
    for (const opts of [{}, { distance: 'mc' as const, samples: 4, rng: new Rng(1) }]) {
      const p = model.matchProbability(img, cap, opts);
      expect(p.shape).toEqual([3, 5]);
      const v = p.dataSync();
      expect(v.every((x) => x > 0 && x < 1)).toBe(true);
      const { logP, logQ } = model.matchLogProbs(img, cap, opts);
      // log p and log(1 − p) are consistent: p + (1 − p) = 1
      expectClose(tf.add(tf.exp(logP), tf.exp(logQ)), new Array(15).fill(1), 1e-6);
    }
    // retrieval scores are minus the closed-form distance
    expectClose(
      model.retrievalScores(img, cap),
      tf.neg(closedFormDistance(img, cap)).arraySync() as number[][],
      1e-7,
    );
    model.dispose();
  });

  it("uncertainty defaults: 'auto' reads the hidden layer through one linear map, else the features", () => {
    const kernels = (m: CrossModalModel) =>
      Object.fromEntries(
        m.trainableVariables
          .filter((v) => v.name.includes('image/uncertainty/'))
          .map((v) => [v.name.slice(v.name.indexOf('image/uncertainty/')), v.shape]),
      );
    const hidden = small.image.hidden;
    const auto = new CrossModalModel({ ...small, head: 'probabilistic' });
    expect(auto.getConfig().uncertainty).toMatchObject({ input: 'hidden', depth: 1 });
    expect(kernels(auto)).toEqual({
      'image/uncertainty/out/kernel': [hidden, small.embedDim],
      'image/uncertainty/out/bias': [small.embedDim],
    });
    // the resolved settings rebuild the same architecture
    const again = CrossModalModel.fromConfig(auto.getConfig());
    expect(again.getConfig()).toEqual(auto.getConfig());
    expect(kernels(again)).toEqual(kernels(auto));
    // without a hidden layer on one side: the features, through PCME++'s two-layer encoder
    const flat = new CrossModalModel({ ...small, head: 'probabilistic', text: { ...small.text, depth: 1 } });
    expect(flat.getConfig().uncertainty).toMatchObject({ input: 'features', depth: 2 });
    expect(kernels(flat)['image/uncertainty/dense_0/kernel']).toEqual([small.image.inputDim, hidden]);
    const features = new CrossModalModel({
      ...small,
      head: 'probabilistic',
      uncertainty: { input: 'features' },
    });
    expect(features.getConfig().uncertainty).toMatchObject({ input: 'features', depth: 2 });
    const deeper = new CrossModalModel({ ...small, head: 'probabilistic', uncertainty: { depth: 3 } });
    expect(deeper.getConfig().uncertainty).toMatchObject({ input: 'hidden', depth: 3 });
    for (const m of [auto, again, flat, features, deeper]) m.dispose();
  });

  it("uncertainty.input 'hidden': log σ² from the mean head's hidden layer, the same means", () => {
    const parallel = new CrossModalModel({
      ...small,
      head: 'probabilistic',
      seed: 4,
      uncertainty: { input: 'features' },
    });
    const shared = new CrossModalModel({
      ...small,
      head: 'probabilistic',
      seed: 4,
      uncertainty: { input: 'hidden', depth: 2 },
    });
    const x = tf.randomNormal([3, 10], 0, 1, 'float32', 5);
    const a = parallel.embedImages(x);
    const b = shared.embedImages(x);
    // the mean heads are drawn first from the same seed: identical means, different log σ²
    expect(Array.from(b.mean.dataSync())).toEqual(Array.from(a.mean.dataSync()));
    expect(b.logSigma2!.shape).toEqual([3, 6]);
    expect(Array.from(b.logSigma2!.dataSync())).not.toEqual(Array.from(a.logSigma2!.dataSync()));
    // the branch reads the hidden layer: its first kernel is hidden × hidden, and log σ² depends on
    // the mean head's input layer (zero gradient there for the parallel branch)
    const kernel = (m: CrossModalModel, name: string) =>
      m.trainableVariables.find((v) => v.name.endsWith(name))!;
    const hidden = small.image.hidden;
    expect(kernel(shared, 'image/uncertainty/dense_0/kernel').shape).toEqual([hidden, hidden]);
    expect(kernel(parallel, 'image/uncertainty/dense_0/kernel').shape).toEqual([10, hidden]);
    const gradNorm = (m: CrossModalModel) => {
      const w = kernel(m, 'image/mean/dense_0/kernel');
      const out = kernel(m, 'image/uncertainty/out/kernel');
      const f = () => tf.sum(m.embedImages(x).logSigma2!) as tf.Scalar;
      const { grads } = tf.variableGrads(f, [w, out]);
      return grads[w.name] ? tf.norm(grads[w.name]!).dataSync()[0]! : 0;
    };
    expect(gradNorm(shared)).toBeGreaterThan(1e-3);
    expect(gradNorm(parallel)).toBe(0);
    // it needs a hidden layer to read
    expect(
      () =>
        new CrossModalModel({
          ...small,
          head: 'probabilistic',
          image: { ...small.image, depth: 1 },
          uncertainty: { input: 'hidden' },
        }),
    ).toThrow(/uncertainty.input 'hidden'.*image.depth ≥ 2/);
    parallel.dispose();
    shared.dispose();
  });

  it('the closed-form distance is the expected squared distance between samples (Monte-Carlo check)', () => {
    const rng = new Rng(17);
    const d = 5;
    const img = {
      mean: tf.tensor2d(rng.fillNormal(new Float32Array(2 * d)), [2, d]),
      logSigma2: tf.tensor2d(rng.fillNormal(new Float32Array(2 * d), -1, 0.5), [2, d]),
    };
    const cap = {
      mean: tf.tensor2d(rng.fillNormal(new Float32Array(3 * d)), [3, d]),
      logSigma2: tf.tensor2d(rng.fillNormal(new Float32Array(3 * d), -1, 0.5), [3, d]),
    };
    const j = 300;
    const zi = gaussianSamples(img, sampleNoise(rng, 2, j, d));
    const zc = gaussianSamples(cap, sampleNoise(rng, 3, j, d));
    const sq = tf.reshape(squaredDistances(zi, zc), [2, j, 3, j]);
    const mcMean = tf.mean(sq, [1, 3]).arraySync() as number[][];
    const csd = closedFormDistance(img, cap).arraySync() as number[][];
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 3; b++) {
        // 300 × 300 dependent pairs: the standard error is about csd / 20 at worst; allow 4 of them
        expect(Math.abs(mcMean[a]![b]! - csd[a]![b]!)).toBeLessThan(0.2 * csd[a]![b]!);
      }
    }
  });

  it('with σ → 0 the Monte-Carlo match probability is sigmoid(−a‖μ₁−μ₂‖ + b) exactly', () => {
    const model = new CrossModalModel({ ...small, head: 'probabilistic' });
    const rng = new Rng(4);
    const img = {
      mean: tf.tensor2d(rng.fillNormal(new Float32Array(12)), [2, 6]),
      logSigma2: tf.fill([2, 6], -40),
    };
    const cap = {
      mean: tf.tensor2d(rng.fillNormal(new Float32Array(18)), [3, 6]),
      logSigma2: tf.fill([3, 6], -40),
    };
    const p = model.matchProbability(img as never, cap as never, { distance: 'mc', samples: 3, rng });
    const a = Math.log1p(Math.exp(inverseSoftplus(5)));
    const dist = tf.sqrt(tf.add(squaredDistances(img.mean, cap.mean), 1e-6));
    const expected = tf.sigmoid(tf.sub(5, tf.mul(a, dist)));
    expectClose(p, expected.arraySync() as number[][], 1e-6, 1e-4);
    model.dispose();
  });
});

describe('dropout', () => {
  it('masks are seeded: same rng → same output, other rng → other output, eval mode has none', () => {
    const model = new CrossModalModel(small);
    const { images } = inputs(3);
    const run = (opts: { training?: boolean; rng?: Rng }) =>
      Array.from(model.embedImages(images, opts).mean.dataSync());
    const a = run({ training: true, rng: new Rng(1) });
    expect(run({ training: true, rng: new Rng(1) })).toEqual(a);
    expect(run({ training: true, rng: new Rng(2) })).not.toEqual(a);
    const evalOut = run({});
    expect(run({})).toEqual(evalOut);
    expect(evalOut).not.toEqual(a);
    // without an rng, training draws from the model's own stream (seeded by the config)
    const m2 = new CrossModalModel(small);
    expect(run({ training: true })).toEqual(
      Array.from(m2.embedImages(images, { training: true }).mean.dataSync()),
    );
    model.dispose();
    m2.dispose();
  });

  it('inverted dropout drops a share `rate` and keeps the expectation', () => {
    const x = tf.ones([200, 100]);
    const y = seededDropout(x, 0.3, new Rng(9)).dataSync();
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(Math.abs(zeros - 0.3)).toBeLessThan(0.01); // 20k draws: sd ≈ 0.0032
    expect(y.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    expect(seededDropout(x, 0, new Rng(9))).toBe(x);
  });
});

describe('training steps', () => {
  it('trains with tf.train.adam on every loss, the learnable scalars move, and no tensors leak', () => {
    for (const head of ['deterministic', 'probabilistic'] as const) {
      const model = new CrossModalModel({ ...small, head });
      const { images, captions } = inputs(7);
      const y = tf.tensor1d([1, 1, 0.5, 0]);
      const optimizer = tf.train.adam(0.01);
      const rng = new Rng(3);
      const startScale = model.logScaleVariable.dataSync()[0]!;
      const step = (k: number) => {
        const stepRng = rng.fork(`step${k}`);
        optimizer.minimize(
          () => {
            const img = model.embedImages(images, { training: true, rng: stepRng.fork('img') });
            const cap = model.embedCaptions(captions, { training: true, rng: stepRng.fork('cap') });
            const s = model.similarity(img, cap);
            let loss = tf.add(tripletLoss(s, y), infoNCELoss(s, y, model.logitScale()));
            if (head === 'probabilistic') {
              const csd = matchLoss(model.matchLogProbs(img, cap), y, { pseudoPositiveWeight: 0.1 });
              const mc = matchLoss(
                model.matchLogProbs(img, cap, { distance: 'mc', samples: 3, rng: stepRng }),
                y,
              );
              loss = tf.addN([loss, csd, mc, tf.mul(1e-4, tf.add(vibLoss(img), vibLoss(cap)))]);
            }
            return loss as tf.Scalar;
          },
          false,
          model.trainableVariables,
        );
      };
      step(0);
      step(1);
      const before = tf.memory().numTensors;
      for (let k = 2; k < 8; k++) step(k);
      expect(tf.memory().numTensors).toBe(before);
      expect(model.logScaleVariable.dataSync()[0]).not.toBe(startScale);
      if (head === 'probabilistic') {
        const w = weightsOf(model);
        expect(w['match/scale_raw']![0]).not.toBeCloseTo(inverseSoftplus(5), 6);
        expect(w['match/shift']![0]).not.toBe(5);
      }
      optimizer.dispose();
      model.dispose();
    }
  });

  it('tf.variableGrads reaches every trainable variable of a probabilistic model', () => {
    const model = new CrossModalModel({ ...small, head: 'probabilistic' });
    const { images, captions } = inputs(2);
    const y = tf.ones([4]) as tf.Tensor1D;
    const { value, grads } = tf.variableGrads(() => {
      const img = model.embedImages(images);
      const cap = model.embedCaptions(captions);
      return tf.addN([
        matchLoss(model.matchLogProbs(img, cap), y),
        infoNCELoss(model.similarity(img, cap), y, model.logitScale()),
        vibLoss(img),
        vibLoss(cap),
      ]) as tf.Scalar;
    }, model.trainableVariables);
    expect(Object.keys(grads).length).toBe(model.trainableVariables.length);
    value.dispose();
    tf.dispose(grads);
    model.dispose();
  });

  it('fitting a tiny aligned problem lowers the loss (sanity)', () => {
    const model = new CrossModalModel({
      ...small,
      head: 'probabilistic',
      image: { ...small.image, dropout: 0 },
    });
    const { images, captions } = inputs(11);
    const y = tf.ones([4]) as tf.Tensor1D;
    const optimizer = tf.train.adam(0.01);
    const loss = () =>
      tf.tidy(() => {
        const img = model.embedImages(images);
        const cap = model.embedCaptions(captions);
        return matchLoss(model.matchLogProbs(img, cap), y);
      });
    const first = loss().dataSync()[0]!;
    for (let k = 0; k < 40; k++) optimizer.minimize(loss, false, model.trainableVariables);
    expect(loss().dataSync()[0]!).toBeLessThan(0.5 * first);
    optimizer.dispose();
    model.dispose();
  });
});

describe('save and load (tfjs model.json + weights.bin)', () => {
  it('writes the tfjs-node file:// layout and loads back a model with identical outputs', async () => {
    const model = new CrossModalModel({ ...small, head: 'probabilistic' });
    // move the weights away from their initial values, so the test does not pass by re-initialising
    const w = model.getWeights();
    const shifted: tf.NamedTensorMap = {};
    for (const [k, v] of Object.entries(w)) shifted[k] = tf.add(v, 0.01);
    model.setWeights(shifted);
    tf.dispose([w, shifted]);
    const out = join(dir, 'roundtrip');
    await model.save(out);
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    expect(Object.keys(json).sort()).toEqual(
      ['convertedBy', 'format', 'generatedBy', 'modelTopology', 'weightsManifest'].sort(),
    );
    expect(json.format).toBe(MODEL_FORMAT);
    expect(json.generatedBy).toMatch(/^cleave v/);
    expect(json.convertedBy).toBeNull();
    expect(json.modelTopology).toEqual({ className: 'CrossModalModel', config: model.getConfig() });
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const specs = json.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string }[];
    expect(specs.map((s) => s.name)).toEqual(model.weightNames);
    expect(specs.every((s) => s.dtype === 'float32')).toBe(true);
    const count = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    expect((await stat(join(out, 'weights.bin'))).size).toBe(4 * count);

    const loaded = await CrossModalModel.load(out);
    const alsoFromJson = await CrossModalModel.load(join(out, 'model.json'));
    expect(weightsOf(loaded)).toEqual(weightsOf(model));
    expect(weightsOf(alsoFromJson)).toEqual(weightsOf(model));
    const { images, captions } = inputs(4);
    const a = [model.embedImages(images), model.embedCaptions(captions)] as const;
    const b = [loaded.embedImages(images), loaded.embedCaptions(captions)] as const;
    expect(Array.from(b[0].mean.dataSync())).toEqual(Array.from(a[0].mean.dataSync()));
    expect(Array.from(b[1].logSigma2!.dataSync())).toEqual(Array.from(a[1].logSigma2!.dataSync()));
    expect(Array.from(loaded.matchProbability(b[0], b[1]).dataSync())).toEqual(
      Array.from(model.matchProbability(a[0], a[1]).dataSync()),
    );
    expect(loaded.temperature()).toBe(model.temperature());
    for (const m of [model, loaded, alsoFromJson]) m.dispose();
  });

  it('a model saved on the cpu backend loads on wasm and gives the same outputs', async () => {
    const model = new CrossModalModel({ ...small, head: 'probabilistic' });
    const { images, captions } = inputs(8);
    const img = model.embedImages(images);
    const cap = model.embedCaptions(captions);
    const expected = {
      mean: img.mean.arraySync() as number[][],
      logSigma2: cap.logSigma2!.arraySync() as number[][],
      p: model.matchProbability(img, cap).arraySync() as number[][],
    };
    const imagesData = images.arraySync();
    const captionsData = captions.arraySync();
    const out = join(dir, 'cross-backend');
    await model.save(out);
    model.dispose();
    expect(await tf.setBackend('wasm')).toBe(true);
    try {
      const loaded = await CrossModalModel.load(out);
      const i2 = loaded.embedImages(tf.tensor2d(imagesData));
      const c2 = loaded.embedCaptions(tf.tensor3d(captionsData));
      expect(tf.getBackend()).toBe('wasm');
      expectClose(i2.mean, expected.mean, 1e-5, 1e-4);
      expectClose(c2.logSigma2!, expected.logSigma2, 1e-5, 1e-4);
      expectClose(loaded.matchProbability(i2, c2), expected.p, 1e-5, 1e-4);
      loaded.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('clone() copies config and current weights into an independent model', () => {
    const model = new CrossModalModel(small);
    const copy = model.clone();
    expect(weightsOf(copy)).toEqual(weightsOf(model));
    model.dispose();
    const { images } = inputs(1);
    expect(copy.embedImages(images).mean.shape).toEqual([4, 6]);
    expect(() => model.embedImages(images)).toThrow(/after dispose/);
    expect(() => model.embedImages(images)).toThrow(ConfigError);
    copy.dispose();
  });

  it('says what is wrong with missing, truncated or foreign files', async () => {
    await expect(CrossModalModel.load(join(dir, 'nothing-here'))).rejects.toThrow(DataError);
    const model = new CrossModalModel(small);
    const out = join(dir, 'damaged');
    await model.save(out);
    const bin = await readFile(join(out, 'weights.bin'));
    await writeFile(join(out, 'weights.bin'), bin.subarray(0, bin.length - 8));
    await expect(CrossModalModel.load(out)).rejects.toThrow(/truncated or mismatched/);
    await writeFile(join(out, 'weights.bin'), bin);
    const json = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    await writeFile(
      join(out, 'model.json'),
      JSON.stringify({ ...json, modelTopology: { className: 'Sequential' } }),
    );
    await expect(CrossModalModel.load(out)).rejects.toThrow(/not a cleave model/);
    await writeFile(join(out, 'model.json'), '{"modelTopology": ');
    await expect(CrossModalModel.load(out)).rejects.toThrow(/not valid JSON/);
    // a config that does not match the weights names what is missing
    const other = {
      ...json,
      modelTopology: { ...json.modelTopology, config: { ...json.modelTopology.config } },
    };
    other.modelTopology.config.head = 'probabilistic';
    await writeFile(join(out, 'model.json'), JSON.stringify(other));
    await expect(CrossModalModel.load(out)).rejects.toThrow(/missing weights image\/uncertainty/);
    // protected paths are never overwritten
    await expect(model.save(out, { protect: [join(out, 'model.json')] })).rejects.toThrow(
      /refusing to write/,
    );
    model.dispose();
  });
});
