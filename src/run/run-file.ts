/**
 * Run files (`--config run.json`): a trainer config (every key of the trainer's zod schema, validated
 * by it) plus a few run-level keys, so one file describes a whole run:
 *
 * ```json
 * { "data": "wikipedia-xmodal",
 *   "noise": { "rate": 0.5, "kind": "shuffle" },
 *   "out": "runs/wiki-refurb",
 *   "method": "refurb", "seed": 7, "epochs": 30, "warmupEpochs": 5,
 *   "noiseFile": "noise/f30k_precomp_0.2.npy", "folds": 5, "precomp": { "test": "testall" },
 *   "methods": { "ncr-like": { "epochs": 20 } },
 *   "cca": { "components": 10 } }
 * ```
 *
 * - `data`, `out`: relative paths resolve against the run file's folder (a bundled dataset name stays a name).
 * - `noise`: `{ rate, kind = 'shuffle', seed = the run's seed }`.
 * - `noiseFile` (relative to the run file): NCR's `--noise_file`, replayed when it exists, else
 *   written from `noise`; `noiseProtocol` says what a replayed `.npy` is (default `caption-level`).
 * - `folds`: also report the fold protocol on the test split (5 = NCR's `fold5`).
 * - `lossSplitPairs`: at most this many training pairs rescored for the report's `lossSplit` and
 *   `uncertainty` sections (default 20,000; a seeded subset on larger sets).
 * - `warmupModel` (relative to the run file): NCR's `warmup_model_path`: reuse the warm-up saved there,
 *   or save this run's warm-up there.
 * - `precomp`: how a `*_precomp` folder is read (`test: 'testall'`, `pooling`, `cacheDir`, `vocab`).
 * - `methods`: per-method overrides merged over the shared trainer keys (the experiment grid runs
 *   several methods from one file); `cca`: the CCA baseline's options.
 * - `evalSplit`: the seeded random split used when the data has none (`{ seed, test, val }`).
 *
 * Precedence everywhere: command-line flags over the run file over the defaults. Errors name the file
 * and the field (`run.json is not valid: epochs: Too small: expected number to be >0`).
 *
 * @example
 * ```ts
 * import { readRunFile, trainOptionsFromFlags } from 'cleave/run';
 * const file = await readRunFile('run.json');
 * const options = trainOptionsFromFlags({ seed: 3 }, file);   // --seed 3 wins over the file's seed
 * ```
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { BUNDLED_DATASETS } from '../core/dataset/bundled.js';
import { noiseProtocolSchema } from '../core/dataset/noise-state.js';
import { randomSplitSchema } from '../core/dataset/splits.js';
import { ConfigError, DataError, inputFileError, parseOrThrow } from '../core/errors.js';
import type { NoiseKind } from '../noise/kinds.js';
import { deepMerge, resolveTrainerConfig } from '../trainer/config.js';
import { ccaBaselineOptionsSchema } from './cca-baseline.js';
import { RUN_METHODS, type RunMethod, trainerMethodOf } from './report.js';
import { runNoiseSchema, runPrecompSchema, type TrainAndReportOptions } from './train-and-report.js';

/** The run-level keys of a run file (everything else is trainer config). */
export const runFileSchema = z
  .object({
    data: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
    noise: runNoiseSchema.optional(),
    noiseFile: z.string().min(1).optional(),
    noiseProtocol: noiseProtocolSchema.optional(),
    folds: z.number().int().min(1).optional(),
    lossSplitPairs: z.number().int().min(2).optional(),
    warmupModel: z.string().min(1).optional(),
    precomp: runPrecompSchema.optional(),
    cca: ccaBaselineOptionsSchema.optional(),
    evalSplit: randomSplitSchema.optional(),
    methods: z.partialRecord(z.enum(RUN_METHODS), z.record(z.string(), z.unknown())).optional(),
  })
  .strict();
/** The run-level part of a run file. */
export type RunFileKeys = z.output<typeof runFileSchema>;

const RUN_KEYS = new Set(Object.keys(runFileSchema.shape));

/** A validated run file. */
export interface RunFile {
  /** Where it was read from (for messages), or a label. */
  source: string;
  run: RunFileKeys;
  /** The trainer config as written (validated; merged with flags before use). */
  trainer: Record<string, unknown>;
}

function isBundledName(s: string): boolean {
  return (BUNDLED_DATASETS as readonly string[]).includes(s);
}

/**
 * The trainer config of `method` from a run file: shared keys, then `methods[method]`, then `extra`.
 * (For `cca` the trainer keys are not used.)
 *
 * @example
 * ```ts
 * const file = parseRunFile({ epochs: 20, methods: { vse: { epochs: 10 } } }, 'run.json');
 * methodTrainerConfig(file, 'vse', { seed: 3 });   // { epochs: 10, seed: 3 }
 * ```
 */
