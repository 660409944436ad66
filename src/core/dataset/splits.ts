/**
 * Seeded splits of images into train/val/test (all captions of an image go where the image goes),
 * optionally stratified by class, and carving a seeded subset out of an existing split (e.g. a
 * validation set out of an official training set).
 *
 * Counts: per group (the whole set, or each class when stratified) `round(test·n)` images go to test and
 * `round(val·n)` to val, the rest to train; which ones is a seeded shuffle (`Rng(seed).fork('split')`).
 * Returned index lists are ascending.
 *
 * @example
 * ```ts
 * import { carveSplit, randomSplit } from 'cleave/dataset';
 * const s = randomSplit(100, { seed: 0, test: 0.2, val: 0.1 });   // { train: 70, val: 10, test: 20 images }
 * const { kept, carved } = carveSplit(s.train, { fraction: 0.1, seed: 0 });
 * ```
 */
import { z } from 'zod';
import { DataError, parseOrThrow } from '../errors.js';
import { Rng } from '../random.js';

/** Options of {@link randomSplit}. */
export const randomSplitSchema = z
  .object({
    seed: z.number().int(),
    /** Fraction of images in the test split. */
    test: z.number().min(0).max(1),
    /** Fraction of images in the validation split (of all images, not of train). Default 0. */
    val: z.number().min(0).max(1).default(0),
    /** Split each class separately (needs labels). Default false. */
    stratify: z.boolean().default(false),
  })
  .refine((s) => s.test + s.val < 1, { message: 'test + val must be below 1 so that train is not empty' });
/** Options of {@link randomSplit}, as the caller writes them. */
export type RandomSplitOptions = z.input<typeof randomSplitSchema>;

/** Options of {@link carveSplit}. */
export const carveSchema = z.object({
  /** Fraction of the split's images to carve out. */
  fraction: z.number().gt(0).lt(1),
  seed: z.number().int(),
  /** Carve each class separately (needs labels). Default false. */
  stratify: z.boolean().default(false),
});
/** Options of {@link carveSplit}, as the caller writes them. */
export type CarveOptions = z.input<typeof carveSchema>;

/** Group `items` by label (ascending label order), or one group without labels. */
function groups(items: ArrayLike<number>, labels: Int32Array | undefined, stratify: boolean): number[][] {
  if (!stratify) return [Array.from(items)];
  if (!labels) throw new DataError('a stratified split needs class labels; add "labels" to the manifest');
  const byClass = new Map<number, number[]>();
  for (let k = 0; k < items.length; k++) {
    const i = items[k]!;
    const c = labels[i]!;
    const list = byClass.get(c);
    if (list) list.push(i);
    else byClass.set(c, [i]);
  }
  return [...byClass.keys()].sort((a, b) => a - b).map((c) => byClass.get(c)!);
}

const ascending = (list: number[]) => Int32Array.from(list).sort();

/**
 * Seeded random split of `numImages` images into train/val/test.
 *
 * @param numImages number of images
 * @param options fractions, seed, stratification (see {@link randomSplitSchema})
 * @param labels class per image, needed when `stratify` is on
 * @returns ascending image indices per split; `val`/`test` are omitted when their fraction is 0
 */
export function randomSplit(
  numImages: number,
  options: RandomSplitOptions,
  labels?: Int32Array,
): { train: Int32Array; val?: Int32Array; test?: Int32Array } {
  const opts = parseOrThrow(randomSplitSchema, options, 'random split');
  const rng = new Rng(opts.seed).fork('split');
  const train: number[] = [];
  const val: number[] = [];
  const test: number[] = [];
  const all = new Int32Array(numImages);
  for (let i = 0; i < numImages; i++) all[i] = i;
  for (const group of groups(all, labels, opts.stratify)) {
    rng.shuffle(group);
    const nTest = Math.round(opts.test * group.length);
    const nVal = Math.round(opts.val * group.length);
    test.push(...group.slice(0, nTest));
    val.push(...group.slice(nTest, nTest + nVal));
    train.push(...group.slice(nTest + nVal));
  }
  return {
    train: ascending(train),
    ...(opts.val > 0 ? { val: ascending(val) } : {}),
    ...(opts.test > 0 ? { test: ascending(test) } : {}),
  };
}

/**
 * Carve a seeded subset out of a split: per group `round(fraction·n)` images move to `carved`.
 *
 * @param images the split's image indices
 * @param options fraction, seed, stratification (see {@link carveSchema})
 * @param labels class per image (indexed by image index), needed when `stratify` is on
 */
export function carveSplit(
  images: ArrayLike<number>,
  options: CarveOptions,
  labels?: Int32Array,
): { kept: Int32Array; carved: Int32Array } {
  const opts = parseOrThrow(carveSchema, options, 'carve');
  const rng = new Rng(opts.seed).fork('carve');
  const kept: number[] = [];
  const carved: number[] = [];
  for (const group of groups(images, labels, opts.stratify)) {
    rng.shuffle(group);
    const n = Math.round(opts.fraction * group.length);
    carved.push(...group.slice(0, n));
    kept.push(...group.slice(n));
  }
  return { kept: ascending(kept), carved: ascending(carved) };
}

/**
 * Image indices per split name from a column of split names (one per image, e.g. a CSV `split` column).
 *
 * @throws DataError naming the file and row of an empty value
 */
export function splitsFromColumn(values: readonly string[], file: string): Record<string, Int32Array> {
  const lists = new Map<string, number[]>();
  values.forEach((raw, i) => {
    const name = raw.trim();
    if (name === '') throw new DataError(`row ${i} has an empty split name`, { file, index: i });
    const list = lists.get(name);
    if (list) list.push(i);
    else lists.set(name, [i]);
  });
  return Object.fromEntries([...lists].map(([name, list]) => [name, Int32Array.from(list)]));
}
