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
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import type { CrossModalModel } from '../core/model/model.js';
import { embedDataset } from './embed.js';
import { evaluateRetrieval } from './evaluate.js';
import type { ValidationRecord } from './types.js';

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
 * Recalls (in percent) and rSum of `model` on the validation pairs.
 *
 * @example
 * ```ts
 * (await validationRecord(result.model, data.val)).rsum;
 * ```
 */
export async function validationRecord(
  model: CrossModalModel,
  validation: PairDataset,
): Promise<ValidationRecord> {
  const m = await evaluateRetrieval(model, validation);
  const pick = (d: { r1: number; r5: number; r10: number }) => ({ r1: d.r1, r5: d.r5, r10: d.r10 });
  return { rsum: m.rsum, i2t: pick(m.i2t), t2i: pick(m.t2i) };
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
