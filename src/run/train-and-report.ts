/**
 * Long file: one run end to end; `trainAndReport` is a single pipeline (load → noise → train →
 * evaluate → write) whose steps share the run's state (data, truth, fit, output files), and the
 * schemas and report sections beside it are used only by it.
 *
 * One run, end to end: load the pairs, inject synthetic noise (optional), train (or fit the CCA
 * baseline), evaluate on the test split, and write everything into one output folder.
 *
 * Files written into `outDir` (each atomically; never over an input, never inside an input folder):
 *
 * | file | what |
 * |---|---|
 * | `report.json` | the measurements ({@link RunReport}: test recalls, split quality, …) |
 * | `config.json` | the resolved trainer config (or the CCA options) |
 * | `history.json` | one record per epoch (`trainer.history`) |
 * | `model.json`, `weights.bin` | the evaluated model (tfjs layout; `CrossModalModel.load(outDir)`) |
 * | `cca.json` | the fitted CCA (method `cca`, instead of the model) |
 * | `posteriors.npy` | float64, one P(clean) per training pair, training-pair order (methods that split) |
 * | `noisy.npy` | uint8 truth mask of the training pairs (with injected noise) |
 * | `noise-index.json` | the noise index that reproduces the noisy pairing (`applyNoiseIndex`) |
 * | `mixture.svg`, `mixture.png` | the last epoch's loss split: histogram, fitted components, P(clean) |
 * | `calibration.svg`, `calibration.png` | with injected noise and a method that splits: the reliability diagram of P(clean) |
 * | `report.html` | with injected noise and a method that splits: the page to browse the split (`writeHtmlReport`) |
 *
 * Data without a `test` split gets a seeded random one ({@link DEFAULT_SPLIT}: 20 % test, 10 %
 * validation, stratified by class when labelled). Noise is injected into the training split only.
 *
 * @example
 * ```ts
 * import { trainAndReport } from 'cleave';
 * const report = await trainAndReport({
 *   data: 'wikipedia-xmodal',
 *   noise: { rate: 0.5, kind: 'shuffle', seed: 7 },
 *   config: { method: 'refurb', epochs: 20 },
 *   seed: 7,
 *   outDir: 'runs/wiki-refurb-50',
 * });
 * console.log(report.test.rsum, report.split?.auc);
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import {
  type BACKEND_NAMES,
  backendChoiceSchema,
  getBackendInfo,
  initBackend,
} from '../core/backend/index.js';
import { noiseProtocolSchema } from '../core/dataset/noise-state.js';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { randomSplitSchema } from '../core/dataset/splits.js';
import type { SplitSpec } from '../core/dataset/types.js';
import { ConfigError, parseOrThrow } from '../core/errors.js';
import { assertNotProtected, writeFileAtomic } from '../core/io/atomic.js';
import { writeNpy } from '../core/io/npy.js';
import { precompPoolingSchema } from '../core/io/precomp.js';
import { getLogger } from '../core/logger.js';
import type { CrossModalModel } from '../core/model/model.js';
import { writeFigure } from '../core/plot.js';
import { VERSION } from '../core/version.js';
import { splitQuality } from '../eval/detection.js';
import { classMAP } from '../eval/map.js';
import { retrievalMetrics } from '../eval/retrieval.js';
import { inputCosines } from '../eval/shared-space.js';
import { expectedCalibrationError, uncertaintyQuality } from '../eval/uncertainty.js';
import { plotMixture } from '../mixture/plot.js';
import { applyNoiseIndex, injectNoise, type NoiseResult } from '../noise/inject.js';
import { noiseKindSchema } from '../noise/kinds.js';
import { loadNoiseIndex, saveNoiseIndex } from '../noise/noise-index.js';
import { saveCheckpoint } from '../trainer/checkpoint.js';
import { deepMerge, resolveTrainerConfig, type TrainerConfig } from '../trainer/config.js';
import { embedDataset, inputEmbeddings, meanVariance } from '../trainer/embed.js';
import { evaluateClassMAP, evaluateRetrieval } from '../trainer/evaluate.js';
import { pairScores } from '../trainer/scoring.js';
import { Trainer } from '../trainer/trainer.js';
import type { FitResult, SplitResult, TrainerCallback } from '../trainer/types.js';
import { calibrationSpec } from './calibration-figure.js';
import { ccaBaselineOptionsSchema, fitCCABaseline } from './cca-baseline.js';
import { writeHtmlReport } from './html-report.js';
import {
  lossSplitSection,
  lossSplitSubset,
  noiseSection,
  RUN_METHODS,
  type RunMethod,
  type RunReport,
  recallSummary,
  splitSection,
  type TestSection,
  trainerMethodOf,
  type UncertaintySection,
} from './report.js';
import { checkSplitOverlap, dataWarnings } from './sanity.js';
import {
  dataInputSchema,
  dataInputSource,
  isInside,
  loadDataInput,
  OutputGuard,
  recommendedTrainerConfig,
  withEvaluationSplits,
} from './source.js';
import { saveSplitState } from './split-state.js';

/** How a `*_precomp` source is read (see `loadPrecomp`); the pooled-feature cache defaults to `<out>/../.cleave-cache`. */
export const runPrecompSchema = z
  .object({
    test: z.string().min(1).optional(),
    pooling: precompPoolingSchema.optional(),
    cacheDir: z.string().min(1).optional(),
    vocab: z.string().min(1).optional(),
  })
  .strict();

