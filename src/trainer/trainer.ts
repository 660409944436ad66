/**
 * The robust trainer: multi-task warm-up → per-pair losses → two-component mixture split → soft
 * relabelling → retraining with uncertainty heads, for noisy image–caption pairs.
 *
 * The loop is fixed; what varies lives in named, overridable phases (Lightning-style), each
 * replaceable on its own in a subclass, and callbacks observe them without editing the trainer:
 *
 * | phase | method | what it does |
 * |---|---|---|
 * | warm-up | {@link Trainer.warmupEpoch} | one epoch on every pair as clean, auxiliary tasks on |
 * | score | {@link Trainer.scorePairs} | per-pair losses of all training pairs (source: self, peer or held-out folds) |
 * | split | {@link Trainer.splitPairs} | normalise, fit the beta (or Gaussian) mixture, P(clean) per pair |
 * | relabel | {@link Trainer.relabel} | targets y ∈ [0, 1] (and which pairs to train on) from P(clean) |
 * | retrain | {@link Trainer.trainEpoch} | one epoch on the soft targets (PCME++ match loss by default) |
 * | validate | {@link Trainer.validate} | rSum on the validation split; the best epoch is kept |
 *
 * Every random choice (initial weights, dropout masks, batch order, folds) is derived from
 * `config.seed` and the epoch, so a run is reproducible, and resuming from a checkpoint continues
 * bit-for-bit on the same backend.
 *
 * @example
 * ```ts
 * import { bundledDataset, evaluateRetrieval, injectNoise, loadPairs, Trainer } from 'cleave';
 * const data = await loadPairs(bundledDataset('wikipedia-xmodal'));
 * const noisy = injectNoise(data, { rate: 0.5, kind: 'shuffle', seed: 7 });
 * const trainer = new Trainer({ method: 'refurb', epochs: 20, seed: 7 });
 * const result = await trainer.fit(noisy.dataset);
 * console.log(await evaluateRetrieval(result.model, data.test));
 * console.log(trainer.history.at(-1)?.split);      // estimated noise rate, split AUC, mixture
 * ```
 */
