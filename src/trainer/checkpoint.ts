/**
 * Trainer checkpoints: everything needed to continue a run bit-for-bit on the same backend.
 *
 * Layout of a checkpoint folder:
 * ```
 * <dir>/latest.json                 { "epoch": 7, "path": "epoch-0008" }   (written last, atomically)
 * <dir>/epoch-0008/state.json       config, history, best epoch, array names
 * <dir>/epoch-0008/net-0/           model.json + weights.bin (the model, tfjs format)
 *                      optimizer.json + optimizer.bin (Adam moments by logical weight name)
 *                      auxiliary.json + auxiliary.bin (warm-up heads)
 * <dir>/epoch-0008/<array>.npy      posteriors, targets, loss EMA, held-out scores
 * <dir>/best/                       model.json + weights.bin of the best epoch on validation
 * ```
 * A new epoch folder is complete before `latest.json` points at it, and older epoch folders are
 * removed only after that, so a crash at any moment leaves a loadable checkpoint.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ epochs: 30 });
 * await trainer.fit(data, { checkpointDir: 'runs/a/checkpoints' });           // interrupted …
 * await new Trainer({ epochs: 30 }).fit(data, { checkpointDir: 'runs/a/checkpoints', resume: true });
 * ```
 */
import { lstat, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { readNpy, writeNpy } from '../core/io/npy.js';
import { CrossModalModel } from '../core/model/model.js';
import { VERSION } from '../core/version.js';
import type { TrainerConfig } from './config.js';
import {
  CHECKPOINT_FORMAT,
  type CheckpointState,
  checkpointState,
  type LatestFile,
  latestFileSchema,
  parseCheckpointFile,
  type RunState,
  restoreRunArrays,
  type StateFile,
  stateFileSchema,
} from './state.js';
import type { TrainerNet } from './types.js';

export type { CheckpointState } from './state.js';

/** What {@link loadCheckpoint} restores besides the networks (which it loads in place). */
export interface LoadedCheckpoint extends CheckpointState {
  /** The best model's weights (from `<dir>/best`), when there is one. */
  bestWeights: tf.NamedTensorMap | undefined;
}

function epochFolder(epoch: number): string {
  return `epoch-${String(epoch + 1).padStart(4, '0')}`;
}

/** Engine variable name → logical name, for the model's and the auxiliary heads' variables. */
function logicalNames(net: TrainerNet): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, v] of net.model.namedVariables()) map.set(v.name, `model/${name}`);
  for (const [name, v] of net.aux.entries()) map.set(v.name, `aux/${name}`);
  return map;
}

