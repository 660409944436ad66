/**
 * The auxiliary tasks of the multi-task warm-up: small heads on the shared space whose losses are
 * added to the cross-modal matching loss so that the encoders learn the clean, class-level structure
 * before they memorise mismatched pairs.
 *
 * - Class prediction (needs labels): a cosine classifier, logits = s·cos(e, w_c) over C learned class
 *   vectors w_c, on the image embedding and on the caption embedding of each pair, cross-entropy
 *   against the *image's* class. The image term has weight 1; the caption term is weighted by the
 *   pair's target y (a caption's label is only as good as its pairing; y = 1 in the warm-up). The
 *   same classifier gives the class-consistency term of the per-pair scores (`split.classWeight`):
 *   a shuffled caption usually describes another class.
 * - Modality classifier: a logistic regression on the shared space that tells images (0) from
 *   captions (1), trained through a gradient-reversal layer, so the classifier learns to separate
 *   the modalities and the encoders learn to make them inseparable (a modality-invariant space).
 * - Caption–caption matching: symmetric InfoNCE between each caption and another caption of the same
 *   image (datasets with k ≥ 2 captions per image).
 *
 * The heads' weights belong to the trainer (they are not part of the saved model).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Rng } from 'cleave';
 * import { AuxiliaryHeads } from 'cleave/trainer';
 * const heads = new AuxiliaryHeads({ embedDim: 4, numClasses: 3, rng: new Rng(0) });
 * const emb = tf.tidy(() => tf.div(tf.ones([2, 4]), 2) as tf.Tensor2D);
 * const loss = heads.classLoss(emb, tf.tensor1d([0, 2], 'int32'), 10);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../core/errors.js';
import { glorotUniform, ParamStore } from '../core/model/params.js';
import type { Rng } from '../core/random.js';
import '../core/tf-gradients.js';

/** x in the forward pass, −dy in the backward pass. */
export const gradientReversal: (x: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  // biome-ignore lint/suspicious/noExplicitAny: tfjs's customGrad signature
  ((x: tf.Tensor2D, _save: any) => ({
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor) => tf.neg(dy),
  })) as never,
) as never;

/** The auxiliary heads (see the module documentation). */
export class AuxiliaryHeads {
  private readonly store: ParamStore;
  private readonly classWeights: tf.Variable | undefined;
  private readonly modalityWeights: tf.Variable;
  private readonly modalityBias: tf.Variable;

  /**
   * @param options.embedDim the shared space's dimension
   * @param options.numClasses number of classes (0: no class head)
   * @param options.rng where the initial weights come from
   */
  constructor(options: { embedDim: number; numClasses: number; rng: Rng }) {
    const { embedDim: d, numClasses: c } = options;
    this.store = new ParamStore(options.rng);
    if (c > 0) this.classWeights = this.store.add('aux/class/weights', [c, d], (r) => glorotUniform(r, d, c));
    this.modalityWeights = this.store.add('aux/modality/weights', [d, 1], (r) => glorotUniform(r, d, 1));
    this.modalityBias = this.store.add('aux/modality/bias', [1], () => new Float32Array(1));
  }

  /** Every trainable variable of the heads. */
  get trainableVariables(): tf.Variable[] {
    return this.store.trainable();
  }

  /** The weights by logical name (for checkpoints). */
  entries(): [string, tf.Variable][] {
    return this.store.entries();
  }

  /** Overwrite the weights (from a checkpoint). */
  assign(weights: tf.NamedTensorMap, source: string): void {
    this.store.assign(weights, source);
  }

  /** Whether a class head exists. */
  get hasClassHead(): boolean {
    return this.classWeights !== undefined;
  }

  /**
   * Per-item cross-entropy `[B]` of the cosine classifier, logits = `scale`·cos(e, w_c), on unit-norm
   * embeddings `[B, d]` against `labels` `[B]`.
   */
  classCrossEntropy(embeddings: tf.Tensor2D, labels: tf.Tensor1D, scale: number): tf.Tensor1D {
    const w = this.classWeights;
    if (!w) {
      throw new ConfigError(
        'AuxiliaryHeads: built with numClasses 0, so there is no class head: build it with the number of classes, or check hasClassHead first',
        [{ path: 'numClasses', message: 'must be > 0 for the class head' }],
      );
    }
    return tf.tidy(() => {
      const wn = tf.div(w, tf.sqrt(tf.add(tf.sum(tf.square(w), 1, true), 1e-12)));
      const logits = tf.mul(scale, tf.matMul(embeddings, wn, false, true));
      const onehot = tf.oneHot(labels, w.shape[0]!);
      return tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
    });
  }

  /**
   * The class-prediction loss: mean over the batch of the per-item cross-entropy
   * ({@link classCrossEntropy}), each item weighted by `weights` `[B]` when given.
   */
  classLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, scale: number, weights?: tf.Tensor1D): tf.Scalar {
    return tf.tidy(() => {
      const ce = this.classCrossEntropy(embeddings, labels, scale);
      return tf.mean(weights ? tf.mul(ce, weights) : ce) as tf.Scalar;
    });
  }

  /**
   * Adversarial modality loss: binary cross-entropy of the modality classifier on image (target 0)
   * and caption (target 1) embeddings seen through a gradient-reversal layer.
   */
  modalityLoss(images: tf.Tensor2D, captions: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const z = gradientReversal(tf.concat([images, captions], 0) as tf.Tensor2D);
      const logits = tf.reshape(tf.add(tf.matMul(z, this.modalityWeights), this.modalityBias), [-1]);
      const targets = tf.concat([tf.zeros([images.shape[0]]), tf.ones([captions.shape[0]])]);
      // BCE with logits: max(x, 0) − x·t + log(1 + e^{−|x|})
      const bce = tf.add(
        tf.sub(tf.relu(logits), tf.mul(logits, targets)),
        tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
      );
      return tf.mean(bce) as tf.Scalar;
    });
  }

  /** Free the heads' variables. */
  dispose(): void {
    this.store.dispose();
  }
}
