/**
 * `cleave/model`: the network and what trains it — encoders and heads, the cross-modal model and its
 * save/load, per-pair and batch losses, the fused Adam optimizer, the tokenizer and token encoder,
 * and the gradients cleave registers with tfjs.
 *
 * @example
 * ```ts
 * import { CrossModalModel, infoNCELossPerPair, createOptimizer } from 'cleave/model';
 * ```
 *
 * @module cleave/model
 */

export type { PairMask } from '../losses/batch.js';
export { checkBatch, diagonal, maskedLogSumExp, offDiagonal, sameImageMask } from '../losses/batch.js';
export { infoNCELoss, infoNCELossPerPair } from '../losses/infonce.js';
export type { MatchLossOptions, MatchPerPairOptions } from '../losses/match.js';
export {
  alignedMatchLoss,
  matchLoss,
  matchLossFromLogits,
  matchLossOptionsSchema,
  matchLossPerPair,
  matchPerPairOptionsSchema,
  vibLoss,
} from '../losses/match.js';
export type { TripletOptions } from '../losses/triplet.js';
export { softMargin, tripletLoss, tripletLossPerPair, tripletOptionsSchema } from '../losses/triplet.js';
export type { AdamOptions, NamedTensor, OptimizerOptions } from '../optim.js';
export { adamOptionsSchema, createOptimizer, FusedAdam, optimizerOptionsSchema } from '../optim.js';
export type { BuildVocabularyOptions } from '../text/tokenizer.js';
export { SPECIAL_TOKENS, Vocabulary, wordTokenize } from '../text/tokenizer.js';
export { ensureGradients, gradientsRegistered } from '../tf-gradients.js';
export type {
  Activation,
  EncoderOptions,
  EncoderOptionsInput,
  HeadKind,
  HeadType,
  ModelConfig,
  ModelConfigInput,
  RegionPooling,
} from './config.js';
export {
  activationSchema,
  encoderOptionsSchema,
  HEAD_KINDS,
  headKindSchema,
  matchOptionsSchema,
  modelConfigSchema,
  REGION_POOLINGS,
  regionPoolingSchema,
  TOKEN_ENCODER_KINDS,
  temperatureOptionsSchema,
  tokenEncoderKindSchema,
  uncertaintyOptionsSchema,
} from './config.js';
export type { Embedding, MatchLogProbs } from './distance.js';
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
} from './distance.js';
export type { EmbedOptions, UncertaintySettings } from './encoder.js';
export { Encoder, l2Normalize } from './encoder.js';
export type { FileSystemHandlerOptions } from './file-handler.js';
export { fileSystemHandler, MODEL_JSON, WEIGHTS_BIN } from './file-handler.js';
export type { ForwardOptions, MlpOptions } from './layers.js';
export { activate, Dense, LayerNorm, Mlp, RegionPool, seededDropout } from './layers.js';
export type { MatchOptions } from './model.js';
export { CrossModalModel, inverseSoftplus, MODEL_FORMAT } from './model.js';
export { constantValues, glorotUniform, heUniform, ParamStore } from './params.js';
export type { TokenEncoderOptions, TokenEncoderOptionsInput } from './text-encoder.js';
export {
  paddedTokens,
  TokenEncoder,
  tokenEncoderOptionsSchema,
  tokenEncoderOutputDim,
} from './text-encoder.js';
