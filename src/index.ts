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
export type { Progress } from './core/progress.js';
export { createProgress, progressEnabled } from './core/progress.js';
export { Rng } from './core/random.js';
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