async function writeWeights(base: string, named: { name: string; tensor: tf.Tensor }[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(named);
  const bytes = new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
  await writeFileAtomic(`${base}.bin`, bytes);
  await writeFileAtomic(`${base}.json`, JSON.stringify({ specs }, null, 1));
}

const DAMAGED =
  'the checkpoint is damaged (a crash or a full disk while it was written?): remove this epoch folder and latest.json to resume from nothing, or run without --resume';

async function readWeights(base: string): Promise<tf.NamedTensorMap> {
  let specs: tf.io.WeightsManifestEntry[] | undefined;
  try {
    ({ specs } = JSON.parse(await readFile(`${base}.json`, 'utf8')) as {
      specs: tf.io.WeightsManifestEntry[] | undefined;
    });
  } catch (cause) {
    throw new DataError(`cannot read (${(cause as Error).message}); ${DAMAGED}`, { file: `${base}.json` });
  }
  if (!Array.isArray(specs)) {
    throw new DataError(`cannot read (no "specs" list); ${DAMAGED}`, {
      file: `${base}.json`,
      field: 'specs',
    });
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(`${base}.bin`);
  } catch (cause) {
    throw new DataError(`cannot read (${(cause as Error).message}); ${DAMAGED}`, { file: `${base}.bin` });
  }
  let expected = 0;
  for (const spec of specs) {
    const per = spec.dtype === 'float32' || spec.dtype === 'int32' ? 4 : spec.dtype === 'bool' ? 1 : 4;
    expected += per * (spec.shape ?? []).reduce((a, b) => a * b, 1);
  }
  if (bytes.byteLength !== expected) {
    throw new DataError(
      `holds ${bytes.byteLength} bytes, its .json header describes ${expected}; ${DAMAGED}`,
      { file: `${base}.bin` },
    );
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(buffer, specs);
  assertFiniteWeights(map, `${base}.bin`);
  return map;
}

/** Throw a DataError naming `file` and the weight when a float tensor holds NaN or ±Infinity. */
function assertFiniteWeights(map: tf.NamedTensorMap, file: string): void {
  for (const [name, t] of Object.entries(map)) {
    if (t.dtype !== 'float32') continue;
    const values = t.dataSync();
    for (let k = 0; k < values.length; k++) {
      if (!Number.isFinite(values[k]!)) {
        tf.dispose(Object.values(map));
        throw new DataError(
          `weight ${name}: value at index ${k} is ${values[k]}; the saved run had diverged: resume from an earlier checkpoint, or start over with a lower optimizer.learningRate`,
          { file, field: name, index: k },
        );
      }
    }
  }
}

/** An `epoch-NNNN` folder written by {@link saveCheckpoint}: a real folder holding only its entries. */
async function isOwnEpochFolder(path: string, name: string): Promise<boolean> {
  if (!/^epoch-\d{4,}$/.test(name)) return false;
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  const entries = await readdir(path).catch(() => undefined);
  if (!entries) return false;
  return entries.every(
    (e) =>
      /^net-\d+$/.test(e) ||
      /\.npy$/.test(e) ||
      e === 'state.json' ||
      /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/.test(e),
  );
}

/** The config fields that must match for a resume to continue the same run (`epochs` may grow). */
function comparable(config: TrainerConfig | Record<string, unknown>): string {
  const { epochs: _epochs, ...rest } = config;
  return JSON.stringify(rest);
}

/**
 * Write a checkpoint of the finished `state.epoch` into `dir` (see the module documentation).
 */
export async function saveCheckpoint(
  dir: string,
  config: TrainerConfig,
  nets: readonly TrainerNet[],
  state: CheckpointState,
): Promise<void> {
  const name = epochFolder(state.epoch);
  const path = join(dir, name);
  await rm(path, { recursive: true, force: true }); // a partial folder from an interrupted run
  for (const net of nets) {
    const netDir = join(path, `net-${net.index}`);
    await net.model.save(netDir);
    const names = logicalNames(net);
    const opt = await net.optimizer.getWeights();
    await writeWeights(
      join(netDir, 'optimizer'),
      opt.map(({ name: n, tensor }) => {
        const slot = n.match(/^(.*)\/(m|v)$/);
        const logical = slot ? names.get(slot[1]!) : undefined;
        return { name: slot && logical ? `${logical}/${slot[2]}` : n, tensor };
      }),
    );
    await writeWeights(
      join(netDir, 'auxiliary'),
      net.aux.entries().map(([n, tensor]) => ({ name: n, tensor })),
    );
  }
  for (const [arrayName, values] of Object.entries(state.arrays)) {
    await writeNpy(join(path, `${arrayName}.npy`), values);
  }
  const file: Omit<StateFile, 'config'> & { config: TrainerConfig } = {
    format: CHECKPOINT_FORMAT,
    generatedBy: `cleave v${VERSION}`,
    epoch: state.epoch,
    config,
    nets: nets.length,
    history: state.history,
    bestEpoch: state.bestEpoch,
    bestRsum: Number.isFinite(state.bestRsum) ? state.bestRsum : null,
    arrays: Object.keys(state.arrays),
    ...(state.splits ? { splits: state.splits } : {}),
  };
  await writeFileAtomic(join(path, 'state.json'), JSON.stringify(file, null, 1));
  const latest: LatestFile = { epoch: state.epoch, path: name };
  await writeFileAtomic(join(dir, 'latest.json'), JSON.stringify(latest));
  // older epoch folders of this run; never an entry that cleave did not write (a user's file, a link)
  for (const entry of await readdir(dir)) {
    if (entry !== name && (await isOwnEpochFolder(join(dir, entry), entry)))
      await rm(join(dir, entry), { recursive: true, force: true });
  }
}

/** Save the best model so far into `<dir>/best`. */
export async function saveBestModel(dir: string, model: CrossModalModel): Promise<void> {
  await model.save(join(dir, 'best'));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Load the latest checkpoint of `dir` into `nets` (models, optimizer moments, auxiliary heads) and
 * return the trainer state; `undefined` when `dir` holds no checkpoint.
 * @throws ConfigError when the checkpoint was written with a different config (other than `epochs`)
 * @throws DataError when its files are damaged or incomplete
 */
export async function loadCheckpoint(
  dir: string,
  config: TrainerConfig,
  nets: readonly TrainerNet[],
): Promise<LoadedCheckpoint | undefined> {
  const latestPath = join(dir, 'latest.json');
  if (!(await exists(latestPath))) return undefined;
  let latestJson: unknown;
  try {
    latestJson = JSON.parse(await readFile(latestPath, 'utf8'));
  } catch (cause) {
    throw new DataError(`cannot read (${(cause as Error).message}); ${DAMAGED}`, { file: latestPath });
  }
  const latest = parseCheckpointFile(latestFileSchema, latestJson, latestPath);
  const path = join(dir, latest.path);
  const statePath = join(path, 'state.json');
  let stateJson: unknown;
  try {
    stateJson = JSON.parse(await readFile(statePath, 'utf8'));
  } catch (cause) {
    throw new DataError(`cannot read the checkpoint state (${(cause as Error).message})`, {
      file: statePath,
    });
  }
  const file = parseCheckpointFile(stateFileSchema, stateJson, statePath, DAMAGED);
  if (comparable(file.config) !== comparable(config) || file.nets !== nets.length) {
    throw new ConfigError(
      `${statePath}: the checkpoint was written with a different trainer config; resume with the same config (only epochs may change) or choose a new checkpoint folder`,
    );
  }
  for (const net of nets) {
    const netDir = join(path, `net-${net.index}`);
    let saved: CrossModalModel;
    try {
      saved = await CrossModalModel.load(netDir);
    } catch (cause) {
      if (cause instanceof DataError || cause instanceof ConfigError) throw cause;
      throw new DataError(`cannot load the model (${(cause as Error).message}); ${DAMAGED}`, {
        file: netDir,
      });
    }
    const weights = saved.getWeights();
    saved.dispose();
    assertFiniteWeights(weights, join(netDir, 'weights.bin'));
    try {
      net.model.setWeights(weights, join(netDir, 'weights.bin'));
    } finally {
      tf.dispose(weights);
    }
    const byLogical = new Map([...logicalNames(net)].map(([engine, logical]) => [logical, engine]));
    const opt = await readWeights(join(netDir, 'optimizer'));
    const entries = Object.entries(opt).map(([n, tensor]) => {
      const slot = n.match(/^(.*)\/(m|v)$/);
      const engine = slot ? byLogical.get(slot[1]!) : undefined;
      if (slot && !engine) {
        throw new DataError(`optimizer state for unknown weight ${slot[1]}`, {
          file: join(netDir, 'optimizer.json'),
        });
      }
      return { name: slot ? `${engine}/${slot[2]}` : n, tensor };
    });
    await net.optimizer.setWeights(entries);
    tf.dispose(Object.values(opt));
    const aux = await readWeights(join(netDir, 'auxiliary'));
    net.aux.assign(aux, join(netDir, 'auxiliary.bin'));
    tf.dispose(aux);
  }
  const arrays: Record<string, Float32Array | Float64Array> = {};
  for (const name of file.arrays) {
    const { data } = await readNpy(join(path, `${name}.npy`));
    arrays[name] = data as Float32Array | Float64Array;
  }
  let bestWeights: tf.NamedTensorMap | undefined;
  // best epoch −1 is the untrained (zero-shot) model of a shared space, saved like any other best
  if (file.bestEpoch >= -1 && (await exists(join(dir, 'best', 'model.json')))) {
    let best: CrossModalModel;
    try {
      best = await CrossModalModel.load(join(dir, 'best'));
    } catch (cause) {
      if (cause instanceof DataError || cause instanceof ConfigError) throw cause;
      throw new DataError(`cannot load the best model (${(cause as Error).message}); ${DAMAGED}`, {
        file: join(dir, 'best'),
      });
    }
    bestWeights = best.getWeights();
    best.dispose();
    assertFiniteWeights(bestWeights, join(dir, 'best', 'weights.bin'));
  }
  return {
    epoch: file.epoch,
    history: file.history,
    bestEpoch: file.bestEpoch,
    bestRsum: file.bestRsum ?? Number.NEGATIVE_INFINITY,
    arrays,
    ...(file.splits ? { splits: file.splits } : {}),
    bestWeights,
  };
}

/**
 * Checkpoint a run after `epoch`: the best model first (once `latest.json` names this epoch,
 * `<dir>/best` must already hold its weights), then the networks and the run state
 * ({@link saveCheckpoint}). Records in `run.bestSaved` which best epoch `<dir>/best` holds.
 *
 * @example
 * ```ts
 * await saveRunCheckpoint('runs/a/checkpoints', config, nets, runState, epoch);
 * ```
 */
export async function saveRunCheckpoint(
  dir: string,
  config: TrainerConfig,
  nets: readonly TrainerNet[],
  run: RunState,
  epoch: number,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const state = checkpointState(run, { epoch, netCount: nets.length });
  // the best model first: once latest.json names this epoch, best/ must already hold its weights
  // (a kill between the two would otherwise resume with the previous best's weights)
  const best = run.best;
  if (best.weights && best.epoch !== run.bestSaved) {
    if (best.epoch === epoch) {
      await saveBestModel(dir, nets[0]!.model);
    } else {
      // an earlier best not saved yet: the untrained (zero-shot) candidate of a shared space
      const copy = nets[0]!.model.clone();
      try {
        copy.setWeights(best.weights);
        await saveBestModel(dir, copy);
      } finally {
        copy.dispose();
      }
    }
    run.bestSaved = best.epoch;
  }
  await saveCheckpoint(dir, config, nets, state);
}

/**
 * Continue a run from the latest checkpoint of `dir`: the networks are loaded in place, and `run`
 * gets the next epoch, the history, the best epoch and its weights, and the per-pair arrays. The
 * last splits are left to the caller (it refits or rebuilds their mixtures from the returned
 * `splits` and `arrays`). Undefined, and `run` untouched, when `dir` holds no checkpoint.
 * @throws ConfigError / DataError as {@link loadCheckpoint}
 *
 * @example
 * ```ts
 * const loaded = await restoreRunState('runs/a/checkpoints', config, nets, runState);
 * ```
 */
export async function restoreRunState(
  dir: string,
  config: TrainerConfig,
  nets: readonly TrainerNet[],
  run: RunState,
): Promise<LoadedCheckpoint | undefined> {
  const loaded = await loadCheckpoint(dir, config, nets);
  if (!loaded) return undefined;
  run.startEpoch = loaded.epoch + 1;
  run.history = loaded.history;
  run.best.epoch = loaded.bestEpoch;
  run.best.rsum = loaded.bestRsum;
  run.best.weights = loaded.bestWeights;
  run.bestSaved = loaded.bestEpoch;
  restoreRunArrays(run, loaded.arrays, nets.length);
  return loaded;
}
