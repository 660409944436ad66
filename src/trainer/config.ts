/**
 * The trainer's configuration: one zod schema, the single source of truth for every option (the
 * `cleave train` CLI and the API share it), with documented defaults and four method presets.
 *
 * A config is resolved in two steps: the user's object is merged over the chosen `method`'s preset
 * (user values win), then validated and completed with the defaults below. So
 * `{ method: 'vse' }` is a complete config, and `{ method: 'refurb', split: { mixture: 'gaussian' } }`
 * is the full pipeline with one component swapped (an ablation).
 *
 * Methods (one trainer, for fair comparison):
 * - `vse`: no noise handling: every pair is trained as clean for all epochs (deterministic head,
 *   InfoNCE). The floor every noisy-correspondence paper compares against.
 * - `ncr-like`: NCR's recipe: co-training of two networks, each split by a two-component *Gaussian*
 *   mixture on its peer's per-pair losses, corrected labels y′ = w + (1 − w)·p_model for the clean
 *   side, triplet loss with NCR's soft margin.
 * - `refurb` (default): alignment refurbishment: multi-task warm-up, then every epoch the per-pair
 *   losses of the model being trained itself (`split.source: 'self'`, EMA-smoothed by `split.ema`, the
 *   split frozen `split.freezeAfter` epochs after the warm-up), a *beta* mixture on them, soft labels =
 *   monotone posterior P(clean), and retraining with PCME++ probabilistic (uncertainty) heads on the soft
 *   labels at `optimizer.retrainLearningRate`. Held-out k-fold scoring is an option
 *   (`split.source: 'heldout'`), not the default. On a shared space (see `sharedSpace`) the warm-up
 *   and auxiliary tasks are skipped and `split.mixture: 'auto'` becomes `local-fdr`.
 * - `zero-shot`: no training at all: the inputs' own cosine (needs a shared space, e.g. CLIP features);
 *   its split is the CLIP-score filter (a beta mixture on 1 − cos of the given pairs).
 *
 * @example
 * ```ts
 * import { resolveTrainerConfig } from 'cleave';
 * const config = resolveTrainerConfig({ method: 'refurb', epochs: 20, seed: 7 });
 * config.split.mixture;     // 'beta'
 * config.model.head;        // 'probabilistic'
 * ```
 */
import { z } from 'zod';
import { parseOrThrow } from '../core/errors.js';
import {
  encoderOptionsSchema,
  headKindSchema,
  matchOptionsSchema,
  TOKEN_ENCODER_KINDS,
  temperatureOptionsSchema,
  uncertaintyOptionsSchema,
} from '../core/model/config.js';
import { MIXTURE_KINDS } from '../mixture/kinds.js';
import { normaliseMethodSchema } from '../mixture/normalise.js';

/** The batch losses a phase can train with. */
export const LOSS_KINDS = ['infonce', 'triplet', 'match'] as const;
/** One of {@link LOSS_KINDS}. */
export const lossKindSchema = z.enum(LOSS_KINDS);
/** @see lossKindSchema */
export type LossKind = z.output<typeof lossKindSchema>;

/** The per-pair scores a split can be fitted on: a batch loss, or a cosine of the embeddings or inputs. */
export const SPLIT_SCORES = [...LOSS_KINDS, 'cosine', 'input-cosine'] as const;
/** One of {@link SPLIT_SCORES}. */
export const splitScoreSchema = z.enum(SPLIT_SCORES);
/** @see splitScoreSchema */
export type SplitScore = z.output<typeof splitScoreSchema>;

/** The trainer's methods (`cleave train` adds the non-trainer baselines, see `RUN_METHODS`). */
export const TRAINER_METHODS = ['refurb', 'ncr-like', 'vse', 'zero-shot'] as const;
/** One of {@link TRAINER_METHODS}. */
export const trainerMethodSchema = z.enum(TRAINER_METHODS);

/**
 * One modality's encoder, as the trainer sees it: the model's encoder options without `inputDim`
 * (it comes from the data), with defaults for small precomputed-feature datasets: hidden width 256,
 * dropout 0.5, no linear skip path (on noisy pairs a linear path memorises the shuffled ones; see the
 * ablations in `experiments/results/README.md`), inputs standardised with the training split's statistics.
 */
