import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXCLUDED, maskedLogSumExp, sameImageMask } from '../../../src/core/losses/batch.js';
import { infoNCELoss, infoNCELossPerPair } from '../../../src/core/losses/infonce.js';
import { matchLoss, matchLossFromLogits, matchLossPerPair, vibLoss } from '../../../src/core/losses/match.js';
import { softMargin, tripletLoss, tripletLossPerPair } from '../../../src/core/losses/triplet.js';
import {
  closedFormDistance,
  type Embedding,
  logitMatchLogProbs,
  type MatchLogProbs,
  monteCarloMatchLogProbs,
} from '../../../src/core/model/distance.js';
import { requireCpuBlas } from '../backend/helpers.js';
import { expectClose, fixture, type LossesFixture, type ProbGrads, t2 } from '../model/helpers.js';

// Fixtures: float64 values and central-difference gradients from test/reference/model_losses.py.
const F = fixture<LossesFixture>('losses.json');
const GRAD_ATOL = 2e-4;
const GRAD_RTOL = 2e-3;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

describe('triplet loss (VSE++ hardest negative, NCR soft margin)', () => {
  it('matches the float64 reference: per-pair values, batch loss and gradients w.r.t. both embeddings', () => {
    const img = t2(F.images);
    const cap = t2(F.captions);
    expect(F.triplet.length).toBe(18);
    for (const c of F.triplet) {
      const opts = { margin: c.margin, softMargin: c.softMargin, negatives: c.negatives };
      const y = tf.tensor1d(c.targets);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tripletLoss(tf.matMul(a, b, false, true) as tf.Tensor2D, y, opts);
      expectClose(tripletLossPerPair(tf.matMul(img, cap, false, true), y, opts), c.perPair);
      const { value, grads } = tf.valueAndGrads(f)([img, cap]);
      expectClose(value, [c.loss]);
      expectClose(grads[0]!, c.gradImages, GRAD_ATOL, GRAD_RTOL);
      expectClose(grads[1]!, c.gradCaptions, GRAD_ATOL, GRAD_RTOL);
    }
  });

  it('equals a hand-computed 3×3 case', () => {
    // S rows = images, columns = captions; y = [1, 0.5, 0], margin 0.2, exponential soft margin
    const S = t2([
      [0.8, 0.7, 0.1],
      [0.3, 0.5, 0.6],
      [0.9, 0.2, 0.4],
    ]);
    const y = tf.tensor1d([1, 0.5, 0]);
    const m1 = (0.2 * (Math.sqrt(10) - 1)) / 9; // y = 0.5
    // pair 0 (m = 0.2): i2t negatives S01 = 0.7, S02 = 0.1 → [0.2 + 0.7 − 0.8]₊ = 0.1, 0
    //                   t2i negatives S10 = 0.3, S20 = 0.9 → 0, [0.2 + 0.9 − 0.8]₊ = 0.3
    // pair 1 (m = m1):  i2t S10 = 0.3, S12 = 0.6 → 0, m1 + 0.1;  t2i S01 = 0.7, S21 = 0.2 → m1 + 0.2, 0
    // pair 2 (m = 0):   i2t S20 = 0.9, S21 = 0.2 → 0.5, 0;       t2i S02 = 0.1, S12 = 0.6 → 0, 0.2
    const hardest = [0.1 + 0.3, m1 + 0.1 + (m1 + 0.2), 0.5 + 0.2];
    const mean = [(0.1 + 0.3) / 2, (m1 + 0.1 + m1 + 0.2) / 2, (0.5 + 0.2) / 2];
    expectClose(tripletLossPerPair(S, y, { margin: 0.2 }), hardest, 1e-6);
    expectClose(tripletLossPerPair(S, y, { margin: 0.2, negatives: 'mean' }), mean, 1e-6);
    expectClose(tripletLoss(S, y, { margin: 0.2 }), [(hardest[0]! + hardest[1]! + hardest[2]!) / 3], 1e-6);
  });

  it('soft margins follow α(10^y − 1)/9 and α·y', () => {
    const y = tf.tensor1d([0, 0.25, 0.5, 1]);
    expectClose(
      softMargin(y, 0.2),
      [0, 0.25, 0.5, 1].map((v) => (0.2 * (10 ** v - 1)) / 9),
      1e-7,
    );
    expectClose(softMargin(y, 0.2, 'linear'), [0, 0.05, 0.1, 0.2], 1e-7);
    expectClose(softMargin(y, 0.2, 'none'), [0.2, 0.2, 0.2, 0.2], 1e-7);
  });

  it('y = 1 is the plain VSE++ loss; y = 0 is the loss with margin 0', () => {
    const S = tf.randomUniform([6, 6], -1, 1, 'float32', 3) as tf.Tensor2D;
    const plain = tripletLoss(S, tf.ones([6]), { margin: 0.2, softMargin: 'none' }).dataSync()[0]!;
    expect(tripletLoss(S, tf.ones([6]), { margin: 0.2 }).dataSync()[0]).toBeCloseTo(plain, 6);
    expect(tripletLoss(S, tf.ones([6]), { margin: 0.2, softMargin: 'linear' }).dataSync()[0]).toBeCloseTo(
      plain,
      6,
    );
    const zero = tripletLoss(S, tf.zeros([6]), { margin: 0.2 }).dataSync()[0]!;
    expect(zero).toBeCloseTo(
      tripletLoss(S, tf.ones([6]), { margin: 0, softMargin: 'none' }).dataSync()[0]!,
      6,
    );
    expect(zero).toBeLessThan(plain);
  });

  it('the batch loss is the mean of the per-pair losses', () => {
    const S = tf.randomUniform([7, 7], -1, 1, 'float32', 5) as tf.Tensor2D;
    const y = tf.randomUniform([7], 0, 1, 'float32', 6) as tf.Tensor1D;
    for (const negatives of ['hardest', 'mean'] as const) {
      const per = Array.from(tripletLossPerPair(S, y, { negatives }).dataSync());
      const mean = per.reduce((a, b) => a + b, 0) / per.length;
      expect(tripletLoss(S, y, { negatives }).dataSync()[0]).toBeCloseTo(mean, 6);
    }
  });

  it('rejects bad shapes and options with messages that say what is wrong', () => {
    expect(() => tripletLoss(tf.zeros([3, 4]) as tf.Tensor2D, tf.ones([3]))).toThrow(/square \[B, B\]/);
    expect(() => tripletLoss(tf.zeros([3, 3]) as tf.Tensor2D, tf.ones([4]))).toThrow(
      /targets must have shape \[3\]/,
    );
    expect(() => tripletLoss(tf.zeros([1, 1]) as tf.Tensor2D, tf.ones([1]))).toThrow(/at least 2 pairs/);
    expect(() => tripletLoss(tf.zeros([2, 2]) as tf.Tensor2D, tf.ones([2]), { margin: -1 })).toThrow(
      /margin/,
    );
  });
});

