/**
 * The robust trainer: multi-task warm-up → per-pair losses → two-component mixture split → soft
 * relabelling → retraining with uncertainty heads, for noisy image–caption pairs.
 *
 * Long file: one class whose loop and overridable steps read top to bottom; each step's work lives in
 * the module its row in the table below names.
 *
 * The loop is fixed ({@link Trainer.fit} → {@link Trainer.runEpoch}); each step lives in a file of its
 * own and is a named, overridable phase (Lightning-style), so a subclass replaces one step and callbacks
 * observe them without editing the trainer:
 *
 * | step | phase | lives in | what it does |
 * |---|---|---|---|
 * | 1. warm-up | {@link Trainer.warmupEpoch} | `warmup.ts` (+ `epoch.ts`) | one epoch on every pair as clean, auxiliary tasks on |
 * | 2. score | {@link Trainer.scorePairs} | `score-source.ts` → `scoring.ts` | per-pair losses of all training pairs (source: self, peer or held-out folds), EMA, the input-space blend (`shared-space.ts`) |
 * | 3. split | {@link Trainer.splitPairs} | `split.ts` → `src/mixture` | normalise, fit the beta (or Gaussian, or local-fdr) mixture, P(clean) per pair |
 * | 4. relabel | {@link Trainer.relabel} | `relabel.ts` (pure functions) | targets y ∈ [0, 1] (and which pairs to train on) from P(clean) |
 * | 5. retrain | {@link Trainer.trainEpoch} | `retrain.ts` (+ `epoch.ts`) | one epoch on the soft targets (PCME++ match loss by default) |
 * | validate | {@link Trainer.validate} | `validate.ts` | rSum on the validation split; the best epoch is kept |
 *
 * Around them: the public types (`types.ts`), a network's construction and disposal (`net.ts`), the run
 * state and its checkpoint naming (`state.ts`, `checkpoint.ts`).
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
import * as tf from '@tensorflow/tfjs-core';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { DataError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import type { Embedding } from '../core/model/distance.js';
import type { CrossModalModel } from '../core/model/model.js';
import { emitHook, type HookArgs } from './callbacks.js';
import { restoreRunState, saveRunCheckpoint } from './checkpoint.js';
import { resolveTrainerConfig, type TrainerConfig, type TrainerConfigInput } from './config.js';
import type { DatasetEmbeddings } from './embed.js';
import { batchBuffers, trainEpoch } from './epoch.js';
import { buildNet, derivedSeed, disposeNet, retrainStepSize, stepSizeKey } from './net.js';
import { denseTargets, relabelTargets, splitFrozen } from './relabel.js';
import { batchObjective, retrainPlan } from './retrain.js';
import {
  heldoutDue,
  heldoutScores,
  learnedScores,
  modelEvidence,
  nullScores,
  scoreEmbeddings,
} from './score-source.js';
import {
  type BlendedScores,
  blendInputScore,
  computeInputScores,
  type InputScores,
  inputWeightCandidates,
  resolveSharedSpace,
  type SharedSpaceUse,
} from './shared-space.js';
import {
  fitSplit,
  type MixtureKind,
  mixtureKind,
  restoreSplits,
  smoothScores,
  splitRecord,
} from './split.js';
import { newRunState, type RunState } from './state.js';
import type {
  BatchInputs,
  EpochPlan,
  EpochRecord,
  FitOptions,
  FitResult,
  Relabelled,
  SplitRecord,
  SplitResult,
  TrainerCallback,
  TrainerContext,
  TrainerNet,
  ValidationRecord,
} from './types.js';
import { CollapseGuard, patienceExhausted, trackBest, validationRecord } from './validate.js';
import { auxiliaryLoss, warmupPlan } from './warmup.js';

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
  sharedSpace: SharedSpaceUse | undefined;
  private inputScoreCache: InputScores | undefined;
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
   * @throws DataError when the data cannot be trained on (fewer than 2 pairs; `zero-shot` without a shared
   *   space) or a checkpoint to resume from is damaged
   * @throws ConfigError when the config does not fit the data (`model.text.kind` the captions cannot feed,
   *   `sharedSpace: true` on inputs of different widths) or a checkpoint was written with another config
   * @throws TrainingError when the loss diverges or the model collapses (see `collapsePatience`)
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
    this.sharedSpace = resolveSharedSpace(c, this.train);
    this.inputScoreCache = undefined;
    const netCount = c.coTraining ? 2 : 1;
    this.nets = Array.from({ length: netCount }, (_, k) => this.buildNet(`net${k}`, k));
    this.state = newRunState(netCount);
    if (options.resume && options.checkpointDir) await this.restore(options.checkpointDir);
    this.history = this.state.history;
    if (c.method === 'zero-shot') return this.zeroShotResult();
    if (this.sharedSpace.used && this.state.startEpoch === 0) {
      // The untrained adapter is the zero-shot model: it is the first candidate for the best epoch.
      const validation = await this.validate(-1);
      if (validation)
        trackBest(this.state.best, this.nets[0]!.model, this.validation !== undefined, {
          epoch: -1,
          phase: 'warmup',
          loss: [],
          validation,
          seconds: 0,
        });
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
    const guard = new CollapseGuard(options.collapsePatience ?? 3);
    for (let epoch = this.state.startEpoch; epoch < c.epochs; epoch++) {
      if (
        patienceExhausted(this.history, this.state.best.epoch, this.patience(), this.validation !== undefined)
      ) {
        log().info({ epoch, bestEpoch: this.state.best.epoch, patience: c.patience }, 'early stop');
        break;
      }
      const started = performance.now();
      await this.emit('onEpochStart', epoch);
      const record = await this.runEpoch(epoch);
      record.validation = await this.validate(epoch);
      record.seconds = (performance.now() - started) / 1000;
      guard.check(record.validation, this.nets[0]!.model, this.validation, epoch, () =>
        stepSizeKey(this.config, this.shared),
      );
      this.history.push(record);
      trackBest(this.state.best, this.nets[0]!.model, this.validation !== undefined, record);
      if (options.checkpointDir) {
        await saveRunCheckpoint(options.checkpointDir, this.config, this.nets, this.state, epoch);
      }
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
    for (const net of this.nets) disposeNet(net, { keepModel: true });
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
      this.state.targets[net.index] = denseTargets(relabelled, this.train.numPairs);
      if (net.index === 0) split = splitRecord(splits[0]!, relabelled, this.train.noise?.noisy);
      const plan = retrainPlan(c, net, relabelled, { sharedSpace: this.shared });
      loss.push(await this.trainEpoch(net, epoch, plan));
    }
    return { epoch, phase: 'train', loss, ...(split ? { split } : {}), seconds: 0 };
  }

  /** Step 1, the warm-up, for one network: every pair as clean, auxiliary tasks on (`warmup.ts`). */
  protected async warmupEpoch(net: TrainerNet, epoch: number): Promise<number> {
    return this.trainEpoch(net, epoch, warmupPlan(this.config, net, { sharedSpace: this.shared }));
  }

  /**
   * Step 2, the score: per-pair losses of every training pair for network `net`'s split, from the
   * configured source (its own model, its peer, or the held-out fold models; `score-source.ts`).
   * `emb`: the scoring network's means when the caller has them already (the `local-fdr` split embeds
   * the training set once for the score and its null).
   */
  protected async scorePairs(net: TrainerNet, epoch: number, emb?: DatasetEmbeddings): Promise<Float64Array> {
    const s = this.config.split;
    if (s.source === 'heldout') {
      if (heldoutDue(epoch, this.warmupLength, s.refreshEvery, this.state.heldout !== undefined)) {
        this.state.heldout = await heldoutScores(
          {
            config: this.config,
            train: this.train,
            posterior: this.state.posterior[0],
            buildNet: (tag) => this.buildNet(tag, 0),
            trainEpoch: (n, e, plan) => this.trainEpoch(n, e, plan),
          },
          epoch,
        );
      }
      return this.state.heldout!;
    }
    return learnedScores(this.config, this.train, this.scorer(net), epoch, emb);
  }

  /**
   * Step 3, the split: normalise the losses, fit the mixture (or, for `local-fdr`, the two-group model
   * with the random-pair null), P(clean) per pair (`split.ts`).
   */
  protected splitPairs(net: TrainerNet, scores: Float64Array, nullScores?: Float64Array): SplitResult {
    return fitSplit(net.index, scores, nullScores, this.config.split, this.mixtureKind());
  }

  /** `split.mixture` resolved: `auto` is `local-fdr` on a shared space (self/peer source), else `beta`. */
  protected mixtureKind(): MixtureKind {
    return mixtureKind(this.config.split, this.shared);
  }

  /** Step 4, the relabel: targets and the pairs to train on, from the split (`relabel.ts`). */
  protected relabel(net: TrainerNet, split: SplitResult, epoch: number): Relabelled {
    const c = this.config;
    const evidence = c.relabel.rule === 'ncr' ? modelEvidence(c, this.train, net, epoch) : undefined;
    return relabelTargets(split.posterior, c.relabel, {
      epoch,
      epochs: c.epochs,
      ...(evidence ? { evidence } : {}),
    });
  }

  /**
   * Step 5, the retrain (and the warm-up's and the fold models' loop): one epoch over `plan.pairs`
   * (default all) with `plan.targets` (default 1) and the plan's loss (`epoch.ts`).
   * @returns the mean batch loss
   */
  protected async trainEpoch(net: TrainerNet, epoch: number, plan: EpochPlan): Promise<number> {
    this.buffers ??= batchBuffers(this.config.batchSize, this.train);
    const retrainKey = this.shared ? '' : ' or optimizer.retrainLearningRate';
    const ctx = {
      config: this.config,
      data: this.train,
      buffers: this.buffers,
      learningRateHint: `${stepSizeKey(this.config, this.shared)}${retrainKey}`,
      batchLoss: (n: TrainerNet, b: BatchInputs) => this.batchLoss(n, b),
    };
    return trainEpoch(ctx, net, epoch, plan);
  }

  /** The validate phase: rSum and recalls of network 0 on the validation split (undefined without one). */
  protected async validate(epoch: number): Promise<ValidationRecord | undefined> {
    const every = this.config.validateEvery;
    if (!this.validation || every === 0) return undefined;
    if (epoch >= 0 && (epoch + 1) % every !== 0 && epoch !== this.config.epochs - 1) return undefined;
    return validationRecord(this.nets[0]!.model, this.validation, {
      epoch,
      learningRate: () => stepSizeKey(this.config, this.shared),
    });
  }

  // ------------------------------------------------------------------------------------- pieces

  /** The loss of one batch for one network (inside the optimizer's closure; `retrain.ts`). */
  protected batchLoss(net: TrainerNet, b: BatchInputs): tf.Scalar {
    return batchObjective(net, b, this.config, (img, cap) => this.auxiliaryLoss(net, img, cap, b));
  }

  /** The weighted sum of the enabled auxiliary tasks (0 when none is on; `warmup.ts`). */
  protected auxiliaryLoss(
    net: TrainerNet,
    img: Embedding,
    cap: Embedding,
    b: Pick<BatchInputs, 'labels' | 'targets' | 'siblings' | 'rng'>,
  ): tf.Scalar {
    return auxiliaryLoss(net, img, cap, b, this.config.warmup);
  }

  /** The network that scores `net`'s pairs: its peer with `split.source: 'peer'`, else itself. */
  private scorer(net: TrainerNet): TrainerNet {
    return this.config.split.source === 'peer' ? this.nets[1 - net.index]! : net;
  }

  /**
   * Score and split every network, applying the EMA of the losses. Once the split is frozen
   * (`split.freezeAfter`) the last losses are reused, so the mixture and P(clean) repeat exactly (also
   * after a resume: the losses are part of the checkpoint).
   */
  private async splitAll(epoch: number): Promise<SplitResult[]> {
    const splits: SplitResult[] = [];
    const { ema, freezeAfter } = this.config.split;
    const frozen = splitFrozen(epoch, this.warmupLength, freezeAfter);
    const withNull = this.mixtureKind() === 'local-fdr';
    for (const net of this.nets) {
      const prev = this.state.scoreEma[net.index];
      const prevNull = this.state.nullEma[net.index];
      let scores: Float64Array;
      let nulls: Float64Array | undefined;
      if (frozen && prev) {
        scores = prev;
        nulls = prevNull;
      } else {
        // the learned score and its null read the same means: embed the training set once
        const emb = withNull ? scoreEmbeddings(this.config, this.train, this.scorer(net)) : undefined;
        scores = smoothScores(await this.scorePairs(net, epoch, emb), prev, ema);
        this.state.scoreEma[net.index] = scores;
        if (withNull) {
          nulls = smoothScores(nullScores(this.config, this.train, this.scorer(net), emb), prevNull, ema);
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

  /** The input-space score blended into `scores` (`shared-space.ts`); `scores` alone without a shared space. */
  private withInputScore(scores: Float64Array, nulls?: Float64Array): BlendedScores {
    const candidates = inputWeightCandidates(this.config, this.shared, nulls !== undefined);
    return blendInputScore(scores, nulls, candidates, () => {
      this.inputScoreCache ??= computeInputScores(this.config, this.train, this.nets[0]!.model);
      return this.inputScoreCache;
    });
  }

  /** `zero-shot`: no epochs; the model is the untrained adapter, the split the input-cosine one. */
  private async zeroShotResult(): Promise<FitResult> {
    await this.emit('onFitStart');
    const net = this.nets[0]!;
    const nulls = this.mixtureKind() === 'local-fdr' ? nullScores(this.config, this.train, net) : undefined;
    const blended = this.withInputScore(learnedScores(this.config, this.train, net, 0), nulls);
    const split = this.splitPairs(net, blended.scores, blended.nullScores);
    this.state.posterior[0] = split.posterior;
    this.state.lastSplit = [split];
    this.state.targets[0] = Float32Array.from(split.posterior);
    await this.emit('onSplit', split, 0);
    const result = this.result();
    await this.emit('onFitEnd', result);
    return result;
  }

  /** Whether this run treats its inputs as one shared space (see {@link sharedSpace}). */
  private get shared(): boolean {
    return this.sharedSpace?.used === true;
  }

  /** `patience`, or `adapter.patience` on a shared space. */
  private patience(): number {
    return this.sharedSpace?.used ? this.config.adapter.patience : this.config.patience;
  }

  /** Build a network: model (input statistics fitted on the training features), optimizer, aux heads (`net.ts`). */
  protected buildNet(tag: string, index: number): TrainerNet {
    return buildNet(this.config, this.train, { tag, index, sharedSpace: this.shared });
  }

  /** After the warm-up: switch the learning rate, optionally re-initialise the networks. */
  private onWarmupEnd(): void {
    const c = this.config;
    if (c.retrain.reinitialize) {
      this.nets = this.nets.map((net) => {
        disposeNet(net);
        return this.buildNet(`net${net.index}/retrain`, net.index);
      });
    }
    const lr = retrainStepSize(this.config, this.shared);
    if (lr !== undefined) for (const net of this.nets) net.optimizer.setLearningRate(lr);
  }

  /**
   * Warm-up epochs of this run: `warmupEpochs`, or 0 on a shared space, where the inputs' own alignment
   * already is the clean pattern a warm-up would learn (training on every pair first would only teach
   * the adapters the noise), so the split starts from the input-space score at epoch 0. The auxiliary
   * tasks stay off there too (see README, "Inputs that already share a space").
   */
  protected get warmupLength(): number {
    return this.sharedSpace?.used ? 0 : this.config.warmupEpochs;
  }

  private result(): FitResult {
    const best = this.state.best;
    const model: CrossModalModel = this.nets[0]!.model.clone();
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

  /** A 32-bit seed derived from `config.seed` and a label. */
  protected runSeed(label: string): number {
    return derivedSeed(this.config.seed, label);
  }

  private emit<K extends keyof TrainerCallback>(hook: K, ...args: HookArgs<K>): Promise<void> {
    const context = (): TrainerContext => ({
      config: this.config,
      train: this.train,
      validation: this.validation,
      nets: this.nets,
      history: this.history,
    });
    return emitHook(this.callbacks, context, hook, ...args);
  }

  /** Continue from the latest checkpoint in `dir` (networks, run state, the last splits, the step size). */
  private async restore(dir: string): Promise<void> {
    const loaded = await restoreRunState(dir, this.config, this.nets, this.state);
    if (!loaded) return;
    const s = this.state;
    // the last split, so that a run resumed after its final epoch still has it (the mixture figure)
    const refit = (net: number, scores: Float64Array, nulls: Float64Array) => {
      const owner = this.nets[net];
      return owner ? this.splitPairs(owner, scores, nulls) : undefined;
    };
    s.lastSplit = restoreSplits(
      loaded.splits ?? [],
      loaded.arrays,
      this.config.split,
      this.mixtureKind(),
      refit,
    );
    const lr = retrainStepSize(this.config, this.shared);
    if (lr !== undefined && s.startEpoch > this.warmupLength) {
      for (const net of this.nets) net.optimizer.setLearningRate(lr);
    }
    log().info({ dir, epoch: loaded.epoch }, 'resumed from checkpoint');
  }
}
