/**
 * PCME / PCME++ probabilistic match loss: binary cross-entropy of the match probability p(i, j)
 * against the soft target yᵢ for each aligned pair and 0 for every in-batch negative, plus the
 * PCME++ pseudo-positives option and the VIB (KL to N(0, I)) regulariser.
 *
 * Input: `{ logP, logQ }` `[B, B]` = (log p, log(1 − p)) from `model.matchLogProbs(img, cap)` — the
 * closed-form (PCME++) or Monte-Carlo (PCME) match probability — and soft targets y `[B]` in [0, 1].
 * With BCE(i, j; t) = −t·log p(i, j) − (1 − t)·log(1 − p(i, j)) and targets T(i, i) = yᵢ,
 * T(i, j) = 0 for j ≠ i:
 *
 *   loss = 2 · mean_{i,j} BCE(i, j; T(i, j))
 *
 * i.e. the image→text and the text→image losses, each the mean over all B² entries (as PCME++'s
 * `BCEWithLogitsLoss`): every entry, positive or negative, has weight 1/B², so the B(B − 1) negatives
 * together outweigh the B positives. (PCME sums instead of averaging; PCME's two directions are the
 * same sum, hence the factor 2.)
 *
 * Pseudo-positives (PCME++, `pseudoPositiveWeight` w, 0.1 in PCME++): in row i, every caption j
 * whose match probability is at least the aligned pair's (p(i, j) ≥ p(i, i)) gets the target yᵢ;
 * likewise in column j every image i with p(i, j) ≥ p(j, j) gets yⱼ. The loss adds
 * w · (mean_{i,j} BCE(T_row) + mean_{i,j} BCE(T_col)). The masks carry no gradient.
 *
 * Soft targets: y = 1 gives the plain PCME/PCME++ loss; y = 0 asks the aligned pair to *not*
 * match (target 0, like a negative), and its pseudo-positives get target 0 too.
 *
 * The VIB term {@link vibLoss} is the KL divergence of N(μ, diag σ²) to N(0, I), averaged over items
 * and dimensions (PCME++); add `klWeight · (vibLoss(img) + vibLoss(cap))` with a small weight
 * (PCME++ 1e-4).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { CrossModalModel, matchLoss, vibLoss } from 'cleave/model';
 * const model = new CrossModalModel({ image: { inputDim: 8 }, text: { inputDim: 8 }, head: 'probabilistic' });
 * const y = tf.tensor1d([1, 1, 0.3, 0]);
 * const loss = tf.tidy(() => {
 *   const img = model.embedImages(tf.randomNormal([4, 8]));
 *   const cap = model.embedCaptions(tf.randomNormal([4, 8]));
 *   const m = matchLoss(model.matchLogProbs(img, cap), y, { pseudoPositiveWeight: 0.1 });
 *   return tf.add(m, tf.mul(1e-4, tf.add(vibLoss(img), vibLoss(cap))));
 * });
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { softplusOf } from '../backend/js-kernels.js';
import { ConfigError, parseOrThrow } from '../errors.js';
import { type Embedding, logitMatchLogProbs, type MatchLogProbs } from '../model/distance.js';
import { checkBatch, diagonal, offDiagonal, type PairMask, sameImageMask } from './batch.js';

/** Options of {@link matchLoss}. */
export const matchLossOptionsSchema = z
  .object({
    pseudoPositiveWeight: z.number().nonnegative().default(0),
  })
  .strict();
/** @see matchLossOptionsSchema */
export type MatchLossOptions = z.input<typeof matchLossOptionsSchema>;

/** Options of {@link matchLossPerPair}. */
export const matchPerPairOptionsSchema = z
  .object({
    negatives: z.boolean().default(false),
  })
  .strict();
/** @see matchPerPairOptionsSchema */
export type MatchPerPairOptions = z.input<typeof matchPerPairOptionsSchema>;

/** Elementwise BCE −t·logP − (1 − t)·logQ for a target matrix t. */
function bce(m: MatchLogProbs, t: tf.Tensor): tf.Tensor2D {
  return tf.neg(tf.add(tf.mul(t, m.logP), tf.mul(tf.sub(1, t), m.logQ))) as tf.Tensor2D;
}

/** Targets yᵢ on the diagonal, 0 elsewhere. */
function diagonalTargets(targets: tf.Tensor1D, b: number): tf.Tensor2D {
  return tf.mul(tf.eye(b), tf.expandDims(targets, 1)) as tf.Tensor2D;
}

