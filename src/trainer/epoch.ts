/**
 * One training epoch over the pairs: seeded batches, each batch's features gathered into reused
 * buffers, one optimizer step on the batch objective. The warm-up, the retrain step and the held-out
 * fold models all train through it, each with its own {@link EpochPlan}.
 *
 * @example
 * ```ts
 * const loss = await trainEpoch(ctx, net, epoch, warmupPlan(config, net, { sharedSpace: false }));
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { TrainingError } from '../core/errors.js';
import { createProgress } from '../core/progress.js';
import { Rng } from '../core/random.js';
import { captionTokenTensor } from './caption-input.js';
import type { TrainerConfig } from './config.js';
import { derivedSeed } from './net.js';
import type { BatchInputs, EpochPlan, TrainerNet } from './types.js';
import { captionSiblings } from './warmup.js';

/** What {@link trainEpoch} needs from the run. */
export interface EpochContext {
  config: TrainerConfig;
  /** The training pairs. */
  data: PairDataset;
  /** Reused per-batch feature buffers (see {@link batchBuffers}). */
  buffers: { images: Float32Array; captions: Float32Array };
  /** What to lower when the loss diverges, e.g. `optimizer.learningRate (now 0.0003)`. */
  learningRateHint: string;
  /** The batch objective (inside the optimizer's closure). */
  batchLoss: (net: TrainerNet, b: BatchInputs) => tf.Scalar;
}

/**
 * Feature buffers for batches of `batchSize` pairs of `data`.
 *
 * @example
 * ```ts
 * const buffers = batchBuffers(128, train);
 * ```
 */
export function batchBuffers(
  batchSize: number,
  data: PairDataset,
): { images: Float32Array; captions: Float32Array } {
  return {
    images: new Float32Array(batchSize * data.imageStride),
    captions: new Float32Array(batchSize * data.captionDim),
  };
}

/**
 * One epoch over `plan.pairs` (default all) with `plan.targets` (default 1) and the plan's loss.
 * @returns the mean batch loss (NaN when no batch had 2 pairs)
 * @throws TrainingError when a batch loss is not finite (the message says which step size to lower)
 */
export async function trainEpoch(
  ctx: EpochContext,
  net: TrainerNet,
  epoch: number,
  plan: EpochPlan,
): Promise<number> {
  const c = ctx.config;
  const data = ctx.data;
  const targetOf = new Float32Array(data.numPairs).fill(1);
  if (plan.pairs && plan.targets) {
    for (let k = 0; k < plan.pairs.length; k++) targetOf[plan.pairs[k]!] = plan.targets[k]!;
  }
  const batchOptions = {
    batchSize: c.batchSize,
    seed: derivedSeed(c.seed, `${plan.tag}/batches`),
    epoch,
    ...(plan.pairs ? { pairs: plan.pairs } : {}),
  };
  const progress = createProgress(
    data.numBatches(batchOptions),
    `epoch ${epoch + 1}/${c.epochs} ${plan.tag}`,
  );
  const buffers = ctx.buffers;
  let total = 0;
  let batches = 0;
  for (const batch of data.batches(batchOptions)) {
    if (batch.size < 2) continue;
    const images = data.gatherImages(batch.images, buffers.images);
    const captions = net.model.readsTokens
      ? buffers.captions
      : data.gatherCaptions(batch.captions, buffers.captions);
    const y = Float32Array.from(batch.pairs, (j) => targetOf[j]!);
    const labels = data.labels ? Int32Array.from(batch.images, (i) => data.labels![i]!) : undefined;
    const siblings =
      plan.auxiliary && c.warmup.captionMatching.weight > 0
        ? captionSiblings(data, c.seed, batch.pairs, batch.images, epoch, batch.batch)
        : undefined;
    const rng = new Rng(c.seed).fork(`${plan.tag}/epoch${epoch}/batch${batch.batch}`);
    const cost = tf.tidy(() => {
      const xImg =
        data.imageRegions > 1
          ? tf.tensor3d(images, [batch.size, data.imageRegions, data.imageDim])
          : tf.tensor2d(images, [batch.size, data.imageDim]);
      const xCap = net.model.readsTokens
        ? captionTokenTensor(data, batch.captions)
        : tf.tensor2d(captions, [batch.size, data.captionDim]);
      const xSib = siblings
        ? net.model.readsTokens
          ? captionTokenTensor(data, siblings.captions)
          : tf.tensor2d(data.gatherCaptions(siblings.captions), [siblings.captions.length, data.captionDim])
        : undefined;
      const yT = tf.tensor1d(y);
      const labelsT = labels ? tf.tensor1d(labels, 'int32') : undefined;
      const vars = [...net.model.trainableVariables, ...net.aux.trainableVariables];
      return net.optimizer.minimize(
        () =>
          ctx.batchLoss(net, {
            images: xImg,
            captions: xCap,
            targets: yT,
            labels: labelsT,
            siblings: xSib && siblings ? { captions: xSib, rows: siblings.rows } : undefined,
            loss: plan.loss,
            auxiliary: plan.auxiliary,
            rng,
          }),
        true,
        vars,
      ) as tf.Scalar;
    });
    const value = cost.dataSync()[0]!;
    cost.dispose();
    if (!Number.isFinite(value)) {
      throw new TrainingError(
        `training diverged: the loss became ${value} at epoch ${epoch}, batch ${batch.batch} (${plan.tag}); lower ${ctx.learningRateHint}`,
        epoch,
      );
    }
    total += value;
    batches += 1;
    progress.tick(1, { loss: value });
  }
  progress.stop();
  return batches > 0 ? total / batches : Number.NaN;
}
