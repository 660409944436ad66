/**
 * `CrossModalModel`: an image encoder and a caption encoder into one shared space, with a
 * `deterministic` (L2-normalised point, VSE++ family) or `probabilistic` (PCME-style N(μ, diag σ²))
 * head, the learnable scalars the losses need, and tfjs-format save/load.
 *
 * Long file: one class, kept whole because its forward passes, learnable scalars, weights and
 * save/load (getConfig/fromConfig + IOHandler) must change together to stay rebuildable; the parts
 * that stand alone already live in `encoder.ts`, `distance.ts`, `params.ts` and `file-handler.ts`.
 *
 * Forward methods take tensors and return tensors the caller owns; call them inside `tf.tidy` or a
 * loss closure. All learnable state — encoder weights, the InfoNCE log-scale, the match scale/shift —
 * is in {@link CrossModalModel.trainableVariables}, so a training step is
 * `optimizer.minimize(() => loss(model, batch), false, model.trainableVariables)`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Rng } from 'cleave';
 * import { CrossModalModel, matchLoss, vibLoss } from 'cleave/model';
 * const model = new CrossModalModel({ image: { inputDim: 512 }, text: { inputDim: 384 },
 *   head: 'probabilistic', seed: 7 });
 * const imageBatch = tf.randomNormal([32, 512]);
 * const captionBatch = tf.randomNormal([32, 384]);
 * const targets = tf.ones([32]) as tf.Tensor1D;          // soft targets y ∈ [0, 1]
 * const stepRng = new Rng(7).fork('epoch0/step0');       // dropout masks for this step
 * const optimizer = tf.train.adam(1e-3);
 * optimizer.minimize(() => {
 *   const img = model.embedImages(imageBatch, { training: true, rng: stepRng.fork('img') });
 *   const cap = model.embedCaptions(captionBatch, { training: true, rng: stepRng.fork('cap') });
 *   const match = matchLoss(model.matchLogProbs(img, cap), targets, { pseudoPositiveWeight: 0.1 });
 *   return tf.add(match, tf.mul(1e-4, tf.add(vibLoss(img), vibLoss(cap)))) as tf.Scalar;
 * }, false, model.trainableVariables);
 * await model.save('out/model');
 * const same = await CrossModalModel.load('out/model');
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError, parseOrThrow } from '../errors.js';
import { Rng } from '../random.js';
import { VERSION } from '../version.js';
import { type HeadType, type ModelConfig, type ModelConfigInput, modelConfigSchema } from './config.js';
import {
  closedFormDistance,
  type Embedding,
  itemUncertainty,
  logitMatchLogProbs,
  type MatchLogProbs,
  monteCarloMatchLogProbs,
  sampleNoise,
  similarityMatrix,
} from './distance.js';
import { type EmbedOptions, Encoder } from './encoder.js';
import { fileSystemHandler } from './file-handler.js';
import '../tf-gradients.js';
import { constantValues, ParamStore } from './params.js';
import { TokenEncoder, tokenEncoderOutputDim } from './text-encoder.js';

/** The `format` field written into `model.json`. */
export const MODEL_FORMAT = 'cleave-cross-modal';

/** How a match probability is computed (probabilistic head). */
export interface MatchOptions {
  /**
   * `csd` (default): p = sigmoid(−a·d + b) with the closed-form distance d (PCME++).
   * `mc`: the PCME Monte-Carlo estimate over `samples`² sample pairs.
   */
  distance?: 'csd' | 'mc';
  /** J, the samples per item for `mc` (default 7, as PCME). */
  samples?: number;
  /** Where the `mc` noise comes from; default: the model's own sampling stream (seeded by the config). */
  rng?: Rng;
}

/** Inverse of softplus: the raw value whose softplus is `y` (> 0). */
export function inverseSoftplus(y: number): number {
  return y > 20 ? y + Math.log1p(-Math.exp(-y)) : Math.log(Math.expm1(y));
}