/** Synthetic noise of a run: `rate` of the training pairs re-paired by `kind`, seeded (default: the run's seed). */
export const runNoiseSchema = z
  .object({
    rate: z.number().min(0).max(1),
    kind: noiseKindSchema.default('shuffle'),
    seed: z.number().int().optional(),
  })
  .strict();
/** @see runNoiseSchema */
export type RunNoise = z.input<typeof runNoiseSchema>;

/** Trainer observers (`TrainerCallback` objects) passed through to the trainer. */
export const callbacksSchema = z
  .array(z.custom<TrainerCallback>((v) => typeof v === 'object' && v !== null, 'a TrainerCallback object'))
  .default([]);

/** Options of {@link trainAndReport}. */
export const trainAndReportOptionsSchema = z
  .object({
    /** A bundled dataset name, a manifest path, a clip-retrieval folder, or a loaded dataset. */
    data: dataInputSchema,
    noise: runNoiseSchema.optional(),
    /**
     * `refurb`, `ncr-like`, `vse` (the trainer), `cca`, or `oracle` (`vse` on the truly clean training
     * pairs only: a reference that needs `noise`); overrides `config.method`.
     */
    method: z.enum(RUN_METHODS).optional(),
    /** The trainer config (validated by the trainer's schema; `method` picks its preset). */
    config: z.record(z.string(), z.unknown()).default({}),
    /** Options of the `cca` method. */
    cca: ccaBaselineOptionsSchema.prefault({}),
    /**
     * A noise index file, as NCR's `--noise_file`: replayed when it exists (a published `.npy`, or a
     * cleave `.json`), else written there (`.npy` in NCR's format, or `.json`) from the `noise` drawn.
     */
    noiseFile: z.string().min(1).optional(),
    /** The protocol of a replayed `.npy` noise file (default `caption-level`, NCR's `t2i_index`). */
    noiseProtocol: noiseProtocolSchema.default('caption-level'),
    /** Also report the fold protocol on the test split (`test.folds`; 5 = NCR's `fold5`). */
    folds: z.number().int().min(1).optional(),
    /**
     * A saved warm-up, as NCR's `warmup_model_path`: when the folder holds one (a checkpoint of the
     * last warm-up epoch), the run starts after the warm-up from it; otherwise the run saves its own
     * warm-up there. The trainer config must match the one that saved it (except `epochs`).
     */
    warmupModel: z.string().min(1).optional(),
    /** How a `*_precomp` folder is read. */
    precomp: runPrecompSchema.optional(),
    /** Overrides `config.seed`; also the default noise seed. */
    seed: z.number().int().optional(),
    /** The output folder (created). */
    outDir: z.string().min(1),
    /** The split used when the data has no `test` split. */
    split: randomSplitSchema.optional(),
    /** Write the model (`model.json` + `weights.bin`). Default true. */
    saveModel: z.boolean().default(true),
    /** Write the mixture figure. Default true. */
    plots: z.boolean().default(true),
    /**
     * At most this many training pairs (a seeded random subset when there are more) are embedded and
     * rescored by the final model for the report's `lossSplit` and `uncertainty` sections: their AUCs
     * are estimates from those pairs (standard error about 0.003 at 20,000), so the final evaluation
     * does not grow with the training set. Default 20,000.
     */
    lossSplitPairs: z.number().int().min(2).default(20_000),
    /** Write `report.html` when the noise truth is known and the method splits. Default true. */
    html: z.boolean().default(true),
    /** Checkpoint every epoch into `<outDir>/checkpoints`. */
    checkpoint: z.boolean().default(false),
    /** Continue from the last checkpoint in `<outDir>/checkpoints` (implies `checkpoint`). */
    resume: z.boolean().default(false),
    /** Accept train/val/test splits that share images or pairs (with a report warning); refused by default. */
    allowSplitOverlap: z.boolean().default(false),
    /** Compute backend; default: the one already started, else `auto`. */
    backend: backendChoiceSchema.optional(),
    /** Observers of the trainer. */
    callbacks: callbacksSchema,
  })
  .strict();
