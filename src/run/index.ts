/**
 * `cleave/run`: orchestration — one run end to end (`trainAndReport`), run files, the experiment grid,
 * tables, figures, the HTML report, the pair audit, reusing a saved model, progress bars.
 *
 * @example
 * ```ts
 * import { trainAndReport, runGrid, auditPairs, markdownTable } from 'cleave/run';
 * ```
 *
 * @module cleave/run
 */
export type { Progress } from '../core/progress.js';
export { createProgress, progressEnabled, setProgressScope } from '../core/progress.js';
export type { AuditFormat, AuditOptions, AuditRow, AuditSummary } from './audit.js';
export {
  AUDIT_FORMATS,
  AUDIT_METHODS,
  auditFormatSchema,
  auditMethodSchema,
  auditOptionsSchema,
  auditPairs,
  noiseRateInterval,
  suspicionOrder,
} from './audit.js';
export { calibrationSpec } from './calibration-figure.js';
export type { CCABaseline, CCABaselineOptions } from './cca-baseline.js';
export { ccaBaselineOptionsSchema, fitCCABaseline } from './cca-baseline.js';
export type { ClipMetadata, ClipShard, WriteClipFolderOptions } from './clip-folder.js';
export { clipShardLayout, readClipMetadata, writeClipRetrievalFolder } from './clip-folder.js';
export type { GridCell, GridCellEvent, GridNoiseKind, GridOptions, GridResults, GridRun } from './grid.js';
export { cellDir, cellKey, fingerprint, gridOptionsSchema, readGridResults, runGrid } from './grid.js';
export type { GridOutputPaths } from './grid-outputs.js';
export { gridCells, rsumVsNoiseSpec, trainingCurvesSpec, writeGridOutputs } from './grid-outputs.js';
export type { HtmlCell, HtmlReportData, WriteHtmlReportOptions } from './html-report.js';
export { COLUMN_NOTES, htmlReportData, renderHtmlReport, writeHtmlReport } from './html-report.js';
export type {
  LossSplitSection,
  NoiseSection,
  RecallSummary,
  RunMethod,
  RunReport,
  SplitSection,
  TestSection,
  UncertaintySection,
} from './report.js';
export { RUN_METHODS, recallSummary, splitSection, trainerMethodOf } from './report.js';
export type { EvaluateSavedModelOptions, SavedModelScores, ScoreSavedModelOptions } from './reuse.js';
export {
  evaluateSavedModel,
  evaluateSavedModelOptionsSchema,
  scoreSavedModelOptionsSchema,
  scoreWithSavedModel,
  writeSavedModelScores,
} from './reuse.js';
export type { RunFile, RunFileKeys, TrainFlags } from './run-file.js';
export {
  methodTrainerConfig,
  parseRunFile,
  readRunFile,
  runFileSchema,
  trainOptionsFromFlags,
} from './run-file.js';
export type { SplitOverlap } from './sanity.js';
export { checkSplitOverlap, dataWarnings, duplicatePairs, MIN_TEST_PAIRS } from './sanity.js';
export type { DataInput, DataLoadOptions, DataSource } from './source.js';
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
} from './source.js';
export type { SplitState, SplitStateJSON } from './split-state.js';
export {
  loadSplitState,
  pairDigest,
  saveSplitState,
  scoreWithSplit,
  splitStateSchema,
} from './split-state.js';
export type { Align, GridMetric, GridRow, PairedRow } from './table.js';
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
} from './table.js';
export type { RunNoise, TrainAndReportOptions, TrainAndReportResult } from './train-and-report.js';
export {
  modelTestSection,
  onlyCleanTrainingPairs,
  runNoiseSchema,
  trainAndReport,
  trainAndReportOptionsSchema,
} from './train-and-report.js';