const encoderSchema = encoderOptionsSchema.omit({ inputDim: true }).extend({
  hidden: z.number().int().positive().default(256),
  dropout: z.number().min(0).lt(1).default(0.5),
  skip: z.boolean().default(false),
  standardize: z.boolean().default(true),
});

/**
 * The caption side: the encoder over caption feature vectors (`kind: 'features'`), or over raw
 * captions' token ids, trained from scratch as the NCR family does: `bow` (mean of `wordDim`-d word
 * vectors) or `gru` (bidirectional GRU of `tokenHidden` per direction) in front of the MLP. Token
 * kinds need captions with token ids (a `*_precomp` folder, or `captions.tokens`).
 */
const textEncoderSchema = encoderSchema.extend({
  kind: z.enum(['features', ...TOKEN_ENCODER_KINDS]).default('features'),
  wordDim: z.number().int().positive().default(300),
  tokenHidden: z.number().int().positive().default(512),
});

const modelSchema = z
  .object({
    /** Shared space dimension d. */
    embedDim: z.number().int().positive().default(128),
    /** Head of the retrain phase (`vse` and the warm-up use the means only). */
    head: headKindSchema.default('probabilistic'),
    image: encoderSchema.prefault({}),
    text: textEncoderSchema.prefault({}),
    uncertainty: uncertaintyOptionsSchema.prefault({}),
    match: matchOptionsSchema.prefault({}),
    temperature: temperatureOptionsSchema.prefault({ init: 0.1 }),
  })
  .strict();

const optimizerSchema = z
  .object({
    /** Adam step size of the warm-up (and of the retrain unless `retrainLearningRate` is set). */
    learningRate: z.number().positive().default(3e-4),
    /** Step size after the warm-up; default: `learningRate`. */
    retrainLearningRate: z.number().positive().optional(),
    /** Decoupled weight decay (AdamW); 0 is Adam. */
    weightDecay: z.number().min(0).default(0),
  })
  .strict();

/** An auxiliary task of the warm-up: `weight` 0 turns it off. */
const auxTaskSchema = z.object({ weight: z.number().min(0).default(0) }).strict();

const warmupSchema = z
  .object({
    /** The cross-modal matching loss of the warm-up. */
    loss: lossKindSchema.default('infonce'),
    /**
     * Class prediction from the shared space (needs labels): a cosine classifier (logits =
     * `scale`·cos(embedding, class weight)) on both the image and the caption embedding of each pair,
     * cross-entropy against the image's class.
     */
    classPrediction: auxTaskSchema
      .extend({ weight: z.number().min(0).default(1), scale: z.number().positive().default(10) })
      .prefault({}),
    /**
     * A modality classifier on the shared space trained adversarially (gradient reversal): it tries to
     * tell image from caption embeddings, the encoders learn to make them indistinguishable.
     */
    modalityClassifier: auxTaskSchema.prefault({}),
    /**
     * Caption–caption matching among the captions of one image (InfoNCE between each caption and
     * another caption of its image; needs k ≥ 2 captions per image, ignored otherwise).
     */
    captionMatching: auxTaskSchema.prefault({}),
    /**
     * Keep the auxiliary tasks on after the warm-up too (the class loss of each pair then weighted by
     * its target).
     */
    keepAfterWarmup: z.boolean().default(true),
  })
  .strict();