/** Options of {@link trainAndReport}, as written. */
export type TrainAndReportOptions = z.input<typeof trainAndReportOptionsSchema>;

/** What {@link trainAndReport} returns: the report (as written), plus the live objects for callers that go on. */
export interface TrainAndReportResult {
  report: RunReport;
  /** The trainer's history (empty for CCA). */
  history: FitResult['history'];
  /** The output folder (absolute). */
  outDir: string;
}

const log = () => getLogger('run');
const seconds = (t0: number) => (performance.now() - t0) / 1000;

/**
 * `method` and `seed` from the options over the config.
 *
 * @example
 * ```ts
 * runMethodAndSeed({ config: { method: 'vse', seed: 4 }, seed: 7 });   // { method: 'vse', seed: 7 }
 * ```
 */
export function runMethodAndSeed(options: {
  method?: RunMethod;
  seed?: number;
  config?: Record<string, unknown>;
}): {
  method: RunMethod;
  seed: number;
} {
  const cm = options.config?.method;
  const cs = options.config?.seed;
  const method = options.method ?? (typeof cm === 'string' ? (cm as RunMethod) : 'refurb');
  if (!(RUN_METHODS as readonly string[]).includes(method)) {
    throw new ConfigError(`method: '${method}' is not one of ${RUN_METHODS.join(', ')}`, [
      { path: 'method', message: `expected one of ${RUN_METHODS.join(', ')}` },
    ]);
  }
  const seed = options.seed ?? (typeof cs === 'number' ? cs : 0);
  return { method, seed };
}

/**
 * The same dataset with its `train` split narrowed to the pairs the truth mask calls clean (the
 * `oracle` reference); the other splits are kept.
 *
 * @param truth 1 per pair of `data.train` that is noisy (`data.train.noise.noisy`)
 *
 * @example
 * ```ts
 * const noisy = injectNoise(data, { rate: 0.5, seed: 1 }).dataset;
 * onlyCleanTrainingPairs(noisy, noisy.train.noise!.noisy).train.numPairs;   // about half of noisy.train.numPairs
 * ```
 */
export function onlyCleanTrainingPairs(data: PairDataset, truth: Uint8Array): PairDataset {
  const trainPairs = data.splitIndices('train').pairs;
  if (truth.length !== trainPairs.length) {
    throw new RangeError(
      `onlyCleanTrainingPairs: ${truth.length} truth flags for ${trainPairs.length} training pairs`,
    );
  }
  const splits: Record<string, SplitSpec> = {};
  for (const name of data.splitNames) splits[name] = { pairs: data.splitIndices(name).pairs };
  splits.train = { pairs: trainPairs.filter((_, k) => truth[k] === 0) };
  return data.withSplits(splits);
}

/**
 * Per training pair: mean of its image's and its caption's mean σ² (probabilistic head).
 *
 * @example
 * ```ts
 * const u = pairUncertainty(embedDataset(model, data.train), data.train);   // undefined for a deterministic head
 * ```
 */
