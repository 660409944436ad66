/**
 * Seeded mini-batches over a dataset's pairs: the options schema, the batch shape, and the generator
 * behind `PairDataset.batches`. The order depends only on (`seed`, `epoch`); per epoch O(numPairs)
 * work, per batch views only.
 *
 * @example
 * ```ts
 * batchOptionsSchema.parse({ batchSize: 32 });   // { batchSize: 32, seed: 0, epoch: 0, shuffle: true, dropLast: false }
 * ```
 */
import { z } from 'zod';
import { parseOrThrow } from '../errors.js';
import { Rng } from '../random.js';

/** Options of `PairDataset.batches`. */
export const batchOptionsSchema = z.object({
  /** Pairs per batch. */
  batchSize: z.number().int().positive(),
  /** Seed of the shuffling; with `epoch` it fixes the order. Default 0. */
  seed: z.number().int().default(0),
  /** Epoch number: each epoch gets its own order from the same seed. Default 0. */
  epoch: z.number().int().nonnegative().default(0),
  /** Shuffle (default) or keep pair order. */
  shuffle: z.boolean().default(true),
  /** Drop a last batch smaller than `batchSize`. Default false. */
  dropLast: z.boolean().default(false),
  /** Iterate over these pairs only (e.g. the ones judged clean), instead of all. */
  pairs: z
    .custom<ArrayLike<number>>((v) => ArrayBuffer.isView(v) || Array.isArray(v), 'an array of pair indices')
    .optional(),
});
/** Options of `PairDataset.batches`, as the caller writes them. */
export type BatchOptions = z.input<typeof batchOptionsSchema>;

/**
 * One mini-batch: parallel index arrays, row b of each is one pair. They are views into per-epoch
 * arrays (no per-batch allocation); copy them if you keep them past the epoch.
 */
export interface PairBatch {
  /** Batch number within the epoch, from 0. */
  batch: number;
  /** Number of pairs in this batch. */
  size: number;
  /** Pair indices (= caption indices). */
  pairs: Int32Array;
  /** Caption indices (the same array as `pairs`). */
  captions: Int32Array;
  /** Image index each pair's caption is paired with. */
  images: Int32Array;
}

/**
 * Number of batches {@link pairBatches} yields over `numPairs` pairs for these options.
 *
 * @example
 * ```ts
 * countBatches(10, { batchSize: 4 });                   // 3
 * countBatches(10, { batchSize: 4, dropLast: true });   // 2
 * ```
 */
export function countBatches(numPairs: number, options: BatchOptions): number {
  const opts = parseOrThrow(batchOptionsSchema, options, 'batch options');
  const n = opts.pairs ? opts.pairs.length : numPairs;
  return opts.dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
}

/**
 * Seeded, shuffled mini-batches over all pairs of a caption→image map (or `options.pairs`), each pair
 * exactly once per epoch.
 *
 * @example
 * ```ts
 * const map = Int32Array.from([0, 0, 1]);
 * for (const b of pairBatches(map, { batchSize: 2, seed: 7 })) b.images;   // image of each pair
 * ```
 * @param captionToImage caption j ↔ image `captionToImage[j]`; its length is the number of pairs
 * @throws RangeError when `options.pairs` holds something that is not a pair index
 */
export function* pairBatches(
  captionToImage: Int32Array,
  options: BatchOptions,
): Generator<PairBatch, void, undefined> {
  const opts = parseOrThrow(batchOptionsSchema, options, 'batch options');
  const numPairs = captionToImage.length;
  let order: Int32Array;
  if (opts.pairs) {
    order = Int32Array.from(opts.pairs);
    for (let k = 0; k < order.length; k++) {
      if (!(order[k]! >= 0 && order[k]! < numPairs) || order[k] !== opts.pairs[k]) {
        throw new RangeError(
          `batches: pairs[${k}] = ${opts.pairs[k]} is not a pair index in [0, ${numPairs})`,
        );
      }
    }
  } else {
    order = new Int32Array(numPairs);
    for (let k = 0; k < order.length; k++) order[k] = k;
  }
  if (opts.shuffle) new Rng(opts.seed).fork(`batches/epoch-${opts.epoch}`).shuffle(order);
  const images = new Int32Array(order.length);
  for (let k = 0; k < order.length; k++) images[k] = captionToImage[order[k]!]!;
  const n = order.length;
  let batch = 0;
  for (let start = 0; start < n; start += opts.batchSize) {
    const end = Math.min(n, start + opts.batchSize);
    if (opts.dropLast && end - start < opts.batchSize) break;
    const pairs = order.subarray(start, end);
    yield {
      batch: batch++,
      size: end - start,
      pairs,
      captions: pairs,
      images: images.subarray(start, end),
    };
  }
}
