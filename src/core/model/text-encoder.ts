/**
 * Text encoders over token ids, trained from scratch as the NCR family does: a word embedding table
 * (NCR: 300-d, uniform ±0.1) and either
 *
 * - `bow`: the masked mean of the caption's word vectors (a bag of embeddings), `wordDim` wide; or
 * - `gru`: a bidirectional GRU (PyTorch's cell: r, z gates, n = tanh(Wₙx + bₙ + r ⊙ (Uₙh + cₙ))), the
 *   two directions' final states averaged (NCR averages its bi-GRU's directions), `hidden` wide.
 *
 * Input: `[B, T]` int32 ids padded with 0 (`<pad>` in the published vocabularies); the mask is
 * `ids ≠ 0`. Padding never changes the output: the forward GRU keeps its state over trailing pads and
 * the backward GRU starts from zero until the first real token. The output feeds the model's `text`
 * encoder (its MLP) as a `[B, outputDim]` feature vector.
 *
 * Weights are named `<name>/embedding`, `<name>/fwd/{input,hidden,input_bias,hidden_bias}` and
 * `<name>/bwd/…` in the model's {@link ParamStore}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { ParamStore, Rng, TokenEncoder } from 'cleave';
 * const enc = new TokenEncoder(new ParamStore(new Rng(0)), 'text/tokens', { kind: 'gru', vocabSize: 100, wordDim: 8, hidden: 16 });
 * const ids = tf.tensor2d([[1, 5, 7, 2, 0], [1, 9, 2, 0, 0]], [2, 5], 'int32');   // <start> … <end> <pad>
 * const features = enc.forward(ids);   // [2, 16]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { PairDataset } from '../dataset/pair-dataset.js';
import type { ForwardOptions } from './layers.js';
import { seededDropout } from './layers.js';
import '../tf-gradients.js';
import { constantValues, glorotUniform, type ParamStore } from './params.js';

/** Options of a {@link TokenEncoder}. */
export const tokenEncoderOptionsSchema = z
  .object({
    kind: z.enum(['bow', 'gru']),
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
/** Token encoder options as written. */
export type TokenEncoderOptionsInput = z.input<typeof tokenEncoderOptionsSchema>;
/** Token encoder options with defaults applied. */
export type TokenEncoderOptions = z.output<typeof tokenEncoderOptionsSchema>;

/**
 * Width of a token encoder's output: `wordDim` for `bow`, `hidden` for `gru`.
 *
 * @example
 * ```ts
 * tokenEncoderOutputDim({ kind: 'gru', vocabSize: 10, wordDim: 300, hidden: 512, dropout: 0 });   // 512
 * ```
 */
export function tokenEncoderOutputDim(o: TokenEncoderOptions): number {
  return o.kind === 'bow' ? o.wordDim : o.hidden;
}

interface GruWeights {
  input: tf.Variable; // [wordDim, 3H]: r | z | n
  hidden: tf.Variable; // [H, 3H]
  inputBias: tf.Variable; // [3H]
  hiddenBias: tf.Variable; // [3H]
}

/** A text encoder over token ids (see the module documentation). */
export class TokenEncoder {
  readonly options: TokenEncoderOptions;
  private readonly embedding: tf.Variable;
  private readonly fwd: GruWeights | undefined;
  private readonly bwd: GruWeights | undefined;

  /**
   * @param store where the weights are created (seeded by their names)
   * @param name prefix of the weight names, e.g. `text/tokens`
   */
  constructor(
    store: ParamStore,
    readonly name: string,
    options: TokenEncoderOptionsInput,
  ) {
    const o = tokenEncoderOptionsSchema.parse(options);
    this.options = o;
    this.embedding = store.add(`${name}/embedding`, [o.vocabSize, o.wordDim], (rng) => {
      const w = new Float32Array(o.vocabSize * o.wordDim);
      for (let k = 0; k < w.length; k++) w[k] = (rng.float() * 2 - 1) * 0.1;
      return w;
    });
    if (o.kind === 'gru') {
      const gru = (dir: string): GruWeights => {
        const h = o.hidden;
        return {
          input: store.add(`${name}/${dir}/input`, [o.wordDim, 3 * h], (rng) =>
            glorotUniform(rng, o.wordDim, 3 * h),
          ),
          hidden: store.add(`${name}/${dir}/hidden`, [h, 3 * h], (rng) => glorotUniform(rng, h, 3 * h)),
          inputBias: store.add(`${name}/${dir}/input_bias`, [3 * h], () => constantValues(3 * h, 0)),
          hiddenBias: store.add(`${name}/${dir}/hidden_bias`, [3 * h], () => constantValues(3 * h, 0)),
        };
      };
      this.fwd = gru('fwd');
      this.bwd = gru('bwd');
    }
  }

  /** Width of the output. */
  get outputDim(): number {
    return tokenEncoderOutputDim(this.options);
  }

  /**
   * Encode `[B, T]` int32 ids (0 = padding) into `[B, outputDim]` features. The caller owns the result.
   *
   * @example
   * ```ts
   * const f = tf.tidy(() => enc.forward(ids, { training: true, rng: new Rng(1) }));
   * ```
   */
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const [b, t] = ids.shape;
      const mask = tf.cast(tf.notEqual(ids, 0), 'float32') as tf.Tensor2D; // [B, T]
      let words = tf.gather(this.embedding, ids) as tf.Tensor3D; // [B, T, W]
      if (opts.training && this.options.dropout > 0) {
        if (!opts.rng) throw new Error('TokenEncoder.forward: training with dropout needs an rng');
        words = seededDropout(words, this.options.dropout, opts.rng) as tf.Tensor3D;
      }
      if (this.options.kind === 'bow') {
        const summed = tf.sum(tf.mul(words, tf.expandDims(mask, 2)), 1);
        const count = tf.maximum(tf.sum(mask, 1, true), 1);
        return tf.div(summed, count) as tf.Tensor2D;
      }
      const w = this.options.wordDim;
      const flat = tf.reshape(words, [b * t, w]);
      const steps = (g: GruWeights) =>
        tf.unstack(
          tf.reshape(tf.add(tf.matMul(flat, g.input), g.inputBias), [b, t, 3 * this.options.hidden]),
          1,
        );
      const masks = tf.unstack(tf.expandDims(mask, 2), 1) as tf.Tensor2D[]; // T × [B, 1]
      const forward = this.run(steps(this.fwd!), masks, this.fwd!, false);
      const backward = this.run(steps(this.bwd!), masks, this.bwd!, true);
      return tf.mul(0.5, tf.add(forward, backward)) as tf.Tensor2D;
    });
  }

  /** One direction: masked GRU steps over precomputed input projections. */
  private run(xs: tf.Tensor[], masks: tf.Tensor2D[], g: GruWeights, reverse: boolean): tf.Tensor2D {
    const hdim = this.options.hidden;
    const b = xs[0]!.shape[0]!;
    let h = tf.zeros([b, hdim]) as tf.Tensor2D;
    const order = xs.map((_, k) => (reverse ? xs.length - 1 - k : k));
    for (const k of order) {
      const xp = xs[k]!;
      const hp = tf.add(tf.matMul(h, g.hidden), g.hiddenBias);
      const [xr, xz, xn] = tf.split(xp, 3, 1);
      const [hr, hz, hn] = tf.split(hp, 3, 1);
      const r = tf.sigmoid(tf.add(xr!, hr!));
      const z = tf.sigmoid(tf.add(xz!, hz!));
      const n = tf.tanh(tf.add(xn!, tf.mul(r, hn!)));
      const next = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
      const m = masks[k]!;
      h = tf.add(tf.mul(m, next), tf.mul(tf.sub(1, m), h)) as tf.Tensor2D;
    }
    return h;
  }
}

/**
 * Captions `indices` of `data` as a `[n, T]` int32 id matrix padded with 0 (T = the longest of them,
 * at most `maxLength`, tokens beyond it cut), for {@link TokenEncoder.forward}.
 *
 * @example
 * ```ts
 * const { ids, length } = paddedTokens(data, Int32Array.from([0, 1, 2]));
 * const x = tf.tensor2d(ids, [3, length], 'int32');
 * ```
 */
export function paddedTokens(
  data: PairDataset,
  indices: ArrayLike<number>,
  maxLength = 64,
): { ids: Int32Array; length: number } {
  let length = 1;
  for (let k = 0; k < indices.length; k++) length = Math.max(length, data.captionTokens(indices[k]!).length);
  length = Math.min(length, maxLength);
  const ids = new Int32Array(indices.length * length);
  for (let k = 0; k < indices.length; k++) {
    const tokens = data.captionTokens(indices[k]!);
    ids.set(tokens.subarray(0, length), k * length);
  }
  return { ids, length };
}
