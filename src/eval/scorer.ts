/**
 * Scorers: where the image–caption scores that retrieval metrics rank come from.
 *
 * A {@link RetrievalScorer} hands out the score matrix one block at a time, so that a 5,000 × 25,000
 * evaluation never holds more than one block in memory. Three kinds ship here:
 * - {@link dotProductScorer}: dot products of embeddings, computed by `tf.matMul` on the active tfjs
 *   backend (normalise the rows first to get cosines);
 * - {@link matrixScorer}: a score matrix you already have;
 * - your own: any object with `scoreBlock(images, captions)` — e.g. the match probability of a
 *   probabilistic (PCME-style) head, computed from its samples for the requested rows only.
 *
 * @example
 * ```ts
 * import { type RetrievalScorer, scoreRetrieval } from 'cleave/eval';
 * // a custom scorer: negative squared distance between 1-d "embeddings"
 * const img = [0, 1, 2], cap = [0.1, 1.2, 1.9];
 * const scorer: RetrievalScorer = {
 *   imageCount: 3,
 *   captionCount: 3,
 *   scoreBlock(images, captions) {
 *     const out = new Float32Array(images.length * captions.length);
 *     images.forEach((i, r) => captions.forEach((c, k) => { out[r * captions.length + k] = -((img[i]! - cap[c]!) ** 2); }));
 *     return out;
 *   },
 * };
 * const m = await scoreRetrieval(scorer); // caption i belongs to image i
 * console.log(m.i2t.r1); // 100
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, DataError } from '../core/errors.js';
import { checkedRows, type NumberArray } from './arrays.js';

/**
 * The source of scores between images and captions (higher = better match).
 *
 * `scoreBlock(images, captions)` returns the block of scores for the given image and caption
 * indices (indices into the scorer's own items, `0 ≤ i < imageCount`, `0 ≤ j < captionCount`),
 * row-major: `out[r * captions.length + c]` is the score of image `images[r]` with caption
 * `captions[c]`. Its length must be `images.length * captions.length`. The index arrays are views
 * owned by the caller: read them during the call, do not keep them. Every score of an evaluation is
 * requested exactly once, so the same value is used wherever it is compared (exact tie handling).
 * It may return a Promise (e.g. after reading a GPU tensor with `await tensor.data()`).
 */
export interface RetrievalScorer {
  /** Number of images the scorer can score. */
  readonly imageCount: number;
  /** Number of captions the scorer can score. */
  readonly captionCount: number;
  /** The scores of `images × captions`, row-major (see the interface documentation). */
  scoreBlock(images: Int32Array, captions: Int32Array): Float32Array | Promise<Float32Array>;
  /** Free what the scorer holds (tensors); called by the functions that created the scorer. */
  dispose?(): void;
}

/** True when `idx` is `start, start+1, …` (a block of consecutive rows). */
function isRange(idx: Int32Array): boolean {
  for (let i = 1; i < idx.length; i++) if (idx[i] !== idx[0]! + i) return false;
  return true;
}

function rowsOf(t: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  if (idx.length > 0 && isRange(idx)) return tf.slice(t, [idx[0]!, 0], [idx.length, -1]);
  return tf.gather(t, tf.tensor1d(idx, 'int32'));
}

function columnsOf(t: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  if (idx.length > 0 && isRange(idx)) return tf.slice(t, [0, idx[0]!], [-1, idx.length]);
  return tf.gather(t, tf.tensor1d(idx, 'int32'), 1);
}

/** Throws a {@link BackendError} with a fix when no tfjs backend is registered. */
export function requireBackend(): void {
  try {
    tf.backend();
  } catch (cause) {
    throw new BackendError(
      `no tfjs backend is available (${(cause as Error).message}); start one first, e.g. ` +
        "`import '@tensorflow/tfjs-backend-cpu'` or cleave's backend initialisation",
    );
  }
}