describe('InfoNCE loss (symmetric, learnable temperature, soft-target weighted)', () => {
  it('matches the float64 reference: values and gradients w.r.t. embeddings and the log-scale', () => {
    const img = t2(F.images);
    const cap = t2(F.captions);
    for (const c of F.infoNCE) {
      const y = tf.tensor1d(c.targets);
      const f = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor) =>
        infoNCELoss(tf.matMul(a, b, false, true) as tf.Tensor2D, y, tf.exp(s) as tf.Scalar);
      const logScale = tf.scalar(c.logScale);
      expectClose(infoNCELossPerPair(tf.matMul(img, cap, false, true), y, Math.exp(c.logScale)), c.perPair);
      const { value, grads } = tf.valueAndGrads(f)([img, cap, logScale]);
      expectClose(value, [c.loss]);
      expectClose(grads[0]!, c.gradImages, GRAD_ATOL, GRAD_RTOL);
      expectClose(grads[1]!, c.gradCaptions, GRAD_ATOL, GRAD_RTOL);
      expectClose(grads[2]!, [c.gradLogScale], GRAD_ATOL, GRAD_RTOL);
    }
  });

  it('equals a hand-computed 2×2 case (y = 1 is the plain symmetric InfoNCE)', () => {
    const S = [
      [0.9, 0.1],
      [0.2, 0.8],
    ];
    const s = 2;
    const lse = (a: number, b: number) => Math.log(Math.exp(a) + Math.exp(b));
    const l0 = 0.5 * (lse(s * 0.9, s * 0.1) - s * 0.9 + lse(s * 0.9, s * 0.2) - s * 0.9);
    const l1 = 0.5 * (lse(s * 0.2, s * 0.8) - s * 0.8 + lse(s * 0.1, s * 0.8) - s * 0.8);
    expectClose(infoNCELossPerPair(t2(S), tf.ones([2]), s), [l0, l1], 1e-6);
    expectClose(infoNCELoss(t2(S), tf.tensor1d([1, 0.25]), tf.scalar(s)), [(l0 + 0.25 * l1) / 2], 1e-6);
  });

  it('y = 0: the pair adds nothing and its own similarity gets no gradient, but it stays a negative', () => {
    const S = tf.randomUniform([4, 4], -1, 1, 'float32', 9) as tf.Tensor2D;
    const y = tf.tensor1d([1, 0, 1, 1]);
    expect(infoNCELossPerPair(S, y, 10).dataSync()[1]).toBe(0);
    const g = tf
      .grad((s: tf.Tensor) => infoNCELoss(s as tf.Tensor2D, y, 10))(S)
      .arraySync() as number[][];
    expect(g[1]![1]).toBe(0); // S(1,1) only enters pair 1's own terms
    expect(Math.abs(g[1]![0]!)).toBeGreaterThan(1e-4); // image 1 is a negative in column 0 (pair 0)
    expect(Math.abs(g[0]![1]!)).toBeGreaterThan(1e-4); // caption 1 is a negative in row 0 (pair 0)
  });
});

