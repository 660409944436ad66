/**
 * `cleave/eval`: retrieval metrics (R@K, rSum, median rank, 1K folds), class-level mAP, split quality
 * (AUC, AP), uncertainty calibration, the CCA baseline and the shared-space check.
 *
 * @example
 * ```ts
 * import { retrievalMetrics, splitQuality, classMAP } from 'cleave/eval';
 * ```
 *
 * @module cleave/eval
 */
export type { NumberArray } from './arrays.js';
export { l2NormalizeRows } from './arrays.js';
export type { CCADims, CCAJSON, CCAOptions } from './cca.js';
export { CCA } from './cca.js';
export type { SplitQuality, SplitQualityOptions } from './detection.js';
export { averagePrecision, rocAuc, splitQuality } from './detection.js';
export type { ClassMAPMetrics, ClassMAPOptions, MAPMetrics, ScoreClassMAPOptions } from './map.js';
export { classMAP, scoreClassMAP } from './map.js';
export type { DirectionMetrics, RetrievalMetrics, TieRule } from './ranking.js';
export { TIE_RULES, tieRuleSchema } from './ranking.js';
export type {
  FoldedRetrievalMetrics,
  RetrievalFoldsOptions,
  RetrievalOptions,
  ScoreRetrievalFoldsOptions,
  ScoreRetrievalOptions,
} from './retrieval.js';
export { retrievalMetrics, retrievalMetricsFolds, scoreRetrieval, scoreRetrievalFolds } from './retrieval.js';
export type { RetrievalScorer } from './scorer.js';
export { dotProductScorer, matrixScorer } from './scorer.js';
export type { SharedSpaceDetection, SharedSpaceOptions } from './shared-space.js';
export {
  detectSharedSpace,
  inputCosines,
  sharedSpaceOptionsSchema,
  unpairedCosines,
} from './shared-space.js';
export type { Calibration, CalibrationBin, CalibrationOptions, UncertaintyQuality } from './uncertainty.js';
export { expectedCalibrationError, uncertaintyQuality } from './uncertainty.js';
