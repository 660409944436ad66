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
  BackendOptionsSchema,
  getBackendInfo,
  initBackend,
  isSoftwareAdapter,
  probeBackends,
} from './core/backend/index.js';
export type { DataErrorLocation } from './core/errors.js';
export { BackendError, CleaveError, ConfigError, DataError, parseOrThrow } from './core/errors.js';
export { assertNotProtected, writeFileAtomic } from './core/io/atomic.js';
export type { LogLevel } from './core/logger.js';
export { getLogger, setLogger, setLogLevel } from './core/logger.js';
export type { AdamOptions, NamedTensor, OptimizerOptions } from './core/optim.js';
export { AdamOptionsSchema, createOptimizer, FusedAdam, OptimizerOptionsSchema } from './core/optim.js';
export type { Progress } from './core/progress.js';
export { createProgress, progressEnabled } from './core/progress.js';
export { Rng } from './core/random.js';
export { VERSION } from './version.js';