function resolveConfig(input: unknown, source: string): ModelConfig {
  const config = parseOrThrow(modelConfigSchema, input, source);
  const issues: { path: string; message: string }[] = [];
  for (const side of ['image', 'text'] as const) {
    const e = config[side];
    if (!e.residual) continue;
    if (e.inputDim !== config.embedDim) {
      issues.push({
        path: `${side}.residual`,
        message: `a residual adapter needs embedDim (${config.embedDim}) = ${side}.inputDim (${e.inputDim})`,
      });
    }
    if (e.inputPower !== 1 || e.standardize) {
      issues.push({
        path: `${side}.residual`,
        message: 'a residual adapter takes the inputs as they are: set inputPower 1 and standardize false',
      });
    }
  }
  if (issues.length > 0) {
    throw new ConfigError(`${source}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  if (config.textTokens && config.text.inputDim !== tokenEncoderOutputDim(config.textTokens)) {
    throw new ConfigError(
      `${source}: text.inputDim (${config.text.inputDim}) must be the token encoder's width (${tokenEncoderOutputDim(config.textTokens)})`,
      [{ path: 'text.inputDim', message: "must equal textTokens' output width" }],
    );
  }
  const u = config.uncertainty;
  if (u.input === 'auto') {
    u.input = config.image.depth >= 2 && config.text.depth >= 2 ? 'hidden' : 'features';
  }
  if (u.depth === null) u.depth = u.input === 'hidden' ? 1 : 2;
  if (u.logSigma2Init === null) u.logSigma2Init = Math.log(0.05 / config.embedDim);
  return config;
}

/** Per-column mean and standard deviation (population) of sign(x)·|x|ᵖ over the rows of `data`. */
function columnStatistics(
  data: Float32Array,
  dim: number,
  power: number,
  name: string,
): { mean: Float32Array; std: Float32Array } {
  const rows = data.length / dim;
  if (!Number.isInteger(rows) || rows < 1) {
    throw new DataError(
      `fitInputStatistics: ${name} features hold ${data.length} values, not a positive multiple of ${dim} (the model's ${name}.inputDim)`,
    );
  }
  const value = (x: number) => (power === 1 ? x : Math.sign(x) * Math.abs(x) ** power);
  const sum = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let k = 0; k < dim; k++) sum[k]! += value(data[r * dim + k]!);
  const mean = new Float64Array(dim);
  for (let k = 0; k < dim; k++) mean[k] = sum[k]! / rows;
  const dev = new Float64Array(dim); // second pass: squared deviations (no cancellation)
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < dim; k++) dev[k]! += (value(data[r * dim + k]!) - mean[k]!) ** 2;
  }
  const std = new Float32Array(dim);
  for (let k = 0; k < dim; k++) std[k] = Math.sqrt(dev[k]! / rows);
  return { mean: Float32Array.from(mean), std };
}

/** The cross-modal model. See the module documentation. */
export class CrossModalModel {
  /** The name stored as `modelTopology.className` in `model.json`. */
  static readonly className = 'CrossModalModel';

  readonly imageEncoder: Encoder;
  readonly textEncoder: Encoder;
  /** The word-level encoder in front of {@link textEncoder} when captions are token ids (`textTokens`). */
  readonly tokenEncoder: TokenEncoder | undefined;
  private readonly config: ModelConfig;
  private readonly store: ParamStore;
  private readonly logScale: tf.Variable;
  private readonly matchScaleRaw: tf.Variable | undefined;
  private readonly matchShiftVar: tf.Variable | undefined;
  private readonly dropoutRng: Rng;
  private readonly samplingRng: Rng;
  private disposed = false;

  /**
   * Build a model with freshly initialised weights (seeded by `config.seed`).
   * @param config see `modelConfigSchema`; `image.inputDim` and `text.inputDim` are required
   * @throws ConfigError when the config does not validate.
   */
  constructor(config: ModelConfigInput) {
    this.config = resolveConfig(config, 'model config');
    const c = this.config;
    const root = new Rng(c.seed);
    this.store = new ParamStore(root.fork('init'));
    this.dropoutRng = root.fork('dropout');
    this.samplingRng = root.fork('sampling');
    const uncertainty =
      c.head === 'probabilistic'
        ? {
            depth: c.uncertainty.depth as number,
            logSigma2Init: c.uncertainty.logSigma2Init as number,
            input: c.uncertainty.input as 'features' | 'hidden',
          }
        : undefined;
    this.imageEncoder = new Encoder(this.store, 'image', c.image, c.embedDim, uncertainty);
    this.textEncoder = new Encoder(this.store, 'text', c.text, c.embedDim, uncertainty);
    this.logScale = this.store.add(
      'contrastive/log_scale',
      [],
      () => constantValues(1, Math.log(1 / c.temperature.init)),
      c.temperature.learnable,
    );
    if (c.head === 'probabilistic') {
      this.matchScaleRaw = this.store.add(
        'match/scale_raw',
        [],
        () => constantValues(1, inverseSoftplus(c.match.initScale)),
        c.match.learnable,
      );
      this.matchShiftVar = this.store.add(
        'match/shift',
        [],
        () => constantValues(1, c.match.initShift),
        c.match.learnable,
      );
    }
    this.tokenEncoder = c.textTokens ? new TokenEncoder(this.store, 'text/tokens', c.textTokens) : undefined;
  }