/** The PCME / PCME++ batch match loss (see the module documentation). */
export function matchLoss(m: MatchLogProbs, targets: tf.Tensor1D, options: MatchLossOptions = {}): tf.Scalar {
  const o = parseOrThrow(matchLossOptionsSchema, options, 'match loss options');
  const b = checkBatch('matchLoss', m.logP, targets);
  return tf.tidy(() => {
    let loss = tf.mul(2, tf.mean(bce(m, diagonalTargets(targets, b))));
    if (o.pseudoPositiveWeight > 0) {
      const positive = diagonal(m.logP);
      const rowMask = tf.cast(tf.greaterEqual(m.logP, tf.expandDims(positive, 1)), 'float32');
      const colMask = tf.cast(tf.greaterEqual(m.logP, tf.expandDims(positive, 0)), 'float32');
      const rowTargets = tf.mul(rowMask, tf.expandDims(targets, 1));
      const colTargets = tf.mul(colMask, tf.expandDims(targets, 0));
      const pseudo = tf.add(tf.mean(bce(m, rowTargets)), tf.mean(bce(m, colTargets)));
      loss = tf.add(loss, tf.mul(o.pseudoPositiveWeight, pseudo));
    }
    return loss as tf.Scalar;
  });
}

/**
 * {@link matchLoss} of the closed-form match logits l `[B, B]` (`model.matchLogits(img, cap)`):
 * `matchLoss(logitMatchLogProbs(l), targets, options)`, value and gradient equal float for float.
 * On the cpu backends without pseudo-positives it runs as one fused op, two passes over the matrix in
 * place of about forty `[B, B]` kernels: the forward pass replays the composed ops' float32 steps
 * (log p = −softplus(−l), log(1 − p) = −softplus(l), the BCE, the mean), the backward pass the chain
 * rule through them (each softplus′ = sigmoid), so training is unchanged bit for bit. Elsewhere, and
 * with `pseudoPositiveWeight` > 0, it is the composed loss.
 * @throws DataError on mismatched shapes
 *
 * @example
 * ```ts
 * const loss = matchLossFromLogits(model.matchLogits(img, cap), y);
 * ```
 */
export function matchLossFromLogits(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  options: MatchLossOptions = {},
): tf.Scalar {
  const o = parseOrThrow(matchLossOptionsSchema, options, 'match loss options');
  const b = checkBatch('matchLoss', logits, targets);
  const backend = tf.getBackend();
  if (o.pseudoPositiveWeight > 0 || (backend !== 'cpu' && backend !== 'cpu-blas')) {
    return tf.tidy(() => matchLoss(logitMatchLogProbs(logits), targets, o));
  }
  const y = Float32Array.from(targets.dataSync());
  const fused = tf.customGrad((l, save) => {
    (save as tf.GradSaveFunc)([l as tf.Tensor]);
    const value = fusedMatchValue((l as tf.Tensor).dataSync() as Float32Array, y, b);
    return {
      value: tf.scalar(value),
      gradFunc: (dy, saved) => {
        const [ls] = saved as [tf.Tensor2D];
        const grad = fusedMatchGradient(
          ls.dataSync() as Float32Array,
          y,
          b,
          (dy as tf.Tensor).dataSync()[0]!,
        );
        return tf.tensor2d(grad, [b, b]);
      },
    };
  });
  return fused(logits) as tf.Scalar;
}

const f32 = Math.fround;
/** The `Softplus` kernel's float32 value. */
const softplus32 = (v: number) => f32(softplusOf(v));

/** 2·mean BCE(l, diag(y)), step by step as the composed float32 kernels round it. */
function fusedMatchValue(l: Float32Array, y: Float32Array, b: number): number {
  const n = b * b;
  let sum = 0;
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      const v = l[i * b + j]!;
      const t = f32((i === j ? 1 : 0) * y[i]!);
      const logP = -softplus32(-v);
      const logQ = -softplus32(v);
      const bce = -f32(f32(t * logP) + f32(f32(1 - t) * logQ));
      sum += f32(bce / n);
    }
  }
  return f32(2 * f32(sum));
}

