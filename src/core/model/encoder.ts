/**
 * One modality's encoder over precomputed features: region pooling (for `[B, R, D]` inputs), an MLP
 * into the shared space, L2 normalisation of the mean, and — for the probabilistic head — an
 * uncertainty MLP that outputs log σ², parallel to the mean head on the same input or reading the mean
 * head's hidden layer (`uncertainty.input`).
 *
 * Weights are named `<name>/input/…` (the non-trainable standardisation, when on), `<name>/pool/…`,
 * `<name>/mean/…` and `<name>/uncertainty/…`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Rng } from 'cleave';
 * import { Encoder, encoderOptionsSchema, ParamStore } from 'cleave/model';
 * const store = new ParamStore(new Rng(3));
 * const enc = new Encoder(store, 'image', encoderOptionsSchema.parse({ inputDim: 8 }), 4,
 *   { depth: 1, logSigma2Init: -4 });
 * const { mean, logSigma2 } = enc.embed(tf.randomNormal([2, 5, 8]));   // 5 regions per item
 * mean.shape;   // [2, 4], unit-norm rows
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '../errors.js';
import type { EncoderOptions } from './config.js';
import type { Embedding } from './distance.js';
import { type ForwardOptions, Mlp, RegionPool } from './layers.js';
import { constantValues, type ParamStore } from './params.js';

/** Options of one forward pass through an encoder. */
export interface EmbedOptions extends ForwardOptions {
  /** `[B, R]` region mask for 3-D inputs: 1 = real region, 0 = padding. */
  mask?: tf.Tensor2D;
  /**
   * Skip the uncertainty branch: the result has no `logSigma2` (the means are the same either way).
   * For callers that use the means alone, such as cosine or InfoNCE scores.
   */
  meansOnly?: boolean;
}

/** Settings of the uncertainty branch, resolved (see `uncertaintyOptionsSchema`). */
export interface UncertaintySettings {
  depth: number;
  logSigma2Init: number;
  /** What the branch reads (default `features`). */
  input?: 'features' | 'hidden';
}

/** Divide each row by its L2 norm (ε = 1e-12 under the square root). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12))) as tf.Tensor2D;
}

/** An encoder of one modality. See the module documentation. */
export class Encoder {
  private readonly inputShift: tf.Variable | undefined;
  private readonly inputScale: tf.Variable | undefined;
  private readonly pool: RegionPool;
  private readonly meanHead: Mlp;
  private readonly uncertaintyHead: Mlp | undefined;
  private readonly uncertaintyReadsHidden: boolean;

  /**
   * @param embedDim the shared space's dimension d
   * @param uncertainty the uncertainty branch's settings; omit for a deterministic head
   */
  constructor(
    store: ParamStore,
    readonly name: string,
    readonly options: EncoderOptions,
    readonly embedDim: number,
    uncertainty?: UncertaintySettings,
  ) {
    const o = options;
    if (o.standardize) {
      this.inputShift = store.add(
        `${name}/input/shift`,
        [o.inputDim],
        () => constantValues(o.inputDim, 0),
        false,
      );
      this.inputScale = store.add(
        `${name}/input/scale`,
        [o.inputDim],
        () => constantValues(o.inputDim, 1),
        false,
      );
    }
    this.pool = new RegionPool(store, `${name}/pool`, o.pooling, o.inputDim, o.attentionHidden);
    const common = {
      inputDim: o.inputDim,
      outputDim: embedDim,
      hidden: o.hidden,
      dropout: o.dropout,
      layerNorm: o.layerNorm,
      activation: o.activation,
      skip: o.skip,
    };
    this.meanHead = new Mlp(store, `${name}/mean`, {
      ...common,
      depth: o.depth,
      ...(o.residual ? { skip: false, zeroOutput: true } : {}),
    });
    this.uncertaintyReadsHidden = uncertainty?.input === 'hidden';
    if (this.uncertaintyReadsHidden && o.depth < 2) {
      throw new ConfigError(
        `${name} encoder: uncertainty.input 'hidden' reads the mean head's hidden layer, which needs ${name}.depth ≥ 2 (got ${o.depth}); set uncertainty.input: 'features'`,
      );
    }
    if (uncertainty) {
      this.uncertaintyHead = new Mlp(store, `${name}/uncertainty`, {
        ...common,
        ...(this.uncertaintyReadsHidden ? { inputDim: o.hidden, skip: false } : {}),
        depth: uncertainty.depth,
        outputBias: uncertainty.logSigma2Init,
        // a residual adapter starts with one σ² for every item, so ranking by the closed-form
        // distance equals ranking by cosine: the untrained probabilistic model is zero-shot too
        ...(o.residual ? { skip: false, zeroOutput: true } : {}),
      });
    }
  }

