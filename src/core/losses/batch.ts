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
import { activeBlasAddon } from '../backend/cpu-blas.js';
import { DataError } from '../errors.js';
import '../tf-gradients.js';

/**
 * Check that `matrix` is `[B, B]` with B ≥ 2 and `targets` is `[B]`; return B.
 * @throws DataError naming the loss and the shapes.
 */
export function checkBatch(loss: string, matrix: tf.Tensor, targets: tf.Tensor, mask: PairMask = {}): number {
  const [b, c] = matrix.shape;
  if (matrix.rank !== 2 || b !== c || b === undefined) {
    throw new DataError(
      `${loss}: expected a square [B, B] matrix of B aligned pairs, got [${matrix.shape.join(', ')}]`,
    );
  }
  if (b < 2) throw new DataError(`${loss}: needs at least 2 pairs per batch (in-batch negatives), got ${b}`);
  if (targets.rank !== 1 || targets.shape[0] !== b) {
    throw new DataError(`${loss}: targets must have shape [${b}], got [${targets.shape.join(', ')}]`);
  }
  if (mask.sameImage && mask.sameImage.length !== b) {
    throw new DataError(
      `${loss}: sameImage must have one image id per pair (${b}), got ${mask.sameImage.length}`,
    );
  }
  return b;
}

/**
 * The same-image mask of the per-pair losses: which in-batch entries are not negatives.
 *
 * @example
 * ```ts
 * // pairs 0 and 1 are two captions of image 7: S(0, 1) and S(1, 0) are not negatives
 * infoNCELossPerPair(S, tf.ones([3]), 10, { sameImage: Int32Array.from([7, 7, 2]) });
 * ```
 */
export interface PairMask {
  /**
   * The image (any group id) of each of the B pairs. The entries (i, j), i ≠ j, of two pairs of one
   * image are left out of both the row and the column reductions (another caption of the same image
   * is not a negative). Omitted: every off-diagonal entry is a negative.
   */
  sameImage?: ArrayLike<number>;
}

/**
 * 1 where two different pairs share an image (i ≠ j, `groups[i] === groups[j]`), 0 elsewhere, `[B, B]`:
 * the dense form of {@link PairMask}, built on the host (one pass, no `[B, B]` comparison kernels).
 *
 * @example
 * ```ts
 * sameImageMask(Int32Array.from([0, 0, 1])).print();   // [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
 * ```
 */
export function sameImageMask(groups: ArrayLike<number>): tf.Tensor2D {
  const b = groups.length;
  const mask = new Float32Array(b * b);
  for (let i = 0; i < b; i++) {
    const gi = groups[i]!;
    for (let j = 0; j < b; j++) if (j !== i && groups[j] === gi) mask[i * b + j] = 1;
  }
  return tf.tensor2d(mask, [b, b]);
}

/** The value a left-out entry gets before a dense reduction (its exp is 0, it is never a maximum). */
export const EXCLUDED = -1e9;

/**
 * Row and column log-sum-exp of a square `[B, B]` matrix with the {@link PairMask} entries left out:
 * `row[i] = log Σⱼ exp L(i, j)` and `col[j] = log Σᵢ exp L(i, j)` over the kept entries. Equal, float
 * for float, to `tf.logSumExp(L + EXCLUDED·mask, 1 | 0)` (the exp of a left-out entry is 0), but in
 * two fused passes over the matrix on the cpu backends (natively on `cpu-blas`) instead of a dozen
 * dense ops and an n² mask; on other backends the dense ops. Differentiable (softmax gradient over
 * the kept entries).
 *
 * @example
 * ```ts
 * const { row, col } = maskedLogSumExp(tf.tensor2d([[1, 2], [3, 4]]), Int32Array.from([0, 1]));
 * ```
 */
export function maskedLogSumExp(
  logits: tf.Tensor2D,
  groups?: ArrayLike<number>,
): { row: tf.Tensor1D; col: tf.Tensor1D } {
  const b = logits.shape[0];
  if (groups && groups.length !== b) {
    throw new DataError(`maskedLogSumExp: ${groups.length} group ids for a [${b}, ${b}] matrix`);
  }
  const ids = groups ? Int32Array.from(groups) : undefined;
  const fused = tf.customGrad((x, save) => {
    const lse = lseForward(x as tf.Tensor2D, ids);
    (save as tf.GradSaveFunc)([x as tf.Tensor, lse]);
    return {
      value: lse,
      gradFunc: (dy, saved) => {
        const [xs, out] = saved as [tf.Tensor2D, tf.Tensor2D];
        const [dRow, dCol] = tf.unstack(dy as tf.Tensor2D);
        const [row, col] = tf.unstack(out);
        const keep = ids ? tf.sub(1, sameImageMask(ids)) : tf.onesLike(xs);
        const pRow = tf.mul(tf.exp(tf.sub(xs, tf.expandDims(row!, 1))), keep);
        const pCol = tf.mul(tf.exp(tf.sub(xs, tf.expandDims(col!, 0))), keep);
        return tf.add(tf.mul(pRow, tf.expandDims(dRow!, 1)), tf.mul(pCol, tf.expandDims(dCol!, 0)));
      },
    };
  });
  return tf.tidy(() => {
    const [row, col] = tf.unstack(fused(logits) as tf.Tensor2D);
    return { row: row as tf.Tensor1D, col: col as tf.Tensor1D };
  });
}

