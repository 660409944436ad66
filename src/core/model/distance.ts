/**
 * Distances and match probabilities between embeddings, as tensors (pure functions, no weights).
 *
 * An {@link Embedding} is either a point (`mean` only, unit-norm rows: the deterministic head) or a
 * diagonal Gaussian N(μ, diag σ²) (`mean` and `logSigma2`: the probabilistic head). For a batch of
 * `Bi` images and `Bc` captions every function returns a `[Bi, Bc]` matrix: row i = image i,
 * column j = caption j.
 *
 * - {@link closedFormDistance}: the PCME++ closed-form sampled distance
 *   d(i, j) = ‖μᵢ − μⱼ‖² + ‖σᵢ² + σⱼ²‖₁, which is E‖zᵢ − zⱼ‖² for independent zᵢ ~ N(μᵢ, σᵢ²),
 *   zⱼ ~ N(μⱼ, σⱼ²) — so it needs no sampling.
 * - {@link monteCarloMatchLogProbs}: the PCME Monte-Carlo match probability
 *   p(i, j) = (1/J²) Σₖ Σₗ sigmoid(−a‖zᵢᵏ − zⱼˡ‖ + b) over J samples per item.
 * - {@link logitMatchLogProbs}: p = sigmoid(logit), e.g. logit = −a·d + b with the closed-form d.
 *
 * Match probabilities are returned in log space, `{ logP, logQ }` = (log p, log(1 − p)), computed
 * stably, which is what the binary cross-entropy of {@link matchLoss} needs.
 *
 * Note on PCME's code: its `soft_contrastive_nll` uses σ(x) = eˣ/(eˣ + e⁻ˣ) = sigmoid(2x), so its
 * a = b = 15 correspond to a = b = 30 in the standard-sigmoid form used here (and in the PCME paper).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { closedFormDistance } from 'cleave/model';
 * const img = { mean: tf.tensor2d([[1, 0]]), logSigma2: tf.tensor2d([[-2, -2]]) };
 * const cap = { mean: tf.tensor2d([[0, 1]]), logSigma2: tf.tensor2d([[-2, -2]]) };
 * closedFormDistance(img, cap).print();   // 2 + 4·e⁻² ≈ 2.5413
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '../errors.js';
import type { Rng } from '../random.js';

/** What an encoder returns for a batch of B items (a type alias, so `tf.tidy` can return it). */
export type Embedding = {
  /** `[B, d]`: the point embedding (deterministic head) or μ (probabilistic head); unit-norm rows. */
  mean: tf.Tensor2D;
  /** `[B, d]`: log σ² per dimension (probabilistic head only). */
  logSigma2?: tf.Tensor2D;
};

/** Match probabilities in log space: `logP` = log p, `logQ` = log(1 − p), both `[Bi, Bc]`. */
export type MatchLogProbs = {
  logP: tf.Tensor2D;
  logQ: tf.Tensor2D;
};

/** Dispose the tensors of an embedding. */
export function disposeEmbedding(e: Embedding): void {
  e.mean.dispose();
  e.logSigma2?.dispose();
}

/** Inner products μᵢ·μⱼ `[Bi, Bc]` (the cosine similarity, since the means have unit norm). */
export function similarityMatrix(images: Embedding, captions: Embedding): tf.Tensor2D {
  return tf.matMul(images.mean, captions.mean, false, true);
}

/** Squared Euclidean distances ‖xᵢ − yⱼ‖² `[N, M]` between the rows of x `[N, D]` and y `[M, D]`. */
export function squaredDistances(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const xx = tf.sum(tf.square(x), 1, true);
    const yy = tf.reshape(tf.sum(tf.square(y), 1), [1, -1]);
    return tf.add(tf.sub(xx, tf.mul(2, tf.matMul(x, y, false, true))), yy) as tf.Tensor2D;
  });
}

function requireSigma(e: Embedding, what: string): tf.Tensor2D {
  if (!e.logSigma2) {
    throw new ConfigError(
      `${what} needs probabilistic embeddings (logSigma2); this head is deterministic: build the model with head: 'probabilistic'`,
    );
  }
  return e.logSigma2;
}

/**
 * The PCME++ closed-form sampled distance d(i, j) = ‖μᵢ − μⱼ‖² + Σₖ (σᵢₖ² + σⱼₖ²), `[Bi, Bc]`.
 * @throws Error when an embedding has no `logSigma2`.
 */
