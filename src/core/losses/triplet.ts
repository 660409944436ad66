/**
 * Hinge triplet loss with in-batch negatives (VSE++), the margin scaled by each pair's soft target
 * (NCR's soft margin).
 *
 * Input: the similarity matrix S `[B, B]` of B aligned pairs (row i = image i, column i = its caption)
 * and soft targets y `[B]` in [0, 1]. Pair i gets the margin
 *
 *   mᵢ = α·(10^{yᵢ} − 1)/9   (`softMargin: 'exponential'`, NCR's choice; 'linear': α·yᵢ; 'none': α)
 *
 * and the per-pair loss (both directions, anchor = pair i in each)
 *
 *   ℓᵢ = agg_{j≠i} [mᵢ + S(i, j) − S(i, i)]₊  +  agg_{j≠i} [mᵢ + S(j, i) − S(i, i)]₊
 *
 * where `agg` is the maximum (`negatives: 'hardest'`, VSE++) or the mean over the B − 1 negatives
 * (`'mean'`, NCR's warm-up loss and its per-pair loss for the split). The batch loss is the mean of ℓᵢ
 * over the B pairs (NCR sums; the mean keeps the scale independent of the batch size).
 *
 * - y = 1 gives the plain VSE++ loss with margin α.
 * - y = 0 gives margin 0: the pair is still pulled together when a negative beats it
 *   (ℓᵢ = agg [S(i,j) − S(i,i)]₊), but it no longer has to win by a margin; it still serves as a
 *   negative for the other pairs.
 * - With a same-image mask ({@link PairMask}, `sameImage`), j runs only over the pairs of other
 *   images (another caption of image i is not a negative; `mean` divides by their count, and a pair
 *   with none gets 0). This is the trainer's `triplet` score (`pairScores`, margin α, `softMargin: 'none'`).
 * - Deviation from NCR's code: its image→text term uses the *negative's* margin (a broadcasting
 *   detail); here, as in the NCR paper, both terms use the anchor pair's margin mᵢ.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { tripletLoss, tripletLossPerPair } from 'cleave/model';
 * const S = tf.tensor2d([[0.9, 0.7], [0.8, 0.6]]);
 * const y = tf.tensor1d([1, 0.5]);
 * tripletLoss(S, y, { margin: 0.2 }).print();
 * tripletLossPerPair(S, tf.ones([2]), { negatives: 'mean' }).print();   // per-pair scores
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { parseOrThrow } from '../errors.js';
import { checkBatch, diagonal, EXCLUDED, offDiagonal, type PairMask, sameImageMask } from './batch.js';

/** Options of the triplet loss (see the module documentation). */
export const tripletOptionsSchema = z
  .object({
    margin: z.number().nonnegative().default(0.2),
    softMargin: z.enum(['exponential', 'linear', 'none']).default('exponential'),
    negatives: z.enum(['hardest', 'mean']).default('hardest'),
  })
  .strict();
/** @see tripletOptionsSchema */
export type TripletOptions = z.input<typeof tripletOptionsSchema>;

/** The per-pair margins mᵢ `[B]` for soft targets y. */
export function softMargin(
  targets: tf.Tensor1D,
  margin: number,
  kind: 'exponential' | 'linear' | 'none' = 'exponential',
): tf.Tensor1D {
  return tf.tidy(() => {
    switch (kind) {
      case 'exponential':
        return tf.mul(margin / 9, tf.sub(tf.pow(10, targets), 1)) as tf.Tensor1D;
      case 'linear':
        return tf.mul(margin, targets) as tf.Tensor1D;
      case 'none':
        return tf.fill([targets.shape[0]], margin) as tf.Tensor1D;
    }
  });
}

/**
 * The per-pair triplet loss ℓᵢ `[B]` (no reduction over pairs; see the module documentation).
 * @param scores similarity matrix `[B, B]`, @param targets soft targets `[B]` in [0, 1]
 * @param mask the same-image mask (`sameImage`: one image id per pair), if any
 * @throws DataError on mismatched shapes
 */
export function tripletLossPerPair(
  scores: tf.Tensor2D,
  targets: tf.Tensor1D,
  options: TripletOptions = {},
  mask: PairMask = {},
): tf.Tensor1D {
  const o = parseOrThrow(tripletOptionsSchema, options, 'triplet loss options');
  const b = checkBatch('tripletLoss', scores, targets, mask);
  return tf.tidy(() => {
    const positive = diagonal(scores);
    const m = softMargin(targets, o.margin, o.softMargin);
    if (mask.sameImage) {
      // the negatives' entries only: the diagonal and the same-image entries pushed to EXCLUDED
      const same = sameImageMask(mask.sameImage);
      if (o.negatives === 'hardest') {
        const negatives = tf.add(scores, tf.mul(tf.add(tf.eye(b), same), EXCLUDED));
        const row = tf.relu(tf.add(tf.sub(tf.max(negatives, 1), positive), m));
        const col = tf.relu(tf.add(tf.sub(tf.max(negatives, 0), positive), m));
        return tf.add(row, col) as tf.Tensor1D;
      }
      const keep = tf.sub(offDiagonal(b), same);
      const i2t = tf.mul(
        tf.relu(tf.add(tf.sub(scores, tf.expandDims(positive, 1)), tf.expandDims(m, 1))),
        keep,
      );
      const t2i = tf.mul(
        tf.relu(tf.add(tf.sub(scores, tf.expandDims(positive, 0)), tf.expandDims(m, 0))),
        keep,
      );
      const count = tf.maximum(tf.sum(keep, 1), 1);
      return tf.add(tf.div(tf.sum(i2t, 1), count), tf.div(tf.sum(t2i, 0), count)) as tf.Tensor1D;
    }
    const off = offDiagonal(b);
    // image i as anchor, caption j as negative: [mᵢ + S(i,j) − S(i,i)]₊ (rows)
    const i2t = tf.mul(tf.relu(tf.add(tf.sub(scores, tf.expandDims(positive, 1)), tf.expandDims(m, 1))), off);
    // caption i as anchor, image j as negative: [mᵢ + S(j,i) − S(i,i)]₊ (columns)
    const t2i = tf.mul(tf.relu(tf.add(tf.sub(scores, tf.expandDims(positive, 0)), tf.expandDims(m, 0))), off);
    if (o.negatives === 'hardest') return tf.add(tf.max(i2t, 1), tf.max(t2i, 0)) as tf.Tensor1D;
    return tf.div(tf.add(tf.sum(i2t, 1), tf.sum(t2i, 0)), b - 1) as tf.Tensor1D;
  });
}

/** The batch triplet loss: the mean over pairs of {@link tripletLossPerPair}. */
export function tripletLoss(
  scores: tf.Tensor2D,
  targets: tf.Tensor1D,
  options: TripletOptions = {},
): tf.Scalar {
  return tf.tidy(() => tf.mean(tripletLossPerPair(scores, targets, options)) as tf.Scalar);
}
