/**
 * The building blocks of the encoders, written with tfjs-core ops over variables held in a
 * {@link ParamStore}: dense layers, layer norm, activations, seeded dropout, MLP heads and region pooling.
 *
 * Nothing here knows which backend runs: initial values and dropout masks are drawn in JavaScript from
 * an {@link Rng}, then handed to tfjs as tensors.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Rng } from 'cleave';
 * import { Mlp, ParamStore } from 'cleave/model';
 * const store = new ParamStore(new Rng(1));
 * const mlp = new Mlp(store, 'head', { inputDim: 8, outputDim: 4, depth: 2, hidden: 16,
 *   dropout: 0.1, layerNorm: true, activation: 'relu', skip: true });
 * const y = mlp.apply(tf.ones([3, 8]), { training: true, rng: new Rng(2) });   // [3, 4]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { Rng } from '../random.js';
import type { Activation, RegionPooling } from './config.js';
import { constantValues, glorotUniform, heUniform, type ParamStore } from './params.js';

/** Forward-pass options shared by every layer. */
export interface ForwardOptions {
  /** Training mode: dropout is active. Default false. */
  training?: boolean;
  /** Where dropout masks are drawn from (needed when `training` and dropout > 0). */
  rng?: Rng;
}

/** Apply a named activation. `gelu` is the tanh approximation 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'gelu': {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
    }
  }
}

let scratch = new Float64Array(0);
/** A reused float64 buffer of `n` draws (dropout reads it at once, so one buffer serves every call). */
function uniformScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  return scratch.subarray(0, n);
}

/**
 * Inverted dropout with a mask drawn from `rng`: each element is kept with probability 1 − rate and
 * scaled by 1/(1 − rate). Returns `x` itself when `rate` is 0.
 */
export function seededDropout(x: tf.Tensor, rate: number, rng: Rng): tf.Tensor {
  if (rate <= 0) return x;
  const keep = 1 / (1 - rate);
  const draws = rng.fillUniform(uniformScratch(x.size));
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = draws[i]! >= rate ? keep : 0;
  return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
}

/** A fully connected layer y = x·W + b over the last axis. */
export class Dense {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  /**
   * @param init `he` (for layers followed by relu/gelu), `glorot`, or `zeros` (the output layer of a
   *   residual branch that must start as the identity)
   * @param biasInit the initial value of every bias entry
   */
  constructor(
    store: ParamStore,
    name: string,
    readonly inputDim: number,
    readonly outputDim: number,
    init: 'he' | 'glorot' | 'zeros' = 'glorot',
    biasInit = 0,
  ) {
    const draw =
      init === 'zeros'
        ? () => constantValues(inputDim * outputDim, 0)
        : init === 'he'
          ? heUniform
          : glorotUniform;
    this.kernel = store.add(`${name}/kernel`, [inputDim, outputDim], (rng) => draw(rng, inputDim, outputDim));
    this.bias = store.add(`${name}/bias`, [outputDim], () => constantValues(outputDim, biasInit));
  }

  /** x: `[..., inputDim]` → `[..., outputDim]`. */
  apply(x: tf.Tensor): tf.Tensor {
    if (x.rank === 2) return tf.add(tf.matMul(x as tf.Tensor2D, this.kernel as tf.Tensor2D), this.bias);
    const lead = x.shape.slice(0, -1);
    const flat = tf.reshape(x, [-1, this.inputDim]) as tf.Tensor2D;
    const y = tf.add(tf.matMul(flat, this.kernel as tf.Tensor2D), this.bias);
    return tf.reshape(y, [...lead, this.outputDim]);
  }
}

/** Layer normalisation over the last axis with a learnable gain (init 1) and bias (init 0); ε = 1e-5. */
export class LayerNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;

  constructor(store: ParamStore, name: string, dim: number) {
    this.gamma = store.add(`${name}/gamma`, [dim], () => constantValues(dim, 1));
    this.beta = store.add(`${name}/beta`, [dim], () => constantValues(dim, 0));
  }

  apply(x: tf.Tensor): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
    return tf.add(tf.mul(normed, this.gamma), this.beta);
  }
}

/** Options of an {@link Mlp}. */
export interface MlpOptions {
  inputDim: number;
  outputDim: number;
  /** Number of linear layers (≥ 1). */
  depth: number;
  hidden: number;
  dropout: number;
  layerNorm: boolean;
  activation: Activation;
  /** Add a linear projection of the input to the output (only when depth ≥ 2). */
  skip: boolean;
  /** Initial bias of the output layer (default 0). */
  outputBias?: number;
  /** Start the output layer at zero (kernel and bias), so the MLP outputs 0 before training. */
  zeroOutput?: boolean;
}