/**
 * A scorer whose scores are dot products of image and caption embeddings, computed block by block
 * with `tf.matMul` on the active tfjs backend. The embeddings are uploaded once (two tensors); call
 * `dispose()` when done (the metric functions that build one dispose it themselves).
 *
 * @param imageEmbeddings row-major `nImages × dim`
 * @param captionEmbeddings row-major `nCaptions × dim`
 * @param dim embedding width
 * @param layout `transposeCaptions`: keep the captions as a `dim × nCaptions` tensor (multiply without
 *   transposing); default: true on every backend except the plain `cpu` one, whichever is faster there
 * @throws DataError when a length is not a multiple of `dim` or a value is NaN/infinite
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import { dotProductScorer } from 'cleave/eval';
 * const s = dotProductScorer(new Float32Array([1, 0, 0, 1]), new Float32Array([1, 0, 0.5, 0.5]), 2);
 * console.log(await s.scoreBlock(Int32Array.of(0, 1), Int32Array.of(0, 1))); // [1, 0.5, 0, 0.5]
 * s.dispose?.();
 * ```
 */
export function dotProductScorer(
  imageEmbeddings: NumberArray,
  captionEmbeddings: NumberArray,
  dim: number,
  layout: { transposeCaptions?: boolean } = {},
): RetrievalScorer {
  if (!Number.isInteger(dim) || dim <= 0) {
    throw new DataError(`dim must be a positive integer, got ${dim}`, { file: 'dotProductScorer' });
  }
  const imageCount = checkedRows(imageEmbeddings, dim, 'imageEmbeddings');
  const captionCount = checkedRows(captionEmbeddings, dim, 'captionEmbeddings');
  requireBackend();
  const asF32 = (a: NumberArray) => (a instanceof Float32Array ? a : Float32Array.from(a));
  const images = tf.tensor2d(asF32(imageEmbeddings), [imageCount, dim]);
  // The cpu backends multiply fastest with a transposed right operand (`cpu-blas` hands it to sgemm
  // as is, and a column slice of a transposed tensor would be an element-wise copy in JavaScript:
  // 50× slower end to end); the others (wasm/XNNPACK: ~10× here) with a plain one, so they get the
  // captions transposed once.
  const transposed = layout.transposeCaptions ?? !['cpu', 'cpu-blas'].includes(tf.getBackend());
  const captions = tf.tidy(() => {
    const rows = tf.tensor2d(asF32(captionEmbeddings), [captionCount, dim]);
    return transposed ? tf.transpose(rows) : rows;
  });
  return {
    imageCount,
    captionCount,
    async scoreBlock(imageIdx, captionIdx) {
      const block = tf.tidy(() =>
        transposed
          ? tf.matMul(rowsOf(images, imageIdx), columnsOf(captions, captionIdx))
          : tf.matMul(rowsOf(images, imageIdx), rowsOf(captions, captionIdx), false, true),
      );
      try {
        return (await block.data()) as Float32Array;
      } finally {
        block.dispose();
      }
    },
    dispose() {
      images.dispose();
      captions.dispose();
    },
  };
}

/**
 * A scorer over a score matrix you already have (row-major `imageCount × captionCount`), e.g. from a
 * cross-attention model or a saved evaluation.
 *
 * @example
 * ```ts
 * import { matrixScorer, scoreRetrieval } from 'cleave/eval';
 * const scores = new Float32Array([0.9, 0.1, 0.2, 0.8]); // 2 images × 2 captions
 * const m = await scoreRetrieval(matrixScorer(scores, 2, 2));
 * console.log(m.rsum); // 600
 * ```
 */
export function matrixScorer(scores: NumberArray, imageCount: number, captionCount: number): RetrievalScorer {
  if (scores.length !== imageCount * captionCount) {
    throw new DataError(`has ${scores.length} scores, expected ${imageCount} × ${captionCount}`, {
      file: 'matrixScorer',
    });
  }
  return {
    imageCount,
    captionCount,
    scoreBlock(imageIdx, captionIdx) {
      const cols = captionIdx.length;
      const out = new Float32Array(imageIdx.length * cols);
      for (let r = 0; r < imageIdx.length; r++) {
        const base = imageIdx[r]! * captionCount;
        for (let c = 0; c < cols; c++) out[r * cols + c] = scores[base + captionIdx[c]!]!;
      }
      return out;
    },
  };
}
