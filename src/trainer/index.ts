/**
 * `cleave/trainer`: the method — `Trainer` (warm-up, per-pair scoring, mixture split, relabel, retrain),
 * its config and presets, checkpoints, embedding a dataset and evaluating a model.
 *
 * @example
 * ```ts
 * import { Trainer, resolveTrainerConfig, evaluateRetrieval } from 'cleave/trainer';
 * ```
 *
 * @module cleave/trainer
 */
export { AuxiliaryHeads, gradientReversal } from './auxiliary.js';
export { captionTokenTensor, textEncoderOptions } from './caption-input.js';
export type { CheckpointState, LoadedCheckpoint } from './checkpoint.js';
export { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export type { LossKind, SplitScore, TrainerConfig, TrainerConfigInput, TrainerMethod } from './config.js';
export {
  checkedTrainerConfigSchema,
  LOSS_KINDS,
  lossKindSchema,
  METHOD_PRESETS,
  resolveTrainerConfig,
  SPLIT_SCORES,
  splitScoreSchema,
  TRAINER_METHODS,
  trainerConfigSchema,
  trainerMethodSchema,
} from './config.js';
export type { DatasetEmbeddings, EmbedDatasetOptions } from './embed.js';
export { embedDataset, inputEmbeddings, meanVariance } from './embed.js';
export type { EvaluateRetrievalOptions, ModelRetrievalReport } from './evaluate.js';
export { evaluateClassMAP, evaluateRetrieval } from './evaluate.js';
export type { RelabelOptions } from './relabel.js';
export {
  denseTargets,
  hardTargets,
  ncrNoisyEnters,
  ncrTargets,
  relabelTargets,
  softTargets,
  splitFrozen,
} from './relabel.js';
export type { PairScoreOptions } from './scoring.js';
export { inputPairScores, matchEvidence, nullPairScores, pairScores } from './scoring.js';
export { Trainer } from './trainer.js';
export type {
  EpochRecord,
  FitOptions,
  FitResult,
  Relabelled,
  SplitRecord,
  SplitResult,
  TrainerCallback,
  TrainerContext,
  TrainerNet,
  ValidationRecord,
} from './types.js';
export { chanceRsum } from './validate.js';
