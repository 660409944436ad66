/**
 * The score step's sources: which model scores the training pairs for a network's split, and the
 * random-pair null the `local-fdr` split compares them with. The per-pair losses themselves are
 * computed by `scoring.ts`.
 *
 * | `split.source` | scored by |
 * |---|---|
 * | `self` (default) | the network being trained (EMA-smoothed, frozen after `split.freezeAfter`) |
 * | `peer` | the other network of a co-training pair (NCR) |
 * | `heldout` | k-fold: each fold's pairs by a fresh model trained with the warm-up recipe on the other folds |
 *
 * @example
 * ```ts
 * const losses = learnedScores(config, train, net, epoch);   // higher = more likely noisy
 * ```
 */
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { getLogger } from '../core/logger.js';
import { Rng } from '../core/random.js';
import { inputCosines, unpairedCosines } from '../eval/shared-space.js';
import type { TrainerConfig } from './config.js';
import { type DatasetEmbeddings, embedDataset } from './embed.js';
import { derivedSeed, disposeNet } from './net.js';
import { matchEvidence, nullPairScores, pairScores } from './scoring.js';
import type { EpochPlan, TrainerNet } from './types.js';

const log = () => getLogger('trainer');

/**
 * Per-pair losses of the training pairs under network `net` (`split.score`, with the
 * class-consistency term when `split.classWeight` > 0 and the data has labels); for `input-cosine`,
 * 1 − cos of the inputs.
 *
 * @example
 * ```ts
 * learnedScores(config, train, nets[0], 3).length === train.numPairs;   // true
 * ```
 */
export function learnedScores(
  config: TrainerConfig,
  train: PairDataset,
  net: TrainerNet,
  epoch: number,
  embeddings?: DatasetEmbeddings,
): Float64Array {
  const s = config.split;
  if (s.score === 'input-cosine') return inputCosines(train).map((v) => 1 - v);
  const labels = train.labels;
  const classTerm =
    s.classWeight > 0 && labels && net.aux.hasClassHead
      ? { heads: net.aux, labels, scale: config.warmup.classPrediction.scale, weight: s.classWeight }
      : undefined;
  return pairScores(net.model, train, {
    score: s.score,
    temperature: s.scoreTemperature,
    block: s.scoreBlock,
    margin: config.retrain.margin,
    seed: derivedSeed(config.seed, `scores/epoch${epoch}`),
    ...(classTerm ? { classTerm } : {}),
    ...(embeddings ? { embeddings } : {}),
  });
}

/**
 * The means of the training set under network `net`, embedded once for both the learned score and
 * its random-pair null (`infonce`, the `local-fdr` split); undefined where nothing is embedded
 * (`input-cosine`) or the score reads σ² (`match`).
 *
 * @example
 * ```ts
 * const emb = scoreEmbeddings(config, train, net);
 * learnedScores(config, train, net, epoch, emb);
 * nullScores(config, train, net, emb);
 * ```
 */
export function scoreEmbeddings(
  config: TrainerConfig,
  train: PairDataset,
  net: TrainerNet,
): DatasetEmbeddings | undefined {
  const score = config.split.score;
  if (score === 'input-cosine' || score === 'match') return undefined;
  return embedDataset(net.model, train, { meansOnly: true });
}

/**
 * The learned score's random-pair null under network `net` (same blocks and partners every epoch,
 * so its EMA follows the same random pairs); for `input-cosine`, 1 − cos of random input pairs.
 *
 * @example
 * ```ts
 * const nulls = nullScores(config, train, nets[0]);
 * ```
 */
export function nullScores(
  config: TrainerConfig,
  train: PairDataset,
  net: TrainerNet,
  embeddings?: DatasetEmbeddings,
): Float64Array {
  const s = config.split;
  if (s.score === 'input-cosine') {
    const cos = unpairedCosines(train, { draws: s.nullDraws, seed: derivedSeed(config.seed, 'scores/null') });
    return cos.map((v) => 1 - v);
  }
  return nullPairScores(net.model, train, {
    temperature: s.scoreTemperature,
    block: s.scoreBlock,
    seed: derivedSeed(config.seed, 'scores/null'),
    draws: s.nullDraws,
    ...(embeddings ? { embeddings } : {}),
  });
}