  /** Rebuild a model from a config (e.g. {@link getConfig}'s or `model.json`'s): same architecture, same initial weights. */
  static fromConfig(config: unknown): CrossModalModel {
    return new CrossModalModel(resolveConfig(config, 'model config'));
  }

  /** The full config with every default applied (a deep copy). */
  getConfig(): ModelConfig {
    return structuredClone(this.config);
  }

  /** `deterministic` or `probabilistic`. */
  get head(): HeadType {
    return this.config.head;
  }

  /** The shared space's dimension d. */
  get embedDim(): number {
    return this.config.embedDim;
  }

  /** Every trainable variable (encoders, log-scale, match scale/shift unless frozen in the config). */
  get trainableVariables(): tf.Variable[] {
    this.assertAlive();
    return this.store.trainable();
  }

  /**
   * Every variable with its logical name (the live variables, not copies): what maps optimizer state,
   * keyed by the engine's variable names, to names that survive a save and load.
   */
  namedVariables(): [string, tf.Variable][] {
    this.assertAlive();
    return this.store.entries();
  }

  /** Logical weight names, in the order they are saved. */
  get weightNames(): string[] {
    return this.store.names();
  }

  /** Embed a batch of images `[B, dImg]` or `[B, R, dImg]` (see {@link Encoder.embed}). */
  embedImages(x: tf.Tensor, opts: EmbedOptions = {}): Embedding {
    this.assertAlive();
    return this.imageEncoder.embed(x, this.withDropoutRng(opts));
  }

  /**
   * Embed a batch of captions `[B, dTxt]` or `[B, R, dTxt]` (see {@link Encoder.embed}), or, with a
   * token encoder (`textTokens`), `[B, T]` int32 token ids padded with 0.
   */
  embedCaptions(x: tf.Tensor, opts: EmbedOptions = {}): Embedding {
    this.assertAlive();
    const o = this.withDropoutRng(opts);
    if (this.tokenEncoder) {
      if (x.dtype !== 'int32' || x.rank !== 2) {
        throw new DataError(
          `embedCaptions: this model reads captions as [B, T] int32 token ids (textTokens), got ${x.dtype} [${x.shape}]: pass the tokenised captions`,
        );
      }
      const rng = o.rng?.fork('tokens');
      const features = this.tokenEncoder.forward(x as tf.Tensor2D, { ...o, ...(rng ? { rng } : {}) });
      return this.textEncoder.embed(features, o);
    }
    return this.textEncoder.embed(x, o);
  }

  /** Whether captions go in as token ids (a `textTokens` encoder) rather than feature vectors. */
  get readsTokens(): boolean {
    return this.tokenEncoder !== undefined;
  }

  /**
   * Fit the input standardisation of the encoders that have `standardize` on to training features:
   * per dimension, the mean and standard deviation of the power-transformed values (every region
   * vector counts as one sample). Call it once before training, with the training split's features.
   *
   * @param images row-major image features, `count × regions × image.inputDim` values
   * @param captions row-major caption features, `count × text.inputDim` values (omit for token-id captions)
   * @throws Error when an array's length is not a multiple of the input width or holds no rows.
   */
  fitInputStatistics(images: Float32Array, captions?: Float32Array): void {
    this.assertAlive();
    for (const [encoder, data] of [
      [this.imageEncoder, images],
      [this.textEncoder, captions],
    ] as const) {
      if (!encoder.standardizes || !data) continue;
      const { mean, std } = columnStatistics(
        data,
        encoder.options.inputDim,
        encoder.options.inputPower,
        encoder.name,
      );
      encoder.setInputStatistics(mean, std);
    }
  }

  /** Cosine similarities of the (unit-norm) means `[Bi, Bc]`: the input of the triplet and InfoNCE losses. */
  similarity(images: Embedding, captions: Embedding): tf.Tensor2D {
    return similarityMatrix(images, captions);
  }