const splitSchema = z
  .object({
    /**
     * Which model scores the pairs:
     * - `self` (default): the model being trained; prone to confirmation bias, which the loss EMA
     *   (`ema`) and the freeze (`freezeAfter`) hold back,
     * - `peer`: the other network of a co-training pair (NCR),
     * - `heldout`: k-fold — each fold's pairs are scored by a model trained (with the warm-up recipe)
     *   only on the other folds, so no pair is scored by a model that memorised it.
     */
    source: z.enum(['self', 'peer', 'heldout']).default('self'),
    /** Folds of the `heldout` source. */
    folds: z.number().int().min(2).default(5),
    /** Epochs each fold model trains; default: `warmupEpochs`. */
    foldEpochs: z.number().int().positive().optional(),
    /** Recompute the held-out scores every this many epochs, fold models trained on the current soft labels (0: once). */
    refreshEvery: z.number().int().min(0).default(0),
    /**
     * The per-pair loss (higher = more likely noisy), computed in evaluation mode:
     * - `infonce`: symmetric InfoNCE of pair i against the other pairs of its scoring block
     *   (`scoreBlock` pairs; all training pairs when there are fewer), at temperature `scoreTemperature`,
     *   other captions of the same image masked out;
     * - `triplet`: VSE++ hinge to the hardest negative in random blocks of `scoreBlock` pairs;
     * - `match`: −log p(i, i), the probabilistic head's match probability (needs that head);
     * - `cosine`: 1 − cos(image i, caption i) of the model's embeddings;
     * - `input-cosine`: 1 − cos(image i, caption i) of the *inputs* (the CLIP-score filter; needs a
     *   shared space).
     */
    score: splitScoreSchema.default('infonce'),
    scoreTemperature: z.number().positive().default(0.1),
    /**
     * Weight w of the **input-space score** in the split, for inputs in one shared space (see
     * `sharedSpace`): the per-pair InfoNCE of the inputs themselves (the zero-shot model's, at
     * `inputTemperature`) blended with the learned score as w·z(input) + (1 − w)·z(learned), each
     * standardised (z) over the training pairs. `auto`: with the `local-fdr` split, the weight of
     * {0, ¼, ½, ¾, 1} whose blend has the highest clean-vs-noisy AUC *estimated without labels* from
     * the random-pair null (`estimatedSplitAuc`), chosen at every rescoring; with another mixture, ½.
     * 1 uses the input score alone. Ignored without a shared space.
     */
    inputWeight: z.union([z.literal('auto'), z.number().min(0).max(1)]).default('auto'),
    /** τ of the input-space InfoNCE score (CLIP-like spaces have small cosines: CLIP itself uses 0.01). */
    inputTemperature: z.number().positive().default(0.02),
    /**
     * Weight λ of the class-consistency term added to each pair's score (needs labels and the
     * class-prediction head): λ·CE(class head on the caption embedding, the image's class). A shuffled
     * caption usually describes another class, so this separates noisy pairs where instance-level
     * matching is weak (measured in `experiments/results/README.md`). 0 turns it off; without labels
     * it is off anyway.
     */
    classWeight: z.number().min(0).default(1),
    scoreBlock: z.number().int().min(2).default(4096),
    /**
     * `beta` (alignment refurbishment), `gaussian` (NCR/DivideMix), or `local-fdr`: a two-group split
     * whose noisy component is *sampled* — the same score of random mismatched pairs
     * (`LocalFdrSplit`: Storey's noise rate, P(clean) = 1 − π₀f₀/f; calibrated, and ≈ all clean on
     * clean data). `auto`: `local-fdr` on a shared space (where random pairs are known noise), `beta`
     * otherwise. `local-fdr` needs the `infonce` or `input-cosine` score and a `self` or `peer` source.
     */
    mixture: z.enum(['auto', ...MIXTURE_KINDS]).default('auto'),
    /** Random pairs drawn per training pair for the `local-fdr` null sample. */
    nullDraws: z.number().int().min(1).default(5),
    /** Loss normalisation before the mixture: `minmax` or the 5th–95th `percentile` variant. */
    normalise: normaliseMethodSchema.default('minmax'),
    /** Use the monotone posterior (non-increasing in the loss). */
    monotone: z.boolean().default(true),
    /**
     * Exponential moving average of the per-pair losses across epochs: L ← ema·L + (1 − ema)·ℓ
     * (0: off). Smooths out one epoch's memorisation; the first split uses ℓ itself.
     */
    ema: z.number().min(0).lt(1).default(0.9),
    /**
     * Freeze the split this many epochs after the warm-up: from then on the last (EMA) losses and
     * their P(clean) are reused instead of rescoring with a model that has started to memorise its
     * noisy pairs (confirmation bias). 0: never freeze.
     */
    freezeAfter: z.number().int().min(0).default(20),
  })
  .strict();