/**
 * Whether the `heldout` source computes its scores at `epoch`: the first time, and with
 * `split.refreshEvery` = r > 0 every r epochs after the warm-up.
 *
 * @example
 * ```ts
 * heldoutDue(12, 10, 2, true);   // true: refreshed at epochs 12, 14, …
 * heldoutDue(11, 10, 2, true);   // false
 * ```
 */
export function heldoutDue(
  epoch: number,
  warmupLength: number,
  refreshEvery: number,
  computed: boolean,
): boolean {
  const refresh = refreshEvery > 0 && (epoch - warmupLength) % refreshEvery === 0;
  return !computed || (refresh && epoch > warmupLength);
}

/** What {@link heldoutScores} needs from the run. */
export interface HeldoutContext {
  config: TrainerConfig;
  train: PairDataset;
  /** The current P(clean) of network 0 (fold models weight their pairs by it), if any. */
  posterior: Float64Array | undefined;
  /** A fresh network (the run's recipe), seeded by `tag`. */
  buildNet: (tag: string) => TrainerNet;
  /** One training epoch of `net`. */
  trainEpoch: (net: TrainerNet, epoch: number, plan: EpochPlan) => Promise<number>;
}

/**
 * k-fold held-out losses: each fold's pairs scored by a fresh model trained with the warm-up recipe
 * (`split.foldEpochs`, default `warmupEpochs`) on the other folds, weighted by the current P(clean)
 * when there is one; folds drawn once from `config.seed`.
 *
 * @example
 * ```ts
 * const losses = await heldoutScores(ctx, epoch);
 * ```
 */
export async function heldoutScores(ctx: HeldoutContext, epoch: number): Promise<Float64Array> {
  const { config, train } = ctx;
  const s = config.split;
  const n = train.numPairs;
  const fold = new Rng(config.seed)
    .fork('folds')
    .permutation(n)
    .map((v) => v % s.folds);
  const weights = ctx.posterior;
  const out = new Float64Array(n);
  for (let k = 0; k < s.folds; k++) {
    const tag = `fold${k}/at${epoch}`;
    const foldNet = ctx.buildNet(tag);
    try {
      const pairs = Int32Array.from({ length: n }, (_, j) => j).filter((j) => fold[j] !== k);
      const targets = weights ? Float32Array.from(pairs, (j) => weights[j]!) : undefined;
      const epochs = s.foldEpochs ?? Math.max(1, config.warmupEpochs);
      for (let e = 0; e < epochs; e++) {
        await ctx.trainEpoch(foldNet, e, {
          pairs,
          ...(targets ? { targets } : {}),
          loss: config.warmup.loss,
          auxiliary: true,
          tag,
        });
      }
      const scores = learnedScores(config, train, foldNet, epoch);
      for (let j = 0; j < n; j++) if (fold[j] === k) out[j] = scores[j]!;
    } finally {
      disposeNet(foldNet);
    }
    log().debug({ fold: k, folds: s.folds }, 'held-out fold scored');
  }
  return out;
}

/**
 * The model's own match evidence p_model ∈ [0, 1] per training pair under network `net` (NCR's
 * soft-margin evidence), which the `ncr` relabel rule mixes into the targets.
 *
 * @example
 * ```ts
 * const evidence = modelEvidence(config, train, nets[0], epoch);
 * ```
 */
export function modelEvidence(
  config: TrainerConfig,
  train: PairDataset,
  net: TrainerNet,
  epoch: number,
): Float64Array {
  const emb = embedDataset(net.model, train);
  const all = Int32Array.from({ length: train.numPairs }, (_, j) => j);
  return matchEvidence(emb, train, all, {
    batchSize: config.batchSize,
    margin: config.retrain.margin,
    seed: derivedSeed(config.seed, `evidence/net${net.index}/epoch${epoch}`),
  });
}