export function closedFormDistance(images: Embedding, captions: Embedding): tf.Tensor2D {
  const si = requireSigma(images, 'closedFormDistance');
  const sc = requireSigma(captions, 'closedFormDistance');
  return tf.tidy(() => {
    const mu = squaredDistances(images.mean, captions.mean);
    const vi = tf.sum(tf.exp(si), 1, true);
    const vc = tf.reshape(tf.sum(tf.exp(sc), 1), [1, -1]);
    return tf.add(tf.add(mu, vi), vc) as tf.Tensor2D;
  });
}

/**
 * log sigmoid(x) = −softplus(−x), written with plain kernels: `tf.logSigmoid` is a `customGrad` op
 * whose gradient reads its input after an enclosing `tf.tidy` may have disposed it.
 */
export function logSigmoid<T extends tf.Tensor>(x: T): T {
  return tf.neg(tf.softplus(tf.neg(x))) as T;
}

/** (log sigmoid(l), log sigmoid(−l)) for a matrix of match logits l. */
export function logitMatchLogProbs(logits: tf.Tensor2D): MatchLogProbs {
  return {
    logP: logSigmoid(logits),
    logQ: tf.tidy(() => logSigmoid(tf.neg(logits))),
  };
}

/** Standard normal noise `[B, J, D]` for {@link monteCarloMatchLogProbs}, drawn from `rng`. */
export function sampleNoise(rng: Rng, b: number, j: number, d: number): tf.Tensor3D {
  return tf.tensor3d(rng.fillNormal(new Float32Array(b * j * d)), [b, j, d], 'float32');
}

/** Samples zᵏ = μ + σ ⊙ εᵏ as `[B·J, D]` (row b·J + k is sample k of item b). */
export function gaussianSamples(e: Embedding, noise: tf.Tensor3D): tf.Tensor2D {
  const logSigma2 = requireSigma(e, 'gaussianSamples');
  return tf.tidy(() => {
    const [b, j, d] = noise.shape;
    const sigma = tf.exp(tf.mul(0.5, logSigma2));
    const z = tf.add(tf.expandDims(e.mean, 1), tf.mul(tf.expandDims(sigma, 1), noise));
    return tf.reshape(z, [b * j, d]) as tf.Tensor2D;
  });
}

/**
 * The PCME Monte-Carlo match probability with given noise:
 * p(i, j) = (1/J²) Σₖₗ sigmoid(−a·√(‖zᵢᵏ − zⱼˡ‖² + 10⁻⁶) + b), zᵢᵏ = μᵢ + σᵢ ⊙ εᵢᵏ,
 * returned as (log p, log(1 − p)) via log-sum-exp of log-sigmoids (stable for any logit).
 *
 * @param a the scale a > 0 (scalar tensor), @param b the shift (scalar tensor)
 * @param noiseImages ε for the images `[Bi, J, D]`, @param noiseCaptions ε for the captions `[Bc, J, D]`
 */
export function monteCarloMatchLogProbs(
  images: Embedding,
  captions: Embedding,
  a: tf.Scalar,
  b: tf.Scalar,
  noiseImages: tf.Tensor3D,
  noiseCaptions: tf.Tensor3D,
): MatchLogProbs {
  return tf.tidy(() => {
    const [bi, j] = noiseImages.shape;
    const [bc, jc] = noiseCaptions.shape;
    if (j !== jc) {
      throw new DataError(
        `monteCarloMatchLogProbs: noiseImages holds ${j} samples per image, noiseCaptions ${jc} per caption; draw the same number for both`,
        { field: 'noiseCaptions' },
      );
    }
    const zi = gaussianSamples(images, noiseImages);
    const zc = gaussianSamples(captions, noiseCaptions);
    const sq = tf.reshape(squaredDistances(zi, zc), [bi, j, bc, j]);
    const pairs = tf.reshape(tf.transpose(sq, [0, 2, 1, 3]), [bi, bc, j * j]);
    const dist = tf.sqrt(tf.add(tf.relu(pairs), 1e-6));
    const logits = tf.sub(b, tf.mul(a, dist));
    const logJ2 = Math.log(j * j);
    return {
      logP: tf.sub(tf.logSumExp(logSigmoid(logits), -1), logJ2) as tf.Tensor2D,
      logQ: tf.sub(tf.logSumExp(logSigmoid(tf.neg(logits)), -1), logJ2) as tf.Tensor2D,
    };
  });
}

/** Per-item uncertainty `[B]`: the mean of σ² over the dimensions. */
export function itemUncertainty(e: Embedding): tf.Tensor1D {
  const logSigma2 = requireSigma(e, 'itemUncertainty');
  return tf.tidy(() => tf.mean(tf.exp(logSigma2), 1) as tf.Tensor1D);
}