/** `[2, B]`: the row and the column log-sum-exp of {@link maskedLogSumExp}. */
function lseForward(x: tf.Tensor2D, groups: Int32Array | undefined): tf.Tensor2D {
  const backend = tf.getBackend();
  if (backend !== 'cpu' && backend !== 'cpu-blas') {
    return tf.tidy(() => {
      const l = groups ? tf.add(x, tf.mul(sameImageMask(groups), EXCLUDED)) : x;
      return tf.stack([tf.logSumExp(l, 1), tf.logSumExp(l, 0)]) as tf.Tensor2D;
    });
  }
  const n = x.shape[0];
  const values = x.dataSync() as Float32Array;
  const rowMax = new Float32Array(n);
  const rowSum = new Float32Array(n);
  const colMax = new Float32Array(n);
  const colSum = new Float32Array(n);
  const addon = activeBlasAddon();
  if (addon?.maskedLogSumExp)
    addon.maskedLogSumExp(values, n, groups ?? null, rowMax, rowSum, colMax, colSum);
  else maskedLseLoop(values, n, groups, rowMax, rowSum, colMax, colSum);
  // tfjs's logSumExp: max + log(sum), each step rounded to float32
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[i] = rowMax[i]! + Math.fround(Math.log(rowSum[i]!));
    out[n + i] = colMax[i]! + Math.fround(Math.log(colSum[i]!));
  }
  return tf.tensor2d(out, [2, n]);
}

/**
 * The JS twin of the native `maskedLogSumExp` (cleave_blas.c): tfjs's cpu semantics step by step
 * (float32 sub and exp, double sums in index order, NaN-propagating maxima).
 */
function maskedLseLoop(
  x: Float32Array,
  n: number,
  groups: Int32Array | undefined,
  rowMax: Float32Array,
  rowSum: Float32Array,
  colMax: Float32Array,
  colSum: Float32Array,
): void {
  const f = Math.fround;
  for (let j = 0; j < n; j++) colMax[j] = x[j * n + j]!;
  for (let i = 0; i < n; i++) {
    const gi = groups ? groups[i]! : 0;
    let m = x[i * n + i]!;
    for (let j = 0; j < n; j++) {
      if (groups && j !== i && groups[j] === gi) continue;
      const v = x[i * n + j]!;
      if (v > m || Number.isNaN(v)) m = v;
      if (v > colMax[j]! || Number.isNaN(v)) colMax[j] = v;
    }
    rowMax[i] = m;
  }
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const gi = groups ? groups[i]! : 0;
    const m = rowMax[i]!;
    let s = 0;
    for (let j = 0; j < n; j++) {
      if (groups && j !== i && groups[j] === gi) continue;
      const v = x[i * n + j]!;
      s += f(Math.exp(f(v - m)));
      acc[j] = acc[j]! + f(Math.exp(f(v - colMax[j]!)));
    }
    rowSum[i] = s;
  }
  colSum.set(acc);
}

/** The diagonal `[B]` of a `[B, B]` matrix. */
export function diagonal(matrix: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(matrix, tf.eye(matrix.shape[0])), 1) as tf.Tensor1D);
}

/**
 * The diagonal `[B]` of a `[B, B]` matrix by a gather of its B entries (no `[B, B]` pass): equal to
 * {@link diagonal} for finite entries (which multiplies by the identity, so an infinite entry elsewhere
 * in its row turns into NaN there).
 */
export function diagonalEntries(matrix: tf.Tensor2D): tf.Tensor1D {
  const b = matrix.shape[0];
  return tf.tidy(() => {
    const at = tf.tensor1d(
      Int32Array.from({ length: b }, (_, i) => i * (b + 1)),
      'int32',
    );
    return tf.gather(tf.reshape(matrix, [-1]), at) as tf.Tensor1D;
  });
}

/** 1 off the diagonal, 0 on it, `[B, B]`. */
export function offDiagonal(b: number): tf.Tensor2D {
  return tf.tidy(() => tf.sub(1, tf.eye(b)) as tf.Tensor2D);
}