  /** The InfoNCE logit scale 1/τ = min(exp(s), maxScale) as a scalar tensor (differentiable in s). */
  logitScale(): tf.Scalar {
    return tf.tidy(() => tf.minimum(tf.exp(this.logScale), this.config.temperature.maxScale) as tf.Scalar);
  }

  /** The raw InfoNCE log-scale variable s = ln(1/τ) (what {@link infoNCELoss} takes). */
  get logScaleVariable(): tf.Variable {
    return this.logScale;
  }

  /** The current temperature τ = 1 / min(exp(s), maxScale), as a number. */
  temperature(): number {
    return 1 / Math.min(Math.exp(this.logScale.dataSync()[0]!), this.config.temperature.maxScale);
  }

  /** The match scale a = softplus(raw) > 0 (probabilistic head), as a scalar tensor. */
  matchScale(): tf.Scalar {
    return tf.tidy(() => tf.softplus(this.requireProbabilistic('matchScale')[0]) as tf.Scalar);
  }

  /** The match shift b (probabilistic head), as a scalar tensor. */
  matchShift(): tf.Scalar {
    return tf.clone(this.requireProbabilistic('matchShift')[1]) as tf.Scalar;
  }

  /** The closed-form sampled distance `[Bi, Bc]` (probabilistic head). */
  distance(images: Embedding, captions: Embedding): tf.Tensor2D {
    return closedFormDistance(images, captions);
  }

  /** Match logits −a·d + b `[Bi, Bc]` with the closed-form distance (probabilistic head). */
  matchLogits(images: Embedding, captions: Embedding): tf.Tensor2D {
    const [raw, shift] = this.requireProbabilistic('matchLogits');
    return tf.tidy(
      () => tf.sub(shift, tf.mul(tf.softplus(raw), closedFormDistance(images, captions))) as tf.Tensor2D,
    );
  }

  /**
   * Match probabilities in log space, `{ logP, logQ }` `[Bi, Bc]` (probabilistic head): the input of
   * {@link matchLoss}. See {@link MatchOptions} for the distance.
   */
  matchLogProbs(images: Embedding, captions: Embedding, opts: MatchOptions = {}): MatchLogProbs {
    const [raw, shift] = this.requireProbabilistic('matchLogProbs');
    if ((opts.distance ?? 'csd') === 'csd') {
      return tf.tidy(() => logitMatchLogProbs(this.matchLogits(images, captions)));
    }
    const j = opts.samples ?? 7;
    if (!Number.isInteger(j) || j < 1) throw new RangeError(`matchLogProbs: samples must be ≥ 1, got ${j}`);
    const rng = opts.rng ?? this.samplingRng;
    const [bi, d] = images.mean.shape;
    const [bc] = captions.mean.shape;
    return tf.tidy(() =>
      monteCarloMatchLogProbs(
        images,
        captions,
        tf.softplus(raw) as tf.Scalar,
        shift as tf.Scalar,
        sampleNoise(rng, bi, j, d),
        sampleNoise(rng, bc, j, d),
      ),
    );
  }

  /** Match probabilities p `[Bi, Bc]` (probabilistic head). */
  matchProbability(images: Embedding, captions: Embedding, opts: MatchOptions = {}): tf.Tensor2D {
    return tf.tidy(() => tf.exp(this.matchLogProbs(images, captions, opts).logP) as tf.Tensor2D);
  }

  /**
   * Scores for ranking `[Bi, Bc]` (higher = better match): the cosine similarity for a deterministic
   * head, minus the closed-form distance for a probabilistic one (monotone in the match probability).
   */
  retrievalScores(images: Embedding, captions: Embedding): tf.Tensor2D {
    if (this.config.head === 'deterministic') return similarityMatrix(images, captions);
    return tf.tidy(() => tf.neg(closedFormDistance(images, captions)) as tf.Tensor2D);
  }

  /** Per-item uncertainty `[B]`: mean σ² over the dimensions (probabilistic head). */
  uncertainty(embedding: Embedding): tf.Tensor1D {
    return itemUncertainty(embedding);
  }

  /** Copies of every weight by logical name (the caller disposes them). */
  getWeights(): tf.NamedTensorMap {
    this.assertAlive();
    const out: tf.NamedTensorMap = {};
    for (const [name, v] of this.store.entries()) out[name] = tf.clone(v);
    return out;
  }

