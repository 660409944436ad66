/**
 * `cleave/io`: readers and writers — `.npy`, raw float32 + JSON header, CSV, JSONL captions,
 * manifests, clip-retrieval embedding folders, `*_precomp` folders, float16, atomic writes.
 *
 * @example
 * ```ts
 * import { readNpy, writeNpy, loadPairs, readCsv } from 'cleave/io';
 * ```
 *
 * @module cleave/io
 */
export { assertNotProtected, writeFileAtomic } from './atomic.js';
export { readCaptions, readColumn } from './captions.js';
export type { ClipRetrievalOptions, ClipRetrievalParts } from './clip-retrieval.js';
export {
  clipRetrievalOptionsSchema,
  loadClipRetrievalFolder,
  readClipRetrievalFolder,
} from './clip-retrieval.js';
export type { CsvOptions, CsvTable, CsvValue } from './csv.js';
export { csvTable, formatCsv, parseCsv, readCsv } from './csv.js';
export type { F32Header, F32ReadOptions, F32WriteOptions } from './f32bin.js';
export { f32HeaderPath, f32HeaderSchema, readF32Bin, writeF32Bin } from './f32bin.js';
export type { FeatureArray, ReadFeaturesOptions } from './features.js';
export { readFeatures, readIndices } from './features.js';
export { assertFinite, firstNonFinite } from './finite.js';
export { float16ToFloat32, float32ToFloat16, toFloat16Bits } from './float16.js';
export type { LoadPairsOptions, Manifest } from './manifest.js';
export { encodeLabels, loadPairs, loadPairsOptionsSchema, manifestSchema, readManifest } from './manifest.js';
export type { NpyArray, NpyData, NpyReadOptions, NpyResultData, NpyWriteOptions } from './npy.js';
export {
  encodeNpy,
  npyReadOptionsSchema,
  npyWriteOptionsSchema,
  parseNpy,
  readNpy,
  readNpyHeader,
  writeNpy,
} from './npy.js';
export type { NpyDtype, NpyHeader } from './npy-header.js';
export { encodeNpyHeader, NPY_DTYPES, parseNpyHeader } from './npy-header.js';
export type { PrecompOptions } from './precomp.js';
export {
  isPrecompFolder,
  loadPrecomp,
  PRECOMP_POOLINGS,
  precompName,
  precompOptionsSchema,
  precompPoolingSchema,
  precompSplitName,
} from './precomp.js';
export type { PoolRegionsOptions } from './precomp-regions.js';
export { poolRegionsNpy } from './precomp-regions.js';