export function pairUncertainty(
  emb: { dim: number; imageLogSigma2?: Float32Array; captionLogSigma2?: Float32Array },
  data: PairDataset,
): Float64Array | undefined {
  if (!emb.imageLogSigma2 || !emb.captionLogSigma2) return undefined;
  const vi = meanVariance(emb.imageLogSigma2, emb.dim);
  const vc = meanVariance(emb.captionLogSigma2, emb.dim);
  return Float64Array.from(
    { length: data.numPairs },
    (_, j) => 0.5 * (vi[data.captionToImage[j]!]! + vc[j]!),
  );
}

function uncertaintySection(u: Float64Array, noisy: Uint8Array): UncertaintySection {
  const q = uncertaintyQuality(u, noisy);
  let sc = 0;
  let nc = 0;
  let sn = 0;
  let nn = 0;
  for (let j = 0; j < u.length; j++) {
    if (noisy[j]) {
      sn += u[j]!;
      nn++;
    } else {
      sc += u[j]!;
      nc++;
    }
  }
  return {
    pearson: q.pearson,
    spearman: q.spearman,
    auc: q.auc,
    meanClean: nc ? sc / nc : Number.NaN,
    meanNoisy: nn ? sn / nn : Number.NaN,
  };
}

/**
 * The `test` section of a run report for a trained model on one split: recalls (by the model's own
 * scoring, and by the means when that differs), class mAP when labelled. `cleave eval` calls the same
 * function, so it reproduces a run's test metrics exactly.
 *
 * @param options.folds with more than 1, the "1K"-style protocol (images in that many folds, mean reported)
 *
 * @example
 * ```ts
 * const test = await modelTestSection(await CrossModalModel.load('runs/wiki'), data.test);
 * test.rsum;
 * ```
 */
export async function modelTestSection(
  model: CrossModalModel,
  test: PairDataset,
  options: { folds?: number } = {},
): Promise<TestSection> {
  const testEmb = embedDataset(model, test);
  const folds = options.folds && options.folds > 1 ? { folds: options.folds } : {};
  const r = await evaluateRetrieval(model, test, { embeddings: testEmb, ...folds });
  const out: TestSection = {
    ...recallSummary(r),
    scoring: r.scoring,
    images: test.numImages,
    captions: test.numCaptions,
  };
  if (r.byMean) out.byMean = recallSummary(r.byMean);
  if (test.labels) out.classMAP = await evaluateClassMAP(model, test, { embeddings: testEmb });
  return out;
}

/**
 * Start the backend asked for (or keep the running one).
 *
 * @example
 * ```ts
 * await ensureBackend(undefined);   // keeps a started backend, else picks one (auto)
 * ```
 */
export async function ensureBackend(
  choice: (typeof BACKEND_NAMES)[number] | 'auto' | undefined,
): Promise<string> {
  if (choice !== undefined || !getBackendInfo()) {
    const info = await initBackend(choice ? { backend: choice } : {});
    return info.name;
  }
  return getBackendInfo()!.name;
}

/**
 * JSON with NaN/±Infinity as null and typed arrays as plain arrays.
 *
 * @example
 * ```ts
 * toJSON({ auc: Number.NaN, p: new Float32Array([0.5]) });   // '{\n  "auc": null,\n  "p": [\n    0.5\n  ]\n}\n'
 * ```
 */
export function toJSON(value: unknown): string {
  return `${JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === 'number' && !Number.isFinite(v)) return null;
      if (ArrayBuffer.isView(v) && !(v instanceof DataView))
        return Array.from(v as unknown as ArrayLike<number>);
      return v;
    },
    2,
  )}\n`;
}

/**
 * What a run does with `warmupModel`: reuse the saved warm-up in `dir` (`save` false), or save its own
 * there (`save` true).
 *
 * @throws ConfigError when the method has no warm-up, the folder lies inside an input folder, or it
 *   holds a checkpoint of another epoch than the last warm-up epoch
 * @example
 * ```ts
 * planWarmupModel('runs/warmup-f30k', resolveTrainerConfig({ warmupEpochs: 5 }), []);   // { dir, save: true } at first
 * ```
 */
