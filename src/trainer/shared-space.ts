/**
 * Inputs that already share a space (CLIP-embedded pairs): whether the run treats them so
 * (`sharedSpace`), and the input-space score blended into the split (`split.inputWeight`).
 *
 * | piece | what it decides |
 * |---|---|
 * | {@link resolveSharedSpace} | shared space used or not (detection, forced values, zero-shot's needs) |
 * | {@link inputWeightCandidates} | the weights w of the input-space score to try |
 * | {@link computeInputScores} | the inputs' own per-pair InfoNCE and its random-pair null |
 * | {@link blendInputScore} | w·z(input) + (1 − w)·z(learned), w chosen by the estimated split AUC |
 *
 * @example
 * ```ts
 * const shared = resolveSharedSpace(config, train);
 * const candidates = inputWeightCandidates(config, shared.used, true);   // [0, 0.25, 0.5, 0.75, 1]
 * ```
 */
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { ConfigError, DataError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import type { CrossModalModel } from '../core/model/model.js';
import { detectSharedSpace, type SharedSpaceDetection } from '../eval/shared-space.js';
import { estimatedSplitAuc } from '../mixture/local-fdr.js';
import type { TrainerConfig } from './config.js';
import { inputEmbeddings } from './embed.js';
import { derivedSeed } from './net.js';
import { blendScores, inputPairScores, nullPairScores, scoreStandardisation } from './scoring.js';
import type { SplitResult } from './types.js';

const log = () => getLogger('trainer');

/** What the shared-space test found on the training pairs, and whether the run uses it. */
export type SharedSpaceUse = SharedSpaceDetection & { used: boolean };

/**
 * Resolve `config.sharedSpace` on the training pairs: the detection is always run (and logged).
 * @throws ConfigError for a forced `true` on inputs of different widths
 * @throws DataError for `zero-shot` without a shared space
 *
 * @example
 * ```ts
 * resolveSharedSpace(resolveTrainerConfig({}), data.train).used;   // true for CLIP features
 * ```
 */
export function resolveSharedSpace(config: TrainerConfig, train: PairDataset): SharedSpaceUse {
  const c = config;
  const found = detectSharedSpace(train, { seed: derivedSeed(c.seed, 'shared-space') });
  const widthsDiffer = Number.isNaN(found.alignedShare) && found.pairsChecked === 0;
  let used = c.sharedSpace === 'auto' ? found.shared : c.sharedSpace;
  if (c.method === 'zero-shot' && !found.shared && c.sharedSpace !== false && !widthsDiffer) {
    used = true; // forced by the preset: the detection is reported, not a veto
  }
  if (used && widthsDiffer && c.method === 'zero-shot') {
    throw new DataError(
      `'${train.name}': method 'zero-shot' needs image and caption vectors in one space (${found.reason}); use 'vse' or 'refurb'`,
    );
  }
  if (used && widthsDiffer) {
    throw new ConfigError(`sharedSpace: true, but ${found.reason}; set sharedSpace to 'auto' or false`, [
      { path: 'sharedSpace', message: found.reason },
    ]);
  }
  if (c.method === 'zero-shot' && !used) {
    throw new DataError(
      `'${train.name}': method 'zero-shot' needs a shared space, but sharedSpace is false; set sharedSpace to 'auto' or true, or use 'vse' or 'refurb'`,
    );
  }
  log().info({ shared: found.shared, used, alignedShare: found.alignedShare }, found.reason);
  return { ...found, used };
}

/**
 * The weights of the input-space score to consider ([0] without a shared space or with the
 * `input-cosine` score): the configured one, or for `auto` the candidates {0, ¼, ½, ¾, 1} when a
 * random-pair null can choose among them, else ½.
 *
 * @example
 * ```ts
 * inputWeightCandidates(resolveTrainerConfig({}), true, false);   // [0.5]
 * ```
 */
export function inputWeightCandidates(
  config: TrainerConfig,
  sharedSpace: boolean,
  withNull: boolean,
): number[] {
  const w = config.split.inputWeight;
  if (!sharedSpace || config.split.score === 'input-cosine') return [0];
  if (w !== 'auto') return [w];
  return withNull ? [0, 0.25, 0.5, 0.75, 1] : [0.5];
}

/** The input-space per-pair score and its random-pair null. */
export interface InputScores {
  scores: Float64Array;
  nullScores: Float64Array;
}

/**
 * The input-space per-pair score and its random-pair null: symmetric InfoNCE of the inputs
 * themselves (the zero-shot model's score) at `split.inputTemperature`. The same for every epoch of
 * a fit (compute it once).
 *
 * @example
 * ```ts
 * const input = computeInputScores(config, train, nets[0].model);
 * ```
 */
export function computeInputScores(
  config: TrainerConfig,
  train: PairDataset,
  model: CrossModalModel,
): InputScores {
  const s = config.split;
  const common = {
    temperature: s.inputTemperature,
    block: s.scoreBlock,
    seed: derivedSeed(config.seed, 'scores/null'),
    embeddings: inputEmbeddings(train),
  };
  return {
    scores: inputPairScores(train, common),
    nullScores: nullPairScores(model, train, { ...common, draws: s.nullDraws }),
  };
}

/** What {@link blendInputScore} returns: the scores to split, their nulls, the weight chosen. */
export interface BlendedScores {
  scores: Float64Array;
  nullScores?: Float64Array;
  inputWeight: number;
  blend?: SplitResult['blend'];
}

/**
 * Blend the input-space score into the learned one, w·z(input) + (1 − w)·z(learned), each
 * standardised with the observed scores' mean and sd; the nulls go through the same maps. With
 * several `candidates`, the w whose blend has the highest clean-vs-noisy AUC estimated from the
 * random-pair null (`estimatedSplitAuc`) wins. `input` is only called when some w > 0.
 *
 * @example
 * ```ts
 * blendInputScore(learned, nulls, [0, 0.5, 1], () => input).inputWeight;
 * ```
 */
export function blendInputScore(
  scores: Float64Array,
  nullScores: Float64Array | undefined,
  candidates: number[],
  input: () => InputScores,
): BlendedScores {
  const blend = (w: number): Omit<BlendedScores, 'inputWeight'> => {
    if (w === 0) return nullScores ? { scores, nullScores } : { scores };
    const inputScores = input();
    if (w === 1) return inputScores;
    // the nulls go through the observed scores' standardisation
    const params = { input: scoreStandardisation(inputScores.scores), learned: scoreStandardisation(scores) };
    const blended = blendScores(inputScores.scores, scores, w, params);
    if (!nullScores) return { scores: blended, blend: params };
    return {
      scores: blended,
      nullScores: blendScores(inputScores.nullScores, nullScores, w, params),
      blend: params,
    };
  };
  let best: BlendedScores = { ...blend(candidates[0]!), inputWeight: candidates[0]! };
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