export function methodTrainerConfig(
  file: RunFile | undefined,
  method: RunMethod,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const shared = file?.trainer ?? {};
  const own = file?.run.methods?.[method] ?? {};
  return deepMerge(deepMerge(shared, method === 'cca' ? {} : own), extra);
}

/** A config's `method` as the trainer sees it (`oracle` trains as `vse`; `cca` is checked as `refurb`'s keys). */
function asTrainerMethod(cfg: Record<string, unknown>): Record<string, unknown> {
  const m = cfg.method;
  if (typeof m !== 'string' || !(RUN_METHODS as readonly string[]).includes(m)) return cfg;
  return { ...cfg, method: trainerMethodOf(m as RunMethod) ?? 'refurb' };
}

/**
 * Validate a run file's content (see the module documentation).
 *
 * @param value the parsed JSON
 * @param source the file name used in messages
 * @param baseDir the folder relative paths resolve against
 * @throws ConfigError naming the file and each offending field
 *
 * @example
 * ```ts
 * const file = parseRunFile({ data: 'wikipedia-xmodal', noise: { rate: 0.5 }, epochs: 20 }, 'run.json');
 * file.run.noise;      // { rate: 0.5, kind: 'shuffle' }
 * file.trainer;        // { epochs: 20 }
 * ```
 */
