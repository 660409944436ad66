/**
 * The warm-up step: every pair trained as clean with the warm-up's matching loss (`warmup.loss`) plus
 * the auxiliary tasks, so the model learns the clean pattern before it memorises the noise.
 *
 * | auxiliary task | config | term |
 * |---|---|---|
 * | class prediction | `warmup.classPrediction` | ½ (CE(image) + CE(caption, weighted by target)) of a cosine classifier |
 * | modality classifier | `warmup.modalityClassifier` | adversarial image-vs-caption classifier (gradient reversal) |
 * | caption matching | `warmup.captionMatching` | InfoNCE between two captions of one image |
 *
 * The same terms stay on after the warm-up when `warmup.keepAfterWarmup` (never on a shared space).
 *
 * @example
 * ```ts
 * const plan = warmupPlan(config, net, { sharedSpace: false });   // { loss: 'infonce', auxiliary: true, tag: 'net0' }
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { infoNCELoss } from '../core/losses/infonce.js';
import type { Embedding } from '../core/model/distance.js';
import { Rng } from '../core/random.js';
import type { TrainerConfig } from './config.js';
import type { BatchInputs, EpochPlan, TrainerNet } from './types.js';

/**
 * The warm-up epoch's plan for one network: all pairs, targets 1, `warmup.loss` (for `vse`, which
 * has no warm-up, the retrain loss), auxiliary tasks on unless on a shared space.
 *
 * @example
 * ```ts
 * warmupPlan(resolveTrainerConfig({}), net, { sharedSpace: false }).loss;   // 'infonce'
 * ```
 */
export function warmupPlan(
  config: TrainerConfig,
  net: TrainerNet,
  options: { sharedSpace: boolean },
): EpochPlan {
  const vse = config.method === 'vse';
  return {
    loss: vse ? config.retrain.loss : config.warmup.loss,
    auxiliary: !options.sharedSpace,
    tag: `net${net.index}`,
  };
}

/**
 * The weighted sum of the enabled auxiliary tasks (a 0 scalar when none is on); call it inside the
 * optimizer's closure with the batch's embeddings.
 *
 * @example
 * ```ts
 * loss = tf.add(loss, auxiliaryLoss(net, img, cap, batch, config.warmup));
 * ```
 */
export function auxiliaryLoss(
  net: TrainerNet,
  img: Embedding,
  cap: Embedding,
  b: Pick<BatchInputs, 'labels' | 'targets' | 'siblings' | 'rng'>,
  warmup: TrainerConfig['warmup'],
): tf.Scalar {
  const w = warmup;
  let total = tf.scalar(0);
  if (w.classPrediction.weight > 0 && b.labels && net.aux.hasClassHead) {
    const cls = tf.mul(
      0.5,
      tf.add(
        net.aux.classLoss(img.mean, b.labels, w.classPrediction.scale),
        net.aux.classLoss(cap.mean, b.labels, w.classPrediction.scale, b.targets),
      ),
    );
    total = tf.add(total, tf.mul(w.classPrediction.weight, cls));
  }
  if (w.modalityClassifier.weight > 0) {
    total = tf.add(total, tf.mul(w.modalityClassifier.weight, net.aux.modalityLoss(img.mean, cap.mean)));
  }
  if (w.captionMatching.weight > 0 && b.siblings && b.siblings.rows.length >= 2) {
    const sib = net.model.embedCaptions(b.siblings.captions, {
      training: true,
      rng: b.rng.fork('sib'),
      meansOnly: true,
    });
    const anchors = tf.gather(cap.mean, tf.tensor1d(b.siblings.rows, 'int32')) as tf.Tensor2D;
    const s = tf.matMul(anchors, sib.mean, false, true) as tf.Tensor2D;
    const ones = tf.ones([b.siblings.rows.length]) as tf.Tensor1D;
    total = tf.add(total, tf.mul(w.captionMatching.weight, infoNCELoss(s, ones, net.model.logitScale())));
  }
  return total as tf.Scalar;
}

/**
 * For caption–caption matching: for each batch row whose image has another caption, one such
 * caption (seeded by `seed`, the epoch and the batch); undefined when fewer than 2 rows have one.
 *
 * @example
 * ```ts
 * const sib = captionSiblings(train, config.seed, batch.pairs, batch.images, epoch, batch.batch);
 * ```
 */
export function captionSiblings(
  data: PairDataset,
  seed: number,
  pairs: Int32Array,
  images: Int32Array,
  epoch: number,
  batch: number,
): { rows: Int32Array; captions: Int32Array } | undefined {
  const rng = new Rng(seed).fork(`siblings/epoch${epoch}/batch${batch}`);
  const rows: number[] = [];
  const captions: number[] = [];
  for (let k = 0; k < pairs.length; k++) {
    const all = data.imageCaptions(images[k]!);
    if (all.length < 2) continue;
    let pick = all[rng.int(all.length - 1)]!;
    if (pick === pairs[k]) pick = all[all.length - 1]!;
    rows.push(k);
    captions.push(pick);
  }
  return rows.length >= 2 ? { rows: Int32Array.from(rows), captions: Int32Array.from(captions) } : undefined;
}
