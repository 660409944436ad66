/**
 * `cleave/backend`: picks and starts the tfjs compute backend — the one place in cleave that knows
 * which one runs.
 *
 * `auto` tries, in order: `webgpu` (Dawn through the `webgpu` package, hardware adapters only) →
 * `tensorflow` (`@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node`, when installed) → `cpu-blas`
 * (tfjs cpu kernels + OpenBLAS matmuls through cleave's native addon) → `wasm` → `cpu`.
 * A backend can be forced with the `backend` option (the CLI's `--backend`) or the `CLEAVE_BACKEND`
 * environment variable (the option wins); a forced backend that cannot start throws a
 * {@link BackendError} that says why and how to fix it. The choice is logged once.
 *
 * @example
 * ```ts
 * import { initBackend } from 'cleave';
 * const info = await initBackend();              // or initBackend({ backend: 'cpu-blas' })
 * console.log(info.name, info.reason);           // 'cpu-blas', 'auto: first available of …'
 * ```
 *
 * @module cleave/backend
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { BackendError, ConfigError, parseOrThrow } from '../errors.js';
import { getLogger } from '../logger.js';
import { ensureGradients } from '../tf-gradients.js';
import {
  BACKEND_NAMES,
  type BackendCandidate,
  type BackendName,
  type BackendProbe,
  defaultCandidates,
} from './candidates.js';

export type { BackendCandidate, BackendName, BackendProbe } from './candidates.js';
export { BACKEND_NAMES, isSoftwareAdapter } from './candidates.js';

/** What a user may ask for: `auto`, or one of {@link BACKEND_NAMES}. */
export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;
/** A backend name, or `auto`. */
export const backendChoiceSchema = z.enum(BACKEND_CHOICES);
/** `auto` or one of {@link BACKEND_NAMES}. */
export type BackendChoice = z.output<typeof backendChoiceSchema>;

/** Options of {@link initBackend}. */
export const backendOptionsSchema = z.object({
  /** Force a backend (default: `CLEAVE_BACKEND`, else `auto`). */
  backend: backendChoiceSchema.optional(),
  /** How long the WebGPU probe may wait for an adapter before giving up (ms). */
  webgpuTimeoutMs: z.number().int().positive().default(5000),
});
/** What callers pass to {@link initBackend}. */
export type BackendOptions = z.input<typeof backendOptionsSchema>;

/** Replacement probes/starts, by backend name (to simulate machines in tests, or to embed cleave). */
export type BackendOverrides = Partial<Record<BackendName, Partial<BackendCandidate>>>;

/** One candidate's state as reported by {@link BackendInfo}. */
export interface BackendStatus extends BackendProbe {
  name: BackendName;
  /** Whether this candidate's availability was actually checked (auto stops at the first that starts). */
  probed: boolean;
}

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  /** The backend now active in tfjs. */
  name: BackendName;
  /** What was asked for. */
  requested: BackendChoice;
  /** Where the request came from. */
  source: 'option' | 'env' | 'default';
  /** One sentence: why this backend. */
  reason: string;
  /** What the chosen backend reported (e.g. `OpenBLAS Haswell, 2 threads`). */
  detail: string;
  /** Every candidate in `auto` order, with what is known about it. */
  candidates: BackendStatus[];
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

function resolveRequest(option: BackendChoice | undefined): {
  requested: BackendChoice;
  source: BackendInfo['source'];
} {
  if (option) return { requested: option, source: 'option' };
  const env = process.env.CLEAVE_BACKEND?.trim();
  if (env) {
    const parsed = backendChoiceSchema.safeParse(env);
    if (!parsed.success) {
      throw new ConfigError(
        `CLEAVE_BACKEND=${env} is not a backend; use one of: ${backendChoiceSchema.options.join(', ')}`,
        [{ path: 'CLEAVE_BACKEND', message: `unknown backend '${env}'` }],
      );
    }
    return { requested: parsed.data, source: 'env' };
  }
  return { requested: 'auto', source: 'default' };
}

function merge(options: { webgpuTimeoutMs: number }, overrides: BackendOverrides = {}) {
  const real = defaultCandidates(options.webgpuTimeoutMs);
  const merged = {} as Record<BackendName, BackendCandidate>;
  for (const name of BACKEND_NAMES) merged[name] = { ...real[name], ...overrides[name] };
  return merged;
}