function embeddingsFrom(p: LossesFixture['probabilistic']): [Embedding, Embedding] {
  return [
    { mean: t2(p.imageMean), logSigma2: t2(p.imageLogSigma2) },
    { mean: t2(p.captionMean), logSigma2: t2(p.captionLogSigma2) },
  ];
}

const GRAD_NAMES = ['mu_i', 'ls_i', 'mu_c', 'ls_c', 'a_raw', 'b'] as const;

function expectGrads(grads: tf.Tensor[], expected: ProbGrads): void {
  GRAD_NAMES.forEach((name, k) => {
    const value = expected[name];
    expectClose(grads[k]!, typeof value === 'number' ? [value] : value, GRAD_ATOL, GRAD_RTOL);
  });
}

describe('PCME / PCME++ match loss', () => {
  const P = F.probabilistic;

  it('computes the closed-form sampled distance ‖μ₁−μ₂‖² + ‖σ₁²+σ₂²‖₁', () => {
    const [img, cap] = embeddingsFrom(P);
    expectClose(closedFormDistance(img, cap), P.csdDistance, 1e-5);
  });

  /** μ, log σ² of images and captions, raw scale and shift: the six inputs the gradients are taken over. */
  const probInputs = (): tf.Tensor[] => {
    const [img, cap] = embeddingsFrom(P);
    return [img.mean, img.logSigma2!, cap.mean, cap.logSigma2!, tf.scalar(P.scaleRaw), tf.scalar(P.shift)];
  };
  const unpack = (xs: tf.Tensor[]): [Embedding, Embedding, tf.Scalar, tf.Scalar] => [
    { mean: xs[0] as tf.Tensor2D, logSigma2: xs[1] as tf.Tensor2D },
    { mean: xs[2] as tf.Tensor2D, logSigma2: xs[3] as tf.Tensor2D },
    xs[4] as tf.Scalar,
    xs[5] as tf.Scalar,
  ];

  it('closed-form distance: loss, per-pair losses and gradients (μ, log σ², a, b) match the reference', () => {
    const csdLogProbs = (xs: tf.Tensor[]) => {
      const [img, cap, aRaw, b] = unpack(xs);
      return logitMatchLogProbs(
        tf.sub(b, tf.mul(tf.softplus(aRaw), closedFormDistance(img, cap))) as tf.Tensor2D,
      );
    };
    expect(P.matchCsd.length).toBe(6);
    for (const c of P.matchCsd) {
      const y = tf.tensor1d(c.targets);
      const f = (...xs: tf.Tensor[]) =>
        matchLoss(csdLogProbs(xs), y, { pseudoPositiveWeight: c.pseudoPositiveWeight });
      const { value, grads } = tf.valueAndGrads(f)(probInputs());
      expectClose(value, [c.loss]);
      expectGrads(grads, c.grads);
      const m = csdLogProbs(probInputs());
      expectClose(matchLossPerPair(m, y), c.perPair);
      expectClose(matchLossPerPair(m, y, { negatives: true }), c.perPairWithNegatives);
    }
  });

  it('Monte-Carlo distance: log-probabilities, loss and gradients match the reference with the same noise', () => {
    const c = P.matchMc;
    const y = tf.tensor1d(c.targets);
    const noise = [tf.tensor3d(c.noiseImages), tf.tensor3d(c.noiseCaptions)] as const;
    const mcLogProbs = (xs: tf.Tensor[]) => {
      const [img, cap, aRaw, b] = unpack(xs);
      return monteCarloMatchLogProbs(img, cap, tf.softplus(aRaw) as tf.Scalar, b, noise[0], noise[1]);
    };
    const m = mcLogProbs(probInputs());
    expectClose(m.logP, c.logP, 1e-5, 1e-4);
    expectClose(m.logQ, c.logQ, 1e-5, 1e-4);
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => matchLoss(mcLogProbs(xs), y))(
      probInputs(),
    );
    expectClose(value, [c.loss]);
    expectGrads(grads, c.grads);
  });

  it('VIB term: KL(N(μ, σ²) ‖ N(0, I)) averaged over items and dimensions, with gradients', () => {
    const [img] = embeddingsFrom(P);
    const f = (mu: tf.Tensor, ls: tf.Tensor) =>
      vibLoss({ mean: mu as tf.Tensor2D, logSigma2: ls as tf.Tensor2D });
    const { value, grads } = tf.valueAndGrads(f)([img.mean, img.logSigma2!]);
    expectClose(value, [P.vib.value], 1e-6);
    expectClose(grads[0]!, P.vib.gradMean, 1e-6, 1e-3);
    expectClose(grads[1]!, P.vib.gradLogSigma2, 1e-6, 1e-3);
    // closed form: μ = 0, σ² = 1 gives KL 0; μ = 1, log σ² = 0 gives ½ per element
    expectClose(vibLoss({ mean: tf.zeros([2, 3]), logSigma2: tf.zeros([2, 3]) }), [0], 1e-7);
    expectClose(vibLoss({ mean: tf.ones([2, 3]), logSigma2: tf.zeros([2, 3]) }), [0.5], 1e-7);
    expect(() => vibLoss({ mean: tf.zeros([2, 3]) })).toThrow(/probabilistic/);
  });

  it('equals a hand-computed 2×2 case, with and without pseudo-positives', () => {
    // logits l(i, j), p = sigmoid(l). Rows: row 0 is (2, −1), nothing beats the aligned 2; row 1 is
    // (1.5, 0.5): caption 0 beats the aligned 0.5 → pseudo-positive (1, 0) with target y₁.
    // Columns: column 0 is (2, 1.5) and column 1 is (−1, 0.5): nothing beats the aligned entry.
    const l = [
      [2, -1],
      [1.5, 0.5],
    ];
    const m: MatchLogProbs = logitMatchLogProbs(t2(l));
    const y = [1, 0.6];
    const bce = (z: number, t: number) => -(t * Math.log(sigmoid(z)) + (1 - t) * Math.log(1 - sigmoid(z)));
    const plain = (2 / 4) * (bce(2, y[0]!) + bce(-1, 0) + bce(1.5, 0) + bce(0.5, y[1]!));
    expectClose(matchLoss(m, tf.tensor1d(y)), [plain], 1e-6);
    const rows = (bce(2, y[0]!) + bce(-1, 0) + bce(1.5, y[1]!) + bce(0.5, y[1]!)) / 4;
    const cols = (bce(2, y[0]!) + bce(-1, 0) + bce(1.5, 0) + bce(0.5, y[1]!)) / 4;
    expectClose(
      matchLoss(m, tf.tensor1d(y), { pseudoPositiveWeight: 0.1 }),
      [plain + 0.1 * (rows + cols)],
      1e-6,
    );
    expectClose(matchLossPerPair(m, tf.tensor1d(y)), [bce(2, y[0]!), bce(0.5, y[1]!)], 1e-6);
    expectClose(
      matchLossPerPair(m, tf.tensor1d(y), { negatives: true }),
      [bce(2, y[0]!) + (bce(-1, 0) + bce(1.5, 0)) / 2, bce(0.5, y[1]!) + (bce(1.5, 0) + bce(-1, 0)) / 2],
      1e-6,
    );
  });

  it('y = 1 is the plain BCE against the identity; y = 0 treats the aligned pair as a negative', () => {
    const l = tf.randomNormal([5, 5], 0, 3, 'float32', 4) as tf.Tensor2D;
    const m = logitMatchLogProbs(l);
    const p = tf.sigmoid(l);
    const eye = tf.eye(5);
    const plainBce = tf.mean(
      tf.neg(tf.add(tf.mul(eye, tf.log(p)), tf.mul(tf.sub(1, eye), tf.log(tf.sub(1, p))))),
    );
    expectClose(matchLoss(m, tf.ones([5])), [2 * plainBce.dataSync()[0]!], 1e-5);
    const allNegative = tf.mean(tf.neg(tf.log(tf.sub(1, p))));
    expectClose(matchLoss(m, tf.zeros([5])), [2 * allNegative.dataSync()[0]!], 1e-5);
    const diagP = Array.from(tf.sum(tf.mul(p, eye), 1).dataSync());
    expectClose(
      matchLossPerPair(m, tf.zeros([5])),
      diagP.map((v) => -Math.log(1 - v)),
      1e-5,
    );
  });
});

