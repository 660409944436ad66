/**
 * The names the noise module is configured by, each written once: the generators (`kind`), the kinds
 * a noise index file may record, and the tests that tell partial from complete noise (`partialBy`).
 * Every schema and CLI choice list elsewhere imports these.
 *
 * @example
 * ```ts
 * NOISE_KINDS;                         // ['shuffle', 'shuffle-images', 'hard']
 * noiseKindSchema.parse('hard');       // 'hard'
 * ```
 */
import { z } from 'zod';

/**
 * The noise generators: `shuffle` (caption-level, NCR), `shuffle-images` (image-level, DECL/RCL) and
 * `hard` (re-paired with a nearest-neighbour image).
 */
export const NOISE_KINDS = ['shuffle', 'shuffle-images', 'hard'] as const;
/** One of {@link NOISE_KINDS}. */
export const noiseKindSchema = z.enum(NOISE_KINDS);
/** A noise generator's name. */
export type NoiseKind = z.infer<typeof noiseKindSchema>;

/** What a noise index records as its kind: a generator, or `published` for a paper's released file. */
export const NOISE_INDEX_KINDS = [...NOISE_KINDS, 'published'] as const;
/** One of {@link NOISE_INDEX_KINDS}. */
export const noiseIndexKindSchema = z.enum(NOISE_INDEX_KINDS);
/** The kind a noise index records. */
export type NoiseIndexKind = z.infer<typeof noiseIndexKindSchema>;

/**
 * How partial (shares semantics) is told from complete noise: `labels` (same class), `neighbours` (kNN
 * in image feature space) or `none` (not decided).
 */
export const PARTIAL_NOISE_TESTS = ['labels', 'neighbours', 'none'] as const;
/** One of {@link PARTIAL_NOISE_TESTS}. */
export const partialNoiseTestSchema = z.enum(PARTIAL_NOISE_TESTS);
/** The test a noise result used. */
export type PartialNoiseTest = z.infer<typeof partialNoiseTestSchema>;

/** The `partialBy` option: one of {@link PARTIAL_NOISE_TESTS}, or `auto` to choose from the data. */
export const partialBySchema = z.enum(['auto', ...PARTIAL_NOISE_TESTS]);
/** The `partialBy` option's values. */
export type PartialBy = z.infer<typeof partialBySchema>;
