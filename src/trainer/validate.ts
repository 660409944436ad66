/**
 * The validate step and the guards around it: recalls and rSum on the validation split, the rSum of
 * a model that ranks at random, and whether a model has collapsed (every item embedded at one point).
 *
 * @example
 * ```ts
 * const record = await validationRecord(model, data.val);   // { rsum, i2t, t2i }
 * if (record.rsum <= chanceRsum(data.val.numImages) && embeddingsCollapsed(model, data.val)) … ;
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { TrainingError } from '../core/errors.js';
import type { CrossModalModel } from '../core/model/model.js';
import { type DatasetEmbeddings, embedDataset } from './embed.js';
import { evaluateRetrieval } from './evaluate.js';
import type { EpochRecord, ValidationRecord } from './types.js';

/**
 * The rSum a model that ranks at random gets on average on `numImages` images with one caption each
 * (R@K = K / n both ways, capped at 100 %).
 *
 * @example
 * ```ts
 * chanceRsum(10);   // 320
 * chanceRsum(693);  // ≈ 4.6
 * ```
 */
export function chanceRsum(numImages: number): number {
  let sum = 0;
  for (const k of [1, 5, 10]) sum += 2 * 100 * Math.min(1, k / Math.max(1, numImages));
  return sum;
}

/**
 * Recalls (in percent) and rSum of `model` on the validation pairs. With `during` (inside `fit`),
 * embeddings that are not finite stop the run first: the model diverged, and the message names the
 * epoch and the step size to lower (without it, the scorer would blame the embeddings as input).
 *
 * @throws TrainingError with `during` when a mean or log σ² of the model is NaN or ±Infinity, or an
 *   item's σ² summed over the dimensions overflows float32
 * @example
 * ```ts
 * (await validationRecord(result.model, data.val)).rsum;
 * ```
 */
export async function validationRecord(
  model: CrossModalModel,
  validation: PairDataset,
  during?: { epoch: number; learningRate: () => string },
): Promise<ValidationRecord> {
  const embeddings = embedDataset(model, validation);
  if (during) {
    const problem = nonFinite(embeddings);
    if (problem) {
      const when = during.epoch < 0 ? 'before the first epoch' : `at epoch ${during.epoch}`;
      throw new TrainingError(
        `training diverged: ${problem} ${when}; lower ${during.learningRate()}`,
        during.epoch,
      );
    }
  }
  const m = await evaluateRetrieval(model, validation, { embeddings });
  const pick = (d: { r1: number; r5: number; r10: number }) => ({ r1: d.r1, r5: d.r5, r10: d.r10 });
  return { rsum: m.rsum, i2t: pick(m.i2t), t2i: pick(m.t2i) };
}

/**
 * The first value of `e` that scoring cannot use, in words: a NaN or ±Infinity mean or log σ², or
 * an item whose σ² summed over the dimensions overflows float32 (the match-probability scores read
 * that sum). `undefined` when every value is usable.
 */
function nonFinite(e: DatasetEmbeddings): string | undefined {
  const d = e.dim;
  const sides = [
    ['image', e.images, e.imageLogSigma2],
    ['caption', e.captions, e.captionLogSigma2],
  ] as const;
  for (const [side, means, logSigma2] of sides) {
    const bad = means.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) return `the model's validation ${side} mean ${Math.floor(bad / d)} became ${means[bad]}`;
    if (!logSigma2) continue;
    for (let i = 0; i < logSigma2.length / d; i++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += Math.exp(logSigma2[i * d + k]!);
      if (!Number.isFinite(Math.fround(sum))) {
        return `the model's validation ${side} ${i} has σ² summed over its dimensions = ${sum} (log σ² up to ${Math.max(...logSigma2.subarray(i * d, (i + 1) * d))})`;
      }
    }
  }
  return undefined;
}

