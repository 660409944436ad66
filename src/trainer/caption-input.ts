/**
 * What the caption side of a network reads: feature vectors (`model.text.kind: 'features'`) or token
 * ids through a word-level encoder (`bow`, `gru`; see `TokenEncoder`). {@link textEncoderOptions} turns
 * the trainer's `model.text` into the model's `text` and `textTokens` options for a dataset, and
 * {@link captionTokenTensor} builds a batch of padded ids.
 *
 * @example
 * ```ts
 * import { resolveTrainerConfig } from 'cleave';
 * const c = resolveTrainerConfig({ model: { text: { kind: 'gru', tokenHidden: 256 } } });
 * const { text, textTokens } = textEncoderOptions(c, data);   // text.inputDim 256; textTokens.kind 'gru'
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { ConfigError } from '../core/errors.js';
import type { EncoderOptionsInput, TokenEncoderOptionsInput } from '../core/model/config.js';
import { paddedTokens } from '../core/model/text-encoder.js';
import type { TrainerConfig } from './config.js';

/**
 * The model's `text` (and `textTokens`) options from the trainer config, for `data`.
 *
 * @throws ConfigError naming `model.text.kind` when the captions do not have what it reads
 */
export function textEncoderOptions(
  c: TrainerConfig,
  data: PairDataset,
): { text: EncoderOptionsInput; textTokens?: TokenEncoderOptionsInput } {
  const { kind, wordDim, tokenHidden, ...encoder } = c.model.text;
  if (kind === 'features') {
    if (!data.hasCaptionFeatures) {
      throw new ConfigError(
        "model.text.kind is 'features' but the captions have no feature vectors: set model.text.kind to 'gru' or 'bow' to train a text encoder on their token ids",
        [{ path: 'model.text.kind', message: 'the captions have token ids only' }],
      );
    }
    return { text: { ...encoder, inputDim: data.captionDim } };
  }
  const vocabSize = data.tokenVocabSize;
  if (vocabSize === undefined) {
    throw new ConfigError(
      `model.text.kind is '${kind}' but the captions have no token ids: give raw captions with a vocabulary (a *_precomp folder) or use kind 'features'`,
      [{ path: 'model.text.kind', message: 'the captions have no token ids' }],
    );
  }
  const textTokens: TokenEncoderOptionsInput = { kind, vocabSize, wordDim, hidden: tokenHidden };
  const width = kind === 'bow' ? wordDim : tokenHidden;
  // learned word features have no fixed statistics to standardise with
  return { text: { ...encoder, inputDim: width, standardize: false }, textTokens };
}

/**
 * Captions `indices` of `data` as a `[n, T]` int32 tensor of token ids padded with 0 (T = the longest,
 * at most `maxLength`). The caller owns the tensor.
 *
 * @example
 * ```ts
 * const x = captionTokenTensor(data, batch.captions);   // model.embedCaptions(x) with a token encoder
 * ```
 */
export function captionTokenTensor(
  data: PairDataset,
  indices: ArrayLike<number>,
  maxLength = 64,
): tf.Tensor2D {
  const { ids, length } = paddedTokens(data, indices, maxLength);
  return tf.tensor2d(ids, [indices.length, length], 'int32');
}
