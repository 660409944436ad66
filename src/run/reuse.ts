/**
 * Reuse a saved model (the `--out` folder of `cleave train` or `cleave audit`): evaluate it on a split
 * (`cleave eval`), or give new pairs P(clean), their score and their uncertainty (`cleave score`).
 *
 * Data are loaded as `cleave train` loads them: a dataset without a `test` split gets the same seeded
 * split (`DEFAULT_SPLIT`, or `evaluationSplit`), so `--split test` is the run's test split and
 * `evaluateSavedModel` reproduces the run's `report.json` test section exactly (both call
 * `modelTestSection`). To score a train run's own (noised) training pairs, pass its
 * `noise-index.json` as `noiseIndex` with `split: 'train'`.
 *
 * @example
 * ```ts
 * import { evaluateSavedModel, scoreWithSavedModel } from 'cleave';
 * const test = await evaluateSavedModel({ model: 'runs/wiki', data: 'wikipedia-xmodal' });
 * const { pClean } = await scoreWithSavedModel({ model: 'runs/audit', data: 'new-scrape/' });
 * ```
 */
import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { backendChoiceSchema } from '../core/backend/index.js';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { randomSplitSchema } from '../core/dataset/splits.js';
import { DataError, OutputError, parseOrThrow } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { formatCsv } from '../core/io/csv.js';
import { getLogger } from '../core/logger.js';
import { CrossModalModel } from '../core/model/model.js';
import { applyNoiseIndex } from '../noise/inject.js';
import { loadNoiseIndex } from '../noise/noise-index.js';
import { embedDataset } from '../trainer/embed.js';
import type { TestSection } from './report.js';
import {
  dataInputSchema,
  dataInputSource,
  loadDataInput,
  OutputGuard,
  withEvaluationSplits,
} from './source.js';
import { loadSplitState, pairDigest, scoreWithSplit, splitScoresOf } from './split-state.js';
import { ensureBackend, modelTestSection, pairUncertainty } from './train-and-report.js';

const common = {
  /** The model folder (`model.json` + `weights.bin`; `split.json` for scoring). */
  model: z.string().min(1),
  /** A bundled dataset name, a manifest, a clip-retrieval folder, or a loaded dataset. */
  data: dataInputSchema,
  /** The split used when the data has no `test` split (default `DEFAULT_SPLIT`, as `cleave train`). */
  evaluationSplit: randomSplitSchema.optional(),
  backend: backendChoiceSchema.optional(),
};

/** Options of {@link evaluateSavedModel}. */
export const evaluateSavedModelOptionsSchema = z
  .object({
    ...common,
    /** The split to evaluate on. */
    split: z.string().min(1).default('test'),
    /** With more than 1: the "1K" protocol (images in that many folds, mean of the folds). */
    folds: z.number().int().min(1).optional(),
  })
  .strict();
/** Options of {@link evaluateSavedModel}, as written. */
export type EvaluateSavedModelOptions = z.input<typeof evaluateSavedModelOptionsSchema>;

/** Options of {@link scoreWithSavedModel}. */
export const scoreSavedModelOptionsSchema = z
  .object({
    ...common,
    /** Score only this split (e.g. `train`; the data then gets the evaluation split); default every pair. */
    split: z.string().min(1).optional(),
    /** A noise index (`noise-index.json` of a train run) replayed on the data before scoring. */
    noiseIndex: z.string().min(1).optional(),
  })
  .strict();
/** Options of {@link scoreWithSavedModel}, as written. */
export type ScoreSavedModelOptions = z.input<typeof scoreSavedModelOptionsSchema>;

/** What {@link scoreWithSavedModel} returns, one entry per scored pair (pair order). */
export interface SavedModelScores {
  /** P(clean) under the saved split. */
  pClean: Float64Array;
  /** The raw per-pair score (higher = worse). */
  scores: Float64Array;
  /** Mean σ² of the pair's image and caption (probabilistic head), else undefined. */
  uncertainty: Float64Array | undefined;
  /** Id of each pair (metadata key, else the pair index). */
  ids: string[];
  /** `training-pairs`: recognised as the model's training pairs (their saved scores); `model`: scored by the saved model. */
  scoredBy: 'training-pairs' | 'model';
}

const log = () => getLogger('run');

async function loadModelFor(dir: string, data: PairDataset): Promise<CrossModalModel> {
  const model = await CrossModalModel.load(dir);
  const c = model.getConfig();
  const imageDim = c.image.inputDim;
  const captionDim = c.text.inputDim;
  // a text encoder over token ids needs captions as ids of a vocabulary it knows, else the widths match
  const tokens = c.textTokens;
  const vocab = data.tokenVocabSize;
  const captionsFit = tokens
    ? data.hasCaptionTokens && (vocab ?? 0) <= tokens.vocabSize
    : captionDim === data.captionDim;
  if (imageDim !== data.imageDim || !captionsFit) {
    model.dispose();
    const wants = tokens
      ? `captions as token ids of a ${tokens.vocabSize}-word vocabulary`
      : `${captionDim}-d captions`;
    const ids = data.hasCaptionTokens
      ? `token ids${vocab ? ` of a ${vocab}-word vocabulary` : ''}`
      : 'no token ids';
    const has = tokens
      ? `${data.imageDim}-d images and ${ids}`
      : `${data.imageDim}-d and ${data.captionDim}-d`;
    throw new DataError(
      `the model takes ${imageDim}-d images and ${wants}, the data has ${has}; give the data the model was trained on`,
      { file: dir },
    );
  }
  return model;
}