export function parseRunFile(value: unknown, source: string, baseDir = '.'): RunFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${source} is not valid:\n  (root): expected a JSON object`, [
      { path: '(root)', message: 'expected a JSON object' },
    ]);
  }
  const runPart: Record<string, unknown> = {};
  const trainer: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) (RUN_KEYS.has(k) ? runPart : trainer)[k] = v;
  const run = parseOrThrow(runFileSchema, runPart, source);
  // the trainer keys, validated by the trainer's own schema (a `cca` method is checked as refurb's keys)
  const asTrainer = (cfg: Record<string, unknown>, where: string) =>
    resolveTrainerConfig(asTrainerMethod(cfg), where);
  asTrainer(trainer, source);
  for (const [m, own] of Object.entries(run.methods ?? {})) {
    if (m !== 'cca') asTrainer(deepMerge(trainer, { ...own, method: m }), `${source} (methods.${m})`);
    else parseOrThrow(ccaBaselineOptionsSchema, own, `${source} (methods.cca)`);
  }
  if (run.data && !isBundledName(run.data) && !isAbsolute(run.data)) run.data = resolve(baseDir, run.data);
  if (run.out && !isAbsolute(run.out)) run.out = resolve(baseDir, run.out);
  if (run.noiseFile && !isAbsolute(run.noiseFile)) run.noiseFile = resolve(baseDir, run.noiseFile);
  if (run.warmupModel && !isAbsolute(run.warmupModel)) run.warmupModel = resolve(baseDir, run.warmupModel);
  if (run.precomp?.cacheDir && !isAbsolute(run.precomp.cacheDir))
    run.precomp.cacheDir = resolve(baseDir, run.precomp.cacheDir);
  if (run.precomp?.vocab && !isAbsolute(run.precomp.vocab))
    run.precomp.vocab = resolve(baseDir, run.precomp.vocab);
  return { source, run, trainer };
}

/**
 * Read and validate a run file.
 * @throws DataError when it cannot be read or is not JSON; ConfigError naming invalid fields
 *
 * @example
 * ```ts
 * const file = await readRunFile('experiments/run.json');
 * ```
 */
export async function readRunFile(path: string): Promise<RunFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const known = inputFileError(error, path);
    if (known instanceof DataError) throw known;
    throw new DataError(`cannot read the run file (${(error as Error).message})`, { file: path });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataError(`is not valid JSON (${(error as Error).message})`, { file: path });
  }
  return parseRunFile(value, path, dirname(resolve(path)));
}

/** The flags of `cleave train` (all optional; a run file may supply the rest). */
export interface TrainFlags {
  data?: string;
  out?: string;
  method?: RunMethod;
  seed?: number;
  epochs?: number;
  warmupEpochs?: number;
  /** `auto`, or force the shared-space treatment on (`true`) or off (`false`). */
  sharedSpace?: 'auto' | boolean;
  noiseRate?: number;
  noiseKind?: NoiseKind;
  noiseSeed?: number;
  /** `--noise-file`: replay this noise index, or write the drawn noise there. */
  noiseFile?: string;
  /** `--folds`: also report the fold protocol on the test split. */
  folds?: number;
  /** `--warmup-model`: reuse the warm-up saved in this folder, or save it there. */
  warmupModel?: string;
  /** `--test-split`: file prefix of a `*_precomp` folder's test split (`test`, `testall`). */
  testSplit?: string;
  checkpoint?: boolean;
  resume?: boolean;
  saveModel?: boolean;
  allowSplitOverlap?: boolean;
}

/**
 * The options of {@link trainAndReport} from command-line flags over a run file over the defaults.
 * The trainer config is validated (errors name the field).
 *
 * @throws ConfigError when `data` or `out` is missing, `--noise-kind` comes without a rate, or the merged
 *   trainer config does not validate
 *
 * @example
 * ```ts
 * const options = trainOptionsFromFlags({ data: 'wikipedia-xmodal', out: 'runs/x', noiseRate: 0.5 });
 * await trainAndReport(options);
 * ```
 */
export function trainOptionsFromFlags(flags: TrainFlags, file?: RunFile): TrainAndReportOptions {
  const source = file?.source ?? 'the command line';
  const data = flags.data ?? file?.run.data;
  const outDir = flags.out ?? file?.run.out;
  const missing = (what: string, key: string) =>
    new ConfigError(`${what} is required (give --${key}, or "${key}" in the run file)`, [
      { path: key, message: 'required' },
    ]);
  if (!data) throw missing('the data', 'data');
  if (!outDir) throw missing('the output folder', 'out');
  const fileMethod = file?.trainer.method;
  const method = (flags.method ?? (typeof fileMethod === 'string' ? fileMethod : 'refurb')) as RunMethod;
  const fileSeed = file?.trainer.seed;
  const seed = flags.seed ?? (typeof fileSeed === 'number' ? fileSeed : 0);
  const overrides: Record<string, unknown> = { method, seed };
  if (flags.epochs !== undefined) overrides.epochs = flags.epochs;
  if (flags.warmupEpochs !== undefined) overrides.warmupEpochs = flags.warmupEpochs;
  if (flags.sharedSpace !== undefined) overrides.sharedSpace = flags.sharedSpace;
  const config = methodTrainerConfig(file, method, overrides);
  if (method !== 'cca') resolveTrainerConfig(asTrainerMethod(config), source);

  let noise: TrainAndReportOptions['noise'];
  const fileNoise = file?.run.noise;
  if (flags.noiseRate !== undefined || fileNoise) {
    const rate = flags.noiseRate ?? fileNoise!.rate;
    const seedOfNoise = flags.noiseSeed ?? fileNoise?.seed;
    noise = {
      rate,
      kind: flags.noiseKind ?? fileNoise?.kind ?? 'shuffle',
      ...(seedOfNoise !== undefined ? { seed: seedOfNoise } : {}),
    };
  } else if (
    (flags.noiseKind !== undefined || flags.noiseSeed !== undefined) &&
    !(flags.noiseFile ?? file?.run.noiseFile)
  ) {
    throw new ConfigError(
      '--noise-kind and --noise-seed need a noise rate (--noise-rate, or "noise" in the run file)',
      [{ path: 'noise.rate', message: 'required with --noise-kind / --noise-seed' }],
    );
  }
  const ccaOptions = { ...(file?.run.cca ?? {}), ...(file?.run.methods?.cca ?? {}) };
  const noiseFile = flags.noiseFile ?? file?.run.noiseFile;
  const folds = flags.folds ?? file?.run.folds;
  const warmupModel = flags.warmupModel ?? file?.run.warmupModel;
  const precomp = { ...(file?.run.precomp ?? {}), ...(flags.testSplit ? { test: flags.testSplit } : {}) };
  return {
    data,
    outDir,
    method,
    seed,
    config,
    ...(noise ? { noise } : {}),
    ...(noiseFile ? { noiseFile } : {}),
    ...(file?.run.noiseProtocol ? { noiseProtocol: file.run.noiseProtocol } : {}),
    ...(folds !== undefined ? { folds } : {}),
    ...(file?.run.lossSplitPairs !== undefined ? { lossSplitPairs: file.run.lossSplitPairs } : {}),
    ...(warmupModel ? { warmupModel } : {}),
    ...(Object.keys(precomp).length ? { precomp } : {}),
    ...(Object.keys(ccaOptions).length ? { cca: ccaOptions } : {}),
    ...(file?.run.evalSplit ? { split: file.run.evalSplit } : {}),
    ...(flags.checkpoint !== undefined ? { checkpoint: flags.checkpoint } : {}),
    ...(flags.resume !== undefined ? { resume: flags.resume } : {}),
    ...(flags.saveModel !== undefined ? { saveModel: flags.saveModel } : {}),
    ...(flags.allowSplitOverlap ? { allowSplitOverlap: true } : {}),
  };
}
