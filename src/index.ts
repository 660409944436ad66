/**
 * cleave — learn a shared image–text embedding from noisy pairs.
 *
 * The root API: what the README and the doc examples use. Everything else public lives in one of the
 * subpaths, each a layer or a folder of `src/`: `cleave/backend`, `cleave/io`, `cleave/dataset`,
 * `cleave/model`, `cleave/noise`, `cleave/mixture`, `cleave/eval`, `cleave/trainer`, `cleave/run`,
 * `cleave/cli`. A name added here is a deliberate choice: `test/cli/package.test.ts` holds the list.
 *
 * @example
 * ```ts
 * import { bundledDataset, injectNoise, loadPairs, Trainer } from 'cleave';
 * const data = await loadPairs(bundledDataset('wikipedia-xmodal'));
 * const noisy = injectNoise(data, { rate: 0.5, kind: 'shuffle', seed: 0 }).dataset;
 * const { model } = await new Trainer({ method: 'refurb', epochs: 20, seed: 0 }).fit(noisy);
 * ```
 *
 * @module cleave
 */

// --- errors, logging, random numbers, figures, version (these live at the root only) ---

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
export type { LogFormat, LogLevel } from './core/logger.js';
export {
  defaultLogFormat,
  getLogger,
  LOG_FORMATS,
  LOG_LEVELS,
  logFormatSchema,
  logLevelFromEnv,
  logLevelSchema,
  prettyLogLine,
  setLogFormat,
  setLogger,
  setLogLevel,
} from './core/logger.js';
export type { FigurePaths, RenderedFigure, RenderOptions, VegaLiteSpec } from './core/plot.js';
export { renderVegaLite, writeFigure } from './core/plot.js';
export { Rng } from './core/random.js';
export { VERSION } from './core/version.js';

// --- compute backend (the rest of `cleave/backend`) ---

export type { BackendChoice, BackendInfo, BackendName, BackendOptions } from './core/backend/index.js';
export {
  BACKEND_NAMES,
  backendOptionsSchema,
  getBackendInfo,
  initBackend,
  probeBackends,
} from './core/backend/index.js';

// --- data: pairs on disk, the bundled datasets (the rest: `cleave/io`, `cleave/dataset`) ---

export type { BundledDatasetName } from './core/dataset/index.js';
export { BUNDLED_DATASETS, bundledDataset, PairDataset } from './core/dataset/index.js';
export type { LoadPairsOptions, Manifest } from './core/io/index.js';
export { loadPairs, loadPairsOptionsSchema } from './core/io/index.js';

// --- synthetic noise with ground truth (the rest: `cleave/noise`) ---

export type { InjectNoiseOptions, NoiseResult } from './noise/index.js';
export { injectNoise, injectNoiseOptionsSchema } from './noise/index.js';

// --- the model and the trainer (the rest: `cleave/model`, `cleave/trainer`) ---

export type { ModelConfig, ModelConfigInput } from './core/model/index.js';
export { CrossModalModel, modelConfigSchema } from './core/model/index.js';
export type {
  EpochRecord,
  EvaluateRetrievalOptions,
  FitOptions,
  FitResult,
  LossKind,
  ModelRetrievalReport,
  TrainerCallback,
  TrainerConfig,
  TrainerConfigInput,
  TrainerMethod,
} from './trainer/index.js';
export {
  evaluateClassMAP,
  evaluateRetrieval,
  METHOD_PRESETS,
  resolveTrainerConfig,
  Trainer,
  trainerConfigSchema,
} from './trainer/index.js';

// --- mixtures of per-pair losses (the rest: `cleave/mixture`) ---

export type { BetaMixtureOptions, GaussianMixtureOptions, LocalFdrOptions } from './mixture/index.js';
export { BetaMixture, GaussianMixture, LocalFdrSplit, normaliseLosses } from './mixture/index.js';

// --- metrics (the rest: `cleave/eval`) ---

export type { DirectionMetrics, RetrievalMetrics, SplitQuality } from './eval/index.js';
export { retrievalMetrics, splitQuality } from './eval/index.js';

// --- runs end to end: train and report, audit, grid, run files (the rest: `cleave/run`) ---

export type {
  AuditOptions,
  AuditRow,
  AuditSummary,
  GridOptions,
  GridResults,
  RunFile,
  RunMethod,
  RunReport,
  TrainAndReportOptions,
  TrainAndReportResult,
} from './run/index.js';
export {
  auditOptionsSchema,
  auditPairs,
  evaluateSavedModel,
  gridOptionsSchema,
  RUN_METHODS,
  readRunFile,
  runFileSchema,
  runGrid,
  scoreWithSavedModel,
  trainAndReport,
  trainAndReportOptionsSchema,
} from './run/index.js';