/**
 * Evaluate a saved model on one split of `data`: the `test` section of a run report (recalls, class
 * mAP when labelled).
 * @throws DataError when the model's input widths differ from the data's, or the split is missing
 *
 * @example
 * ```ts
 * const test = await evaluateSavedModel({ model: 'runs/wiki', data: 'wikipedia-xmodal', folds: 5 });
 * ```
 */
export async function evaluateSavedModel(options: EvaluateSavedModelOptions): Promise<TestSection> {
  const opts = parseOrThrow(evaluateSavedModelOptionsSchema, options, 'eval options');
  await ensureBackend(opts.backend);
  const source = dataInputSource(opts.data);
  const data = withEvaluationSplits(await loadDataInput(opts.data, source), opts.evaluationSplit);
  const split = data.split(opts.split);
  const model = await loadModelFor(opts.model, split);
  try {
    return await modelTestSection(model, split, opts.folds !== undefined ? { folds: opts.folds } : {});
  } finally {
    model.dispose();
  }
}

/**
 * P(clean), the per-pair score and the uncertainty of pairs under a saved model and its saved split
 * (see `split-state` for which score each pair gets).
 * @throws DataError when the model folder has no `split.json`, or the widths differ
 *
 * @example
 * ```ts
 * const r = await scoreWithSavedModel({ model: 'runs/audit', data: 'scraped/' });
 * r.scoredBy;   // 'training-pairs': the audit's own pairs give back its P(clean) exactly
 * ```
 */
export async function scoreWithSavedModel(options: ScoreSavedModelOptions): Promise<SavedModelScores> {
  const opts = parseOrThrow(scoreSavedModelOptionsSchema, options, 'score options');
  await ensureBackend(opts.backend);
  const state = await loadSplitState(opts.model);
  const source = dataInputSource(opts.data);
  let data = await loadDataInput(opts.data, source);
  if (opts.split || opts.noiseIndex) data = withEvaluationSplits(data, opts.evaluationSplit);
  if (opts.noiseIndex) data = applyNoiseIndex(data, await loadNoiseIndex(opts.noiseIndex)).dataset;
  const pairs = opts.split ? data.split(opts.split) : data.splitNames.length ? data.withSplits({}) : data;
  const model = await loadModelFor(opts.model, pairs);
  try {
    const emb = embedDataset(model, pairs);
    const known =
      pairs.numPairs === state.json.trainingPairs && pairDigest(pairs) === state.json.trainingDigest;
    const s = state.json.score;
    const scores = known ? state.trainingScores : splitScoresOf(model, pairs, state.json, emb);
    if (!known && s.classWeight > 0 && pairs.labels) {
      log().warn('score: new pairs are scored without the class-consistency term (its heads are not saved)');
    }
    const ids = Array.from(
      { length: pairs.numPairs },
      (_, j) => pairs.captionId(j) ?? pairs.imageId(pairs.captionToImage[j]!) ?? String(j),
    );
    return {
      pClean: scoreWithSplit(state, scores),
      scores: Float64Array.from(scores),
      uncertainty: pairUncertainty(emb, pairs),
      ids,
      scoredBy: known ? 'training-pairs' : 'model',
    };
  } finally {
    model.dispose();
  }
}

/**
 * Write scores from {@link scoreWithSavedModel} as CSV (`.csv`) or JSON lines (`.jsonl`): columns
 * `pair`, `id`, `p_clean`, `score`, `uncertainty` (empty without a probabilistic head), pair order;
 * numbers in shortest round-trip form, so the file gives back the exact values. Atomic; refuses a path
 * inside the data's input folder.
 * @throws OutputError for another extension, or a path inside the input
 *
 * @example
 * ```ts
 * await writeSavedModelScores('scores.csv', await scoreWithSavedModel(opts), 'new-scrape/');
 * ```
 */
export async function writeSavedModelScores(
  path: string,
  result: SavedModelScores,
  data: z.input<typeof dataInputSchema>,
): Promise<string> {
  const format = extname(path).toLowerCase();
  if (format !== '.csv' && format !== '.jsonl') {
    throw new OutputError(
      `${path}: write scores to a .csv or .jsonl file (give --out a .csv or .jsonl name)`,
      path,
    );
  }
  const guard = new OutputGuard(dirname(resolve(path)), dataInputSource(data));
  const target = guard.path(basename(path));
  const columns = ['pair', 'id', 'p_clean', 'score', 'uncertainty'];
  const rows = Array.from(result.pClean, (p, j) => [
    j,
    result.ids[j]!,
    p,
    result.scores[j]!,
    result.uncertainty ? result.uncertainty[j]! : null,
  ]);
  const text =
    format === '.csv'
      ? formatCsv([columns, ...rows])
      : `${rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i]])))).join('\n')}\n`;
  await writeFileAtomic(target, text, { protect: guard.protect });
  return target;
}