/**
 * An MLP: `depth − 1` hidden blocks (linear → [layer norm] → activation → dropout), then a linear
 * output layer, plus an optional linear skip from the input. Hidden layers use He-uniform kernels for
 * relu/gelu and Glorot-uniform for tanh; output and skip layers use Glorot-uniform (the output layer
 * zeros with `zeroOutput`); biases start at 0.
 */
export class Mlp {
  private readonly hidden: { dense: Dense; norm: LayerNorm | undefined }[] = [];
  private readonly out: Dense;
  private readonly skip: Dense | undefined;

  constructor(
    store: ParamStore,
    name: string,
    private readonly options: MlpOptions,
  ) {
    const { inputDim, outputDim, depth, hidden, layerNorm, activation } = options;
    let width = inputDim;
    for (let i = 0; i < depth - 1; i++) {
      const dense = new Dense(
        store,
        `${name}/dense_${i}`,
        width,
        hidden,
        activation === 'tanh' ? 'glorot' : 'he',
      );
      const norm = layerNorm ? new LayerNorm(store, `${name}/norm_${i}`, hidden) : undefined;
      this.hidden.push({ dense, norm });
      width = hidden;
    }
    this.out = new Dense(
      store,
      `${name}/out`,
      width,
      outputDim,
      options.zeroOutput ? 'zeros' : 'glorot',
      options.outputBias ?? 0,
    );
    this.skip =
      options.skip && depth >= 2 ? new Dense(store, `${name}/skip`, inputDim, outputDim) : undefined;
  }

  /** x: `[B, inputDim]` → `[B, outputDim]`. Dropout needs `opts.rng` in training mode. */
  apply(x: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor {
    return this.applyWithHidden(x, opts).output;
  }

  /**
   * {@link apply}, also returning the last hidden layer as the output layer reads it (after the
   * activation and dropout; `x` itself when `depth` is 1).
   */
  applyWithHidden(x: tf.Tensor, opts: ForwardOptions = {}): { output: tf.Tensor; hidden: tf.Tensor } {
    let h = x;
    for (const { dense, norm } of this.hidden) {
      h = dense.apply(h);
      if (norm) h = norm.apply(h);
      h = activate(h, this.options.activation);
      if (opts.training && this.options.dropout > 0) {
        if (!opts.rng) {
          throw new ConfigError(
            'Mlp.apply: training with dropout needs an rng: pass opts.rng (an Rng), or set dropout: 0',
          );
        }
        h = seededDropout(h, this.options.dropout, opts.rng);
      }
    }
    const y = this.out.apply(h);
    return { output: this.skip ? tf.add(y, this.skip.apply(x)) : y, hidden: h };
  }
}

/**
 * Pooling of R region vectors `[B, R, D]` into one vector `[B, D]`, with an optional mask `[B, R]`
 * (1 = real region, 0 = padding; every item needs at least one real region).
 *
 * - `mean`: the masked mean.
 * - `attention`: weights wᵣ = softmax over the real regions of vᵀ tanh(W xᵣ + c), output Σ wᵣ xᵣ.
 *   W is Glorot-uniform `[D, H]`, c = 0, v is Glorot-uniform `[H, 1]`.
 */
export class RegionPool {
  private readonly attention: { proj: Dense; score: Dense } | undefined;

  constructor(
    store: ParamStore,
    name: string,
    readonly kind: RegionPooling,
    inputDim: number,
    attentionHidden: number,
  ) {
    if (kind === 'attention') {
      this.attention = {
        proj: new Dense(store, `${name}/proj`, inputDim, attentionHidden),
        score: new Dense(store, `${name}/score`, attentionHidden, 1),
      };
    }
  }

  /** Pooling weights `[B, R]` (each row sums to 1). */
  weights(x: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor2D {
    const [b, r] = x.shape;
    if (!this.attention) {
      const m = mask ?? tf.ones([b, r]);
      return tf.div(m, tf.sum(m, 1, true)) as tf.Tensor2D;
    }
    const hidden = tf.tanh(this.attention.proj.apply(x));
    let logits = tf.reshape(this.attention.score.apply(hidden), [b, r]);
    if (mask) logits = tf.add(logits, tf.mul(tf.sub(1, mask), -1e9));
    return tf.softmax(logits, -1) as tf.Tensor2D;
  }

  /** `[B, R, D]` → `[B, D]`. */
  apply(x: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor2D {
    const w = this.weights(x, mask);
    return tf.sum(tf.mul(x, tf.expandDims(w, 2)), 1) as tf.Tensor2D;
  }
}