/**
 * Whether `model` maps every image, or every caption, of `data` to (nearly) the same point: the
 * spread across items is below 1e-6 of their mean squared norm (all zeros included).
 *
 * @example
 * ```ts
 * embeddingsCollapsed(model, data.val);   // false for a model that trained
 * ```
 */
export function embeddingsCollapsed(model: CrossModalModel, data: PairDataset): boolean {
  const emb = embedDataset(model, data);
  const degenerate = (x: Float32Array): boolean => {
    const d = emb.dim;
    const n = x.length / d;
    let spread = 0;
    let norm = 0;
    for (let k = 0; k < d; k++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += x[i * d + k]!;
      mean /= n;
      for (let i = 0; i < n; i++) {
        const v = x[i * d + k]!;
        spread += (v - mean) ** 2;
        norm += v * v;
      }
    }
    return !(spread > 1e-6 * norm) || !Number.isFinite(norm);
  };
  return degenerate(emb.images) || degenerate(emb.captions);
}

/**
 * The collapse guard of `fit`: counts validations in a row at chance-level rSum whose validation
 * images or captions all embed at one point, and stops the run with a {@link TrainingError} at
 * `patience` of them (0: off).
 *
 * @example
 * ```ts
 * const guard = new CollapseGuard(3);
 * guard.check(record, model, data.val, epoch, 'optimizer.learningRate (now 0.0003)');
 * ```
 */
export class CollapseGuard {
  private atChance = 0;

  constructor(private readonly patience: number) {}

  /**
   * Count this validation; `learningRate` names the step size to lower in the message.
   * @throws TrainingError at `patience` collapsed validations in a row
   */
  check(
    record: ValidationRecord | undefined,
    model: CrossModalModel,
    validation: PairDataset | undefined,
    epoch: number,
    learningRate: () => string,
  ): void {
    if (!record || this.patience <= 0 || !validation) return;
    const chance = chanceRsum(validation.numImages);
    const collapsed = record.rsum <= chance + 1e-6 && embeddingsCollapsed(model, validation);
    this.atChance = collapsed ? this.atChance + 1 : 0;
    if (this.atChance >= this.patience) {
      throw new TrainingError(
        `training collapsed: every validation item embeds at one point and validation rSum ${record.rsum.toFixed(1)} is at chance level (${chance.toFixed(1)} for ${validation.numImages} images) for ${this.atChance} evaluations in a row, at epoch ${epoch}; lower ${learningRate()}`,
        epoch,
      );
    }
  }
}

/**
 * Whether `patience` validations have passed without a better validation rSum than the one of
 * `bestEpoch` (never with `patience` 0 or without validation pairs).
 *
 * @example
 * ```ts
 * patienceExhausted(trainer.history, 3, 2, true);   // true once epochs 4 and 5 validated without a gain
 * ```
 */
export function patienceExhausted(
  history: readonly EpochRecord[],
  bestEpoch: number,
  patience: number,
  hasValidation: boolean,
): boolean {
  if (patience === 0 || !hasValidation) return false;
  const validated = history.filter((r) => r.validation && r.epoch > bestEpoch);
  return validated.length >= patience;
}

/**
 * Keep `record`'s epoch as the best one when its validation rSum beats `best` (without validation
 * pairs: every epoch, so the last one wins): `best` takes a copy of `model`'s weights.
 *
 * @example
 * ```ts
 * trackBest(state.best, nets[0].model, true, record);
 * ```
 */
export function trackBest(
  best: { epoch: number; rsum: number; weights: tf.NamedTensorMap | undefined },
  model: CrossModalModel,
  hasValidation: boolean,
  record: EpochRecord,
): void {
  const rsum = record.validation?.rsum;
  const improved = rsum === undefined ? !hasValidation : rsum > best.rsum;
  if (!improved) return;
  if (best.weights) tf.dispose(best.weights);
  best.weights = model.getWeights();
  best.epoch = record.epoch;
  best.rsum = rsum ?? Number.NEGATIVE_INFINITY;
}