async function safeProbe(candidate: BackendCandidate): Promise<BackendProbe> {
  try {
    return await candidate.probe();
  } catch (e) {
    return { available: false, detail: `probe failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

const requestText = (source: BackendInfo['source'], name: string) =>
  source === 'env' ? `CLEAVE_BACKEND=${name}` : `the backend option / --backend ${name}`;

async function select(options: BackendOptions, overrides?: BackendOverrides): Promise<BackendInfo> {
  const opts = parseOrThrow(backendOptionsSchema, options, 'backend options');
  const { requested, source } = resolveRequest(opts.backend);
  const candidates = merge(opts, overrides);
  const statuses: BackendStatus[] = BACKEND_NAMES.map((name) => ({
    name,
    probed: false,
    available: false,
    detail: 'not checked',
  }));
  const status = (name: BackendName) => statuses.find((s) => s.name === name)!;

  const attempt = async (name: BackendName): Promise<boolean> => {
    const s = status(name);
    Object.assign(s, await safeProbe(candidates[name]), { probed: true });
    if (!s.available) return false;
    try {
      await candidates[name].start();
      return true;
    } catch (e) {
      s.available = false;
      s.detail = `found (${s.detail}) but failed to start: ${e instanceof Error ? e.message : String(e)}`;
      return false;
    }
  };

  if (requested !== 'auto') {
    if (!(await attempt(requested))) {
      const s = status(requested);
      throw new BackendError(
        `backend '${requested}' was requested (${requestText(source, requested)}) but cannot start: ${s.detail}.` +
          `${s.fix ? ` To fix: ${s.fix}.` : ''} Or let cleave choose: --backend auto (unset CLEAVE_BACKEND).`,
      );
    }
    return {
      name: requested,
      requested,
      source,
      reason: `requested by ${requestText(source, requested)}`,
      detail: status(requested).detail,
      candidates: statuses,
    };
  }

  for (const name of BACKEND_NAMES) {
    if (await attempt(name)) {
      const skipped = statuses
        .filter((s) => s.probed && s.name !== name)
        .map((s) => `${s.name}: ${s.detail}`);
      return {
        name,
        requested,
        source,
        reason:
          skipped.length === 0
            ? `auto: ${name} is the first choice and is available`
            : `auto: first available in ${BACKEND_NAMES.join(' → ')} (${skipped.join('; ')})`,
        detail: status(name).detail,
        candidates: statuses,
      };
    }
  }
  throw new BackendError(
    `no compute backend could start: ${statuses.map((s) => `${s.name}: ${s.detail}`).join('; ')}`,
  );
}

/**
 * Pick and start the compute backend (see the module doc for the order and how to force one).
 * Calling it again with the same request returns the same choice without probing again.
 *
 * @param options `{ backend?: 'auto' | 'webgpu' | 'tensorflow' | 'cpu-blas' | 'wasm' | 'cpu', webgpuTimeoutMs? }`
 * @param overrides replacement `probe`/`start` functions by backend name (tests use them to simulate machines)
 * @returns what was chosen, why, and what is known about the other candidates
 * @throws BackendError when a forced backend cannot start; ConfigError for a bad option or `CLEAVE_BACKEND`
 *
 * @example
 * ```ts
 * const info = await initBackend({ backend: 'auto' });
 * console.log(`${info.name}: ${info.reason}`);
 * ```
 */
export async function initBackend(
  options: BackendOptions = {},
  overrides?: BackendOverrides,
): Promise<BackendInfo> {
  const log = getLogger('backend');
  if (pending) await pending.catch(() => undefined);
  const { requested } = resolveRequest(options.backend);
  if (current && !overrides && (requested === current.requested || requested === current.name)) {
    if (tf.getBackend() !== current.name) await tf.setBackend(current.name);
    log.debug({ backend: current.name }, 'compute backend already chosen');
    return current;
  }
  pending = select(options, overrides);
  try {
    const info = await pending;
    await ensureGradients();
    current = info;
    log.info(
      { backend: info.name, requested: info.requested, detail: info.detail },
      `compute backend: ${info.name} (${info.reason})`,
    );
    return info;
  } finally {
    pending = undefined;
  }
}

/**
 * What the last successful {@link initBackend} chose, or `undefined` before the first call.
 *
 * @example
 * ```ts
 * await initBackend();
 * console.log(getBackendInfo()?.name);   // e.g. 'cpu-blas'
 * ```
 */
export function getBackendInfo(): BackendInfo | undefined {
  return current;
}

/**
 * Probe every candidate (without switching backends): what `cleave info` prints.
 *
 * @param overrides replacement probes by backend name
 * @returns one status per backend, in `auto` order
 * @example
 * ```ts
 * for (const s of await probeBackends()) console.log(s.name, s.available, s.detail);
 * ```
 */
export async function probeBackends(
  overrides?: BackendOverrides,
  webgpuTimeoutMs = 5000,
): Promise<BackendStatus[]> {
  const candidates = merge({ webgpuTimeoutMs }, overrides);
  const out: BackendStatus[] = [];
  for (const name of BACKEND_NAMES) out.push({ name, probed: true, ...(await safeProbe(candidates[name])) });
  return out;
}