const relabelSchema = z
  .object({
    /**
     * - `soft`: y = P(clean);
     * - `hard`: y = 1 if P(clean) > `threshold`, else 0;
     * - `ncr`: NCR's refurbishment: pairs with P(clean) > `threshold` get y = w + (1 − w)·p_model
     *   (w = P(clean), p_model = the model's own match evidence), the others y = p_model, entering
     *   only in the second half of training when `noisyLate`.
     */
    rule: z.enum(['soft', 'hard', 'ncr']).default('soft'),
    threshold: z.number().min(0).max(1).default(0.5),
    /** Pairs with P(clean) below this are dropped from training (0: none). */
    floor: z.number().min(0).max(1).default(0),
    noisyLate: z.boolean().default(true),
  })
  .strict();

const retrainSchema = z
  .object({
    /** Loss after the warm-up. `match` (PCME++) needs the probabilistic head. */
    loss: lossKindSchema.default('match'),
    /** Triplet margin α (and NCR's soft margin α·(10^y − 1)/9). */
    margin: z.number().nonnegative().default(0.2),
    /** KL (VIB) weight of the probabilistic head. */
    klWeight: z.number().min(0).default(1e-4),
    /** PCME++ pseudo-positive weight. */
    pseudoPositiveWeight: z.number().min(0).default(0),
    /** Re-initialise the model after the warm-up (train from scratch on the soft labels). */
    reinitialize: z.boolean().default(false),
    /**
     * With `loss: 'infonce'` and a probabilistic head: weight of the PCME++ match loss (and its KL
     * term) added as an auxiliary objective, so the uncertainty heads train beside the means.
     */
    matchWeight: z.number().min(0).default(0),
  })
  .strict();

/** The whole trainer config (see the module documentation). */
export const trainerConfigSchema = z
  .object({
    method: trainerMethodSchema.default('refurb'),
    /**
     * Whether image and caption vectors already live in one shared space (CLIP-embedded pairs):
     * `auto` decides from the training pairs (`detectSharedSpace`: same width, and given pairs clearly
     * more similar than mismatched ones) and logs what it found; `true`/`false` force it. On a shared
     * space the encoders are residual adapters (`normalise(u + g(u))`, g starting at zero, so epoch 0
     * *is* the zero-shot model), the shared space keeps the inputs' width (`embedDim` is ignored), the
     * untrained model is a validation candidate (the result is never worse than zero-shot on
     * validation), and the split blends the input-space score in (`split.inputWeight`).
     */
    sharedSpace: z.union([z.literal('auto'), z.boolean()]).default('auto'),
    /**
     * Stop after this many validations without a better validation rSum (0: never stop early). The
     * best epoch is kept either way.
     */
    patience: z.number().int().min(0).default(0),
    /** Every random choice (init, dropout, batches, folds) flows from this seed. */
    seed: z.number().int().default(0),
    /** Total epochs, warm-up included. */
    epochs: z.number().int().positive().default(40),
    /**
     * Warm-up epochs (all pairs as clean, auxiliary tasks on). `auto`: min(10, round(epochs / 4)),
     * so a short run (`epochs: 5`) gets a short warm-up instead of an error.
     */
    warmupEpochs: z.union([z.literal('auto'), z.number().int().min(0)]).default('auto'),
    batchSize: z.number().int().min(2).default(128),
    /** Train two networks, each on its peer's split (co-training); implied by `split.source: 'peer'`. */
    coTraining: z.boolean().default(false),
    model: modelSchema.prefault({}),
    optimizer: optimizerSchema.prefault({}),
    warmup: warmupSchema.prefault({}),
    split: splitSchema.prefault({}),
    relabel: relabelSchema.prefault({}),
    retrain: retrainSchema.prefault({}),
    /**
     * The residual adapters of a shared space (see `sharedSpace`), used instead of the encoder widths,
     * dropout, temperature and learning rates above: the adapter starts at the zero-shot solution and
     * should only move as far as the clean pairs justify, hence a small step size and CLIP's own
     * temperature scale.
     */
    adapter: z
      .object({
        /** Hidden width of each adapter's MLP g. */
        hidden: z.number().int().positive().default(512),
        /** Dropout inside g. */
        dropout: z.number().min(0).lt(1).default(0.1),
        /** Adam step size for the whole run (warm-up and retrain). */
        learningRate: z.number().positive().default(1e-5),
        /** Initial InfoNCE temperature (learnable). */
        temperature: z.number().positive().default(0.02),
        /**
         * Stop after this many validations without a better validation rSum (overrides `patience`
         * on a shared space, where a few epochs usually suffice and a large set should not run all
         * `epochs`).
         */
        patience: z.number().int().min(0).default(10),
      })
      .strict()
      .prefault({}),
    /** Validation: every this many epochs (0: never); the best epoch by validation rSum is kept. */
    validateEvery: z.number().int().min(0).default(1),
  })
  .strict();

