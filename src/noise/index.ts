/**
 * `cleave/noise`: synthetic noise with ground truth — shuffled captions or images, hard (near-neighbour)
 * noise, noise index files that replay a run or a paper's published index.
 *
 * @example
 * ```ts
 * import { injectNoise, loadNoiseIndex, applyNoiseIndex } from 'cleave/noise';
 * ```
 *
 * @module cleave/noise
 */

export type { NoiseProtocol } from '../core/dataset/noise-state.js';
export type { ApplyNoiseOptions, InjectNoiseOptions, NoiseResult, NoiseSummary } from './inject.js';
export { applyNoiseIndex, applyNoiseOptionsSchema, injectNoise, injectNoiseOptionsSchema } from './inject.js';
export type { NoiseIndexKind, NoiseKind, PartialBy, PartialNoiseTest } from './kinds.js';
export {
  NOISE_INDEX_KINDS,
  NOISE_KINDS,
  noiseIndexKindSchema,
  noiseKindSchema,
  PARTIAL_NOISE_TESTS,
  partialBySchema,
  partialNoiseTestSchema,
} from './kinds.js';
export type { NearestNeighbourOptions } from './knn.js';
export { nearestNeighbours, neighbourLookup, normalizeRows } from './knn.js';
export type {
  LoadNoiseIndexOptions,
  NoiseIndex,
  SaveNoiseIndexOptions,
} from './noise-index.js';
export { loadNoiseIndex, saveNoiseIndex, validateNoiseIndex } from './noise-index.js';
export { hardCaptions, shuffleCaptions, shuffleImages } from './shuffle.js';
