/**
 * Retrieval evaluation of a trained {@link CrossModalModel} on a dataset (usually the test split).
 *
 * Deterministic head: scores are cosine similarities of the embeddings. Probabilistic head: two
 * rankings are reported — by match probability p = sigmoid(−a·d + b) with the closed-form distance
 * d = ‖μᵢ − μⱼ‖² + Σσᵢ² + Σσⱼ² (p is monotone in −d, so ranking by −d is ranking by p; the primary
 * result), and by the cosine of the means μ (`byMean`). The closed-form score is computed exactly as a
 * dot product of augmented vectors [2μᵢ, −Σσᵢ², 1]·[μⱼ, 1, −Σσⱼ²] = 2cos − Σσᵢ² − Σσⱼ² = 2 − d, so it
 * runs block-wise on the active backend like the cosine.
 *
 * Ranks and ties follow {@link retrievalMetrics} (ties count against the model by default).
 *
 * @example
 * ```ts
 * import { bundledDataset, CrossModalModel, evaluateRetrieval, loadPairs } from 'cleave';
 * const data = await loadPairs(bundledDataset('wikipedia-xmodal'));
 * const model = new CrossModalModel({ image: { inputDim: data.imageDim }, text: { inputDim: data.captionDim } });
 * const report = await evaluateRetrieval(model, data.test);
 * console.log(report.rsum, report.i2t.r1, report.t2i.r10);
 * ```
 */

import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { DataError } from '../core/errors.js';
import type { CrossModalModel } from '../core/model/model.js';
import { classMAP } from '../eval/map.js';
import type { RetrievalMetrics, TieRule } from '../eval/ranking.js';
import { retrievalMetrics, retrievalMetricsFolds } from '../eval/retrieval.js';
import { type DatasetEmbeddings, embedDataset } from './embed.js';

/** Options of {@link evaluateRetrieval}. */
export interface EvaluateRetrievalOptions {
  /** With `folds` > 1, the "1K"-style protocol: images split into that many folds, the mean reported. */
  folds?: number;
  /** Tie rule of {@link retrievalMetrics} (default `pessimistic`). */
  ties?: TieRule;
  /** Precomputed embeddings of `data` (skips the forward pass). */
  embeddings?: DatasetEmbeddings;
}

/** What {@link evaluateRetrieval} returns: the primary metrics, and for a probabilistic head the μ-cosine ones. */
export type ModelRetrievalReport = RetrievalMetrics & {
  /** How the primary ranking was scored. */
  scoring: 'cosine' | 'match-probability';
  /** Probabilistic head only: the ranking by the cosine of the means. */
  byMean?: RetrievalMetrics;
  /** With `folds` > 1: each fold's metrics (the top level is their mean). */
  folds?: RetrievalMetrics[];
};

/** `[2μ, −Σσ², 1]` (images) or `[μ, 1, −Σσ²]` (captions), row-major with width d + 2. */
function augmented(mean: Float32Array, logSigma2: Float32Array, d: number, side: 'image' | 'caption') {
  const n = mean.length / d;
  const out = new Float32Array(n * (d + 2));
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) {
      out[i * (d + 2) + k] = side === 'image' ? 2 * mean[i * d + k]! : mean[i * d + k]!;
      s += Math.exp(logSigma2[i * d + k]!);
    }
    out[i * (d + 2) + d] = side === 'image' ? -s : 1;
    out[i * (d + 2) + d + 1] = side === 'image' ? 1 : -s;
  }
  return out;
}

async function metrics(
  images: Float32Array,
  captions: Float32Array,
  dim: number,
  data: PairDataset,
  options: EvaluateRetrievalOptions,
): Promise<RetrievalMetrics & { folds?: RetrievalMetrics[] }> {
  const common = { dim, captionToImage: data.captionToImage, ties: options.ties ?? 'pessimistic' } as const;
  if (options.folds && options.folds > 1) {
    const { mean, folds } = await retrievalMetricsFolds(images, captions, {
      ...common,
      folds: options.folds,
    });
    return { ...mean, folds };
  }
  return retrievalMetrics(images, captions, common);
}

/**
 * Recall@1/5/10 both ways, rSum, median and mean rank of `model` on `data` (see the module docs).
 * @returns recalls in percent
 */
export async function evaluateRetrieval(
  model: CrossModalModel,
  data: PairDataset,
  options: EvaluateRetrievalOptions = {},
): Promise<ModelRetrievalReport> {
  const emb = options.embeddings ?? embedDataset(model, data);
  const byMean = await metrics(emb.images, emb.captions, emb.dim, data, options);
  if (!emb.imageLogSigma2 || !emb.captionLogSigma2) return { ...byMean, scoring: 'cosine' };
  const { folds: _meanFolds, ...byMeanTop } = byMean;
  const d = emb.dim;
  const primary = await metrics(
    augmented(emb.images, emb.imageLogSigma2, d, 'image'),
    augmented(emb.captions, emb.captionLogSigma2, d, 'caption'),
    d + 2,
    data,
    options,
  );
  return { ...primary, scoring: 'match-probability', byMean: byMeanTop };
}

/**
 * Class-level mAP (mAP@all and mAP@R, relevance = same class label) of `model` on `data`, ranking by
 * the cosine of the (mean) embeddings; each caption takes its image's label.
 * @throws DataError when `data` has no class labels
 */
export async function evaluateClassMAP(
  model: CrossModalModel,
  data: PairDataset,
  options: { embeddings?: DatasetEmbeddings } = {},
) {
  if (!data.labels) {
    throw new DataError(
      'class mAP needs class labels, and this dataset has none: give labels (the manifest\'s "labels" file), or skip class mAP',
      { file: data.name },
    );
  }
  const emb = options.embeddings ?? embedDataset(model, data);
  const textLabels = new Int32Array(data.numCaptions);
  for (let j = 0; j < data.numCaptions; j++) textLabels[j] = data.labels[data.captionToImage[j]!]!;
  return classMAP(emb.images, emb.captions, { dim: emb.dim, imageLabels: data.labels, textLabels });
}