describe('the fused match loss of the logits', () => {
  const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
  // logits from the saturated tails to the middle, targets with 0, 1 and soft values
  const logits = (seed: number, b: number) =>
    tf.mul(
      tf.randomNormal([b, b], 0, 1, 'float32', seed),
      tf.randomUniform([b, 1], 0.1, 40, 'float32', seed + 1),
    );
  const targets = (seed: number, b: number) =>
    tf.tidy(() => {
      const u = tf.randomUniform([b], -0.5, 1.5, 'float32', seed + 2);
      return tf.clipByValue(u, 0, 1) as tf.Tensor1D;
    });

  it.each(['cpu', 'cpu-blas'])(
    'equals the composed loss bit for bit on %s: value and gradient',
    async (backend) => {
      if (backend === 'cpu-blas') await requireCpuBlas();
      await tf.setBackend(backend);
      try {
        for (const [seed, b] of [
          [1, 2],
          [7, 9],
          [11, 64],
        ] as const) {
          const l = logits(seed, b) as tf.Tensor2D;
          const y = targets(seed, b);
          // an upstream gradient other than 1, as when the loss is weighted
          const fused = (x: tf.Tensor) => tf.mul(0.37, matchLossFromLogits(x as tf.Tensor2D, y)) as tf.Scalar;
          const composed = (x: tf.Tensor) =>
            tf.mul(0.37, matchLoss(logitMatchLogProbs(x as tf.Tensor2D), y)) as tf.Scalar;
          const got = tf.valueAndGrad(fused)(l);
          const want = tf.valueAndGrad(composed)(l);
          expect(bits(got.value), `value b=${b}`).toEqual(bits(want.value));
          expect(bits(got.grad), `gradient b=${b}`).toEqual(bits(want.grad));
          expect(Math.max(...Array.from(got.grad.dataSync()).map(Math.abs))).toBeGreaterThan(0);
          tf.dispose([l, y, got.value, got.grad, want.value, want.grad]);
        }
      } finally {
        await tf.setBackend('cpu');
      }
    },
  );

  it('with pseudo-positives is the composed loss, and checks its shapes', () => {
    const l = logits(3, 6) as tf.Tensor2D;
    const y = targets(3, 6);
    const o = { pseudoPositiveWeight: 0.1 };
    expect(matchLossFromLogits(l, y, o).dataSync()[0]).toBe(
      matchLoss(logitMatchLogProbs(l), y, o).dataSync()[0],
    );
    expect(() => matchLossFromLogits(l, tf.ones([5]) as tf.Tensor1D)).toThrow(
      /targets must have shape \[6\]/,
    );
  });
});

