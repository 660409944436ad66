/**
 * Shared helpers of the in-batch losses: shape checks and diagonal/off-diagonal pieces of a `[B, B]`
 * matrix whose row i is image i and whose column i is its caption (the aligned pair i).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { diagonal } from 'cleave/model';
 * diagonal(tf.tensor2d([[1, 2], [3, 4]])).print();   // [1, 4]
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import '../tf-gradients.js';

/**
 * Check that `matrix` is `[B, B]` with B ≥ 2 and `targets` is `[B]`; return B.
 * @throws Error naming the loss and the shapes.
 */
export function checkBatch(loss: string, matrix: tf.Tensor, targets: tf.Tensor): number {
  const [b, c] = matrix.shape;
  if (matrix.rank !== 2 || b !== c || b === undefined) {
    throw new Error(
      `${loss}: expected a square [B, B] matrix of B aligned pairs, got [${matrix.shape.join(', ')}]`,
    );
  }
  if (b < 2) throw new Error(`${loss}: needs at least 2 pairs per batch (in-batch negatives), got ${b}`);
  if (targets.rank !== 1 || targets.shape[0] !== b) {
    throw new Error(`${loss}: targets must have shape [${b}], got [${targets.shape.join(', ')}]`);
  }
  return b;
}

/** The diagonal `[B]` of a `[B, B]` matrix. */
export function diagonal(matrix: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(matrix, tf.eye(matrix.shape[0])), 1) as tf.Tensor1D);
}

/** 1 off the diagonal, 0 on it, `[B, B]`. */
export function offDiagonal(b: number): tf.Tensor2D {
  return tf.tidy(() => tf.sub(1, tf.eye(b)) as tf.Tensor2D);
}
