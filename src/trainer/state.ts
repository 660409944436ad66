/**
 * The trainer's run state, named once: what a run carries from epoch to epoch (posteriors, loss EMAs,
 * targets, held-out scores, the best epoch, the last split), the file name of each per-pair array in a
 * checkpoint, and the zod schemas of the checkpoint's `state.json` and `latest.json`.
 *
 * | array file | run state |
 * |---|---|
 * | `posterior-<k>.npy` | `posterior[k]`: the last P(clean) of network k |
 * | `score-ema-<k>.npy` | `scoreEma[k]`: the losses its split used (EMA-smoothed) |
 * | `null-ema-<k>.npy` | `nullEma[k]`: the random-pair null losses (`local-fdr`) |
 * | `targets-<k>.npy` | `targets[k]`: its last training targets |
 * | `heldout.npy` | `heldout`: the k-fold held-out losses |
 * | `split-scores-<k>.npy`, `split-posterior-<k>.npy`, `split-null-<k>.npy` | `lastSplit`: the last split |
 *
 * @example
 * ```ts
 * const state = newRunState(1);
 * const saved = checkpointState(state, { epoch: 0, netCount: 1 });
 * restoreRunArrays(newRunState(1), saved.arrays, 1);
 * ```
 */
import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import type { EpochRecord, SplitResult } from './types.js';

/** The `format` field of every `state.json`. */
export const CHECKPOINT_FORMAT = 'cleave-checkpoint';

/** What a run carries from epoch to epoch (and what a checkpoint restores). */
export interface RunState {
  startEpoch: number;
  history: EpochRecord[];
  /** Per network: the last P(clean) per pair. */
  posterior: (Float64Array | undefined)[];
  /** Per network: the last per-pair losses the split used (EMA-smoothed when `split.ema` > 0). */
  scoreEma: (Float64Array | undefined)[];
  /** Per network: the last random-pair null losses (EMA-smoothed like `scoreEma`; `local-fdr` only). */
  nullEma: (Float64Array | undefined)[];
  /** Per network: the last training targets per pair (0 for dropped pairs). */
  targets: (Float32Array | undefined)[];
  heldout: Float64Array | undefined;
  best: { epoch: number; rsum: number; weights: tf.NamedTensorMap | undefined };
  /** The best epoch whose model `<checkpointDir>/best` holds (undefined: none yet). */
  bestSaved?: number;
  lastSplit: SplitResult[];
}

/**
 * The state of a run that has not trained yet, for `netCount` networks.
 *
 * @example
 * ```ts
 * newRunState(2).posterior.length;   // 2
 * ```
 */
export function newRunState(netCount: number): RunState {
  return {
    startEpoch: 0,
    history: [],
    posterior: new Array(netCount).fill(undefined),
    scoreEma: new Array(netCount).fill(undefined),
    nullEma: new Array(netCount).fill(undefined),
    heldout: undefined,
    best: { epoch: -1, rsum: Number.NEGATIVE_INFINITY, weights: undefined },
    lastSplit: [],
    targets: new Array(netCount).fill(undefined),
  };
}

/** The per-network arrays of {@link RunState} and their file names (`<name>-<k>.npy`). */
const PER_NET = [
  ['posterior', 'posterior'],
  ['scoreEma', 'score-ema'],
  ['nullEma', 'null-ema'],
  ['targets', 'targets'],
] as const;

/** File names of the last split's arrays of network `net`. */
const splitArrayNames = (net: number) => ({
  scores: `split-scores-${net}`,
  posterior: `split-posterior-${net}`,
  nullScores: `split-null-${net}`,
});

const blendSchema = z.object({
  input: z.object({ mean: z.number(), sd: z.number() }),
  learned: z.object({ mean: z.number(), sd: z.number() }),
});

/** The last split of one network as `state.json` holds it (its arrays are `.npy` files beside it). */
export const savedSplitSchema = z.object({
  net: z.number().int().min(0),
  /** The mixture's `toJSON()`. */
  mixture: z.unknown(),
  inputWeight: z.number().min(0).max(1).optional(),
  blend: blendSchema.optional(),
});
/** @see savedSplitSchema */
export type SavedSplit = z.output<typeof savedSplitSchema>;

/** The trainer state saved beside the networks. */
export interface CheckpointState {
  /** The epoch just finished (0-based). */
  epoch: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestRsum: number;
  /** Per-pair arrays by name. */
  arrays: Record<string, Float32Array | Float64Array>;
  /** The last split's fitted mixture per network (its scores and posterior are in `arrays`). */
  splits?: SavedSplit[];
}

/**
 * The checkpoint form of a run state after `epoch`: every per-pair array under its file name (in
 * the order they are written) and the last splits.
 *
 * @example
 * ```ts
 * const saved = checkpointState(state, { epoch: 7, netCount: 1 });
 * Object.keys(saved.arrays);   // ['posterior-0', 'score-ema-0', 'targets-0', 'split-scores-0', …]
 * ```
 */