describe('no tensor leaks in the losses', () => {
  it('keeps tf.memory().numTensors flat across repeated loss + gradient evaluations', () => {
    const S = tf.randomUniform([8, 8], -1, 1, 'float32', 1) as tf.Tensor2D;
    const y = tf.randomUniform([8], 0, 1, 'float32', 2) as tf.Tensor1D;
    const run = () =>
      tf
        .tidy(() => {
          const g = tf.grads((s: tf.Tensor, k: tf.Tensor) =>
            tf.addN([
              tripletLoss(s as tf.Tensor2D, y),
              infoNCELoss(s as tf.Tensor2D, y, tf.exp(k) as tf.Scalar),
              matchLoss(logitMatchLogProbs(tf.mul(s, 5) as tf.Tensor2D), y, { pseudoPositiveWeight: 0.1 }),
            ]),
          )([S, tf.scalar(2)]);
          return tf.sum(g[0]!);
        })
        .dispose();
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** pair-scores.json: one block of 9 pairs over 5 images, float64 per-pair losses with the same-image mask. */
interface PairScoresFixture {
  captionToImage: number[];
  similarity: number[][];
  logP: number[][];
  logQ: number[][];
  temperature: number;
  margin: number;
  infonce: number[];
  triplet: number[];
  tripletMean: number[];
  match: number[];
  matchWithNegatives: number[];
}

describe("per-pair losses with the same-image mask (the trainer's scores)", () => {
  const P = fixture<PairScoresFixture>('pair-scores.json');
  const sameImage = Int32Array.from(P.captionToImage);
  const ones = () => tf.ones([sameImage.length]) as tf.Tensor1D;

  it('infoNCE, triplet (hardest and mean) and match (with negatives) equal the float64 reference', () => {
    const S = t2(P.similarity);
    expectClose(infoNCELossPerPair(S, ones(), 1 / P.temperature, { sameImage }), P.infonce);
    const opts = { margin: P.margin, softMargin: 'none' as const };
    expectClose(tripletLossPerPair(S, ones(), opts, { sameImage }), P.triplet);
    expectClose(tripletLossPerPair(S, ones(), { ...opts, negatives: 'mean' }, { sameImage }), P.tripletMean);
    const m = { logP: t2(P.logP), logQ: t2(P.logQ) };
    expectClose(matchLossPerPair(m, ones()), P.match);
    expectClose(matchLossPerPair(m, ones(), { negatives: true }, { sameImage }), P.matchWithNegatives);
  });

  it('the fused masked log-sum-exp equals the dense ops (−1e9 on the masked entries) bit for bit', () => {
    const n = 70;
    const groups = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 3) % 17);
    const x = tf.mul(tf.randomNormal([n, n], 0, 3, 'float32', 5), 1) as tf.Tensor2D;
    const dense = tf.add(x, tf.mul(sameImageMask(groups), EXCLUDED));
    const got = maskedLogSumExp(x, groups);
    expect(Array.from(got.row.dataSync())).toEqual(Array.from(tf.logSumExp(dense, 1).dataSync()));
    expect(Array.from(got.col.dataSync())).toEqual(Array.from(tf.logSumExp(dense, 0).dataSync()));
    const plain = maskedLogSumExp(x);
    expect(Array.from(plain.row.dataSync())).toEqual(Array.from(tf.logSumExp(x, 1).dataSync()));
    expect(Array.from(plain.col.dataSync())).toEqual(Array.from(tf.logSumExp(x, 0).dataSync()));
    expect(Array.from(sameImageMask([4, 4, 1]).dataSync())).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('the fused masked log-sum-exp has the gradient of the dense ops', () => {
    const groups = Int32Array.from([0, 0, 1, 2, 2, 2, 3]);
    const x = tf.randomNormal([7, 7], 0, 1, 'float32', 8) as tf.Tensor2D;
    const w = tf.randomNormal([2, 7], 0, 1, 'float32', 9);
    const mask = sameImageMask(groups);
    const fused = (a: tf.Tensor) => {
      const { row, col } = maskedLogSumExp(a as tf.Tensor2D, groups);
      return tf.sum(tf.mul(tf.stack([row, col]), w)) as tf.Scalar;
    };
    const dense = (a: tf.Tensor) => {
      const l = tf.add(a, tf.mul(mask, EXCLUDED));
      return tf.sum(tf.mul(tf.stack([tf.logSumExp(l, 1), tf.logSumExp(l, 0)]), w)) as tf.Scalar;
    };
    expectClose(tf.grad(fused)(x), Array.from(tf.grad(dense)(x).dataSync()), 1e-6);
  });

  it('a mask of the wrong length is a DataError', () => {
    const S = t2(P.similarity);
    expect(() => infoNCELossPerPair(S, ones(), 5, { sameImage: sameImage.subarray(1) })).toThrow(
      /one image id per pair/,
    );
  });
});