import { mkdir } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { ConfigError, DataError, TrainingError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import { infoNCELoss } from '../core/losses/infonce.js';
import { matchLoss, vibLoss } from '../core/losses/match.js';
import { tripletLoss } from '../core/losses/triplet.js';
import type { Embedding } from '../core/model/distance.js';
import { CrossModalModel } from '../core/model/model.js';
import { createOptimizer, type FusedAdam } from '../core/optim.js';
import { createProgress } from '../core/progress.js';
import { Rng } from '../core/random.js';
import { splitQuality } from '../eval/detection.js';
import {
  detectSharedSpace,
  inputCosines,
  type SharedSpaceDetection,
  unpairedCosines,
} from '../eval/shared-space.js';
import { BetaMixture } from '../mixture/beta.js';
import { GaussianMixture } from '../mixture/gaussian.js';
import { estimatedSplitAuc, LocalFdrSplit } from '../mixture/local-fdr.js';
import { applyScaling, type LossScaling, normaliseLosses } from '../mixture/normalise.js';
import { AuxiliaryHeads } from './auxiliary.js';
import { captionTokenTensor, textEncoderOptions } from './caption-input.js';
import { type CheckpointState, loadCheckpoint, saveBestModel, saveCheckpoint } from './checkpoint.js';
import {
  type LossKind,
  resolveTrainerConfig,
  type TrainerConfig,
  type TrainerConfigInput,
} from './config.js';
import { embedDataset, inputEmbeddings } from './embed.js';
import { evaluateRetrieval } from './evaluate.js';
import {
  blendScores,
  inputPairScores,
  matchEvidence,
  nullPairScores,
  pairScores,
  scoreStandardisation,
} from './scoring.js';

/** One network of the trainer: a model, its optimizer and its auxiliary heads. */
export interface TrainerNet {
  index: number;
  model: CrossModalModel;
  optimizer: FusedAdam;
  aux: AuxiliaryHeads;
}

/** The outcome of the split phase for one network. */
export interface SplitResult {
  /** Which network's training targets this split sets. */
  net: number;
  /** The per-pair losses the mixture was fitted to (after any EMA and input-score blend), in pair order. */
  scores: Float64Array;
  /** The losses of random mismatched pairs on the same scale (the `local-fdr` null sample). */
  nullScores?: Float64Array;
  /** The normalised losses the mixture saw (its x axis), in pair order. */
  values: Float64Array;
  /** P(clean) per pair. */
  posterior: Float64Array;
  /** The fitted mixture. */
  mixture: BetaMixture | GaussianMixture | LocalFdrSplit;
  /** On a shared space: the weight of the input-space score in the blend (see `split.inputWeight`). */
  inputWeight?: number;
  /** On a shared space: the learned per-pair losses (after any EMA) before the blend, in pair order. */
  learned?: Float64Array;
  /** How `scores` were mapped to `values` (what a saved model needs to place new scores). */
  scaling: LossScaling;
  /**
   * On a shared space with 0 < weight < 1: the standardisation of the input and learned scores that
   * went into the blend (score = w·(input − mean)/sd + (1 − w)·(learned − mean)/sd).
   */
  blend?: { input: { mean: number; sd: number }; learned: { mean: number; sd: number } };
}

/** What the relabel phase hands to the retrain phase. */
export interface Relabelled {
  /** The pairs to train on this epoch. */
  pairs: Int32Array;
  /** Their targets y ∈ [0, 1], aligned with `pairs`. */
  targets: Float32Array;
}

/** Validation metrics of one epoch (recalls in percent). */
export interface ValidationRecord {
  rsum: number;
  i2t: { r1: number; r5: number; r10: number };
  t2i: { r1: number; r5: number; r10: number };
}

/** Split statistics of one epoch (network 0). */
export interface SplitRecord {
  /** Mean of 1 − P(clean): the noise rate the split implies (≈ the noisy component's weight). */
  estimatedNoiseRate: number;
  /** Share of pairs with P(clean) ≤ 0.5 (the hard split). */
  predictedNoiseRate: number;
  /** Mean training target. */
  meanTarget: number;
  /** Pairs trained on. */
  pairsTrained: number;
  /** The mixture's parameters. */
  mixture: unknown;
  /** On a shared space: the weight of the input-space score in the split's blend. */
  inputWeight?: number;
  /** With a known truth mask: ROC-AUC and average precision of P(clean) at finding noisy pairs, the true rate. */
  auc?: number;
  ap?: number;
  trueNoiseRate?: number;
}

/** One entry of {@link Trainer.history}. */
export interface EpochRecord {
  /** 0-based epoch. */
  epoch: number;
  phase: 'warmup' | 'train';
  /** Mean batch loss of each network. */
  loss: number[];
  split?: SplitRecord;
  validation?: ValidationRecord;
  seconds: number;
}

/** Read-only view of the run handed to callbacks. */
export interface TrainerContext {
  config: TrainerConfig;
  train: PairDataset;
  validation: PairDataset | undefined;
  nets: readonly TrainerNet[];
  history: readonly EpochRecord[];
}

/** Observers of a run; every hook is optional and may be async. */
export interface TrainerCallback {
  onFitStart?(ctx: TrainerContext): void | Promise<void>;
  onEpochStart?(ctx: TrainerContext, epoch: number): void | Promise<void>;
  onSplit?(ctx: TrainerContext, split: SplitResult, epoch: number): void | Promise<void>;
  onEpochEnd?(ctx: TrainerContext, record: EpochRecord): void | Promise<void>;
  onFitEnd?(ctx: TrainerContext, result: FitResult): void | Promise<void>;
}

/** Options of {@link Trainer.fit}. */
export interface FitOptions {
  /** Validation pairs (default: the dataset's `val` split when it has one). */
  validation?: PairDataset;
  /** Write a checkpoint here after every epoch (atomic), and the best model to `<dir>/best`. */
  checkpointDir?: string;
  /** Continue from the last checkpoint in `checkpointDir` when there is one. */
  resume?: boolean;
  /**
   * Stop with a {@link TrainingError} when the model has collapsed for this many validations in a row:
   * validation rSum at or below chance level *and* the validation images or captions all embedded at
   * one point (so a model that is merely weak on a tiny validation split is not stopped); default 3,
   * 0 turns the guard off.
   */
  collapsePatience?: number;
}

/**
 * The rSum a model that ranks at random gets on average on `numImages` images with one caption each
 * (R@K = K / n both ways, capped at 100 %).
 *
 * @example
 * ```ts
 * chanceRsum(10);   // 320
 * chanceRsum(693);  // ≈ 4.6
 * ```
 */
export function chanceRsum(numImages: number): number {
  let sum = 0;
  for (const k of [1, 5, 10]) sum += 2 * 100 * Math.min(1, k / Math.max(1, numImages));
  return sum;
}

/** What {@link Trainer.fit} returns. */
export interface FitResult {
  /** The model to use: the best epoch on validation (a copy), or the last one without validation. */
  model: CrossModalModel;
  /** Every network in its last state (two with co-training). */
  models: CrossModalModel[];
  /** The epoch `model` comes from. */
  bestEpoch: number;
  history: EpochRecord[];
  /** The last P(clean) per training pair (network 0); undefined for `vse`. */
  posterior: Float64Array | undefined;
  /** The last training targets per training pair (network 0; 0 for dropped pairs). */
  targets: Float32Array | undefined;
  /** The last split (network 0), for plots. */
  split: SplitResult | undefined;
}

interface RunState {
  startEpoch: number;
  history: EpochRecord[];
  posterior: (Float64Array | undefined)[];
  /** Per network: the last per-pair losses the split used (EMA-smoothed when `split.ema` > 0). */
  scoreEma: (Float64Array | undefined)[];
  /** Per network: the last random-pair null losses (EMA-smoothed like `scoreEma`; `local-fdr` only). */
  nullEma: (Float64Array | undefined)[];
  heldout: Float64Array | undefined;
  best: { epoch: number; rsum: number; weights: tf.NamedTensorMap | undefined };
  /** The best epoch whose model `<checkpointDir>/best` holds (undefined: none yet). */
  bestSaved?: number;
  lastSplit: SplitResult[];
  targets: (Float32Array | undefined)[];
}

const log = () => getLogger('trainer');

/** The trainer (see the module documentation). */
export class Trainer {
  /** The resolved config (method preset and defaults applied). */
  readonly config: TrainerConfig;
  /** One record per finished epoch. */
  history: EpochRecord[] = [];
  protected readonly callbacks: TrainerCallback[];
  protected train!: PairDataset;
  protected validation: PairDataset | undefined;
  protected nets: TrainerNet[] = [];
  protected state!: RunState;
  /** What the shared-space test found on the training pairs, and whether the run uses it. */
  sharedSpace: (SharedSpaceDetection & { used: boolean }) | undefined;
  private inputScoreCache: { scores: Float64Array; nullScores: Float64Array } | undefined;
  private buffers: { images: Float32Array; captions: Float32Array } | undefined;

  /**
   * @param config see `trainerConfigSchema`; `method` picks a preset the other fields override
   * @param options.callbacks observers of the run
   * @throws ConfigError naming each invalid field
   */
  constructor(config: TrainerConfigInput = {}, options: { callbacks?: TrainerCallback[] } = {}) {
    this.config = resolveTrainerConfig(config);
    this.callbacks = options.callbacks ?? [];
  }

  /**
   * Train on `data` (its `train` split when it has one) and return the model.
   * @throws DataError when the data cannot be trained on (no caption features, fewer than 2 pairs)
   */
  async fit(data: PairDataset, options: FitOptions = {}): Promise<FitResult> {
    const c = this.config;
    this.train = !data.splitName && data.hasSplit('train') ? data.train : data;
    this.validation = options.validation ?? (!data.splitName && data.hasSplit('val') ? data.val : undefined);
    if (this.train.numPairs < 2) {
      throw new DataError(
        `has ${this.train.numPairs} training pair${this.train.numPairs === 1 ? '' : 's'}; training needs at least 2: give more pairs, or a larger train split`,
        { file: data.name },
      );
    }
    this.sharedSpace = this.resolveSharedSpace();
    this.inputScoreCache = undefined;
    const netCount = c.coTraining ? 2 : 1;
    this.nets = Array.from({ length: netCount }, (_, k) => this.buildNet(`net${k}`, k));
    this.state = {
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
    if (options.resume && options.checkpointDir) await this.restore(options.checkpointDir);
    this.history = this.state.history;
    if (c.method === 'zero-shot') return this.zeroShotResult();
    if (this.sharedSpace.used && this.state.startEpoch === 0) {
      // The untrained adapter is the zero-shot model: it is the first candidate for the best epoch.
      const validation = await this.validate(-1);
      if (validation) this.trackBest({ epoch: -1, phase: 'warmup', loss: [], validation, seconds: 0 });
    }
    log().info(
      {
        method: c.method,
        pairs: this.train.numPairs,
        images: this.train.numImages,
        validation: this.validation?.numPairs ?? 0,
        nets: netCount,
        epochs: c.epochs,
        warmup: c.warmupEpochs,
        startEpoch: this.state.startEpoch,
        backend: tf.getBackend(),
      },
      'fit start',
    );
    await this.emit('onFitStart');
    const patience = options.collapsePatience ?? 3;
    let atChance = 0;
    for (let epoch = this.state.startEpoch; epoch < c.epochs; epoch++) {
      if (this.patienceExhausted()) {
        log().info({ epoch, bestEpoch: this.state.best.epoch, patience: c.patience }, 'early stop');
        break;
      }
      const started = performance.now();
      await this.emit('onEpochStart', epoch);
      const record = await this.runEpoch(epoch);
      record.validation = await this.validate(epoch);
      record.seconds = (performance.now() - started) / 1000;
      if (record.validation && patience > 0 && this.validation) {
        const chance = chanceRsum(this.validation.numImages);
        atChance = record.validation.rsum <= chance + 1e-6 && this.collapsed() ? atChance + 1 : 0;
        if (atChance >= patience) {
          throw new TrainingError(
            `training collapsed: every validation item embeds at one point and validation rSum ${record.validation.rsum.toFixed(1)} is at chance level (${chance.toFixed(1)} for ${this.validation.numImages} images) for ${atChance} evaluations in a row, at epoch ${epoch}; lower ${this.learningRateKey()}`,
            epoch,
          );
        }
      }
      this.history.push(record);
      this.trackBest(record);
      if (options.checkpointDir) await this.checkpoint(options.checkpointDir, epoch);
      log().info(
        {
          epoch,
          phase: record.phase,
          loss: record.loss,
          rsum: record.validation?.rsum,
          noise: record.split?.estimatedNoiseRate,
          auc: record.split?.auc,
          s: Number(record.seconds.toFixed(2)),
        },
        'epoch',
      );
      await this.emit('onEpochEnd', record);
    }
    const result = this.result();
    await this.emit('onFitEnd', result);
    return result;
  }

  /** Free the networks' variables (the models returned by {@link fit} stay usable). */
  dispose(): void {
    for (const net of this.nets) {
      net.optimizer.dispose();
      net.aux.dispose();
    }
    this.nets = [];
  }

  // ------------------------------------------------------------------------------------- phases

  /** One epoch: warm-up, or score → split → relabel → retrain. */
  protected async runEpoch(epoch: number): Promise<EpochRecord> {
    const c = this.config;
    if (c.method === 'vse' || epoch < this.warmupLength) {
      const loss: number[] = [];
      for (const net of this.nets) loss.push(await this.warmupEpoch(net, epoch));
      return { epoch, phase: c.method === 'vse' ? 'train' : 'warmup', loss, seconds: 0 };
    }
    if (epoch === this.warmupLength) this.onWarmupEnd();
    const splits = await this.splitAll(epoch);
    const loss: number[] = [];
    let split: SplitRecord | undefined;
    for (const net of this.nets) {
      const relabelled = this.relabel(net, splits[net.index]!, epoch);
      const targets = new Float32Array(this.train.numPairs);
      relabelled.pairs.forEach((j, k) => {
        targets[j] = relabelled.targets[k]!;
      });
      this.state.targets[net.index] = targets;
      if (net.index === 0) split = this.splitRecord(splits[0]!, relabelled);
      loss.push(
        await this.trainEpoch(net, epoch, {
          pairs: relabelled.pairs,
          targets: relabelled.targets,
          loss: c.retrain.loss,
          auxiliary: c.warmup.keepAfterWarmup && !this.sharedSpace?.used,
          tag: `net${net.index}`,
        }),
      );
    }
    return { epoch, phase: 'train', loss, ...(split ? { split } : {}), seconds: 0 };
  }

  /** The warm-up phase for one network: every pair as clean, auxiliary tasks on. */
  protected async warmupEpoch(net: TrainerNet, epoch: number): Promise<number> {
    const vse = this.config.method === 'vse';
    return this.trainEpoch(net, epoch, {
      loss: vse ? this.config.retrain.loss : this.config.warmup.loss,
      auxiliary: !this.sharedSpace?.used,
      tag: `net${net.index}`,
    });
  }

  /**
   * The score phase: per-pair losses of every training pair for network `net`'s split, from the
   * configured source (its own model, its peer, or the held-out fold models).
   */
  protected async scorePairs(net: TrainerNet, epoch: number): Promise<Float64Array> {
    const s = this.config.split;
    if (s.source === 'heldout') {
      const refresh = s.refreshEvery > 0 && (epoch - this.warmupLength) % s.refreshEvery === 0;
      if (!this.state.heldout || (refresh && epoch > this.warmupLength)) {
        this.state.heldout = await this.heldoutScores(epoch);
      }
      return this.state.heldout;
    }
    const scorer = s.source === 'peer' ? this.nets[1 - net.index]! : net;
    return this.scoreWith(scorer, epoch);
  }

  /**
   * The split phase: normalise the losses, fit the mixture (or, for `local-fdr`, the two-group model
   * with the random-pair null), P(clean) per pair.
   */
  protected splitPairs(net: TrainerNet, scores: Float64Array, nullScores?: Float64Array): SplitResult {
    const s = this.config.split;
    if (this.mixtureKind() === 'local-fdr' && nullScores) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const v of scores) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      // one affine map for both samples; the observed ones through applyScaling itself (so a saved
      // split reproduces them exactly), the null ones unclipped (they may reach past the observed range)
      const scaling: LossScaling = { method: 'minmax', low: lo, high: hi, clip: 0 };
      const values = applyScaling(scores, scaling);
      const range = hi - lo;
      const nullValues = nullScores.filter(Number.isFinite).map((v) => (range > 0 ? (v - lo) / range : 0.5));
      const mixture = new LocalFdrSplit().fit(values, nullValues);
      const posterior = s.monotone ? mixture.monotonePosterior(values) : mixture.posterior(values);
      return { net: net.index, scores, nullScores, values, scaling, posterior, mixture };
    }
    const { values, fitValues, scaling } = normaliseLosses(scores, { method: s.normalise });
    const mixture = s.mixture === 'gaussian' ? new GaussianMixture() : new BetaMixture();
    mixture.fit(fitValues);
    const posterior = s.monotone ? mixture.monotonePosterior(values) : mixture.posterior(values);
    return { net: net.index, scores, values, scaling, posterior, mixture };
  }

  /** `split.mixture` resolved: `auto` is `local-fdr` on a shared space (self/peer source), else `beta`. */
  protected mixtureKind(): 'beta' | 'gaussian' | 'local-fdr' {
    const s = this.config.split;
    if (s.mixture !== 'auto') return s.mixture;
    const nullable = s.source !== 'heldout' && (s.score === 'infonce' || s.score === 'input-cosine');
    return this.sharedSpace?.used && nullable ? 'local-fdr' : 'beta';
  }

  /** The relabel phase: targets and the pairs to train on, from the split. */
  protected relabel(net: TrainerNet, split: SplitResult, epoch: number): Relabelled {
    const r = this.config.relabel;
    const n = this.train.numPairs;
    const post = split.posterior;
    const pairs: number[] = [];
    const targets: number[] = [];
    if (r.rule === 'ncr') {
      const emb = embedDataset(net.model, this.train);
      const all = Int32Array.from({ length: n }, (_, j) => j);
      const evidence = matchEvidence(emb, this.train, all, {
        batchSize: this.config.batchSize,
        margin: this.config.retrain.margin,
        seed: this.runSeed(`evidence/net${net.index}/epoch${epoch}`),
      });
      const late = !r.noisyLate || epoch >= Math.floor(this.config.epochs / 2);
      for (let j = 0; j < n; j++) {
        if (post[j]! < r.floor) continue;
        if (post[j]! > r.threshold) {
          pairs.push(j);
          targets.push(post[j]! + (1 - post[j]!) * evidence[j]!);
        } else if (late) {
          pairs.push(j);
          targets.push(evidence[j]!);
        }
      }
    } else {
      for (let j = 0; j < n; j++) {
        if (post[j]! < r.floor) continue;
        pairs.push(j);
        targets.push(r.rule === 'hard' ? (post[j]! > r.threshold ? 1 : 0) : post[j]!);
      }
    }
    return { pairs: Int32Array.from(pairs), targets: Float32Array.from(targets) };
  }

  /**
   * The retrain phase (and the warm-up's loop): one epoch over `pairs` (default all) with `targets`
   * (default 1) and the given loss.
   * @returns the mean batch loss
   */
  protected async trainEpoch(
    net: TrainerNet,
    epoch: number,
    options: { pairs?: Int32Array; targets?: Float32Array; loss: LossKind; auxiliary: boolean; tag: string },
  ): Promise<number> {
    const c = this.config;
    const data = this.train;
    const targetOf = new Float32Array(data.numPairs).fill(1);
    if (options.pairs && options.targets) {
      for (let k = 0; k < options.pairs.length; k++) targetOf[options.pairs[k]!] = options.targets[k]!;
    }
    const batchOptions = {
      batchSize: c.batchSize,
      seed: this.runSeed(`${options.tag}/batches`),
      epoch,
      ...(options.pairs ? { pairs: options.pairs } : {}),
    };
    const progress = createProgress(
      data.numBatches(batchOptions),
      `epoch ${epoch + 1}/${c.epochs} ${options.tag}`,
    );
    const buffers = this.batchBuffers();
    let total = 0;
    let batches = 0;
    for (const batch of data.batches(batchOptions)) {
      if (batch.size < 2) continue;
      const images = data.gatherImages(batch.images, buffers.images);
      const captions = net.model.readsTokens
        ? buffers.captions
        : data.gatherCaptions(batch.captions, buffers.captions);
      const y = Float32Array.from(batch.pairs, (j) => targetOf[j]!);
      const labels = data.labels ? Int32Array.from(batch.images, (i) => data.labels![i]!) : undefined;
      const siblings =
        options.auxiliary && c.warmup.captionMatching.weight > 0
          ? this.siblings(batch.pairs, batch.images, epoch, batch.batch)
          : undefined;
      const rng = new Rng(c.seed).fork(`${options.tag}/epoch${epoch}/batch${batch.batch}`);
      const cost = tf.tidy(() => {
        const xImg =
          data.imageRegions > 1
            ? tf.tensor3d(images, [batch.size, data.imageRegions, data.imageDim])
            : tf.tensor2d(images, [batch.size, data.imageDim]);
        const xCap = net.model.readsTokens
          ? captionTokenTensor(data, batch.captions)
          : tf.tensor2d(captions, [batch.size, data.captionDim]);
        const xSib = siblings
          ? net.model.readsTokens
            ? captionTokenTensor(data, siblings.captions)
            : tf.tensor2d(data.gatherCaptions(siblings.captions), [siblings.captions.length, data.captionDim])
          : undefined;
        const yT = tf.tensor1d(y);
        const labelsT = labels ? tf.tensor1d(labels, 'int32') : undefined;
        const vars = [...net.model.trainableVariables, ...net.aux.trainableVariables];
        return net.optimizer.minimize(
          () =>
            this.batchLoss(net, {
              images: xImg,
              captions: xCap,
              targets: yT,
              labels: labelsT,
              siblings: xSib && siblings ? { captions: xSib, rows: siblings.rows } : undefined,
              loss: options.loss,
              auxiliary: options.auxiliary,
              rng,
            }),
          true,
          vars,
        ) as tf.Scalar;
      });
      const value = cost.dataSync()[0]!;
      cost.dispose();
      if (!Number.isFinite(value)) {
        throw new TrainingError(
          `training diverged: the loss became ${value} at epoch ${epoch}, batch ${batch.batch} (${options.tag}); lower ${this.learningRateKey()}${this.sharedSpace?.used ? '' : ' or optimizer.retrainLearningRate'}`,
          epoch,
        );
      }
      total += value;
      batches += 1;
      progress.tick(1, { loss: value });
    }
    progress.stop();
    return batches > 0 ? total / batches : Number.NaN;
  }

  /** The validate phase: rSum and recalls of network 0 on the validation split (undefined without one). */
  protected async validate(epoch: number): Promise<ValidationRecord | undefined> {
    const every = this.config.validateEvery;
    if (!this.validation || every === 0) return undefined;
    if (epoch >= 0 && (epoch + 1) % every !== 0 && epoch !== this.config.epochs - 1) return undefined;
    const m = await evaluateRetrieval(this.nets[0]!.model, this.validation);
    const pick = (d: { r1: number; r5: number; r10: number }) => ({ r1: d.r1, r5: d.r5, r10: d.r10 });
    return { rsum: m.rsum, i2t: pick(m.i2t), t2i: pick(m.t2i) };
  }

  // ------------------------------------------------------------------------------------- pieces

  /** The loss of one batch for one network (inside the optimizer's closure). */
  protected batchLoss(
    net: TrainerNet,
    b: {
      images: tf.Tensor;
      captions: tf.Tensor2D;
      targets: tf.Tensor1D;
      labels: tf.Tensor1D | undefined;
      siblings: { captions: tf.Tensor2D; rows: Int32Array } | undefined;
      loss: LossKind;
      auxiliary: boolean;
      rng: Rng;
    },
  ): tf.Scalar {
    const c = this.config;
    const model = net.model;
    const img = model.embedImages(b.images, { training: true, rng: b.rng.fork('img') });
    const cap = model.embedCaptions(b.captions, { training: true, rng: b.rng.fork('cap') });
    let loss: tf.Scalar;
    if (b.loss === 'infonce') {
      loss = infoNCELoss(model.similarity(img, cap), b.targets, model.logitScale());
      const w = this.config.retrain.matchWeight;
      if (w > 0 && model.head === 'probabilistic' && img.logSigma2) {
        let match = matchLoss(model.matchLogProbs(img, cap), b.targets);
        if (c.retrain.klWeight > 0) {
          match = tf.add(match, tf.mul(c.retrain.klWeight, tf.add(vibLoss(img), vibLoss(cap)))) as tf.Scalar;
        }
        loss = tf.add(loss, tf.mul(w, match)) as tf.Scalar;
      }
    } else if (b.loss === 'triplet') {
      loss = tripletLoss(model.similarity(img, cap), b.targets, { margin: c.retrain.margin });
    } else {
      loss = matchLoss(model.matchLogProbs(img, cap), b.targets, {
        pseudoPositiveWeight: c.retrain.pseudoPositiveWeight,
      });
      if (c.retrain.klWeight > 0) {
        loss = tf.add(loss, tf.mul(c.retrain.klWeight, tf.add(vibLoss(img), vibLoss(cap)))) as tf.Scalar;
      }
    }
    if (b.auxiliary) loss = tf.add(loss, this.auxiliaryLoss(net, img, cap, b)) as tf.Scalar;
    return loss;
  }

  /** The weighted sum of the enabled auxiliary tasks (0 when none is on). */
  protected auxiliaryLoss(
    net: TrainerNet,
    img: Embedding,
    cap: Embedding,
    b: {
      labels: tf.Tensor1D | undefined;
      targets: tf.Tensor1D;
      siblings: { captions: tf.Tensor2D; rows: Int32Array } | undefined;
      rng: Rng;
    },
  ): tf.Scalar {
    const w = this.config.warmup;
    let total = tf.scalar(0);
    if (w.classPrediction.weight > 0 && b.labels && net.aux.hasClassHead) {
      const cls = tf.mul(
        0.5,
        tf.add(
          net.aux.classLoss(img.mean, b.labels, w.classPrediction.scale),
          net.aux.classLoss(cap.mean, b.labels, w.classPrediction.scale, b.targets),
        ),
      );
      total = tf.add(total, tf.mul(w.classPrediction.weight, cls));
    }
    if (w.modalityClassifier.weight > 0) {
      total = tf.add(total, tf.mul(w.modalityClassifier.weight, net.aux.modalityLoss(img.mean, cap.mean)));
    }
    if (w.captionMatching.weight > 0 && b.siblings && b.siblings.rows.length >= 2) {
      const sib = net.model.embedCaptions(b.siblings.captions, { training: true, rng: b.rng.fork('sib') });
      const anchors = tf.gather(cap.mean, tf.tensor1d(b.siblings.rows, 'int32')) as tf.Tensor2D;
      const s = tf.matMul(anchors, sib.mean, false, true) as tf.Tensor2D;
      const ones = tf.ones([b.siblings.rows.length]) as tf.Tensor1D;
      total = tf.add(total, tf.mul(w.captionMatching.weight, infoNCELoss(s, ones, net.model.logitScale())));
    }
    return total as tf.Scalar;
  }

  /** For caption–caption matching: for each batch row whose image has another caption, one such caption. */
  private siblings(
    pairs: Int32Array,
    images: Int32Array,
    epoch: number,
    batch: number,
  ): { rows: Int32Array; captions: Int32Array } | undefined {
    const rng = new Rng(this.config.seed).fork(`siblings/epoch${epoch}/batch${batch}`);
    const rows: number[] = [];
    const captions: number[] = [];
    for (let k = 0; k < pairs.length; k++) {
      const all = this.train.imageCaptions(images[k]!);
      if (all.length < 2) continue;
      let pick = all[rng.int(all.length - 1)]!;
      if (pick === pairs[k]) pick = all[all.length - 1]!;
      rows.push(k);
      captions.push(pick);
    }
    return rows.length >= 2
      ? { rows: Int32Array.from(rows), captions: Int32Array.from(captions) }
      : undefined;
  }

  /**
   * Split every network (score → mixture), applying the EMA of the losses. Once the split is frozen
   * (`split.freezeAfter`) the last losses are reused, so the mixture and P(clean) repeat exactly (also
   * after a resume: the losses are part of the checkpoint).
   */
  private async splitAll(epoch: number): Promise<SplitResult[]> {
    const splits: SplitResult[] = [];
    const { ema, freezeAfter } = this.config.split;
    const frozen = freezeAfter > 0 && epoch >= this.warmupLength + freezeAfter;
    const withNull = this.mixtureKind() === 'local-fdr';
    const smooth = (now: Float64Array, prev: Float64Array | undefined) =>
      ema > 0 && prev ? now.map((v, j) => ema * prev[j]! + (1 - ema) * v) : now;
    for (const net of this.nets) {
      const prev = this.state.scoreEma[net.index];
      const prevNull = this.state.nullEma[net.index];
      let scores: Float64Array;
      let nulls: Float64Array | undefined;
      if (frozen && prev) {
        scores = prev;
        nulls = prevNull;
      } else {
        scores = smooth(await this.scorePairs(net, epoch), prev);
        this.state.scoreEma[net.index] = scores;
        if (withNull) {
          const scorer = this.config.split.source === 'peer' ? this.nets[1 - net.index]! : net;
          nulls = smooth(this.nullScoresWith(scorer), prevNull);
          this.state.nullEma[net.index] = nulls;
        }
      }
      const blended = this.withInputScore(scores, nulls);
      const split = this.splitPairs(net, blended.scores, blended.nullScores);
      if (this.sharedSpace?.used && this.config.split.score !== 'input-cosine') {
        split.inputWeight = blended.inputWeight;
        split.learned = scores;
      }
      if (blended.blend) split.blend = blended.blend;
      this.state.posterior[net.index] = split.posterior;
      splits.push(split);
      await this.emit('onSplit', split, epoch);
    }
    this.state.lastSplit = splits;
    return splits;
  }

  /** Per-pair losses of the training pairs under network `net` (with the class term when configured). */
  private scoreWith(net: TrainerNet, epoch: number): Float64Array {
    const s = this.config.split;
    if (s.score === 'input-cosine') return inputCosines(this.train).map((v) => 1 - v);
    const labels = this.train.labels;
    const classTerm =
      s.classWeight > 0 && labels && net.aux.hasClassHead
        ? { heads: net.aux, labels, scale: this.config.warmup.classPrediction.scale, weight: s.classWeight }
        : undefined;
    return pairScores(net.model, this.train, {
      score: s.score,
      temperature: s.scoreTemperature,
      block: s.scoreBlock,
      margin: this.config.retrain.margin,
      seed: this.runSeed(`scores/epoch${epoch}`),
      ...(classTerm ? { classTerm } : {}),
    });
  }

  /**
   * k-fold held-out losses: each fold's pairs scored by a fresh model trained with the warm-up recipe
   * on the other folds (weighted by the current P(clean) when refreshing).
   */
  private async heldoutScores(epoch: number): Promise<Float64Array> {
    const s = this.config.split;
    const n = this.train.numPairs;
    const fold = new Rng(this.config.seed)
      .fork('folds')
      .permutation(n)
      .map((v) => v % s.folds);
    const weights = this.state.posterior[0];
    const out = new Float64Array(n);
    for (let k = 0; k < s.folds; k++) {
      const tag = `fold${k}/at${epoch}`;
      const foldNet = this.buildNet(tag, 0);
      try {
        const pairs = Int32Array.from({ length: n }, (_, j) => j).filter((j) => fold[j] !== k);
        const targets = weights ? Float32Array.from(pairs, (j) => weights[j]!) : undefined;
        const epochs = s.foldEpochs ?? Math.max(1, this.config.warmupEpochs);
        for (let e = 0; e < epochs; e++) {
          await this.trainEpoch(foldNet, e, {
            pairs,
            ...(targets ? { targets } : {}),
            loss: this.config.warmup.loss,
            auxiliary: true,
            tag,
          });
        }
        const scores = this.scoreWith(foldNet, epoch);
        for (let j = 0; j < n; j++) if (fold[j] === k) out[j] = scores[j]!;
      } finally {
        foldNet.model.dispose();
        foldNet.optimizer.dispose();
        foldNet.aux.dispose();
      }
      log().debug({ fold: k, folds: s.folds }, 'held-out fold scored');
    }
    return out;
  }

  /**
   * Warm-up epochs of this run: `warmupEpochs`, or 0 on a shared space, where the inputs' own alignment
   * already is the clean pattern a warm-up would learn (training on every pair first would only teach
   * the adapters the noise), so the split starts from the input-space score at epoch 0.
   */
  protected get warmupLength(): number {
    return this.sharedSpace?.used ? 0 : this.config.warmupEpochs;
  }
  // Also on a shared space, the auxiliary tasks stay off: class prediction pulls captions towards
  // their class and costs instance-level retrieval on CLIP features (myntra-fashionclip-1000, 50 %
  // noise, seed 0: best validation rSum 573 with it, 587 without).

  /**
   * Resolve `config.sharedSpace` on the training pairs: the detection is always run (and logged); a
   * forced `true` on inputs of different widths is a ConfigError, `zero-shot` without a shared space a
   * DataError.
   */
  private resolveSharedSpace(): SharedSpaceDetection & { used: boolean } {
    const c = this.config;
    const found = detectSharedSpace(this.train, { seed: this.runSeed('shared-space') });
    const widthsDiffer = Number.isNaN(found.alignedShare) && found.pairsChecked === 0;
    let used = c.sharedSpace === 'auto' ? found.shared : c.sharedSpace;
    if (c.method === 'zero-shot' && !found.shared && c.sharedSpace !== false && !widthsDiffer) {
      used = true; // forced by the preset: the detection is reported, not a veto
    }
    if (used && widthsDiffer && c.method === 'zero-shot') {
      throw new DataError(
        `'${this.train.name}': method 'zero-shot' needs image and caption vectors in one space (${found.reason}); use 'vse' or 'refurb'`,
      );
    }
    if (used && widthsDiffer) {
      throw new ConfigError(`sharedSpace: true, but ${found.reason}; set sharedSpace to 'auto' or false`, [
        { path: 'sharedSpace', message: found.reason },
      ]);
    }
    if (c.method === 'zero-shot' && !used) {
      throw new DataError(
        `'${this.train.name}': method 'zero-shot' needs a shared space, but sharedSpace is false`,
      );
    }
    log().info({ shared: found.shared, used, alignedShare: found.alignedShare }, found.reason);
    return { ...found, used };
  }

  /**
   * The weights of the input-space score to consider (0 without a shared space): the configured one,
   * or for `auto` the candidates {0, ¼, ½, ¾, 1} with a null to choose by, else ½.
   */
  private inputWeights(withNull: boolean): number[] {
    const w = this.config.split.inputWeight;
    if (!this.sharedSpace?.used || this.config.split.score === 'input-cosine') return [0];
    if (w !== 'auto') return [w];
    return withNull ? [0, 0.25, 0.5, 0.75, 1] : [0.5];
  }

  /**
   * The input-space per-pair score and its random-pair null: symmetric InfoNCE of the inputs
   * themselves (the zero-shot model's score) at `split.inputTemperature`; computed once per fit.
   */
  private inputScores(): { scores: Float64Array; nullScores: Float64Array } {
    if (this.inputScoreCache) return this.inputScoreCache;
    const s = this.config.split;
    const common = {
      temperature: s.inputTemperature,
      block: s.scoreBlock,
      seed: this.runSeed('scores/null'),
      embeddings: inputEmbeddings(this.train),
    };
    this.inputScoreCache = {
      scores: inputPairScores(this.train, common),
      nullScores: nullPairScores(this.nets[0]!.model, this.train, { ...common, draws: s.nullDraws }),
    };
    return this.inputScoreCache;
  }

  /**
   * The learned score's random-pair null under network `net` (same blocks and partners every epoch,
   * so its EMA follows the same random pairs); for `input-cosine`, 1 − cos of random input pairs.
   */
  private nullScoresWith(net: TrainerNet): Float64Array {
    const s = this.config.split;
    if (s.score === 'input-cosine') {
      const cos = unpairedCosines(this.train, { draws: s.nullDraws, seed: this.runSeed('scores/null') });
      return cos.map((v) => 1 - v);
    }
    return nullPairScores(net.model, this.train, {
      temperature: s.scoreTemperature,
      block: s.scoreBlock,
      seed: this.runSeed('scores/null'),
      draws: s.nullDraws,
    });
  }

  /**
   * Blend the input-space score into the learned one, w·z(input) + (1 − w)·z(learned), each
   * standardised with the observed scores' mean and sd; the nulls go through the same maps.
   */
  private withInputScore(
    scores: Float64Array,
    nullScores?: Float64Array,
  ): {
    scores: Float64Array;
    nullScores?: Float64Array;
    inputWeight: number;
    blend?: SplitResult['blend'];
  } {
    const candidates = this.inputWeights(nullScores !== undefined);
    const blend = (
      w: number,
    ): { scores: Float64Array; nullScores?: Float64Array; blend?: SplitResult['blend'] } => {
      if (w === 0) return nullScores ? { scores, nullScores } : { scores };
      const input = this.inputScores();
      if (w === 1) return input;
      // the nulls go through the observed scores' standardisation
      const params = { input: scoreStandardisation(input.scores), learned: scoreStandardisation(scores) };
      const blended = blendScores(input.scores, scores, w, params);
      if (!nullScores) return { scores: blended, blend: params };
      return {
        scores: blended,
        nullScores: blendScores(input.nullScores, nullScores, w, params),
        blend: params,
      };
    };
    let best = { ...blend(candidates[0]!), inputWeight: candidates[0]! };
    if (candidates.length > 1) {
      // the blend whose clean-vs-noisy AUC, estimated from the random-pair null, is highest
      let bestAuc = Number.NEGATIVE_INFINITY;
      for (const w of candidates) {
        const b = blend(w);
        const auc = estimatedSplitAuc(b.scores, b.nullScores!.filter(Number.isFinite));
        if (auc > bestAuc) {
          bestAuc = auc;
          best = { ...b, inputWeight: w };
        }
      }
      log().debug({ inputWeight: best.inputWeight, estimatedAuc: bestAuc }, 'input-score weight chosen');
    }
    return best;
  }

  /** `zero-shot`: no epochs; the model is the untrained adapter, the split the input-cosine one. */
  private async zeroShotResult(): Promise<FitResult> {
    await this.emit('onFitStart');
    const net = this.nets[0]!;
    const nulls = this.mixtureKind() === 'local-fdr' ? this.nullScoresWith(net) : undefined;
    const blended = this.withInputScore(this.scoreWith(net, 0), nulls);
    const split = this.splitPairs(net, blended.scores, blended.nullScores);
    this.state.posterior[0] = split.posterior;
    this.state.lastSplit = [split];
    this.state.targets[0] = Float32Array.from(split.posterior);
    await this.emit('onSplit', split, 0);
    const result = this.result();
    await this.emit('onFitEnd', result);
    return result;
  }

  /** Whether `patience` validations have passed without a better validation rSum. */
  private patienceExhausted(): boolean {
    const p = this.sharedSpace?.used ? this.config.adapter.patience : this.config.patience;
    if (p === 0 || !this.validation) return false;
    const validated = this.history.filter((r) => r.validation && r.epoch > this.state.best.epoch);
    return validated.length >= p;
  }

  /** Build a network: model (input statistics fitted on the training features), optimizer, aux heads. */
  protected buildNet(tag: string, index: number): TrainerNet {
    const c = this.config;
    const data = this.train;
    const { text, textTokens } = textEncoderOptions(c, data);
    // On a shared space both encoders are residual adapters that keep the inputs' width.
    const shared = this.sharedSpace?.used === true;
    const a = c.adapter;
    const adapter = shared
      ? { residual: true, inputPower: 1, standardize: false, hidden: a.hidden, dropout: a.dropout }
      : {};
    const embedDim = shared ? data.imageDim : c.model.embedDim;
    const model = new CrossModalModel({
      embedDim,
      head: c.model.head,
      image: { ...c.model.image, inputDim: data.imageDim, ...adapter },
      text: { ...text, ...(textTokens ? {} : adapter) },
      ...(textTokens ? { textTokens } : {}),
      uncertainty: c.model.uncertainty,
      match: c.model.match,
      temperature: shared ? { ...c.model.temperature, init: a.temperature } : c.model.temperature,
      seed: this.runSeed(`${tag}/init`),
    });
    model.fitInputStatistics(data.imageMatrix(), textTokens ? undefined : data.captionMatrix());
    const optimizer = createOptimizer({
      kind: 'adam',
      learningRate: shared ? a.learningRate : c.optimizer.learningRate,
      weightDecay: c.optimizer.weightDecay,
    }) as FusedAdam;
    const aux = new AuxiliaryHeads({
      embedDim,
      numClasses: data.labels ? data.numClasses : 0,
      rng: new Rng(c.seed).fork(`${tag}/aux`),
    });
    return { index, model, optimizer, aux };
  }

  /** After the warm-up: switch the learning rate, optionally re-initialise the networks. */
  private onWarmupEnd(): void {
    const c = this.config;
    if (c.retrain.reinitialize) {
      this.nets = this.nets.map((net) => {
        net.model.dispose();
        net.optimizer.dispose();
        net.aux.dispose();
        return this.buildNet(`net${net.index}/retrain`, net.index);
      });
    }
    const lr = this.retrainLearningRate();
    if (lr !== undefined) for (const net of this.nets) net.optimizer.setLearningRate(lr);
  }

  /** The config key of the step size this run trains with, and its value, for error messages. */
  private learningRateKey(): string {
    return this.sharedSpace?.used
      ? `adapter.learningRate (now ${this.config.adapter.learningRate})`
      : `optimizer.learningRate (now ${this.config.optimizer.learningRate})`;
  }

  /** The step size after the warm-up, when it differs from the warm-up's (adapters keep theirs). */
  private retrainLearningRate(): number | undefined {
    return this.sharedSpace?.used ? undefined : this.config.optimizer.retrainLearningRate;
  }

  private splitRecord(split: SplitResult, relabelled: Relabelled): SplitRecord {
    const post = split.posterior;
    let noisy = 0;
    let implied = 0;
    for (const p of post) {
      if (p <= 0.5) noisy++;
      implied += 1 - p;
    }
    let sum = 0;
    for (const y of relabelled.targets) sum += y;
    const record: SplitRecord = {
      estimatedNoiseRate: implied / post.length,
      predictedNoiseRate: noisy / post.length,
      meanTarget: relabelled.targets.length ? sum / relabelled.targets.length : 0,
      pairsTrained: relabelled.pairs.length,
      mixture: split.mixture.toJSON(),
      ...(split.inputWeight !== undefined ? { inputWeight: split.inputWeight } : {}),
    };
    const truth = this.train.noise?.noisy;
    if (truth) {
      const q = splitQuality(post, truth);
      record.auc = q.auc;
      record.ap = q.averagePrecision;
      record.trueNoiseRate = q.trueNoiseRate;
    }
    return record;
  }

  private trackBest(record: EpochRecord): void {
    const best = this.state.best;
    const rsum = record.validation?.rsum;
    const improved = rsum === undefined ? !this.validation : rsum > best.rsum;
    if (!improved) return;
    if (best.weights) tf.dispose(best.weights);
    best.weights = this.nets[0]!.model.getWeights();
    best.epoch = record.epoch;
    best.rsum = rsum ?? Number.NEGATIVE_INFINITY;
  }

  private result(): FitResult {
    const best = this.state.best;
    const model = this.nets[0]!.model.clone();
    if (best.weights) model.setWeights(best.weights);
    return {
      model,
      models: this.nets.map((n) => n.model),
      bestEpoch: best.epoch,
      history: this.history,
      posterior: this.state.posterior[0],
      targets: this.state.targets[0],
      split: this.state.lastSplit[0],
    };
  }

  private batchBuffers(): { images: Float32Array; captions: Float32Array } {
    const n = this.config.batchSize;
    if (!this.buffers) {
      this.buffers = {
        images: new Float32Array(n * this.train.imageStride),
        captions: new Float32Array(n * this.train.captionDim),
      };
    }
    return this.buffers;
  }

  /** A 32-bit seed derived from `config.seed` and a label. */
  protected runSeed(label: string): number {
    return new Rng(this.config.seed).fork(label).uint32() & 0x7fffffff;
  }

  private context(): TrainerContext {
    return {
      config: this.config,
      train: this.train,
      validation: this.validation,
      nets: this.nets,
      history: this.history,
    };
  }

  private async emit<K extends keyof TrainerCallback>(
    hook: K,
    ...args: Parameters<NonNullable<TrainerCallback[K]>> extends [TrainerContext, ...infer R] ? R : never
  ): Promise<void> {
    for (const cb of this.callbacks) {
      const fn = cb[hook] as ((ctx: TrainerContext, ...a: unknown[]) => void | Promise<void>) | undefined;
      if (fn) await fn.call(cb, this.context(), ...args);
    }
  }

  /**
   * Whether network 0 maps every validation image, or every validation caption, to (nearly) the same
   * point: the spread across items is below 1e-6 of their mean squared norm (all zeros included).
   */
  private collapsed(): boolean {
    const emb = embedDataset(this.nets[0]!.model, this.validation!);
    const degenerate = (x: Float32Array): boolean => {
      const d = emb.dim;
      const n = x.length / d;
      let spread = 0;
      let norm = 0;
      for (let k = 0; k < d; k++) {
        let mean = 0;
        for (let i = 0; i < n; i++) mean += x[i * d + k]!;
        mean /= n;
        for (let i = 0; i < n; i++) {
          const v = x[i * d + k]!;
          spread += (v - mean) ** 2;
          norm += v * v;
        }
      }
      return !(spread > 1e-6 * norm) || !Number.isFinite(norm);
    };
    return degenerate(emb.images) || degenerate(emb.captions);
  }

  // -------------------------------------------------------------------------------- checkpoints

  private async checkpoint(dir: string, epoch: number): Promise<void> {
    await mkdir(dir, { recursive: true });
    const state: CheckpointState = {
      epoch,
      history: this.history,
      bestEpoch: this.state.best.epoch,
      bestRsum: this.state.best.rsum,
      arrays: {},
    };
    for (let k = 0; k < this.nets.length; k++) {
      const named = {
        [`posterior-${k}`]: this.state.posterior[k],
        [`score-ema-${k}`]: this.state.scoreEma[k],
        [`null-ema-${k}`]: this.state.nullEma[k],
        [`targets-${k}`]: this.state.targets[k],
      };
      for (const [name, values] of Object.entries(named)) if (values) state.arrays[name] = values;
    }
    if (this.state.heldout) state.arrays.heldout = this.state.heldout;
    state.splits = this.state.lastSplit.map((split) => {
      state.arrays[`split-scores-${split.net}`] = split.scores;
      state.arrays[`split-posterior-${split.net}`] = split.posterior;
      if (split.nullScores) state.arrays[`split-null-${split.net}`] = split.nullScores;
      return {
        net: split.net,
        mixture: split.mixture.toJSON(),
        ...(split.inputWeight !== undefined ? { inputWeight: split.inputWeight } : {}),
        ...(split.blend ? { blend: split.blend } : {}),
      };
    });
    // the best model first: once latest.json names this epoch, best/ must already hold its weights
    // (a kill between the two would otherwise resume with the previous best's weights)
    const best = this.state.best;
    if (best.weights && best.epoch !== this.state.bestSaved) {
      if (best.epoch === epoch) {
        await saveBestModel(dir, this.nets[0]!.model);
      } else {
        // an earlier best not saved yet: the untrained (zero-shot) candidate of a shared space
        const copy = this.nets[0]!.model.clone();
        try {
          copy.setWeights(best.weights);
          await saveBestModel(dir, copy);
        } finally {
          copy.dispose();
        }
      }
      this.state.bestSaved = best.epoch;
    }
    await saveCheckpoint(dir, this.config, this.nets, state);
  }

  private async restore(dir: string): Promise<void> {
    const loaded = await loadCheckpoint(dir, this.config, this.nets);
    if (!loaded) return;
    const s = this.state;
    s.startEpoch = loaded.epoch + 1;
    s.history = loaded.history;
    s.best.epoch = loaded.bestEpoch;
    s.best.rsum = loaded.bestRsum;
    s.best.weights = loaded.bestWeights;
    s.bestSaved = loaded.bestEpoch;
    const a = loaded.arrays;
    this.nets.forEach((_, k) => {
      s.posterior[k] = a[`posterior-${k}`] as Float64Array | undefined;
      s.scoreEma[k] = a[`score-ema-${k}`] as Float64Array | undefined;
      s.nullEma[k] = a[`null-ema-${k}`] as Float64Array | undefined;
      s.targets[k] = a[`targets-${k}`] as Float32Array | undefined;
    });
    s.heldout = a.heldout as Float64Array | undefined;
    // the last split, so that a run resumed after its final epoch still has it (the mixture figure)
    s.lastSplit = (loaded.splits ?? []).flatMap(({ net, mixture, inputWeight, blend }) => {
      const extra = {
        ...(inputWeight !== undefined ? { inputWeight } : {}),
        ...(blend ? { blend: blend as SplitResult['blend'] } : {}),
      };
      const scores = a[`split-scores-${net}`];
      const posterior = a[`split-posterior-${net}`];
      const nulls = a[`split-null-${net}`];
      if (!(scores instanceof Float64Array) || !(posterior instanceof Float64Array)) return [];
      const owner = this.nets[net];
      if (nulls instanceof Float64Array && owner) {
        // local-fdr: refitting on the same losses and null sample is deterministic
        return [{ ...this.splitPairs(owner, scores, nulls), posterior, ...extra }];
      }
      const kind = this.mixtureKind();
      const m = kind === 'gaussian' ? GaussianMixture.fromJSON(mixture) : BetaMixture.fromJSON(mixture);
      const { values, scaling } = normaliseLosses(scores, { method: this.config.split.normalise });
      return [{ net, scores, values, scaling, posterior, mixture: m, ...extra }];
    });
    const lr = this.retrainLearningRate();
    if (lr !== undefined && s.startEpoch > this.warmupLength) {
      for (const net of this.nets) net.optimizer.setLearningRate(lr);
    }
    log().info({ dir, epoch: loaded.epoch }, 'resumed from checkpoint');
  }
}