export function planWarmupModel(
  path: string,
  config: TrainerConfig | undefined,
  inputFolders: readonly string[],
): { dir: string; save: boolean } {
  const dir = resolve(path);
  const fail = (message: string) => {
    throw new ConfigError(`warmupModel: ${message}`, [{ path: 'warmupModel', message }]);
  };
  if (!config || config.method === 'vse' || config.warmupEpochs === 0) {
    fail('this method has no warm-up to save or reuse (use refurb or ncr-like with warmupEpochs > 0)');
  }
  for (const folder of inputFolders)
    if (isInside(dir, folder)) fail(`${dir} is inside the input folder ${folder}`);
  const latest = join(dir, 'latest.json');
  if (!existsSync(latest)) return { dir, save: true };
  let epoch: unknown;
  try {
    epoch = (JSON.parse(readFileSync(latest, 'utf8')) as { epoch?: unknown }).epoch;
  } catch (error) {
    fail(`cannot read ${latest} (${(error as Error).message})`);
  }
  if (epoch !== config!.warmupEpochs - 1) {
    fail(
      `${dir} holds the model after epoch ${Number(epoch) + 1}, this run's warm-up is ${config!.warmupEpochs} epochs; use the same warmupEpochs or another folder`,
    );
  }
  return { dir, save: false };
}

/** A callback that checkpoints the networks after the last warm-up epoch into `dir` (best: none yet). */
function saveWarmupCallback(dir: string): TrainerCallback {
  return {
    async onEpochEnd(ctx, record) {
      if (record.epoch !== ctx.config.warmupEpochs - 1) return;
      await saveCheckpoint(dir, ctx.config, ctx.nets, {
        epoch: record.epoch,
        history: [...ctx.history],
        bestEpoch: -1,
        bestRsum: Number.NEGATIVE_INFINITY,
        arrays: {},
      });
      log().info({ warmupModel: dir }, 'warm-up saved');
    },
  };
}

/**
 * The zero-shot baseline of a shared-space run: test retrieval by the inputs' own cosine and, with
 * a truth mask, the ROC-AUC of the CLIP-score filter on the training pairs.
 */
async function zeroShotSection(
  test: PairDataset,
  train: PairDataset,
  truth: Uint8Array | undefined,
): Promise<NonNullable<RunReport['zeroShot']>> {
  const emb = inputEmbeddings(test);
  const m = await retrievalMetrics(emb.images, emb.captions, {
    dim: emb.dim,
    captionToImage: test.captionToImage,
  });
  const section: NonNullable<RunReport['zeroShot']> = { test: recallSummary(m) };
  if (truth)
    section.splitAuc = splitQuality(
      inputCosines(train).map((c) => (c + 1) / 2),
      truth,
    ).auc;
  return section;
}

/**
 * Load → noise → train → evaluate → write (see the module documentation).
 *
 * @returns the report (also written to `<outDir>/report.json`)
 * @throws ConfigError for invalid options or trainer config (naming the field); CleaveError when `outDir`
 *   is or lies inside an input folder; DataError for unreadable data
 *
 * @example
 * ```ts
 * const { report } = await trainAndReport({ data: 'wikipedia-xmodal', noise: { rate: 0.5 }, outDir: 'runs/wiki' });
 * report.test.rsum;
 * ```
 */
