/**
 * `cleave/dataset`: `PairDataset` (image items, caption items, the caption→image map, splits, seeded
 * batching), the bundled datasets, split helpers and synthetic `*_precomp` folders.
 *
 * @example
 * ```ts
 * import { PairDataset, bundledDataset, randomSplit } from 'cleave/dataset';
 * ```
 *
 * @module cleave/dataset
 */
export type { BundledDatasetName } from './bundled.js';
export { BUNDLED_DATASETS, bundledDataDir, bundledDataset } from './bundled.js';
export type {
  BatchOptions,
  DatasetSummary,
  PairBatch,
  PairDatasetInit,
  PairNoiseInfo,
  SplitSpec,
  TokenSequences,
} from './pair-dataset.js';
export { BatchOptionsSchema, PairDataset } from './pair-dataset.js';
export type { CarveOptions, RandomSplitOptions } from './splits.js';
export { CarveSchema, carveSplit, RandomSplitSchema, randomSplit, splitsFromColumn } from './splits.js';
export type { SyntheticPrecompOptions } from './synthetic-precomp.js';
export { PRECOMP_SHAPES, SyntheticPrecompOptionsSchema, writeSyntheticPrecomp } from './synthetic-precomp.js';
