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
export type { ApplyNoiseOptions, InjectNoiseOptions, NoiseResult, NoiseSummary } from './inject.js';
export { ApplyNoiseOptionsSchema, applyNoiseIndex, InjectNoiseOptionsSchema, injectNoise } from './inject.js';
export type { NearestNeighbourOptions } from './knn.js';
export { nearestNeighbours, neighbourLookup, normalizeRows } from './knn.js';
export type {
  LoadNoiseIndexOptions,
  NoiseIndex,
  NoiseProtocol,
  SaveNoiseIndexOptions,
} from './noise-index.js';
export { loadNoiseIndex, saveNoiseIndex, validateNoiseIndex } from './noise-index.js';
export { hardCaptions, shuffleCaptions, shuffleImages } from './shuffle.js';
