import { beforeAll, describe, expect, it } from 'vitest';
import { bundledDataset } from '../../src/core/dataset/bundled.js';
import { PairDataset } from '../../src/core/dataset/pair-dataset.js';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { loadPairs } from '../../src/core/io/manifest.js';
import { CrossModalModel } from '../../src/core/model/model.js';
import { Rng } from '../../src/core/random.js';
import { retrievalMetrics } from '../../src/eval/retrieval.js';
import { detectSharedSpace, inputCosines } from '../../src/eval/shared-space.js';
import { injectNoise } from '../../src/noise/inject.js';
import { resolveTrainerConfig } from '../../src/trainer/config.js';
import { evaluateRetrieval } from '../../src/trainer/evaluate.js';
import { buildNet, disposeNet } from '../../src/trainer/net.js';
import { learnedScores, nullScores, scoreEmbeddings } from '../../src/trainer/score-source.js';
import { nullPairScores, pairScores } from '../../src/trainer/scoring.js';
import { Trainer } from '../../src/trainer/trainer.js';
import { syntheticPairs, useCpu } from './helpers.js';

let myntra: PairDataset;

beforeAll(async () => {
  await useCpu();
  myntra = await loadPairs(bundledDataset('myntra-fashionclip-1000'));
});

/** Unit rows of a row-major matrix, in float64 then stored as float32 (an independent normalisation). */
function unitRows(m: Float32Array, d: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < m.length / d; r++) {
    let ss = 0;
    for (let k = 0; k < d; k++) ss += m[r * d + k]! ** 2;
    for (let k = 0; k < d; k++) out[r * d + k] = m[r * d + k]! / Math.sqrt(ss);
  }
  return out;
}

/** The caption features multiplied by a random orthogonal matrix (Gram–Schmidt): same width and norms, another space. */
function rotatedCaptions(data: PairDataset, seed: number): PairDataset {
  const d = data.captionDim;
  const rng = new Rng(seed);
  const q = rng.fillNormal(new Float64Array(d * d) as unknown as Float32Array) as unknown as Float64Array;
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < a; b++) {
      let p = 0;
      for (let k = 0; k < d; k++) p += q[a * d + k]! * q[b * d + k]!;
      for (let k = 0; k < d; k++) q[a * d + k] = q[a * d + k]! - p * q[b * d + k]!;
    }
    let n = 0;
    for (let k = 0; k < d; k++) n += q[a * d + k]! ** 2;
    for (let k = 0; k < d; k++) q[a * d + k] = q[a * d + k]! / Math.sqrt(n);
  }
  const x = data.captionMatrix();
  const y = new Float32Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    for (let a = 0; a < d; a++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += q[a * d + k]! * x[r * d + k]!;
      y[r * d + a] = v;
    }
  }
  return PairDataset.fromArrays({
    name: 'rotated',
    images: { data: data.imageMatrix(), dim: data.imageDim },
    captions: { data: y, dim: d },
  });
}

describe('detectSharedSpace', () => {
  it('finds the shared space of CLIP-embedded pairs, also under 80 % shuffled captions', () => {
    const clean = detectSharedSpace(myntra.train);
    expect(clean.shared).toBe(true);
    expect(clean.alignedShare).toBeGreaterThan(0.8);
    expect(clean.pairedCosine).toBeGreaterThan(clean.unpairedCosine + 0.1);
    const noisy = injectNoise(myntra, { rate: 0.8, kind: 'shuffle', seed: 3 }).dataset;
    const found = detectSharedSpace(noisy.train);
    expect(found.shared).toBe(true);
    expect(found.alignedShare).toBeGreaterThan(0.1);
    expect(found.alignedShare).toBeLessThan(0.3);
  });

  it('rejects same-width vectors from different spaces, and different widths', () => {
    const rotated = detectSharedSpace(rotatedCaptions(myntra.train, 5));
    expect(rotated.shared).toBe(false);
    expect(rotated.alignedShare).toBeLessThan(0.03);
    const fullyShuffled = injectNoise(myntra, { rate: 1, kind: 'shuffle', seed: 1 }).dataset;
    expect(detectSharedSpace(fullyShuffled.train).shared).toBe(false);
    const widths = detectSharedSpace(syntheticPairs({ imageDim: 12, captionDim: 10 }));
    expect(widths.shared).toBe(false);
    expect(widths.reason).toMatch(/12-d.*10-d/);
  });

  it('inputCosines is the cosine of each given pair', () => {
    const data = myntra.test;
    const c = inputCosines(data);
    const d = data.imageDim;
    const img = unitRows(data.imageMatrix(), d);
    const cap = unitRows(data.captionMatrix(), d);
    for (const j of [0, 7, data.numPairs - 1]) {
      let dot = 0;
      const i = data.captionToImage[j]!;
      for (let k = 0; k < d; k++) dot += img[i * d + k]! * cap[j * d + k]!;
      expect(c[j]).toBeCloseTo(dot, 5);
    }
    expect(() => inputCosines(syntheticPairs())).toThrow(DataError);
  });
});