  /**
   * Overwrite every weight; `weights` must hold exactly {@link weightNames} with matching shapes.
   * @throws DataError naming missing, unexpected or mis-shaped weights.
   */
  setWeights(weights: tf.NamedTensorMap, source = 'weights'): void {
    this.assertAlive();
    this.store.assign(weights, source);
  }

  /** An independent copy (same config, same current weights, fresh random streams). */
  clone(): CrossModalModel {
    const copy = CrossModalModel.fromConfig(this.config);
    const weights = this.getWeights();
    try {
      copy.setWeights(weights);
    } finally {
      tf.dispose(weights);
    }
    return copy;
  }

  /**
   * The tfjs model artifacts: `modelTopology` = `{ className, config }`, float32 weights in
   * {@link weightNames} order.
   */
  async toArtifacts(): Promise<tf.io.ModelArtifacts> {
    this.assertAlive();
    const named = this.store.entries().map(([name, tensor]) => ({ name, tensor }));
    const { data, specs } = await tf.io.encodeWeights(named);
    return {
      modelTopology: { className: CrossModalModel.className, config: this.getConfig() },
      format: MODEL_FORMAT,
      generatedBy: `cleave v${VERSION}`,
      convertedBy: null,
      weightSpecs: specs,
      weightData: data,
    };
  }

  /**
   * Save as `model.json` + `weights.bin` into a folder (atomic writes), or through any IOHandler.
   * @param target a folder path, or a `tf.io.IOHandler`
   * @param options.protect paths that must not be overwritten (with a folder path)
   */
  async save(
    target: string | tf.io.IOHandler,
    options: { protect?: readonly string[] } = {},
  ): Promise<tf.io.SaveResult> {
    const handler = typeof target === 'string' ? fileSystemHandler(target, options) : target;
    if (!handler.save) {
      throw new ConfigError(
        'CrossModalModel.save: this IOHandler cannot save: pass a folder path or a handler with save()',
      );
    }
    return handler.save(await this.toArtifacts());
  }

  /**
   * Load a model saved by {@link save}: from a folder, its `model.json`, or any IOHandler.
   * @throws DataError when the files are missing, damaged, or hold another kind of model.
   */
  static async load(source: string | tf.io.IOHandler): Promise<CrossModalModel> {
    const handler = typeof source === 'string' ? fileSystemHandler(source) : source;
    if (!handler.load) {
      throw new ConfigError(
        'CrossModalModel.load: this IOHandler cannot load: pass a folder path or a handler with load()',
      );
    }
    const artifacts = await handler.load();
    return CrossModalModel.fromArtifacts(artifacts, typeof source === 'string' ? source : 'model artifacts');
  }

  /** Build a model from artifacts as {@link toArtifacts} makes them. */
  static fromArtifacts(artifacts: tf.io.ModelArtifacts, source = 'model artifacts'): CrossModalModel {
    const topology = artifacts.modelTopology as { className?: unknown; config?: unknown } | undefined;
    if (!topology || topology.className !== CrossModalModel.className) {
      throw new DataError(
        `modelTopology.className is ${JSON.stringify(topology?.className)}, expected "${CrossModalModel.className}" (not a cleave model)`,
        { file: source },
      );
    }
    if (!artifacts.weightSpecs || !artifacts.weightData) {
      throw new DataError('has no weights (weightsManifest is missing)', { file: source });
    }
    const model = CrossModalModel.fromConfig(topology.config);
    const weights = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
    try {
      model.setWeights(weights, source);
    } catch (error) {
      model.dispose();
      throw error;
    } finally {
      tf.dispose(weights);
    }
    return model;
  }

  /** Free every variable. The model is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.store.dispose();
    this.disposed = true;
  }

  private withDropoutRng(opts: EmbedOptions): EmbedOptions {
    if (opts.training && !opts.rng) return { ...opts, rng: this.dropoutRng };
    return opts;
  }

  private requireProbabilistic(what: string): [tf.Variable, tf.Variable] {
    this.assertAlive();
    if (!this.matchScaleRaw || !this.matchShiftVar) {
      throw new ConfigError(
        `CrossModalModel.${what}: needs head 'probabilistic', this model is '${this.config.head}': build (and train) it with head: 'probabilistic'`,
      );
    }
    return [this.matchScaleRaw, this.matchShiftVar];
  }

  private assertAlive(): void {
    if (this.disposed) {
      throw new ConfigError('CrossModalModel: used after dispose(): load or build the model again');
    }
  }
}
