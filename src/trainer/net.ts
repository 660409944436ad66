/**
 * A network of the trainer (model, optimizer, auxiliary heads): how one is built, how it is freed,
 * and the seeds every random choice derives from.
 *
 * @example
 * ```ts
 * const net = buildNet(config, train, { tag: 'net0', index: 0, sharedSpace: false });
 * // … train it …
 * disposeNet(net);
 * ```
 */
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { CrossModalModel } from '../core/model/model.js';
import { createOptimizer, type FusedAdam } from '../core/optim.js';
import { Rng } from '../core/random.js';
import { AuxiliaryHeads } from './auxiliary.js';
import { textEncoderOptions } from './caption-input.js';
import type { TrainerConfig } from './config.js';
import type { TrainerNet } from './types.js';

/**
 * A 31-bit seed derived from `seed` (the run's `config.seed`) and a label, e.g. `net0/init`.
 *
 * @example
 * ```ts
 * derivedSeed(0, 'net0/batches') === derivedSeed(0, 'net0/batches');   // true
 * ```
 */
export function derivedSeed(seed: number, label: string): number {
  return new Rng(seed).fork(label).uint32() & 0x7fffffff;
}

/**
 * Build a network on the training pairs: the model (input statistics fitted on the training
 * features), its Adam optimizer and its auxiliary heads, every initial weight seeded from
 * `config.seed` and `tag`. On a shared space both encoders are residual adapters that keep the
 * inputs' width (`config.adapter`).
 *
 * @example
 * ```ts
 * const net = buildNet(resolveTrainerConfig({}), data.train, { tag: 'net0', index: 0, sharedSpace: false });
 * ```
 */
export function buildNet(
  config: TrainerConfig,
  data: PairDataset,
  options: { tag: string; index: number; sharedSpace: boolean },
): TrainerNet {
  const c = config;
  const { tag, index } = options;
  const { text, textTokens } = textEncoderOptions(c, data);
  // On a shared space both encoders are residual adapters that keep the inputs' width.
  const shared = options.sharedSpace;
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
    seed: derivedSeed(c.seed, `${tag}/init`),
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

/**
 * Free a network's variables: its optimizer state and auxiliary heads, and its model unless
 * `keepModel` (the models that `fit` returns stay usable after `Trainer.dispose`).
 *
 * @example
 * ```ts
 * disposeNet(foldNet);                      // a temporary network: everything
 * disposeNet(net, { keepModel: true });     // the model was handed to the caller
 * ```
 */
export function disposeNet(net: TrainerNet, options: { keepModel?: boolean } = {}): void {
  if (!options.keepModel) net.model.dispose();
  net.optimizer.dispose();
  net.aux.dispose();
}

/**
 * The config key of the step size a run trains with, and its value, for error messages:
 * `adapter.learningRate` on a shared space, else `optimizer.learningRate`.
 *
 * @example
 * ```ts
 * stepSizeKey(resolveTrainerConfig({}), false);   // 'optimizer.learningRate (now 0.0003)'
 * ```
 */
export function stepSizeKey(config: TrainerConfig, sharedSpace: boolean): string {
  return sharedSpace
    ? `adapter.learningRate (now ${config.adapter.learningRate})`
    : `optimizer.learningRate (now ${config.optimizer.learningRate})`;
}

/**
 * The step size after the warm-up, when it differs from the warm-up's (adapters keep theirs).
 *
 * @example
 * ```ts
 * retrainStepSize(resolveTrainerConfig({}), false);   // 0.001 (the refurb preset)
 * ```
 */
export function retrainStepSize(config: TrainerConfig, sharedSpace: boolean): number | undefined {
  return sharedSpace ? undefined : config.optimizer.retrainLearningRate;
}