describe('zero-shot and residual adapters', () => {
  it('zero-shot ranks exactly as the inputs’ own cosine', async () => {
    const trainer = new Trainer({ method: 'zero-shot', seed: 2 });
    const result = await trainer.fit(myntra);
    expect(trainer.sharedSpace?.used).toBe(true);
    expect(result.history).toHaveLength(0);
    const data = myntra.test;
    const d = data.imageDim;
    const got = await evaluateRetrieval(result.model, data);
    const want = await retrievalMetrics(unitRows(data.imageMatrix(), d), unitRows(data.captionMatrix(), d), {
      dim: d,
      captionToImage: data.captionToImage,
      ties: 'pessimistic',
    });
    expect(got.rsum).toBe(want.rsum);
    expect(got.i2t).toEqual(want.i2t);
    expect(got.t2i).toEqual(want.t2i);
    expect(got.rsum).toBeGreaterThan(400); // CLIP features retrieve well untrained
    // its split is the CLIP-score filter: P(clean) does not increase as the input cosine falls
    const cos = inputCosines(myntra.train);
    const post = result.posterior!;
    const order = Array.from(cos.keys()).sort((a, b) => cos[b]! - cos[a]!);
    for (let k = 1; k < order.length; k++) {
      expect(post[order[k]!]!).toBeLessThanOrEqual(post[order[k - 1]!]! + 1e-12);
    }
  });

  it('an untrained adapter model (either head) reproduces the zero-shot metrics exactly', async () => {
    const zs = await new Trainer({ method: 'zero-shot' }).fit(myntra);
    const want = await evaluateRetrieval(zs.model, myntra.test);
    for (const head of ['deterministic', 'probabilistic'] as const) {
      const model = new CrossModalModel({
        embedDim: 512,
        head,
        image: { inputDim: 512, residual: true, hidden: 64, dropout: 0.1 },
        text: { inputDim: 512, residual: true, hidden: 64, dropout: 0.1 },
        seed: 9,
      });
      const got = await evaluateRetrieval(model, myntra.test);
      expect(got.i2t).toEqual(want.i2t);
      expect(got.t2i).toEqual(want.t2i);
      model.dispose();
    }
  });

  it('refurb on a shared space starts from zero-shot: never worse on validation, adapter weights', async () => {
    const small = await loadPairs(bundledDataset('myntra-fashionclip-99'));
    const noisy = injectNoise(small, { rate: 0.5, kind: 'shuffle', seed: 0 }).dataset;
    const trainer = new Trainer({ method: 'refurb', epochs: 3, seed: 0, adapter: { hidden: 32 } });
    const result = await trainer.fit(noisy);
    expect(trainer.sharedSpace?.used).toBe(true);
    expect(result.model.embedDim).toBe(512);
    expect(result.model.getConfig().image.residual).toBe(true);
    // no warm-up on a shared space: every epoch splits
    expect(result.history.every((r) => r.phase === 'train' && r.split)).toBe(true);
    const zs = await new Trainer({ method: 'zero-shot' }).fit(noisy);
    const zsVal = await evaluateRetrieval(zs.model, small.val);
    const bestVal = await evaluateRetrieval(result.model, small.val);
    expect(bestVal.rsum).toBeGreaterThanOrEqual(zsVal.rsum);
    // the split adds the input score to the learned one: at least as good as the raw cosine here
    const truth = noisy.train.noise!.noisy;
    const { splitQuality } = await import('../../src/eval/detection.js');
    const cos = inputCosines(noisy.train).map((v) => (v + 1) / 2);
    expect(splitQuality(result.posterior!, truth).auc).toBeGreaterThanOrEqual(
      splitQuality(cos, truth).auc - 0.002,
    );
  });

  it('config: forcing a shared space on different widths, and zero-shot without one, are clear errors', async () => {
    const data = syntheticPairs({ imageDim: 12, captionDim: 10 });
    await expect(new Trainer({ sharedSpace: true, epochs: 1 }).fit(data)).rejects.toThrow(ConfigError);
    await expect(new Trainer({ method: 'zero-shot' }).fit(data)).rejects.toThrow(/zero-shot.*one space/);
    const off = new Trainer({ method: 'vse', sharedSpace: false, epochs: 1, model: { embedDim: 32 } });
    const r = await off.fit(myntra);
    expect(off.sharedSpace?.shared).toBe(true);
    expect(off.sharedSpace?.used).toBe(false);
    expect(r.model.embedDim).toBe(32);
  });
});