  /** Whether this encoder has an uncertainty branch. */
  get probabilistic(): boolean {
    return this.uncertaintyHead !== undefined;
  }

  /**
   * Embed a batch: `x` is `[B, inputDim]` or `[B, R, inputDim]` (pooled first). Returns unit-norm
   * `mean` `[B, d]` and, for a probabilistic head, `logSigma2` `[B, d]`. The caller owns the result.
   * @throws DataError when x has the wrong shape; ConfigError when training with dropout and no `rng`.
   */
  embed(x: tf.Tensor, opts: EmbedOptions = {}): Embedding {
    const { inputDim } = this.options;
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 1] !== inputDim) {
      throw new DataError(
        `${this.name} encoder: expected input [B, ${inputDim}] or [B, R, ${inputDim}], got [${x.shape.join(', ')}] (check the features' width against the model's ${this.name}.inputDim)`,
      );
    }
    if (this.options.residual && x.rank !== 2) {
      throw new DataError(
        `${this.name} encoder: a residual adapter takes [B, ${inputDim}] inputs, got [${x.shape.join(', ')}]: pool the regions first, or set ${this.name}.residual: false`,
      );
    }
    return tf.tidy(() => {
      // the residual adapter: normalise(u + g(u)), u = x/‖x‖; g starts at zero, so the untrained
      // encoder is x/‖x‖
      const residual = this.options.residual;
      let input: tf.Tensor2D;
      if (residual) input = l2Normalize(x as tf.Tensor2D);
      else {
        const t = this.transformInput(x);
        input = t.rank === 3 ? this.pool.apply(t as tf.Tensor3D, opts.mask) : (t as tf.Tensor2D);
      }
      const { output, hidden } = this.meanHead.applyWithHidden(input, opts);
      const mean = l2Normalize((residual ? tf.add(input, output) : output) as tf.Tensor2D);
      if (!this.uncertaintyHead || opts.meansOnly) return { mean };
      const source = this.uncertaintyReadsHidden ? hidden : input;
      return { mean, logSigma2: this.uncertaintyHead.apply(source, opts) as tf.Tensor2D };
    });
  }

  /**
   * The input transform of the options (signed power, then standardisation), applied along the last
   * axis of `[B, D]` or `[B, R, D]`. The caller owns the result.
   */
  transformInput(x: tf.Tensor): tf.Tensor {
    const p = this.options.inputPower;
    return tf.tidy(() => {
      let out = p === 1 ? tf.clone(x) : tf.mul(tf.sign(x), tf.pow(tf.abs(x), p));
      if (this.inputShift && this.inputScale) out = tf.mul(tf.sub(out, this.inputShift), this.inputScale);
      return out;
    });
  }

  /**
   * Set the standardisation to the given per-dimension statistics of the *power-transformed*
   * features: shift = mean, scale = 1 / max(std, 1e-6). No-op unless `standardize` is on.
   * @throws DataError when the arrays do not have `inputDim` entries or hold non-finite values.
   */
  setInputStatistics(mean: Float32Array, std: Float32Array): void {
    if (!this.inputShift || !this.inputScale) return;
    const d = this.options.inputDim;
    if (mean.length !== d || std.length !== d) {
      throw new DataError(
        `${this.name} encoder: input statistics need ${d} values (inputDim), got mean ${mean.length} / std ${std.length}`,
      );
    }
    const scale = new Float32Array(d);
    for (let k = 0; k < d; k++) {
      if (!Number.isFinite(mean[k]) || !Number.isFinite(std[k])) {
        throw new DataError(
          `${this.name} encoder: input statistic ${k} is not finite (mean ${mean[k]}, std ${std[k]}): check the features for NaN/Inf`,
          { index: k },
        );
      }
      scale[k] = 1 / Math.max(std[k]!, 1e-6);
    }
    tf.tidy(() => {
      this.inputShift!.assign(tf.tensor1d(mean, 'float32'));
      this.inputScale!.assign(tf.tensor1d(scale, 'float32'));
    });
  }

  /** Whether this encoder standardises its input (and so wants {@link setInputStatistics}). */
  get standardizes(): boolean {
    return this.inputShift !== undefined;
  }

  /** Region pooling weights `[B, R]` for a 3-D input (for inspection). */
  poolingWeights(x: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.pool.weights(this.transformInput(x) as tf.Tensor3D, mask));
  }
}