export function checkpointState(state: RunState, at: { epoch: number; netCount: number }): CheckpointState {
  const arrays: CheckpointState['arrays'] = {};
  for (let k = 0; k < at.netCount; k++) {
    for (const [key, name] of PER_NET) {
      const values = state[key][k];
      if (values) arrays[`${name}-${k}`] = values;
    }
  }
  if (state.heldout) arrays.heldout = state.heldout;
  const splits = state.lastSplit.map((split) => {
    const names = splitArrayNames(split.net);
    arrays[names.scores] = split.scores;
    arrays[names.posterior] = split.posterior;
    if (split.nullScores) arrays[names.nullScores] = split.nullScores;
    return {
      net: split.net,
      mixture: split.mixture.toJSON(),
      ...(split.inputWeight !== undefined ? { inputWeight: split.inputWeight } : {}),
      ...(split.blend ? { blend: split.blend } : {}),
    };
  });
  return {
    epoch: at.epoch,
    history: state.history,
    bestEpoch: state.best.epoch,
    bestRsum: state.best.rsum,
    arrays,
    splits,
  };
}

/**
 * Put a checkpoint's per-network and held-out arrays back into `state` (missing arrays: undefined).
 *
 * @example
 * ```ts
 * restoreRunArrays(state, loaded.arrays, nets.length);
 * ```
 */
export function restoreRunArrays(state: RunState, arrays: CheckpointState['arrays'], netCount: number): void {
  for (let k = 0; k < netCount; k++) {
    for (const [key, name] of PER_NET) {
      (state[key] as (Float32Array | Float64Array | undefined)[])[k] = arrays[`${name}-${k}`];
    }
  }
  state.heldout = arrays.heldout as Float64Array | undefined;
}

/**
 * The saved arrays of network `net`'s last split (each only when it is a float64 array).
 *
 * @example
 * ```ts
 * const { scores, posterior, nullScores } = savedSplitArrays(loaded.arrays, 0);
 * ```
 */
export function savedSplitArrays(
  arrays: CheckpointState['arrays'],
  net: number,
): { scores?: Float64Array; posterior?: Float64Array; nullScores?: Float64Array } {
  const names = splitArrayNames(net);
  const out: { scores?: Float64Array; posterior?: Float64Array; nullScores?: Float64Array } = {};
  for (const key of ['scores', 'posterior', 'nullScores'] as const) {
    const values = arrays[names[key]];
    if (values instanceof Float64Array) out[key] = values;
  }
  return out;
}

const epochRecordSchema = z.object({
  epoch: z.number().int().min(0),
  phase: z.enum(['warmup', 'train']),
  loss: z.array(z.number().nullable()),
  seconds: z.number(),
});

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `<dir>/latest.json`: which epoch folder holds the latest checkpoint. `path` must be an epoch
 * folder beside it (cleave never follows a checkpoint out of its folder).
 */
export const latestFileSchema = z.object({
  epoch: z.number().int().min(0),
  path: z.string().regex(/^epoch-\d{4,}$/, {
    error:
      'expected an epoch folder beside it (epoch-NNNN); cleave never follows a checkpoint out of its folder: remove latest.json or the checkpoints folder',
  }),
});
/** @see latestFileSchema */
export type LatestFile = z.output<typeof latestFileSchema>;

/**
 * `<dir>/epoch-NNNN/state.json`: the run state beside the networks. `history` entries and `config`
 * are checked for their shape and kept as written (their values feed the resumed run unchanged).
 */
export const stateFileSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  generatedBy: z.string(),
  epoch: z.number().int().min(0),
  config: z.custom<Record<string, unknown>>(isPlainObject, { error: 'expected the trainer config object' }),
  nets: z.number().int().min(1),
  history: z.array(
    z.custom<EpochRecord>((v) => epochRecordSchema.safeParse(v).success, {
      error: 'expected an epoch record { epoch, phase, loss, seconds }',
    }),
  ),
  bestEpoch: z.number().int().min(-1),
  bestRsum: z.number().nullable(),
  /** The per-pair arrays' names (`<name>.npy` beside `state.json`). */
  arrays: z.array(z.string().regex(/^[a-z0-9-]+$/, { error: 'expected an array name (a-z, 0-9, -)' })),
  splits: z.array(savedSplitSchema).optional(),
});
/** @see stateFileSchema */
export type StateFile = z.output<typeof stateFileSchema>;

/**
 * Validate the parsed JSON of a checkpoint file against its schema.
 * @param file the file's path, named in the error
 * @param hint what to do about a bad file, appended to the message
 * @throws DataError naming the file and the first offending field, e.g.
 *   `…/state.json: "epoch" is "7", expected number; …`
 *
 * @example
 * ```ts
 * const latest = parseCheckpointFile(latestFileSchema, JSON.parse(text), 'runs/a/checkpoints/latest.json');
 * ```
 */
export function parseCheckpointFile<S extends z.ZodType>(
  schema: S,
  value: unknown,
  file: string,
  hint?: string,
): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(root)';
  const input = (issue as { input?: unknown }).input;
  const shown = input === undefined || (typeof input !== 'object' && typeof input !== 'function');
  const got = shown ? ` is ${input === undefined ? 'missing' : JSON.stringify(input)}` : '';
  const what =
    issue.code === 'invalid_type'
      ? `"${field}"${got}, expected ${issue.expected}`
      : `"${field}"${got}: ${issue.message}`;
  throw new DataError(hint ? `${what}; ${hint}` : what, { file, field });
}
