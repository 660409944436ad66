/**
 * Symmetric InfoNCE (CLIP-style) loss with a learnable temperature, weighted by soft targets.
 *
 * Input: the similarity matrix S `[B, B]` of B aligned pairs, soft targets y `[B]` in [0, 1], and the
 * logit scale s = 1/τ (a scalar tensor — pass `model.logitScale()`, which is differentiable in the
 * model's log-scale variable — or a number). With L = s·S, the per-pair loss is
 *
 *   ℓᵢ = yᵢ · ½ · ( [logΣⱼ exp L(i, j) − L(i, i)]  +  [logΣⱼ exp L(j, i) − L(i, i)] )
 *
 * (image→text cross-entropy of row i plus text→image cross-entropy of column i), and the batch loss is
 * the mean of ℓᵢ over the B pairs. How y enters: as a weight on pair i's own (positive) term only.
 *
 * - y = 1 for all pairs gives the plain symmetric InfoNCE loss.
 * - y = 0 removes pair i's positive term (no pull between image i and caption i), but image i and
 *   caption i still appear in the softmax denominators of the other pairs, i.e. they keep serving as
 *   negatives — right for shuffled noise, where a mismatched caption is still a valid negative.
 * - The weights are not renormalised (divided by B, not by Σy), so the loss shrinks with the clean
 *   share of the batch rather than up-weighting the surviving pairs.
 *
 * With a same-image mask ({@link PairMask}, `sameImage`: the image of each pair), j runs only over i
 * itself and the pairs of other images (another caption of image i is not a negative); the row and
 * column log-sum-exps are then fused ({@link maskedLogSumExp}). This is the trainer's `infonce` score
 * (`pairScores`, with S already divided by τ and scale 1).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { infoNCELoss } from 'cleave/model';
 * const S = tf.tensor2d([[0.9, 0.1], [0.2, 0.8]]);
 * infoNCELoss(S, tf.ones([2]), 1 / 0.07).print();
 * // in training: infoNCELoss(model.similarity(img, cap), y, model.logitScale())
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkBatch, diagonal, diagonalEntries, maskedLogSumExp, type PairMask } from './batch.js';

/**
 * The per-pair InfoNCE loss ℓᵢ `[B]` (no reduction over pairs; see the module documentation).
 * @param scale the logit scale 1/τ > 0
 * @param mask the same-image mask (`sameImage`: one image id per pair), if any
 * @throws DataError on mismatched shapes
 */
export function infoNCELossPerPair(
  scores: tf.Tensor2D,
  targets: tf.Tensor1D,
  scale: tf.Scalar | number,
  mask: PairMask = {},
): tf.Tensor1D {
  checkBatch('infoNCELoss', scores, targets, mask);
  return tf.tidy(() => {
    if (mask.sameImage) {
      // scoring (no reduction over a [B, B] mask): the diagonal read directly, no ×1 pass
      const logits = (scale === 1 ? scores : tf.mul(scores, scale)) as tf.Tensor2D;
      const positive = diagonalEntries(logits);
      const lse = maskedLogSumExp(logits, mask.sameImage);
      return tf.mul(
        tf.mul(0.5, targets),
        tf.add(tf.sub(lse.row, positive), tf.sub(lse.col, positive)),
      ) as tf.Tensor1D;
    }
    const logits = tf.mul(scores, scale) as tf.Tensor2D;
    const positive = diagonal(logits);
    const lse = mask.sameImage
      ? maskedLogSumExp(logits, mask.sameImage)
      : { row: tf.logSumExp(logits, 1), col: tf.logSumExp(logits, 0) };
    const i2t = tf.sub(lse.row, positive);
    const t2i = tf.sub(lse.col, positive);
    return tf.mul(tf.mul(0.5, targets), tf.add(i2t, t2i)) as tf.Tensor1D;
  });
}

/** The batch InfoNCE loss: the mean over pairs of {@link infoNCELossPerPair}. */
export function infoNCELoss(scores: tf.Tensor2D, targets: tf.Tensor1D, scale: tf.Scalar | number): tf.Scalar {
  return tf.tidy(() => tf.mean(infoNCELossPerPair(scores, targets, scale)) as tf.Scalar);
}
