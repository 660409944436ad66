/**
 * `cleave/mixture`: 1-D two-component mixtures of per-sample losses (no tfjs needed).
 *
 * @example
 * ```ts
 * import { BetaMixture, normaliseLosses } from 'cleave/mixture';
 * const { values } = normaliseLosses(losses, { method: 'minmax' });
 * const pClean = new BetaMixture().fit(values).monotonePosterior(values);
 * ```
 *
 * @module cleave/mixture
 */
export type { MixtureFitState, MixtureInput, PosteriorShape } from './base.js';
export { Mixture1D, toFiniteFloat64 } from './base.js';
export type {
  BetaMixtureConfig,
  BetaMixtureJSON,
  BetaMixtureOptions,
  BetaMixtureParams,
} from './beta.js';
export { BetaMixture } from './beta.js';
export type {
  GaussianMixtureConfig,
  GaussianMixtureJSON,
  GaussianMixtureOptions,
  GaussianMixtureParams,
} from './gaussian.js';
export { GaussianMixture, twoMeansThreshold } from './gaussian.js';
export type { MixtureKind } from './kinds.js';
export { MIXTURE_KINDS, mixtureKindSchema } from './kinds.js';
export type { LocalFdrOptions, LocalFdrParams } from './local-fdr.js';
export { estimatedSplitAuc, LocalFdrSplit, localFdrOptionsSchema, storeyNoiseRate } from './local-fdr.js';
export type { LossScaling, NormalisedLosses, NormaliseMethod, NormaliseOptions } from './normalise.js';
export {
  applyScaling,
  NORMALISE_METHODS,
  normaliseLosses,
  normaliseMethodSchema,
  percentileSorted,
} from './normalise.js';
export type { MixturePlotOptions, PlottableMixture } from './plot.js';
export { mixturePlotSpec, plotMixture } from './plot.js';
export type { BetaMixtureTruth } from './sample.js';
export { sampleBeta, sampleBetaMixture, sampleGamma } from './sample.js';