/** d(2·mean BCE)/dl for the upstream gradient `dy`, as tfjs's chain rule through the composed ops rounds it. */
function fusedMatchGradient(l: Float32Array, y: Float32Array, b: number, dy: number): Float32Array {
  const n = b * b;
  const g = -f32(f32(dy * 2) / n); // mul(2, ·)′, mean′, neg′
  const out = new Float32Array(n);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      const k = i * b + j;
      const v = l[k]!;
      const t = f32((i === j ? 1 : 0) * y[i]!);
      // log p = neg(softplus(neg(l))): neg′ ∘ softplus′ (sigmoid of −l) ∘ neg′
      const viaP = -f32(-f32(g * t) * f32(1 / (1 + Math.exp(v))));
      // log(1 − p) = neg(softplus(neg(neg(l)))): the two inner negations cancel
      const viaQ = f32(-f32(g * f32(1 - t)) * f32(1 / (1 + Math.exp(-v))));
      out[k] = viaP + viaQ;
    }
  }
  return out;
}

/**
 * The per-pair match loss ℓᵢ `[B]` (no reduction over pairs):
 *
 *   ℓᵢ = BCE(i, i; yᵢ) = −yᵢ log p(i, i) − (1 − yᵢ) log(1 − p(i, i))
 *
 * and with `negatives: true` additionally ½·(mean_{j≠i} −log(1 − p(i, j)) + mean_{j≠i} −log(1 − p(j, i))),
 * the average negative term of image i's row and caption i's column. With y = 1 and no negatives this
 * is −log p(i, i), a monotone function of the pair's distance: the natural clean/noisy score (the
 * trainer's `match` score, `pairScores`, evaluates exactly this in float64 from the closed-form
 * distance: {@link alignedMatchLoss}). With a same-image mask ({@link PairMask}) the negatives are
 * only the pairs of other images (the means divide by their count).
 * @throws DataError on mismatched shapes
 */
export function matchLossPerPair(
  m: MatchLogProbs,
  targets: tf.Tensor1D,
  options: MatchPerPairOptions = {},
  mask: PairMask = {},
): tf.Tensor1D {
  const o = parseOrThrow(matchPerPairOptionsSchema, options, 'match per-pair options');
  const b = checkBatch('matchLossPerPair', m.logP, targets, mask);
  return tf.tidy(() => {
    const positive = tf.neg(
      tf.add(tf.mul(targets, diagonal(m.logP)), tf.mul(tf.sub(1, targets), diagonal(m.logQ))),
    );
    if (!o.negatives) return positive as tf.Tensor1D;
    if (mask.sameImage) {
      const keep = tf.sub(offDiagonal(b), sameImageMask(mask.sameImage));
      const neg = tf.mul(tf.neg(m.logQ), keep);
      const count = tf.maximum(tf.sum(keep, 1), 1);
      return tf.add(
        positive,
        tf.div(tf.add(tf.sum(neg, 1), tf.sum(neg, 0)), tf.mul(2, count)),
      ) as tf.Tensor1D;
    }
    const neg = tf.mul(tf.neg(m.logQ), offDiagonal(b));
    const negTerm = tf.div(tf.add(tf.sum(neg, 1), tf.sum(neg, 0)), 2 * (b - 1));
    return tf.add(positive, negTerm) as tf.Tensor1D;
  });
}

/**
 * −log p of one aligned pair with a target of 1, in float64: softplus(a·d − b) for the closed-form
 * distance d and the match scale a and shift b (p = sigmoid(b − a·d)). The per-pair value of
 * {@link matchLossPerPair} (y = 1, no negatives) evaluated on the host, without a `[B, B]` matrix.
 *
 * @example
 * ```ts
 * alignedMatchLoss(0.5, 3, 2);   // log1p(exp(3·0.5 − 2))
 * ```
 */
export function alignedMatchLoss(distance: number, scale: number, shift: number): number {
  const z = scale * distance - shift; // −logit; −log sigmoid(logit) = softplus(−logit)
  return z > 30 ? z : Math.log1p(Math.exp(z));
}

/**
 * The VIB regulariser: KL(N(μ, diag σ²) ‖ N(0, I)) averaged over items and dimensions,
 * mean_{b,k} ½(μ² + σ² − 1 − log σ²) (PCME++'s normalisation).
 * @throws ConfigError when the embedding has no `logSigma2` (the model's head is not probabilistic).
 */
export function vibLoss(embedding: Embedding): tf.Scalar {
  const logSigma2 = embedding.logSigma2;
  if (!logSigma2) {
    throw new ConfigError("vibLoss needs probabilistic embeddings (logSigma2): use head 'probabilistic'");
  }
  return tf.tidy(
    () =>
      tf.mul(
        0.5,
        tf.mean(tf.sub(tf.add(tf.square(embedding.mean), tf.exp(logSigma2)), tf.add(1, logSigma2))),
      ) as tf.Scalar,
  );
}
