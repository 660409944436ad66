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
export { VERSION } from './version.js';

// --- data: datasets, readers/writers, synthetic noise ---

export type { BundledDatasetName } from './core/dataset/bundled.js';
export { BUNDLED_DATASETS, bundledDataDir, bundledDataset } from './core/dataset/bundled.js';
export type {
  BatchOptions,
  DatasetSummary,
  PairBatch,
  PairDatasetInit,
  PairNoiseInfo,
  SplitSpec,
  TokenSequences,
} from './core/dataset/pair-dataset.js';
export { BatchOptionsSchema, PairDataset } from './core/dataset/pair-dataset.js';
export type { CarveOptions, RandomSplitOptions } from './core/dataset/splits.js';
export {
  CarveSchema,
  carveSplit,
  RandomSplitSchema,
  randomSplit,
  splitsFromColumn,
} from './core/dataset/splits.js';
export { readCaptions, readColumn } from './core/io/captions.js';
export type { ClipRetrievalOptions, ClipRetrievalParts } from './core/io/clip-retrieval.js';
export {
  ClipRetrievalOptionsSchema,
  loadClipRetrievalFolder,
  readClipRetrievalFolder,
} from './core/io/clip-retrieval.js';
export type { CsvOptions, CsvTable } from './core/io/csv.js';
export { csvTable, parseCsv, readCsv } from './core/io/csv.js';
export type { F32Header, F32ReadOptions, F32WriteOptions } from './core/io/f32bin.js';
export { F32HeaderSchema, f32HeaderPath, readF32Bin, writeF32Bin } from './core/io/f32bin.js';
export type { FeatureArray, ReadFeaturesOptions } from './core/io/features.js';
export { readFeatures, readIndices } from './core/io/features.js';
export { assertFinite, firstNonFinite } from './core/io/finite.js';
export { float16ToFloat32, float32ToFloat16, toFloat16Bits } from './core/io/float16.js';
export type { LoadPairsOptions, Manifest } from './core/io/manifest.js';
export { encodeLabels, LoadPairsOptionsSchema, loadPairs, ManifestSchema } from './core/io/manifest.js';
export type {
  NpyArray,
  NpyData,
  NpyDtype,
  NpyHeader,
  NpyReadOptions,
  NpyResultData,
  NpyWriteOptions,
} from './core/io/npy.js';
export { encodeNpy, parseNpy, parseNpyHeader, readNpy, readNpyHeader, writeNpy } from './core/io/npy.js';
export type { ApplyNoiseOptions, InjectNoiseOptions, NoiseResult, NoiseSummary } from './noise/inject.js';
export {
  ApplyNoiseOptionsSchema,
  applyNoiseIndex,
  InjectNoiseOptionsSchema,
  injectNoise,
} from './noise/inject.js';
export type { NearestNeighbourOptions } from './noise/knn.js';
export { nearestNeighbours, neighbourLookup, normalizeRows } from './noise/knn.js';
export type {
  LoadNoiseIndexOptions,
  NoiseIndex,
  NoiseProtocol,
  SaveNoiseIndexOptions,
} from './noise/noise-index.js';
export { loadNoiseIndex, saveNoiseIndex, validateNoiseIndex } from './noise/noise-index.js';
export { hardCaptions, shuffleCaptions, shuffleImages } from './noise/shuffle.js';
