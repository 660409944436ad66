/**
 * cleave — learn a shared image–text embedding from noisy pairs.
 *
 * The public API. Everything a user imports comes from here:
 * ```ts
 * import { Rng, getLogger } from 'cleave';
 * ```
 */

// --- backend (compute backends, optimizer) ---
export type {
  BackendCandidate,
  BackendChoice,
  BackendInfo,
  BackendName,
  BackendOptions,
  BackendOverrides,
  BackendProbe,
  BackendStatus,
} from './core/backend/index.js';
export {
  BACKEND_NAMES,
  backendOptionsSchema,
  getBackendInfo,
  initBackend,
  isSoftwareAdapter,
  probeBackends,
} from './core/backend/index.js';
export type { DataErrorLocation } from './core/errors.js';
export {
  BackendError,
  CleaveError,
  ConfigError,
  DataError,
  OutputError,
  parseOrThrow,
  TrainingError,
} from './core/errors.js';
export { assertNotProtected, writeFileAtomic } from './core/io/atomic.js';
export type { LogFormat, LogLevel } from './core/logger.js';
export {
  defaultLogFormat,
  getLogger,
  LOG_FORMATS,
  prettyLogLine,
  setLogFormat,
  setLogger,
  setLogLevel,
} from './core/logger.js';
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
export type { AdamOptions, NamedTensor, OptimizerOptions } from './core/optim.js';
export { adamOptionsSchema, createOptimizer, FusedAdam, optimizerOptionsSchema } from './core/optim.js';
// --- mixture (loss modelling) and shared plotting ---
export type { FigurePaths, RenderedFigure, RenderOptions, VegaLiteSpec } from './core/plot.js';
export { renderVegaLite, writeFigure } from './core/plot.js';
export type { Progress } from './core/progress.js';
export { createProgress, progressEnabled } from './core/progress.js';
export { Rng } from './core/random.js';
export { ensureGradients, gradientsRegistered } from './core/tf-gradients.js';
export { VERSION } from './core/version.js';
// --- eval: retrieval metrics, class-level mAP, split quality, uncertainty, CCA baseline ---
export type { NumberArray } from './eval/arrays.js';
export { l2NormalizeRows } from './eval/arrays.js';
export type { CCADims, CCAJSON, CCAOptions } from './eval/cca.js';
export { CCA } from './eval/cca.js';
export type { SplitQuality, SplitQualityOptions } from './eval/detection.js';
export { averagePrecision, rocAuc, splitQuality } from './eval/detection.js';
export type { ClassMAPMetrics, ClassMAPOptions, MAPMetrics, ScoreClassMAPOptions } from './eval/map.js';
export { classMAP, scoreClassMAP } from './eval/map.js';
export type { DirectionMetrics, RetrievalMetrics } from './eval/ranking.js';
export type {
  FoldedRetrievalMetrics,
  RetrievalFoldsOptions,
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
export type { SharedSpaceDetection, SharedSpaceOptions } from './eval/shared-space.js';
export {
  detectSharedSpace,
  inputCosines,
  sharedSpaceOptionsSchema,
  unpairedCosines,
} from './eval/shared-space.js';
export type {
  Calibration,
  CalibrationBin,
  CalibrationOptions,
  UncertaintyQuality,
} from './eval/uncertainty.js';
export { expectedCalibrationError, uncertaintyQuality } from './eval/uncertainty.js';
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
export type { LocalFdrOptions, LocalFdrParams } from './mixture/local-fdr.js';
export {
  estimatedSplitAuc,
  LocalFdrSplit,
  localFdrOptionsSchema,
  storeyNoiseRate,
} from './mixture/local-fdr.js';

// --- data: datasets, readers/writers, synthetic noise ---

export type { BatchOptions, PairBatch } from './core/dataset/batching.js';
export { batchOptionsSchema } from './core/dataset/batching.js';
export type { BundledDatasetName } from './core/dataset/bundled.js';
export { BUNDLED_DATASETS, bundledDataDir, bundledDataset } from './core/dataset/bundled.js';
export type { NoiseProtocol, PairNoiseInfo } from './core/dataset/noise-state.js';
export { PairDataset } from './core/dataset/pair-dataset.js';
export type { CarveOptions, RandomSplitOptions } from './core/dataset/splits.js';
export {
  carveSchema,
  carveSplit,
  randomSplit,
  randomSplitSchema,
  splitsFromColumn,
} from './core/dataset/splits.js';
export type { SyntheticPrecompOptions } from './core/dataset/synthetic-precomp.js';
export {
  PRECOMP_SHAPES,
  syntheticPrecompOptionsSchema,
  writeSyntheticPrecomp,
} from './core/dataset/synthetic-precomp.js';
export type { DatasetSummary, PairDatasetInit, SplitSpec, TokenSequences } from './core/dataset/types.js';
export { readCaptions, readColumn } from './core/io/captions.js';
export type { ClipRetrievalOptions, ClipRetrievalParts } from './core/io/clip-retrieval.js';
export {
  clipRetrievalOptionsSchema,
  loadClipRetrievalFolder,
  readClipRetrievalFolder,
} from './core/io/clip-retrieval.js';
export type { CsvOptions, CsvTable } from './core/io/csv.js';
export { csvTable, parseCsv, readCsv } from './core/io/csv.js';
export type { F32Header, F32ReadOptions, F32WriteOptions } from './core/io/f32bin.js';
export { f32HeaderPath, f32HeaderSchema, readF32Bin, writeF32Bin } from './core/io/f32bin.js';
export type { FeatureArray, ReadFeaturesOptions } from './core/io/features.js';
export { readFeatures, readIndices } from './core/io/features.js';
export { assertFinite, firstNonFinite } from './core/io/finite.js';
export { float16ToFloat32, float32ToFloat16, toFloat16Bits } from './core/io/float16.js';
export type { LoadPairsOptions, Manifest } from './core/io/manifest.js';
export {
  encodeLabels,
  loadPairs,
  loadPairsOptionsSchema,
  manifestSchema,
  readManifest,
} from './core/io/manifest.js';
export type { NpyArray, NpyData, NpyReadOptions, NpyResultData, NpyWriteOptions } from './core/io/npy.js';
export { encodeNpy, parseNpy, readNpy, readNpyHeader, writeNpy } from './core/io/npy.js';
export type { NpyDtype, NpyHeader } from './core/io/npy-header.js';
export { encodeNpyHeader, parseNpyHeader } from './core/io/npy-header.js';
export type { PrecompOptions } from './core/io/precomp.js';
export {
  isPrecompFolder,
  loadPrecomp,
  precompName,
  precompOptionsSchema,
  precompSplitName,
} from './core/io/precomp.js';
export type { PoolRegionsOptions } from './core/io/precomp-regions.js';
export { poolRegionsNpy } from './core/io/precomp-regions.js';
export type { TokenEncoderOptions, TokenEncoderOptionsInput } from './core/model/text-encoder.js';
export {
  paddedTokens,
  TokenEncoder,
  tokenEncoderOptionsSchema,
  tokenEncoderOutputDim,
} from './core/model/text-encoder.js';
export type { BuildVocabularyOptions } from './core/text/tokenizer.js';
export { SPECIAL_TOKENS, Vocabulary, wordTokenize } from './core/text/tokenizer.js';
export type { ApplyNoiseOptions, InjectNoiseOptions, NoiseResult, NoiseSummary } from './noise/inject.js';
export {
  applyNoiseIndex,
  applyNoiseOptionsSchema,
  injectNoise,
  injectNoiseOptionsSchema,
} from './noise/inject.js';
export type { NearestNeighbourOptions } from './noise/knn.js';
export { nearestNeighbours, neighbourLookup, normalizeRows } from './noise/knn.js';
export type { LoadNoiseIndexOptions, NoiseIndex, SaveNoiseIndexOptions } from './noise/noise-index.js';
export { loadNoiseIndex, saveNoiseIndex, validateNoiseIndex } from './noise/noise-index.js';
export { hardCaptions, shuffleCaptions, shuffleImages } from './noise/shuffle.js';
export { AuxiliaryHeads, gradientReversal } from './trainer/auxiliary.js';
export { captionTokenTensor, textEncoderOptions } from './trainer/caption-input.js';
export type { CheckpointState, LoadedCheckpoint } from './trainer/checkpoint.js';
export { loadCheckpoint, saveCheckpoint } from './trainer/checkpoint.js';
export type { LossKind, TrainerConfig, TrainerConfigInput, TrainerMethod } from './trainer/config.js';
export {
  checkedTrainerConfigSchema,
  METHOD_PRESETS,
  resolveTrainerConfig,
  trainerConfigSchema,
} from './trainer/config.js';
export type { DatasetEmbeddings, EmbedDatasetOptions } from './trainer/embed.js';
export { embedDataset, inputEmbeddings, meanVariance } from './trainer/embed.js';
export type { EvaluateRetrievalOptions, ModelRetrievalReport } from './trainer/evaluate.js';
export { evaluateClassMAP, evaluateRetrieval } from './trainer/evaluate.js';
export type { PairScoreOptions } from './trainer/scoring.js';
export { inputPairScores, matchEvidence, nullPairScores, pairScores } from './trainer/scoring.js';
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
} from './trainer/trainer.js';
export { chanceRsum, Trainer } from './trainer/trainer.js';

