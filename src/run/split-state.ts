/**
 * The clean/noisy split saved beside a model, so that a saved model can score pairs it has never seen
 * (`cleave score`): how the per-pair score was computed, the score normalisation (`LossScaling` of
 * `normaliseLosses`), the fitted mixture, and the scores of the training pairs themselves.
 *
 * Files (written by `trainAndReport` for a method that splits, and by `auditPairs`):
 *
 * | file | what |
 * |---|---|
 * | `split.json` | {@link SplitStateJSON}: score settings, scaling, mixture (its `toJSON`), monotone flag, the training pairs' count and digest |
 * | `split-scores.npy` | float64, the per-pair scores the last split's mixture was fitted to, training-pair order |
 *
 * P(clean) of a score s is `mixture.monotonePosterior(applyScaling([s], scaling))` (or `posterior` when
 * not monotone) — exactly what the trainer computes. Which score: the training pairs were scored
 * *out of fold* (held-out models) or by a peer, which the saved model cannot redo, so pairs recognised as
 * the training pairs (same count, same {@link pairDigest}) get their saved scores; any other pairs are
 * scored by the saved model (the trainer's `pairScores` with the saved settings) — a model that never
 * trained on them, which is what an out-of-fold score is. The class-consistency term needs heads that are
 * not saved, so new pairs are scored without it.
 *
 * @example
 * ```ts
 * import { loadSplitState, scoreWithSplit } from 'cleave/run';
 * const state = await loadSplitState('runs/audit');
 * const pClean = scoreWithSplit(state, Float64Array.of(2.1, 5.3));
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { DataError, parseOrThrow } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { readNpy, writeNpy } from '../core/io/npy.js';
import { getLogger } from '../core/logger.js';
import type { CrossModalModel } from '../core/model/model.js';
import { inputCosines } from '../eval/shared-space.js';
import { BetaMixture } from '../mixture/beta.js';
import { GaussianMixture } from '../mixture/gaussian.js';
import { LocalFdrSplit } from '../mixture/local-fdr.js';
import { applyScaling, type LossScaling, normaliseMethodSchema } from '../mixture/normalise.js';
import { splitScoreSchema, type TrainerConfig } from '../trainer/config.js';
import type { DatasetEmbeddings } from '../trainer/embed.js';
import { blendScores, inputPairScores, pairScores } from '../trainer/scoring.js';
import type { SplitResult } from '../trainer/types.js';

/** `split.json`. */
export const splitStateSchema = z
  .object({
    format: z.literal('cleave-split'),
    version: z.literal(1),
    /** How the trainer scored pairs for the split (its `split` config). */
    score: z
      .object({
        kind: splitScoreSchema,
        source: z.string(),
        temperature: z.number(),
        block: z.number().int(),
        margin: z.number(),
        seed: z.number().int(),
        classWeight: z.number(),
      })
      .strict(),
    scaling: z
      .object({
        method: normaliseMethodSchema,
        low: z.number(),
        high: z.number(),
        clip: z.number(),
      })
      .strict(),
    mixture: z.record(z.string(), z.unknown()),
    /**
     * On a shared space: the input-space score's weight in the split's score and, when it is blended
     * (0 < weight < 1), the standardisation of each part (see the trainer's `split.inputWeight`).
     */
    input: z
      .object({
        weight: z.number().min(0).max(1),
        temperature: z.number().positive(),
        blend: z
          .object({
            input: z.object({ mean: z.number(), sd: z.number() }).strict(),
            learned: z.object({ mean: z.number(), sd: z.number() }).strict(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    monotone: z.boolean(),
    trainingPairs: z.number().int().min(0),
    /** {@link pairDigest} of the training pairs. */
    trainingDigest: z.string(),
  })
  .strict();
/** `split.json`, parsed. */
export type SplitStateJSON = z.output<typeof splitStateSchema>;

/** A loaded split state: the JSON, the live mixture, and the training pairs' scores. */
export interface SplitState {
  json: SplitStateJSON;
  mixture: BetaMixture | GaussianMixture | LocalFdrSplit;
  /** The per-pair scores of the training pairs (`split-scores.npy`). */
  trainingScores: Float64Array;
}

/**
 * SHA-256 over every pair's image row and caption row (float32 bytes, pair order; in blocks of 4096
 * pairs, the block's image rows then its caption rows): equal digests mean the same pairs in the same
 * order. Captions that are token ids only (a raw-caption `*_precomp` folder) enter as each caption's
 * length and ids (int32 bytes). Rows are hashed in place, without copies.
 *
 * @example
 * ```ts
 * pairDigest(data.train);   // 'sha256:3f2a…'
 * ```
 */
export function pairDigest(data: PairDataset): string {
  const hash = createHash('sha256');
  const bytes = (v: Float32Array | Int32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const features = data.hasCaptionFeatures;
  const length = new Int32Array(1);
  const step = 4096;
  for (let start = 0; start < data.numPairs; start += step) {
    const end = Math.min(data.numPairs, start + step);
    for (let j = start; j < end; j++) hash.update(bytes(data.imageRow(data.captionToImage[j]!)));
    for (let j = start; j < end; j++) {
      if (features) hash.update(bytes(data.captionRow(j)));
      else {
        const ids = data.captionTokens(j);
        length[0] = ids.length;
        hash.update(bytes(length));
        hash.update(bytes(ids));
      }
    }
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * P(clean) of raw per-pair scores under a saved split: scale, then the mixture's (monotone) posterior.
 *
 * @example
 * ```ts
 * scoreWithSplit(await loadSplitState('runs/audit'), state.trainingScores);   // = posteriors of the run
 * ```
 */
export function scoreWithSplit(
  state: Pick<SplitState, 'json' | 'mixture'>,
  scores: ArrayLike<number>,
): Float64Array {
  const values = applyScaling(Float64Array.from(scores), state.json.scaling as LossScaling);
  return state.json.monotone ? state.mixture.monotonePosterior(values) : state.mixture.posterior(values);
}

/**
 * The per-pair score a saved split was fitted to, computed for other pairs with the saved model and
 * settings: the model's score (`pairScores`), or on a shared space the input-space InfoNCE, or their
 * blend with the saved standardisation; `input-cosine` is 1 − the inputs' cosine. Relative scores
 * (InfoNCE) are relative to the given pairs.
 *
 * @example
 * ```ts
 * const scores = splitScoresOf(model, newPairs, (await loadSplitState('runs/audit')).json);
 * ```
 */
export function splitScoresOf(
  model: CrossModalModel,
  pairs: PairDataset,
  json: SplitStateJSON,
  embeddings?: DatasetEmbeddings,
): Float64Array {
  const s = json.score;
  if (s.kind === 'input-cosine') return inputCosines(pairs).map((c) => 1 - c);
  const learned = () =>
    pairScores(model, pairs, {
      score: s.kind as Exclude<typeof s.kind, 'input-cosine'>,
      temperature: s.temperature,
      block: s.block,
      margin: s.margin,
      seed: s.seed,
      ...(embeddings ? { embeddings } : {}),
    });
  const input = json.input;
  if (!input || input.weight === 0) return learned();
  const inputScores = inputPairScores(pairs, {
    temperature: input.temperature,
    block: s.block,
    seed: s.seed,
  });
  if (input.weight === 1 || !input.blend) return inputScores;
  return blendScores(inputScores, learned(), input.weight, input.blend);
}

/**
 * Write `split.json` and `split-scores.npy` for the last split of a run on `train` (see the module
 * documentation); warns when the saved state does not reproduce the split's posterior.
 * @returns the files written (relative to `dir`)
 *
 * @example
 * ```ts
 * await saveSplitState(outDir, fit.split!, config, data.train, { protect: out.protect });
 * ```
 */
export async function saveSplitState(
  dir: string,
  split: SplitResult,
  config: TrainerConfig,
  train: PairDataset,
  options: { protect?: readonly string[] } = {},
): Promise<string[]> {
  const s = config.split;
  const scaling = split.scaling;
  const json: SplitStateJSON = {
    format: 'cleave-split',
    version: 1,
    score: {
      kind: s.score,
      source: s.source,
      temperature: s.scoreTemperature,
      block: s.scoreBlock,
      margin: config.retrain.margin,
      seed: config.seed,
      classWeight: s.classWeight,
    },
    scaling,
    mixture: (split.mixture instanceof LocalFdrSplit
      ? split.mixture.toState()
      : split.mixture.toJSON()) as unknown as Record<string, unknown>,
    ...(split.inputWeight !== undefined
      ? {
          input: {
            weight: split.inputWeight,
            temperature: s.inputTemperature,
            ...(split.blend ? { blend: split.blend } : {}),
          },
        }
      : {}),
    monotone: s.monotone,
    trainingPairs: train.numPairs,
    trainingDigest: pairDigest(train),
  };
  const again = scoreWithSplit({ json, mixture: split.mixture }, split.scores);
  let worst = 0;
  for (let j = 0; j < again.length; j++) worst = Math.max(worst, Math.abs(again[j]! - split.posterior[j]!));
  if (worst > 0) {
    getLogger('run').warn(
      { worst },
      'split.json: the saved scaling and mixture do not reproduce P(clean) exactly',
    );
  }
  const protect = { protect: [...(options.protect ?? [])] };
  await writeFileAtomic(join(dir, 'split.json'), `${JSON.stringify(json, null, 2)}\n`, protect);
  await writeNpy(join(dir, 'split-scores.npy'), split.scores, [split.scores.length], protect);
  return ['split.json', 'split-scores.npy'];
}

/**
 * Read `split.json` and `split-scores.npy` from a model folder.
 * @throws DataError naming the file when one is missing or does not validate (a model saved by a
 *   method that does not split has none)
 *
 * @example
 * ```ts
 * const state = await loadSplitState('runs/wiki');
 * state.json.scaling;   // { method: 'minmax', low, high, clip }
 * ```
 */
export async function loadSplitState(dir: string): Promise<SplitState> {
  const path = join(dir, 'split.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new DataError(
      `cannot read the saved split (${(e as Error).message}); score needs a model from cleave audit, or cleave train with refurb or ncr-like`,
      { file: path },
    );
  }
  const json = parseOrThrow(splitStateSchema, raw, path);
  const type = json.mixture.type;
  const mixture =
    type === 'GaussianMixture'
      ? GaussianMixture.fromJSON(json.mixture)
      : type === 'LocalFdrSplit'
        ? LocalFdrSplit.fromState(json.mixture)
        : BetaMixture.fromJSON(json.mixture);
  const scoresPath = join(dir, 'split-scores.npy');
  let trainingScores: Float64Array;
  try {
    trainingScores = Float64Array.from((await readNpy(scoresPath)).data as ArrayLike<number>);
  } catch (e) {
    throw new DataError(`cannot read the training pairs' scores (${(e as Error).message})`, {
      file: scoresPath,
    });
  }
  if (trainingScores.length !== json.trainingPairs) {
    throw new DataError(
      `${trainingScores.length} scores for ${json.trainingPairs} training pairs (split.json)`,
      {
        file: scoresPath,
      },
    );
  }
  return { json, mixture, trainingScores };
}