export async function trainAndReport(options: TrainAndReportOptions): Promise<TrainAndReportResult> {
  const opts = parseOrThrow(trainAndReportOptionsSchema, options, 'trainAndReport options');
  const started = performance.now();
  const { method, seed } = runMethodAndSeed(opts);
  // Inputs and outputs first: refuse a bad config or output folder before any work.
  const source = dataInputSource(opts.data);
  const config =
    method === 'cca'
      ? undefined
      : resolveTrainerConfig(
          deepMerge(await recommendedTrainerConfig(source), {
            ...opts.config,
            method: trainerMethodOf(method),
            seed,
          }),
          'trainer config',
        );
  const out = new OutputGuard(opts.outDir, source);
  // the output folder is created and probed before anything is loaded or trained
  await out.prepare({ checkpoints: opts.checkpoint || opts.resume });
  const backend = await ensureBackend(opts.backend);

  const noiseFile = opts.noiseFile ? resolve(opts.noiseFile) : undefined;
  const replay = noiseFile !== undefined && existsSync(noiseFile);
  if (noiseFile && !replay) {
    if (!opts.noise) {
      throw new ConfigError(
        `noiseFile: ${opts.noiseFile} does not exist; give a noise rate to draw the noise and write it there, or the path of an existing index`,
        [{ path: 'noiseFile', message: 'not found and no noise rate given' }],
      );
    }
    assertNotProtected(noiseFile, out.protect);
    for (const folder of source.folders) {
      if (isInside(noiseFile, folder)) {
        throw new ConfigError(`noiseFile: refusing to write ${noiseFile} inside the input folder ${folder}`, [
          { path: 'noiseFile', message: 'inside an input folder' },
        ]);
      }
    }
  }
  const warmupPlan = opts.warmupModel ? planWarmupModel(opts.warmupModel, config, source.folders) : undefined;
  const precompOptions =
    source.kind === 'precomp'
      ? {
          cacheDir: join(dirname(out.dir), '.cleave-cache'),
          // token ids only when a text encoder reads them (tokenising F30K's 155,000 captions costs seconds)
          tokens: config !== undefined && config.model.text.kind !== 'features',
          ...(opts.precomp ?? {}),
        }
      : undefined;
  const loaded = await loadDataInput(opts.data, source, precompOptions ? { precomp: precompOptions } : {});
  let data = withEvaluationSplits(loaded, opts.split);
  const overlaps = checkSplitOverlap(data, { allow: opts.allowSplitOverlap });
  const warnings = dataWarnings(data, overlaps);
  let noise: NoiseResult | undefined;
  if (replay) {
    if (data.train.noise) {
      throw new ConfigError('noiseFile: the data already carries injected noise; do not inject it twice', [
        { path: 'noiseFile', message: 'the data is already noisy' },
      ]);
    }
    const index = await loadNoiseIndex(noiseFile!, { protocol: opts.noiseProtocol, split: 'train' });
    noise = applyNoiseIndex(data, index, { split: 'train' });
    data = noise.dataset;
    log().info({ noiseFile, realisedRate: noise.summary.realisedRate }, 'noise index replayed');
  } else if (opts.noise) {
    if (data.train.noise) {
      throw new ConfigError('noise: the data already carries injected noise; do not inject it twice', [
        { path: 'noise', message: 'the data is already noisy' },
      ]);
    }
    noise = injectNoise(data, {
      rate: opts.noise.rate,
      kind: opts.noise.kind,
      seed: opts.noise.seed ?? seed,
    });
    data = noise.dataset;
    if (noiseFile) {
      await saveNoiseIndex(noiseFile, noise.index, { protect: out.protect });
      log().info({ noiseFile }, 'noise index written');
    }
  }
  const train = data.train;
  const validation = data.hasSplit('val') ? data.val : undefined;
  const test = data.test;
  const truth = train.noise?.noisy;
  if (method === 'oracle' && !truth) {
    log().warn('method oracle without injected noise: every training pair counts as clean (this is vse)');
  }
  // The oracle trains on the truly clean training pairs only; it is evaluated like every other run.
  const fitData = method === 'oracle' && truth ? onlyCleanTrainingPairs(data, truth) : data;
  if (opts.resume && !existsSync(join(out.dir, 'checkpoints', 'latest.json'))) {
    warnings.push(
      `--resume: no checkpoint in ${join(out.dir, 'checkpoints')} (no latest.json), so the run started from epoch 0`,
    );
  }
  for (const w of warnings) log().warn(w);
  // stale outputs of an earlier run into this folder go now, before training
  await out.clearPrevious();
  const loadSeconds = seconds(started);
  log().info(
    {
      data: source.spec,
      method,
      seed,
      noise: opts.noise ?? null,
      train: train.numPairs,
      test: test.numPairs,
      backend,
    },
    'run start',
  );

  const files: Record<string, string> = {};
  const protect = { protect: out.protect };
  const trainStarted = performance.now();
  let test_: TestSection;
  let history: FitResult['history'] = [];
  let bestEpoch = -1;
  let posterior: Float64Array | undefined;
  let lastSplit: SplitResult | undefined;
  let lossSplit: RunReport['lossSplit'];
  let uncertainty: UncertaintySection | undefined;
  let trainSeconds: number;
  let evalStarted: number;
  let model: CrossModalModel | undefined;
  let fit: FitResult | undefined;
  let trainer: Trainer | undefined;
  let sharedSpace: RunReport['sharedSpace'];
  let zeroShot: RunReport['zeroShot'];

  try {
    if (method === 'cca') {
      const baseline = fitCCABaseline(train, opts.cca);
      trainSeconds = seconds(trainStarted);
      evalStarted = performance.now();
      const emb = baseline.embed(test);
      const m = await retrievalMetrics(emb.images, emb.captions, {
        dim: emb.dim,
        captionToImage: test.captionToImage,
      });
      test_ = {
        ...recallSummary(m),
        scoring: 'cca-cosine',
        images: test.numImages,
        captions: test.numCaptions,
      };
      if (test.labels) {
        const textLabels = Int32Array.from(test.captionToImage, (i) => test.labels![i]!);
        test_.classMAP = await classMAP(emb.images, emb.captions, {
          dim: emb.dim,
          imageLabels: test.labels,
          textLabels,
        });
      }
      if (truth) lossSplit = lossSplitSection(baseline.pairLosses(train), truth, '1 - cosine');
      await writeFileAtomic(out.file('cca.json'), toJSON(baseline.cca.toJSON()), protect);
      files.model = 'cca.json';
      await writeFileAtomic(
        out.file('config.json'),
        toJSON({ method: 'cca', seed, cca: { ...opts.cca, components: baseline.cca.options.components } }),
        protect,
      );
    } else {
      const warmup = warmupPlan;
      const callbacks = warmup?.save ? [...opts.callbacks, saveWarmupCallback(warmup.dir)] : opts.callbacks;
      trainer = new Trainer(config!, { callbacks });
      if (warmup && !warmup.save) await cp(warmup.dir, out.path('checkpoints'), { recursive: true });
      const resume = opts.resume || (warmup !== undefined && !warmup.save);
      fit = await trainer.fit(fitData, {
        ...(validation ? { validation } : {}),
        ...(opts.checkpoint || resume ? { checkpointDir: out.path('checkpoints'), resume } : {}),
      });
      if (warmup && !warmup.save) log().info({ warmupModel: warmup.dir }, 'warm-up reused');
      trainSeconds = seconds(trainStarted);
      evalStarted = performance.now();
      model = fit.model;
      history = fit.history;
      bestEpoch = fit.bestEpoch;
      posterior = fit.posterior;
      lastSplit = fit.split;
      test_ = await modelTestSection(model, test);
      if (opts.folds && opts.folds > 1) {
        const f = await evaluateRetrieval(model, test, { folds: opts.folds });
        test_.folds = {
          count: opts.folds,
          perFold: (f.folds ?? []).map((x) => ({ ...recallSummary(x), images: x.i2t.queries })),
          mean: recallSummary(f),
        };
      }
      const found = trainer.sharedSpace;
      if (found) {
        sharedSpace = {
          shared: found.shared,
          used: found.used,
          alignedShare: Number.isFinite(found.alignedShare) ? found.alignedShare : null,
          reason: found.reason,
        };
        if (found.used) zeroShot = await zeroShotSection(test, train, truth);
      }
      if (truth) {
        // the final model's view of the training pairs (all, or a seeded subset of lossSplitPairs)
        const subset = lossSplitSubset(train.numPairs, opts.lossSplitPairs, seed);
        const scored = subset ? train.withSplits({ scored: { pairs: subset } }).split('scored') : train;
        const scoredTruth = subset ? Uint8Array.from(subset, (j) => truth[j]!) : truth;
        const trainEmb = embedDataset(model, scored);
        const c = config!;
        const losses = pairScores(model, scored, {
          score: 'infonce',
          temperature: c.split.scoreTemperature,
          block: c.split.scoreBlock,
          seed,
          embeddings: trainEmb,
        });
        lossSplit = lossSplitSection(losses, scoredTruth, 'infonce');
        const u = pairUncertainty(trainEmb, scored);
        if (u) uncertainty = uncertaintySection(u, scoredTruth);
      }
      await writeFileAtomic(out.file('config.json'), toJSON(config), protect);
      if (opts.saveModel) {
        out.file('model.json');
        out.file('weights.bin');
        await model.save(out.dir, protect);
        files.model = 'model.json';
        files.weights = 'weights.bin';
        if (lastSplit) {
          out.path('split.json');
          out.path('split-scores.npy');
          await saveSplitState(out.dir, lastSplit, config!, fitData.train, protect);
          files.split = 'split.json';
          files.splitScores = 'split-scores.npy';
        }
      }
    }
  } finally {
    if (fit) for (const m of new Set([fit.model, ...fit.models])) m.dispose();
    trainer?.dispose();
  }
  files.config = 'config.json';

  await writeFileAtomic(out.file('history.json'), toJSON(history), protect);
  files.history = 'history.json';
  if (posterior) {
    await writeNpy(out.file('posteriors.npy'), posterior, [posterior.length], protect);
    files.posteriors = 'posteriors.npy';
  }
  if (noiseFile) files.noiseFile = noiseFile;
  if (truth && noise) {
    await writeNpy(out.file('noisy.npy'), truth, [truth.length], protect);
    await saveNoiseIndex(out.file('noise-index.json'), noise.index, protect);
    files.noisy = 'noisy.npy';
    files.noiseIndex = 'noise-index.json';
  }
  if (opts.plots && lastSplit && config) {
    const values = lastSplit.values; // the x axis the trainer's split saw
    const epoch = history.at(-1)?.epoch ?? 0;
    const noiseLabel = opts.noise ? `, ${opts.noise.rate * 100}% ${train.noise?.protocol ?? ''} noise` : '';
    out.file('mixture.svg');
    out.file('mixture.png');
    await plotMixture(out.path('mixture'), values, lastSplit.mixture, {
      title: `${method}: per-pair loss split, epoch ${epoch + 1}${noiseLabel}`,
      protect: out.protect,
    });
    files.mixtureSvg = 'mixture.svg';
    files.mixturePng = 'mixture.png';
    if (truth && posterior) {
      const cal = expectedCalibrationError(posterior, truth);
      await writeFigure(out.path('calibration'), calibrationSpec(cal, `${method}${noiseLabel}`), protect);
      files.calibrationSvg = 'calibration.svg';
      files.calibrationPng = 'calibration.png';
    }
  }

  const html = opts.html && posterior !== undefined && truth !== undefined;
  if (html) files.html = 'report.html';
  const summary = data.describe();
  const report: RunReport = {
    format: 'cleave-run-report',
    version: 1,
    method,
    protocol: train.noise?.protocol ?? 'none',
    seed,
    noise: noise ? noiseSection(noise.summary) : null,
    dataset: {
      name: data.name,
      source: source.spec,
      sourceKind: source.kind,
      imageDim: data.imageStride,
      captionDim: data.captionDim,
      numClasses: data.numClasses,
      splits: summary.splits,
    },
    test: test_,
    ...(posterior && truth ? { split: splitSection(posterior, truth) } : {}),
    ...(lossSplit ? { lossSplit } : {}),
    ...(uncertainty ? { uncertainty } : {}),
    ...(sharedSpace ? { sharedSpace } : {}),
    ...(zeroShot ? { zeroShot } : {}),
    training: {
      epochs: history.length,
      bestEpoch,
      trainPairs: fitData.train.numPairs,
      validationPairs: validation?.numPairs ?? 0,
    },
    timing: {
      loadSeconds,
      trainSeconds,
      evalSeconds: seconds(evalStarted),
      totalSeconds: seconds(started),
    },
    backend,
    cleaveVersion: VERSION,
    createdAt: new Date().toISOString(),
    warnings,
    files: { ...files, report: 'report.json' },
  };
  await writeFileAtomic(out.file('report.json'), toJSON(report), protect);
  if (html) {
    out.file('report.html');
    await writeHtmlReport(out.dir, protect);
  }
  log().info(
    { method, rsum: report.test.rsum, splitAuc: report.split?.auc, seconds: report.timing.totalSeconds },
    'run done',
  );
  return { report, history, outDir: out.dir };
}
