/**
 * Embed every item of a dataset with a trained model, in batches, in evaluation mode (no dropout):
 * the bridge between the model (tensors) and the metrics (plain typed arrays).
 *
 * @example
 * ```ts
 * import { bundledDataset, CrossModalModel, loadPairs } from 'cleave';
 * import { embedDataset } from 'cleave/trainer';
 * const data = await loadPairs(bundledDataset('wikipedia-xmodal'));
 * const model = new CrossModalModel({ image: { inputDim: data.imageDim }, text: { inputDim: data.captionDim } });
 * const emb = embedDataset(model, data.test);
 * emb.images.length === data.test.numImages * model.embedDim;   // true
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import type { Embedding } from '../core/model/distance.js';
import type { CrossModalModel } from '../core/model/model.js';
import { l2NormalizeRows } from '../eval/arrays.js';
import { captionTokenTensor } from './caption-input.js';

/** Row-major embeddings of a dataset's images and captions. */
export interface DatasetEmbeddings {
  /** The embedding width d. */
  dim: number;
  /** `numImages × d`: unit-norm means (μ for a probabilistic head). */
  images: Float32Array;
  /** `numCaptions × d`: unit-norm means. */
  captions: Float32Array;
  /** `numImages × d` log σ² (probabilistic head only). */
  imageLogSigma2?: Float32Array;
  /** `numCaptions × d` log σ² (probabilistic head only). */
  captionLogSigma2?: Float32Array;
}

/** Options of {@link embedDataset}. */
export interface EmbedDatasetOptions {
  /** Items per forward pass (default 1024). */
  batchSize?: number;
  /** Means only: skip a probabilistic head's uncertainty branch (no log σ² in the result). */
  meansOnly?: boolean;
}

type Side = 'image' | 'caption';

function embedSide(
  model: CrossModalModel,
  data: PairDataset,
  side: Side,
  batchSize: number,
  meansOnly: boolean,
): { mean: Float32Array; logSigma2?: Float32Array } {
  const count = side === 'image' ? data.numImages : data.numCaptions;
  const d = model.embedDim;
  const mean = new Float32Array(count * d);
  const logSigma2 = model.head === 'probabilistic' && !meansOnly ? new Float32Array(count * d) : undefined;
  const tokens = side === 'caption' && model.readsTokens;
  const width = side === 'image' ? data.imageStride : tokens ? 0 : data.captionDim;
  const buffer = new Float32Array(Math.min(batchSize, Math.max(count, 1)) * width);
  const indices = new Int32Array(Math.min(batchSize, Math.max(count, 1)));
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const idx = indices.subarray(0, n);
    for (let k = 0; k < n; k++) idx[k] = start + k;
    const rows =
      side === 'image' ? data.gatherImages(idx, buffer) : tokens ? buffer : data.gatherCaptions(idx, buffer);
    const out = tf.tidy(() => {
      const shape: number[] =
        side === 'image' && data.imageRegions > 1 ? [n, data.imageRegions, data.imageDim] : [n, width];
      const x = tokens
        ? captionTokenTensor(data, idx)
        : tf.tensor(rows.subarray(0, n * width), shape, 'float32');
      const o = { meansOnly };
      const e: Embedding = side === 'image' ? model.embedImages(x, o) : model.embedCaptions(x, o);
      return e;
    });
    mean.set(out.mean.dataSync(), start * d);
    if (logSigma2 && out.logSigma2) logSigma2.set(out.logSigma2.dataSync(), start * d);
    out.mean.dispose();
    out.logSigma2?.dispose();
  }
  return logSigma2 ? { mean, logSigma2 } : { mean };
}

/**
 * Embed all images and captions of `data` (eval mode, batched).
 * @returns means (and log σ² for a probabilistic head) as row-major Float32Arrays
 */
export function embedDataset(
  model: CrossModalModel,
  data: PairDataset,
  options: EmbedDatasetOptions = {},
): DatasetEmbeddings {
  const batchSize = options.batchSize ?? 1024;
  const meansOnly = options.meansOnly ?? false;
  const img = embedSide(model, data, 'image', batchSize, meansOnly);
  const cap = embedSide(model, data, 'caption', batchSize, meansOnly);
  const out: DatasetEmbeddings = { dim: model.embedDim, images: img.mean, captions: cap.mean };
  if (img.logSigma2) out.imageLogSigma2 = img.logSigma2;
  if (cap.logSigma2) out.captionLogSigma2 = cap.logSigma2;
  return out;
}

/** Mean σ² per item (`count` values) from row-major log σ² (`count × dim`). */
export function meanVariance(logSigma2: Float32Array, dim: number): Float64Array {
  const count = logSigma2.length / dim;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += Math.exp(logSigma2[i * dim + k]!);
    out[i] = s / dim;
  }
  return out;
}

/**
 * The unit-normalised input vectors of a shared-space dataset as embeddings: what an untrained
 * residual adapter (the zero-shot model) embeds, without running one.
 *
 * @example
 * ```ts
 * const emb = inputEmbeddings(data.test);   // { dim: 512, images, captions }, unit rows
 * ```
 */
export function inputEmbeddings(data: PairDataset): DatasetEmbeddings {
  const d = data.imageDim;
  return {
    dim: d,
    images: l2NormalizeRows(data.imageMatrix(), d),
    captions: l2NormalizeRows(data.captionMatrix(), d),
  };
}
