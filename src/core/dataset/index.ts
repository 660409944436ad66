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

export type { BatchOptions, PairBatch } from './batching.js';
export { batchOptionsSchema } from './batching.js';
export type { BundledDatasetName } from './bundled.js';
export { BUNDLED_DATASETS, bundledDataDir, bundledDataset } from './bundled.js';
export type { NoiseProtocol, PairNoiseInfo } from './noise-state.js';
export { NOISE_PROTOCOLS, noiseProtocolSchema } from './noise-state.js';
export { PairDataset } from './pair-dataset.js';
export type { CarveOptions, RandomSplitOptions } from './splits.js';
export { carveSchema, carveSplit, randomSplit, randomSplitSchema, splitsFromColumn } from './splits.js';
export type { SyntheticPrecompOptions } from './synthetic-precomp.js';
export {
  PRECOMP_SHAPES,
  SYNTHETIC_SHAPES,
  syntheticPrecompOptionsSchema,
  writeSyntheticPrecomp,
} from './synthetic-precomp.js';
export type { DatasetSummary, PairDatasetInit, SplitSpec, TokenSequences } from './types.js';
