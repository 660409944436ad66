/**
 * cleave — learn a shared image–text embedding from noisy pairs.
 *
 * The public API. Everything a user imports comes from here:
 * ```ts
 * import { Rng, getLogger } from 'cleave';
 * ```
 */

export type { DataErrorLocation } from './core/errors.js';
export { BackendError, CleaveError, ConfigError, DataError, parseOrThrow } from './core/errors.js';
export { assertNotProtected, writeFileAtomic } from './core/io/atomic.js';
export type { LogLevel } from './core/logger.js';
export { getLogger, setLogger, setLogLevel } from './core/logger.js';
// --- mixture (loss modelling) and shared plotting ---
export type { FigurePaths, RenderedFigure, RenderOptions, VegaLiteSpec } from './core/plot.js';
export { renderVegaLite, writeFigure } from './core/plot.js';
export type { Progress } from './core/progress.js';
export { createProgress, progressEnabled } from './core/progress.js';
export { Rng } from './core/random.js';
export type {
  BetaMixtureConfig,
  BetaMixtureJSON,
  BetaMixtureOptions,
  BetaMixtureParams,
  BetaMixtureTruth,
  GaussianMixtureConfig,
  GaussianMixtureJSON,
  GaussianMixtureOptions,
  GaussianMixtureParams,
  LossScaling,
  MixtureFitState,
  MixtureInput,
  MixturePlotOptions,
  NormalisedLosses,
  NormaliseOptions,
  PlottableMixture,
  PosteriorShape,
} from './mixture/index.js';
export {
  applyScaling,
  BetaMixture,
  GaussianMixture,
  Mixture1D,
  mixturePlotSpec,
  normaliseLosses,
  percentileSorted,
  plotMixture,
  sampleBeta,
  sampleBetaMixture,
  sampleGamma,
  twoMeansThreshold,
} from './mixture/index.js';
export { VERSION } from './version.js';
