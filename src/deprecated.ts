/**
 * The schema names that were PascalCase up to cleave 0.1, kept as aliases of the camelCase ones so that
 * existing imports keep working. Each will go in a later major version: import the `xxxSchema` name.
 *
 * @example
 * ```ts
 * import { randomSplitSchema } from 'cleave';   // not RandomSplitSchema
 * randomSplitSchema.parse({ seed: 0, test: 0.2 });
 * ```
 */
import { backendOptionsSchema } from './core/backend/index.js';
import { batchOptionsSchema } from './core/dataset/batching.js';
import { carveSchema, randomSplitSchema } from './core/dataset/splits.js';
import { syntheticPrecompOptionsSchema } from './core/dataset/synthetic-precomp.js';
import { clipRetrievalOptionsSchema } from './core/io/clip-retrieval.js';
import { f32HeaderSchema } from './core/io/f32bin.js';
import { loadPairsOptionsSchema, manifestSchema } from './core/io/manifest.js';
import { precompOptionsSchema } from './core/io/precomp.js';
import { adamOptionsSchema, optimizerOptionsSchema } from './core/optim.js';
import { applyNoiseOptionsSchema, injectNoiseOptionsSchema } from './noise/inject.js';

/** @deprecated use adamOptionsSchema */
export const AdamOptionsSchema = adamOptionsSchema;
/** @deprecated use applyNoiseOptionsSchema */
export const ApplyNoiseOptionsSchema = applyNoiseOptionsSchema;
/** @deprecated use backendOptionsSchema */
export const BackendOptionsSchema = backendOptionsSchema;
/** @deprecated use batchOptionsSchema */
export const BatchOptionsSchema = batchOptionsSchema;
/** @deprecated use carveSchema */
export const CarveSchema = carveSchema;
/** @deprecated use clipRetrievalOptionsSchema */
export const ClipRetrievalOptionsSchema = clipRetrievalOptionsSchema;
/** @deprecated use f32HeaderSchema */
export const F32HeaderSchema = f32HeaderSchema;
/** @deprecated use injectNoiseOptionsSchema */
export const InjectNoiseOptionsSchema = injectNoiseOptionsSchema;
/** @deprecated use loadPairsOptionsSchema */
export const LoadPairsOptionsSchema = loadPairsOptionsSchema;
/** @deprecated use manifestSchema */
export const ManifestSchema = manifestSchema;
/** @deprecated use optimizerOptionsSchema */
export const OptimizerOptionsSchema = optimizerOptionsSchema;
/** @deprecated use precompOptionsSchema */
export const PrecompOptionsSchema = precompOptionsSchema;
/** @deprecated use randomSplitSchema */
export const RandomSplitSchema = randomSplitSchema;
/** @deprecated use syntheticPrecompOptionsSchema */
export const SyntheticPrecompOptionsSchema = syntheticPrecompOptionsSchema;
