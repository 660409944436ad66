/**
 * The retrain step: one epoch on the relabelled pairs, and the batch objective that every training
 * epoch (warm-up included) minimises.
 *
 * | `loss` | batch objective |
 * |---|---|
 * | `match` (refurb) | PCME++ match loss of the uncertainty heads against the soft targets + `klWeight`·VIB |
 * | `infonce` | soft-target InfoNCE; with a probabilistic head and `matchWeight` > 0, + `matchWeight`·(match + KL) |
 * | `triplet` | VSE++ hinge with NCR's soft margin |
 *
 * plus the auxiliary tasks (`warmup.ts`) when the plan turns them on.
 *
 * @example
 * ```ts
 * const plan = retrainPlan(config, net, relabelled, { sharedSpace: false });
 * // each batch: optimizer.minimize(() => batchObjective(net, batch, config, aux))
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { infoNCELoss } from '../core/losses/infonce.js';
import { matchLossFromLogits, vibLoss } from '../core/losses/match.js';
import { tripletLoss } from '../core/losses/triplet.js';
import type { Embedding } from '../core/model/distance.js';
import type { TrainerConfig } from './config.js';
import type { BatchInputs, EpochPlan, Relabelled, TrainerNet } from './types.js';

/**
 * The retrain epoch's plan for one network: the relabelled pairs and targets, `retrain.loss`, the
 * auxiliary tasks when `warmup.keepAfterWarmup` (never on a shared space).
 *
 * @example
 * ```ts
 * retrainPlan(resolveTrainerConfig({}), net, relabelled, { sharedSpace: false }).loss;   // 'match'
 * ```
 */
export function retrainPlan(
  config: TrainerConfig,
  net: TrainerNet,
  relabelled: Relabelled,
  options: { sharedSpace: boolean },
): EpochPlan {
  return {
    pairs: relabelled.pairs,
    targets: relabelled.targets,
    loss: config.retrain.loss,
    auxiliary: config.warmup.keepAfterWarmup && !options.sharedSpace,
    tag: `net${net.index}`,
  };
}

/**
 * The loss of one batch for one network (call it inside the optimizer's closure). `auxiliary` adds
 * the auxiliary tasks' term when `b.auxiliary` (see `auxiliaryLoss` in `warmup.ts`).
 *
 * @example
 * ```ts
 * net.optimizer.minimize(() => batchObjective(net, batch, config, (img, cap) => auxiliaryLoss(net, img, cap, batch, config.warmup)));
 * ```
 */
export function batchObjective(
  net: TrainerNet,
  b: BatchInputs,
  config: TrainerConfig,
  auxiliary: (img: Embedding, cap: Embedding) => tf.Scalar,
): tf.Scalar {
  const c = config;
  const model = net.model;
  // only the match loss reads log σ²: the other objectives skip the uncertainty branch (it would get
  // no gradient, and the means and their dropout masks are the same either way)
  const meansOnly = !(b.loss === 'match' || (b.loss === 'infonce' && c.retrain.matchWeight > 0));
  const img = model.embedImages(b.images, { training: true, rng: b.rng.fork('img'), meansOnly });
  const cap = model.embedCaptions(b.captions, { training: true, rng: b.rng.fork('cap'), meansOnly });
  let loss: tf.Scalar;
  if (b.loss === 'infonce') {
    loss = infoNCELoss(model.similarity(img, cap), b.targets, model.logitScale());
    const w = c.retrain.matchWeight;
    if (w > 0 && model.head === 'probabilistic' && img.logSigma2) {
      let match = matchLossFromLogits(model.matchLogits(img, cap), b.targets);
      if (c.retrain.klWeight > 0) {
        match = tf.add(match, tf.mul(c.retrain.klWeight, tf.add(vibLoss(img), vibLoss(cap)))) as tf.Scalar;
      }
      loss = tf.add(loss, tf.mul(w, match)) as tf.Scalar;
    }
  } else if (b.loss === 'triplet') {
    loss = tripletLoss(model.similarity(img, cap), b.targets, { margin: c.retrain.margin });
  } else {
    loss = matchLossFromLogits(model.matchLogits(img, cap), b.targets, {
      pseudoPositiveWeight: c.retrain.pseudoPositiveWeight,
    });
    if (c.retrain.klWeight > 0) {
      loss = tf.add(loss, tf.mul(c.retrain.klWeight, tf.add(vibLoss(img), vibLoss(cap)))) as tf.Scalar;
    }
  }
  if (b.auxiliary) loss = tf.add(loss, auxiliary(img, cap)) as tf.Scalar;
  return loss;
}
