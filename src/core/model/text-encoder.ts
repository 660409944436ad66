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
 * import { Rng } from 'cleave';
 * import { ParamStore, TokenEncoder } from 'cleave/model';
 * const enc = new TokenEncoder(new ParamStore(new Rng(0)), 'text/tokens', { kind: 'gru', vocabSize: 100, wordDim: 8, hidden: 16 });
 * const ids = tf.tensor2d([[1, 5, 7, 2, 0], [1, 9, 2, 0, 0]], [2, 5], 'int32');   // <start> … <end> <pad>
 * const features = enc.forward(ids);   // [2, 16]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import type { PairDataset } from '../dataset/pair-dataset.js';
import { ConfigError } from '../errors.js';
import { tokenEncoderOptionsSchema } from './config.js';
import type { ForwardOptions } from './layers.js';
import { seededDropout } from './layers.js';
import '../tf-gradients.js';
import { constantValues, glorotUniform, type ParamStore } from './params.js';

/** Options of a {@link TokenEncoder} (the schema lives with the model config). */
export { tokenEncoderOptionsSchema };

/** Token encoder options as written. */
import type { TokenEncoderOptionsInput } from './config.js';
export type { TokenEncoderOptionsInput };
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
  input: tf.Variable; // [3H, wordDim]: r | z | n
  hidden: tf.Variable; // [3H, H]
  inputBias: tf.Variable; // [3H]
  hiddenBias: tf.Variable; // [3H]
}

/**
 * Rows `ids` of `table` (`[N, W]` for N ids), with a gradient that scatter-adds the N rows of dy into a
 * dense `[V, W]` array in one pass: tfjs's own `gather` gradient (`unsortedSegmentSum`) loops over
 * all V segments on the CPU backends, which is O(V · N · W) — minutes per batch for a real vocabulary.
 *
 * @example
 * ```ts
 * const rows = embeddingLookup(table, tf.tensor2d([[1, 2, 0]], [1, 3], 'int32'));   // [3, W]
 * ```
 */
export function embeddingLookup(table: tf.Tensor2D | tf.Variable, ids: tf.Tensor): tf.Tensor2D {
  const flat = tf.reshape(ids, [ids.size]) as tf.Tensor1D;
  const rows = flat.dataSync() as Int32Array;
  const [v, w] = table.shape as [number, number];
  const lookup = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.gather(inputs[0] as tf.Tensor, flat),
    gradFunc: (dy: tf.Tensor) => {
      const g = new Float32Array(v * w);
      const d = dy.dataSync() as Float32Array;
      for (let k = 0; k < rows.length; k++) {
        const dst = rows[k]! * w;
        const src = k * w;
        for (let c = 0; c < w; c++) g[dst + c] = g[dst + c]! + d[src + c]!;
      }
      return tf.tensor2d(g, [v, w]);
    },
  }));
  return lookup(table) as tf.Tensor2D;
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
        // PyTorch's layout (weight_ih [3H, W], weight_hh [3H, H], gates r | z | n): row slices are contiguous
        return {
          input: store.add(`${name}/${dir}/input`, [3 * h, o.wordDim], (rng) =>
            glorotUniform(rng, o.wordDim, 3 * h),
          ),
          hidden: store.add(`${name}/${dir}/hidden`, [3 * h, h], (rng) => glorotUniform(rng, h, 3 * h)),
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
      const w = this.options.wordDim;
      // time-major ([T, B]) so that every per-step slice is a contiguous block
      const timeIds = tf.transpose(ids) as tf.Tensor2D;
      const mask = tf.cast(tf.notEqual(timeIds, 0), 'float32') as tf.Tensor2D; // [T, B]
      let words = embeddingLookup(this.embedding, timeIds); // [T·B, W]
      if (opts.training && this.options.dropout > 0) {
        if (!opts.rng) {
          throw new ConfigError(
            'TokenEncoder.forward: training with dropout needs an rng: pass opts.rng (an Rng), or set dropout: 0',
          );
        }
        words = seededDropout(words, this.options.dropout, opts.rng) as tf.Tensor2D;
      }
      if (this.options.kind === 'bow') {
        const masked = tf.mul(tf.reshape(words, [t, b, w]), tf.expandDims(mask, 2));
        const count = tf.maximum(tf.expandDims(tf.sum(mask, 0), 1), 1);
        return tf.div(tf.sum(masked, 0), count) as tf.Tensor2D;
      }
      const masks = tf.unstack(tf.expandDims(mask, 2), 0) as tf.Tensor2D[]; // T × [B, 1]
      const forward = this.run(words, t, b, masks, this.fwd!, false);
      const backward = this.run(words, t, b, masks, this.bwd!, true);
      return tf.mul(0.5, tf.add(forward, backward)) as tf.Tensor2D;
    });
  }

  /** One direction: masked GRU steps; the input projections of all steps are one product per gate. */
  private run(
    words: tf.Tensor2D,
    t: number,
    b: number,
    masks: tf.Tensor2D[],
    g: GruWeights,
    reverse: boolean,
  ): tf.Tensor2D {
    const hdim = this.options.hidden;
    const wi = tf.split(g.input, 3, 0) as tf.Tensor2D[]; // 3 × [H, W]
    const wh = tf.split(g.hidden, 3, 0) as tf.Tensor2D[]; // 3 × [H, H]
    const bi = tf.split(g.inputBias, 3, 0);
    const bh = tf.split(g.hiddenBias, 3, 0);
    const xs = [0, 1, 2].map((k) =>
      tf.unstack(tf.reshape(tf.add(tf.matMul(words, wi[k]!, false, true), bi[k]!), [t, b, hdim]), 0),
    ); // gate → T × [B, H]
    let h = tf.zeros([b, hdim]) as tf.Tensor2D;
    for (let s = 0; s < t; s++) {
      const k = reverse ? t - 1 - s : s;
      const hr = tf.add(tf.matMul(h, wh[0]!, false, true), bh[0]!);
      const hz = tf.add(tf.matMul(h, wh[1]!, false, true), bh[1]!);
      const hn = tf.add(tf.matMul(h, wh[2]!, false, true), bh[2]!);
      const r = tf.sigmoid(tf.add(xs[0]![k]!, hr));
      const z = tf.sigmoid(tf.add(xs[1]![k]!, hz));
      const n = tf.tanh(tf.add(xs[2]![k]!, tf.mul(r, hn)));
      const m = masks[k]!;
      // h ← h + m·(1 − z)·(n − h): the GRU update where the token is real, h unchanged over padding
      h = tf.add(h, tf.mul(tf.mul(m, tf.sub(1, z)), tf.sub(n, h))) as tf.Tensor2D;
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
