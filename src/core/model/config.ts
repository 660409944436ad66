/**
 * Configuration of the cross-modal model: one zod schema per options object, types inferred from them.
 *
 * A model is fully described by its {@link ModelConfig} (architecture, initial values of the learnable
 * scalars, and the seed its weights are initialised from), the way a tfjs-layers layer is described by
 * its `getConfig()`: `CrossModalModel.fromConfig(model.getConfig())` rebuilds the same architecture
 * with the same initial weights, and `model.json` stores exactly this object as its `modelTopology`.
 *
 * @example
 * ```ts
 * import { modelConfigSchema, parseOrThrow } from 'cleave';
 * const config = parseOrThrow(modelConfigSchema, {
 *   image: { inputDim: 512 }, text: { inputDim: 512 }, head: 'probabilistic',
 * }, 'model config');
 * config.embedDim;            // 256 (the default)
 * config.image.depth;         // 2
 * config.match.initScale;     // 5 (PCME++)
 * ```
 */
import { z } from 'zod';

/** The heads: `deterministic` (one vector per item) or `probabilistic` (a Gaussian per item). */
export const HEAD_KINDS = ['deterministic', 'probabilistic'] as const;
/** One of {@link HEAD_KINDS}. */
export const headKindSchema = z.enum(HEAD_KINDS);
/** @see headKindSchema */
export type HeadKind = z.output<typeof headKindSchema>;

/** The word-level caption encoders: `bow` (mean of word vectors) or `gru` (bidirectional GRU). */
export const TOKEN_ENCODER_KINDS = ['bow', 'gru'] as const;
/** One of {@link TOKEN_ENCODER_KINDS}. */
export const tokenEncoderKindSchema = z.enum(TOKEN_ENCODER_KINDS);

/** How an encoder pools region vectors: their `mean`, or learned `attention` weights. */
export const REGION_POOLINGS = ['mean', 'attention'] as const;
/** One of {@link REGION_POOLINGS}. */
export const regionPoolingSchema = z.enum(REGION_POOLINGS);
/** @see regionPoolingSchema */
export type RegionPooling = z.output<typeof regionPoolingSchema>;

/** Non-linearity of the hidden layers. `gelu` is the tanh approximation. */
export const activationSchema = z.enum(['relu', 'gelu', 'tanh']);
/** @see activationSchema */
export type Activation = z.output<typeof activationSchema>;

/**
 * One modality's encoder: optional pooling of R region vectors, then an MLP into the shared space.
 *
 * - `depth` is the number of linear layers: 1 is a linear projection, `depth` ≥ 2 adds `depth − 1`
 *   hidden layers of width `hidden` (each linear → [layer norm] → activation → dropout).
 * - `skip` adds a linear projection of the (pooled) input to the MLP's output (the VSE∞ / PCME++
 *   "fc + MLP" encoder for precomputed features); it is ignored when `depth` is 1.
 * - `pooling` applies only to 3-D inputs `[B, R, inputDim]`: `mean` (masked mean over the regions)
 *   or `attention` (a learned softmax over the regions: wᵣ ∝ exp(vᵀ tanh(W xᵣ + c)),
 *   with `attentionHidden` the width of W).
 * - Input transform, applied to every input vector (each region) before anything else:
 *   `inputPower` p maps x ↦ sign(x)·|x|ᵖ (p = 0.5 is the Hellinger map of histogram features such as
 *   bag-of-words; 1, the default, is the identity); `standardize` then subtracts a per-dimension shift
 *   and multiplies by a per-dimension scale. Shift and scale are non-trainable weights saved with the
 *   model (initially 0 and 1); {@link CrossModalModel.fitInputStatistics} sets them to the training
 *   features' mean and 1/std.
 * - `residual` makes the encoder a **residual adapter** for inputs that already live in the shared
 *   space (CLIP-embedded pairs): the output mean is normalise(u + g(u)) with u = x/‖x‖ and g the MLP,
 *   whose output layer starts at zero, so the untrained model *is* the zero-shot model (the inputs'
 *   own cosine). It needs `embedDim` = `inputDim` and 2-D inputs; the input transform is not applied
 *   (`inputPower` 1 and `standardize` off are required) and `skip` is ignored.
 */
export const encoderOptionsSchema = z
  .object({
    inputDim: z.number().int().positive(),
    depth: z.number().int().min(1).max(16).default(2),
    hidden: z.number().int().positive().default(512),
    dropout: z.number().min(0).lt(1).default(0.1),
    layerNorm: z.boolean().default(true),
    activation: activationSchema.default('relu'),
    skip: z.boolean().default(true),
    pooling: regionPoolingSchema.default('mean'),
    attentionHidden: z.number().int().positive().default(128),
    inputPower: z.number().positive().default(1),
    standardize: z.boolean().default(false),
    residual: z.boolean().default(false),
  })
  .strict();
/** Encoder options as written by a user (defaults not yet applied). */
export type EncoderOptionsInput = z.input<typeof encoderOptionsSchema>;
/** Encoder options with every default applied. */
export type EncoderOptions = z.output<typeof encoderOptionsSchema>;

/**
 * What the uncertainty branch reads: the mean head's last hidden layer, the encoder's (pooled) input,
 * or `auto` (the hidden layer when both encoders have one, `depth` ≥ 2; else the input).
 */
