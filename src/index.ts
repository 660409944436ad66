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
export { checkBatch, diagonal, offDiagonal } from './core/losses/batch.js';
export { infoNCELoss, infoNCELossPerPair } from './core/losses/infonce.js';
export type { MatchLossOptions, MatchPerPairOptions } from './core/losses/match.js';
export {
  matchLoss,
  matchLossOptionsSchema,
  matchLossPerPair,
  matchPerPairOptionsSchema,
  vibLoss,
} from './core/losses/match.js';
export type { TripletOptions } from './core/losses/triplet.js';
export { softMargin, tripletLoss, tripletLossPerPair, tripletOptionsSchema } from './core/losses/triplet.js';
// --- model & losses ---
export type {
  Activation,
  EncoderOptions,
  EncoderOptionsInput,
  HeadType,
  ModelConfig,
  ModelConfigInput,
} from './core/model/config.js';
export {
  activationSchema,
  encoderOptionsSchema,
  matchOptionsSchema,
  modelConfigSchema,
  temperatureOptionsSchema,
  uncertaintyOptionsSchema,
} from './core/model/config.js';
export type { Embedding, MatchLogProbs } from './core/model/distance.js';
export {
  closedFormDistance,
  disposeEmbedding,
  gaussianSamples,
  itemUncertainty,
  logitMatchLogProbs,
  logSigmoid,
  monteCarloMatchLogProbs,
  sampleNoise,
  similarityMatrix,
  squaredDistances,
} from './core/model/distance.js';
export type { EmbedOptions, UncertaintySettings } from './core/model/encoder.js';
export { Encoder, l2Normalize } from './core/model/encoder.js';
export type { FileSystemHandlerOptions } from './core/model/file-handler.js';
export { fileSystemHandler, MODEL_JSON, WEIGHTS_BIN } from './core/model/file-handler.js';
export type { ForwardOptions, MlpOptions } from './core/model/layers.js';
export { activate, Dense, LayerNorm, Mlp, RegionPool, seededDropout } from './core/model/layers.js';
export type { MatchOptions } from './core/model/model.js';
export { CrossModalModel, inverseSoftplus, MODEL_FORMAT } from './core/model/model.js';
export { constantValues, glorotUniform, heUniform, ParamStore } from './core/model/params.js';
export type { Progress } from './core/progress.js';
export { createProgress, progressEnabled } from './core/progress.js';
export { Rng } from './core/random.js';
export { ensureGradients, gradientsRegistered } from './core/tf-gradients.js';
// --- eval: retrieval metrics, class-level mAP, split quality, uncertainty, CCA baseline ---
export type { NumberArray } from './eval/arrays.js';
export { l2NormalizeRows } from './eval/arrays.js';
export type { CCADims, CCAJSON, CCAOptions } from './eval/cca.js';
export { CCA } from './eval/cca.js';
export type { SplitQuality, SplitQualityOptions } from './eval/detection.js';
export { averagePrecision, rocAuc, splitQuality } from './eval/detection.js';
export type { ClassMAPMetrics, ClassMAPOptions, MAPMetrics, ScoreClassMAPOptions } from './eval/map.js';
export { classMAP, scoreClassMAP } from './eval/map.js';
export type {
  DirectionMetrics,
  FoldedRetrievalMetrics,
  RetrievalFoldsOptions,
  RetrievalMetrics,
  RetrievalOptions,
  ScoreRetrievalFoldsOptions,
  ScoreRetrievalOptions,
} from './eval/retrieval.js';
export {
  retrievalMetrics,
  retrievalMetricsFolds,
  scoreRetrieval,
  scoreRetrievalFolds,
} from './eval/retrieval.js';
export type { RetrievalScorer } from './eval/scorer.js';
export { dotProductScorer, matrixScorer } from './eval/scorer.js';
export type {
  Calibration,
  CalibrationBin,
  CalibrationOptions,
  UncertaintyQuality,
} from './eval/uncertainty.js';
export { expectedCalibrationError, uncertaintyQuality } from './eval/uncertainty.js';
export { VERSION } from './version.js';
