/**
 * The trainer's public types: its networks, what each step hands to the next (split → relabel →
 * retrain), the per-epoch records of `Trainer.history`, callbacks, and `fit`'s options and result.
 *
 * @example
 * ```ts
 * import type { EpochRecord, TrainerCallback } from 'cleave';
 * const logAuc: TrainerCallback = {
 *   onEpochEnd: (_ctx, record: EpochRecord) => console.log(record.epoch, record.split?.auc),
 * };
 * ```
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import type { CrossModalModel } from '../core/model/model.js';
import type { FusedAdam } from '../core/optim.js';
import type { Rng } from '../core/random.js';
import type { BetaMixture } from '../mixture/beta.js';
import type { GaussianMixture } from '../mixture/gaussian.js';
import type { LocalFdrSplit } from '../mixture/local-fdr.js';
import type { LossScaling } from '../mixture/normalise.js';
import type { AuxiliaryHeads } from './auxiliary.js';
import type { LossKind, TrainerConfig } from './config.js';

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

/** One entry of `Trainer.history`. */
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

/** Options of `Trainer.fit`. */
export interface FitOptions {
  /** Validation pairs (default: the dataset's `val` split when it has one). */
  validation?: PairDataset;
  /** Write a checkpoint here after every epoch (atomic), and the best model to `<dir>/best`. */
  checkpointDir?: string;
  /** Continue from the last checkpoint in `checkpointDir` when there is one. */
  resume?: boolean;
  /**
   * Stop with a `TrainingError` when the model has collapsed for this many validations in a row:
   * validation rSum at or below chance level *and* the validation images or captions all embedded at
   * one point (so a model that is merely weak on a tiny validation split is not stopped); default 3,
   * 0 turns the guard off.
   */
  collapsePatience?: number;
}

/** What `Trainer.fit` returns. */
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

/** One batch as the batch objective sees it (inside the optimizer's closure). */
export interface BatchInputs {
  images: tf.Tensor;
  captions: tf.Tensor2D;
  /** The pairs' targets y ∈ [0, 1]. */
  targets: tf.Tensor1D;
  /** The images' class labels, when the data has them. */
  labels: tf.Tensor1D | undefined;
  /** For caption–caption matching: another caption of the image of each row in `rows`. */
  siblings: { captions: tf.Tensor2D; rows: Int32Array } | undefined;
  loss: LossKind;
  /** Whether the auxiliary tasks are on. */
  auxiliary: boolean;
  rng: Rng;
}

/** What one training epoch runs over (the warm-up's and the retrain step's). */
export interface EpochPlan {
  /** The pairs to train on (default: all). */
  pairs?: Int32Array;
  /** Their targets, aligned with `pairs` (default: 1). */
  targets?: Float32Array;
  loss: LossKind;
  auxiliary: boolean;
  /** Names the network in seeds, progress and messages (`net0`, `fold1/at3`). */
  tag: string;
}