// --- run: one run end to end, run files, experiment grid, tables, pair audit ---

export { runCli } from './cli/program.js';
export type { CsvValue } from './core/io/csv.js';
export { formatCsv } from './core/io/csv.js';
export { setProgressScope } from './core/progress.js';
export type { AuditOptions, AuditRow, AuditSummary } from './run/audit.js';
export { auditOptionsSchema, auditPairs, suspicionOrder } from './run/audit.js';
export { calibrationSpec } from './run/calibration-figure.js';
export type { CCABaseline, CCABaselineOptions } from './run/cca-baseline.js';
export { ccaBaselineOptionsSchema, fitCCABaseline } from './run/cca-baseline.js';
export type { ClipMetadata, ClipShard, WriteClipFolderOptions } from './run/clip-folder.js';
export { clipShardLayout, readClipMetadata, writeClipRetrievalFolder } from './run/clip-folder.js';
export type {
  GridCell,
  GridCellEvent,
  GridNoiseKind,
  GridOptions,
  GridResults,
  GridRun,
} from './run/grid.js';
export {
  cellDir,
  cellKey,
  fingerprint,
  gridOptionsSchema,
  readGridResults,
  runGrid,
} from './run/grid.js';
export type { GridOutputPaths } from './run/grid-outputs.js';
export { gridCells, rsumVsNoiseSpec, trainingCurvesSpec, writeGridOutputs } from './run/grid-outputs.js';
export type { HtmlCell, HtmlReportData, WriteHtmlReportOptions } from './run/html-report.js';
export {
  COLUMN_NOTES,
  htmlReportData,
  renderHtmlReport,
  writeHtmlReport,
} from './run/html-report.js';
export type {
  LossSplitSection,
  NoiseSection,
  RecallSummary,
  RunMethod,
  RunReport,
  SplitSection,
  TestSection,
  UncertaintySection,
} from './run/report.js';
export { RUN_METHODS, recallSummary, splitSection, trainerMethodOf } from './run/report.js';
export type {
  EvaluateSavedModelOptions,
  SavedModelScores,
  ScoreSavedModelOptions,
} from './run/reuse.js';
export {
  evaluateSavedModel,
  evaluateSavedModelOptionsSchema,
  scoreSavedModelOptionsSchema,
  scoreWithSavedModel,
  writeSavedModelScores,
} from './run/reuse.js';
export type { RunFile, RunFileKeys, TrainFlags } from './run/run-file.js';
export {
  methodTrainerConfig,
  parseRunFile,
  readRunFile,
  runFileSchema,
  trainOptionsFromFlags,
} from './run/run-file.js';
export type { SplitOverlap } from './run/sanity.js';
export { checkSplitOverlap, dataWarnings, duplicatePairs, MIN_TEST_PAIRS } from './run/sanity.js';
export type { DataInput, DataLoadOptions, DataSource } from './run/source.js';
export {
  DEFAULT_SPLIT,
  dataInputSource,
  isInside,
  loadDataInput,
  loadDataSource,
  OUTPUT_MANIFEST,
  OutputGuard,
  recommendedTrainerConfig,
  resolveDataSource,
  withEvaluationSplits,
} from './run/source.js';
export type { SplitState, SplitStateJSON } from './run/split-state.js';
export {
  loadSplitState,
  pairDigest,
  saveSplitState,
  scoreWithSplit,
  splitStateSchema,
} from './run/split-state.js';
export type { Align, GridMetric, GridRow, PairedRow } from './run/table.js';
export {
  aggregateGrid,
  formatMeanSd,
  GRID_METRICS,
  gridCsv,
  gridMarkdown,
  markdownTable,
  meanSd,
  pairedDifferences,
  pairedMarkdown,
  protocolOf,
  reportsTable,
  signTestP,
} from './run/table.js';
export type { RunNoise, TrainAndReportOptions, TrainAndReportResult } from './run/train-and-report.js';
export {
  modelTestSection,
  onlyCleanTrainingPairs,
  runNoiseSchema,
  trainAndReport,
  trainAndReportOptionsSchema,
} from './run/train-and-report.js';

// --- deprecated PascalCase schema names (aliases of the camelCase ones) ---

export {
  AdamOptionsSchema,
  ApplyNoiseOptionsSchema,
  BackendOptionsSchema,
  BatchOptionsSchema,
  CarveSchema,
  ClipRetrievalOptionsSchema,
  F32HeaderSchema,
  InjectNoiseOptionsSchema,
  LoadPairsOptionsSchema,
  ManifestSchema,
  OptimizerOptionsSchema,
  PrecompOptionsSchema,
  RandomSplitSchema,
  SyntheticPrecompOptionsSchema,
} from './deprecated.js';