describe('nullPairScores', () => {
  it('scores each pair’s image with another pair’s caption under the block’s normalisers', () => {
    const data = myntra.test;
    const d = data.imageDim;
    const images = unitRows(data.imageMatrix(), d);
    const captions = unitRows(data.captionMatrix(), d);
    const tau = 0.05;
    const n = data.numPairs;
    const model = new CrossModalModel({ image: { inputDim: d }, text: { inputDim: d }, embedDim: 8 });
    const out = nullPairScores(model, data, {
      temperature: tau,
      draws: 2,
      seed: 4,
      embeddings: { dim: d, images, captions },
    });
    model.dispose();
    expect(out).toHaveLength(2 * n);
    // S(a, b) = image of pair a · caption b; one block holds every pair
    const S = (a: number, b: number) => {
      let v = 0;
      const i = data.captionToImage[a]!;
      for (let k = 0; k < d; k++) v += images[i * d + k]! * captions[b * d + k]!;
      return v / tau;
    };
    const lse = (f: (t: number) => number) => {
      let m = Number.NEGATIVE_INFINITY;
      for (let t = 0; t < n; t++) m = Math.max(m, f(t));
      let s = 0;
      for (let t = 0; t < n; t++) s += Math.exp(f(t) - m);
      return m + Math.log(s);
    };
    for (const j of [0, 17, n - 1]) {
      const row = lse((t) => S(j, t));
      for (let draw = 0; draw < 2; draw++) {
        const got = out[draw * n + j]!;
        let closest = Number.POSITIVE_INFINITY;
        for (let p = 0; p < n; p++) {
          if (data.captionToImage[p] === data.captionToImage[j]) continue;
          const want = 0.5 * (row - S(j, p) + (lse((t) => S(t, p)) - S(j, p)));
          closest = Math.min(closest, Math.abs(got - want));
        }
        expect(closest).toBeLessThan(1e-3);
      }
    }
    // random pairs look worse than the given (mostly clean) ones
    const given = pairScores(model, data, {
      score: 'infonce',
      temperature: tau,
      embeddings: { dim: d, images, captions },
    });
    const mean = (v: Float64Array) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(out)).toBeGreaterThan(mean(given) + 1);
  });
});

describe('schedule', () => {
  it('scales the default warm-up with short runs and keeps an explicit one', () => {
    expect(resolveTrainerConfig({ epochs: 40 }).warmupEpochs).toBe(10);
    expect(resolveTrainerConfig({ epochs: 60 }).warmupEpochs).toBe(10);
    expect(resolveTrainerConfig({ epochs: 5 }).warmupEpochs).toBe(1);
    expect(resolveTrainerConfig({ epochs: 5, warmupEpochs: 3 }).warmupEpochs).toBe(3);
    expect(() => resolveTrainerConfig({ epochs: 5, warmupEpochs: 6 })).toThrow(ConfigError);
  });

  it('stops after `patience` validations without improvement and keeps the best epoch', async () => {
    const data = syntheticPairs({ imageDim: 12, captionDim: 10 });
    const trainer = new Trainer({
      method: 'vse',
      epochs: 30,
      patience: 2,
      batchSize: 32,
      optimizer: { learningRate: 0.3 }, // far too large: validation stops improving at once
      model: { embedDim: 8, image: { hidden: 16 }, text: { hidden: 16 } },
    });
    const result = await trainer.fit(data);
    expect(result.history.length).toBeLessThan(30);
    expect(result.history.length).toBe(result.bestEpoch + 1 + 2);
  });
});

describe('scoreEmbeddings (one embedding for the learned score and its null)', () => {
  it('gives the means the score and the null would embed themselves, and nothing where none is read', () => {
    const data = myntra.test;
    const config = resolveTrainerConfig({ seed: 3 });
    const net = buildNet(config, data, { tag: 'net0', index: 0, sharedSpace: true });
    const emb = scoreEmbeddings(config, data, net)!;
    expect(emb.imageLogSigma2).toBeUndefined();
    expect(emb.images.length).toBe(data.numImages * emb.dim);
    // bit for bit what each computes on its own
    expect(Array.from(learnedScores(config, data, net, 2, emb))).toEqual(
      Array.from(learnedScores(config, data, net, 2)),
    );
    expect(Array.from(nullScores(config, data, net, emb))).toEqual(Array.from(nullScores(config, data, net)));
    for (const score of ['input-cosine', 'match'] as const) {
      const other = resolveTrainerConfig({ seed: 3, split: { score }, model: { head: 'probabilistic' } });
      expect(scoreEmbeddings(other, data, net)).toBeUndefined();
    }
    disposeNet(net);
  });
});