/** A trainer config as a user writes it. */
export type TrainerConfigInput = z.input<typeof trainerConfigSchema>;
/** A trainer config with the method preset and every default applied (`warmupEpochs` resolved). */
export type TrainerConfig = Omit<z.output<typeof trainerConfigSchema>, 'warmupEpochs'> & {
  warmupEpochs: number;
};
/** The trainer's methods. */
export type TrainerMethod = TrainerConfig['method'];

type Preset = Record<string, unknown>;

/**
 * What a method changes from the schema defaults: a partial trainer config, checked against
 * {@link trainerConfigSchema}'s input type (a misspelt or mistyped field does not compile).
 */
export type MethodPreset = Omit<TrainerConfigInput, 'method'>;

/** The presets: what each method changes from the schema defaults (user values still win). */
export const METHOD_PRESETS: Readonly<Record<TrainerMethod, MethodPreset>> = {
  refurb: { optimizer: { retrainLearningRate: 1e-3 } },
  'ncr-like': {
    coTraining: true,
    model: { head: 'deterministic' },
    warmup: { loss: 'triplet' },
    split: { source: 'peer', score: 'triplet', mixture: 'gaussian' },
    relabel: { rule: 'ncr' },
    retrain: { loss: 'triplet' },
  },
  vse: {
    warmupEpochs: 0,
    model: { head: 'deterministic' },
    retrain: { loss: 'infonce' },
  },
  'zero-shot': {
    warmupEpochs: 0,
    sharedSpace: true,
    model: { head: 'deterministic' },
    split: { score: 'input-cosine' },
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merge `over` onto `base` (plain objects merge; everything else is replaced). */
export function deepMerge(base: Preset, over: Preset): Preset {
  const out: Preset = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** {@link trainerConfigSchema} with the checks that involve several fields. */
export const checkedTrainerConfigSchema = trainerConfigSchema.superRefine((c, ctx) => {
  if (c.warmupEpochs !== 'auto' && c.warmupEpochs > c.epochs) {
    ctx.addIssue({ code: 'custom', path: ['warmupEpochs'], message: `must not exceed epochs (${c.epochs})` });
  }
  if (
    c.method !== 'vse' &&
    c.method !== 'zero-shot' &&
    c.retrain.loss === 'match' &&
    c.model.head !== 'probabilistic'
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['retrain', 'loss'],
      message: "'match' needs model.head 'probabilistic'",
    });
  }
  if (
    c.split.mixture === 'local-fdr' &&
    (c.split.source === 'heldout' || !['infonce', 'input-cosine'].includes(c.split.score))
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['split', 'mixture'],
      message: "'local-fdr' needs split.score 'infonce' or 'input-cosine' and split.source 'self' or 'peer'",
    });
  }
  if (c.split.score === 'match' && c.model.head !== 'probabilistic') {
    ctx.addIssue({
      code: 'custom',
      path: ['split', 'score'],
      message: "'match' needs model.head 'probabilistic'",
    });
  }
});

/**
 * Resolve a user config: the method's preset under the user's values, then validation and defaults.
 * @param source what to call the config in error messages (e.g. `run.json`)
 * @throws ConfigError naming each offending field
 */
export function resolveTrainerConfig(input: unknown = {}, source = 'trainer config'): TrainerConfig {
  let merged = input;
  if (isPlainObject(input)) {
    const method = typeof input.method === 'string' ? input.method : 'refurb';
    const preset = METHOD_PRESETS[method as TrainerMethod];
    if (preset) merged = deepMerge(preset, input);
  }
  const parsed = parseOrThrow(checkedTrainerConfigSchema, merged, source);
  const config: TrainerConfig = {
    ...parsed,
    warmupEpochs:
      parsed.warmupEpochs === 'auto' ? Math.min(10, Math.round(parsed.epochs / 4)) : parsed.warmupEpochs,
  };
  if (config.split.source === 'peer') config.coTraining = true;
  return config;
}