export const UNCERTAINTY_INPUTS = ['auto', 'features', 'hidden'] as const;

/**
 * The uncertainty branch of a `probabilistic` head: an MLP that outputs log σ² per dimension, with the
 * encoder's hidden width, activation, layer norm and dropout, and its own `depth` (linear layers).
 * `input` is what it reads:
 * - `hidden`: the mean head's last hidden layer (after its activation and dropout). With `depth` 1
 *   (its default there) log σ² is one linear map of the features the mean is built from, so the
 *   branch costs one `hidden` × `embedDim` product; needs the encoders' `depth` ≥ 2.
 * - `features`: the encoder's (pooled) input, in parallel with the mean head: PCME++'s encoder for
 *   precomputed features, a second encoder of the same size (`depth` 2 by default), about twice the
 *   encoders' compute (`experiments/configs/uncertainty-features.json`).
 * - `auto` (default): `hidden` when both encoders have `depth` ≥ 2, else `features`.
 *
 * The two were compared on the bundled sets with paired seeds
 * (`experiments/results/uncertainty-input/README.md`): equal within the seed noise, and a `refurb`
 * epoch costs about 1.4× a `vse` epoch with the hidden-layer branch against 2× with the second encoder.
 * `getConfig()` holds the resolved `input` and `depth`.
 *
 * `logSigma2Init` is the initial bias of its output layer; `null` means ln(0.05 / embedDim), so that
 * the initial ‖σ₁² + σ₂²‖₁ is about 0.1 — small against the ‖μ₁ − μ₂‖² ∈ [0, 4] of unit-norm means.
 */
export const uncertaintyOptionsSchema = z
  .object({
    input: z.enum(UNCERTAINTY_INPUTS).default('auto'),
    /** Linear layers of the branch; `null`: 1 on `hidden`, 2 on `features`. */
    depth: z.number().int().min(1).max(16).nullable().default(null),
    logSigma2Init: z.number().nullable().default(null),
  })
  .strict();

/**
 * The learnable scalars of the match probability p = sigmoid(−a·d + b): `a` = softplus(raw) > 0 starts
 * at `initScale`, `b` at `initShift`. PCME++ starts both at 5 (closed-form distance); PCME at 15 (MC).
 */
export const matchOptionsSchema = z
  .object({
    initScale: z.number().positive().default(5),
    initShift: z.number().default(5),
    learnable: z.boolean().default(true),
  })
  .strict();

/**
 * The InfoNCE temperature τ, stored as a learnable log-scale s = ln(1/τ) (the CLIP parametrisation);
 * the logit scale exp(s) is clipped at `maxScale` (CLIP uses 100).
 */
export const temperatureOptionsSchema = z
  .object({
    init: z.number().positive().default(0.07),
    learnable: z.boolean().default(true),
    maxScale: z.number().positive().default(100),
  })
  .strict();

/**
 * A text encoder over token ids in front of the `text` encoder (see `TokenEncoder`): `bow` (masked
 * mean of word vectors, `wordDim` wide) or `gru` (bidirectional GRU, directions averaged, `hidden`
 * wide); `text.inputDim` must equal that width. Captions then come as `[B, T]` int32 ids (0 = pad).
 */
export const tokenEncoderOptionsSchema = z
  .object({
    kind: tokenEncoderKindSchema,
    /** Rows of the embedding table (the vocabulary's size). */
    vocabSize: z.number().int().min(2),
    /** Word vector width (NCR: 300). */
    wordDim: z.number().int().positive().default(300),
    /** GRU state width per direction (`gru` only; NCR: 1024). */
    hidden: z.number().int().positive().default(512),
    /** Dropout on the word vectors while training. */
    dropout: z.number().min(0).lt(1).default(0),
  })
  .strict();
/** Token encoder options as written (defaults not yet applied). */
export type TokenEncoderOptionsInput = z.input<typeof tokenEncoderOptionsSchema>;

/**
 * The whole model: two encoders (`image`, `text`) into one `embedDim`-dimensional space, the head type,
 * and the initial values of the learnable scalars. Every weight is initialised from `seed`.
 */
export const modelConfigSchema = z
  .object({
    embedDim: z.number().int().positive().default(256),
    head: headKindSchema.default('deterministic'),
    image: encoderOptionsSchema,
    text: encoderOptionsSchema,
    /** Captions as token ids through a word-level encoder first (see {@link tokenEncoderOptionsSchema}). */
    textTokens: tokenEncoderOptionsSchema.optional(),
    uncertainty: uncertaintyOptionsSchema.prefault({}),
    match: matchOptionsSchema.prefault({}),
    temperature: temperatureOptionsSchema.prefault({}),
    seed: z.number().int().default(0),
  })
  .strict();
/** A model config as written by a user (defaults not yet applied). */
export type ModelConfigInput = z.input<typeof modelConfigSchema>;
/** A model config with every default applied (what `getConfig()` returns). */
export type ModelConfig = z.output<typeof modelConfigSchema>;
/** Head type: `deterministic` (L2-normalised point) or `probabilistic` (N(μ, diag σ²)). */
export type HeadType = ModelConfig['head'];
