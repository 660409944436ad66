/**
 * Per-pair losses of training pairs: the scores the clean/noisy split is fitted to (higher = more
 * likely a mismatched pair). Computed in evaluation mode (no dropout) from the embeddings of every
 * image and caption of the dataset.
 *
 * Definitions (pair i = caption i with image g(i); e = unit-norm means; S(i, j) = e_img(g(i))·e_cap(j)):
 * - `infonce`: the pairs are shuffled (seeded) into blocks of `block` pairs (one block holding every
 *   pair when there are at most `block`), and within its block pair i scores
 *   ℓᵢ = ½·[(logΣⱼ exp(S(i, j)/τ) − S(i, i)/τ) + (logΣⱼ exp(S(j, i)/τ) − S(i, i)/τ)],
 *   where j runs over the block's pairs whose image differs from g(i) (other captions of the same
 *   image are not negatives), plus i itself.
 * - `triplet`: VSE++ hinge to the hardest negative within the block, both directions:
 *   ℓᵢ = maxⱼ[α + S(i, j) − S(i, i)]₊ + maxⱼ[α + S(j, i) − S(i, i)]₊ (same exclusions).
 * - `cosine`: ℓᵢ = 1 − S(i, i).
 * - `match` (probabilistic head): ℓᵢ = −log p(i, i) = softplus(a·d(i, i) − b), with the closed-form
 *   distance d = ‖μ_img − μ_cap‖² + Σσ²_img + Σσ²_cap.
 *
 * With `classTerm`, λ·CE(class head on caption i, class of image g(i)) is added to each score.
 *
 * @example
 * ```ts
 * import { pairScores } from 'cleave/trainer';
 * const losses = pairScores(model, data.train, { score: 'infonce', temperature: 0.1, block: 4096, seed: 0 });
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { activeBlasAddon } from '../core/backend/cpu-blas.js';
import type { BlasAddon } from '../core/backend/native.js';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { ConfigError, DataError } from '../core/errors.js';
import { maskedLogSumExp } from '../core/losses/batch.js';
import { infoNCELossPerPair } from '../core/losses/infonce.js';
import { alignedMatchLoss } from '../core/losses/match.js';
import { tripletLossPerPair } from '../core/losses/triplet.js';
import type { CrossModalModel } from '../core/model/model.js';
import { Rng } from '../core/random.js';
import type { AuxiliaryHeads } from './auxiliary.js';
import type { SplitScore } from './config.js';
import { type DatasetEmbeddings, embedDataset, inputEmbeddings } from './embed.js';

/** Options of {@link pairScores}. */
export interface PairScoreOptions {
  /** A {@link SplitScore} computed from the model (`input-cosine` needs none: `inputCosines`). */
  score: Exclude<SplitScore, 'input-cosine'>;
  /** τ of `infonce` (default 0.1). */
  temperature?: number;
  /** Block size of `infonce`/`triplet` (default 4096). */
  block?: number;
  /** Margin α of `triplet` (default 0.2). */
  margin?: number;
  /** Seed of the block assignment. */
  seed?: number;
  /** Precomputed embeddings of `data` (skips the forward pass). */
  embeddings?: DatasetEmbeddings;
  /**
   * Add `weight`·CE(class head on caption j, labels[image of j]) to every pair's score (the
   * class-consistency term; `labels` per image of `data`).
   */
  classTerm?: { heads: AuxiliaryHeads; labels: Int32Array; scale: number; weight: number };
}

/** A growing `Float32Array` reused by the blocks of one scoring pass (their similarity matrices). */
type Scratch = (size: number) => Float32Array;

function scratchBuffer(): Scratch {
  let buffer = new Float32Array(0);
  return (size) => {
    if (buffer.length < size) buffer = new Float32Array(size);
    return buffer;
  };
}

/** Rows `rows` of a row-major `n × d` matrix, packed. */
function gatherRows(matrix: Float32Array, d: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let k = 0; k < rows.length; k++) out.set(matrix.subarray(rows[k]! * d, rows[k]! * d + d), k * d);
  return out;
}

/** Gather rows `rows` of a row-major `n × d` matrix into a new `[rows.length, d]` tensor. */
function rowsTensor(matrix: Float32Array, d: number, rows: ArrayLike<number>): tf.Tensor2D {
  return tf.tensor2d(gatherRows(matrix, d, rows), [rows.length, d]);
}

/**
 * Per-pair losses of one block (`infonce` or `triplet`), in block order: one array, or with `partners`
 * (`infonce` only) one array of random-pair losses per partner assignment, all from one similarity
 * matrix and one pair of row/column normalisers. The losses are {@link infoNCELossPerPair} (on S/τ,
 * scale 1) and {@link tripletLossPerPair} (margin α, no soft margin), with the same-image mask. On
 * `cpu-blas`, `infonce` runs on the host: one sgemm and the addon's `blockLogSumExp` (no tensors).
 */
function blockScores(
  emb: DatasetEmbeddings,
  data: PairDataset,
  pairs: Int32Array,
  kind: 'infonce' | 'triplet',
  temperature: number,
  margin: number,
  partners?: readonly Int32Array[],
  scratch: Scratch = scratchBuffer(),
): ArrayLike<number>[] {
  const n = pairs.length;
  const images = new Int32Array(n);
  for (let k = 0; k < n; k++) images[k] = data.captionToImage[pairs[k]!]!;
  const addon = activeBlasAddon();
  if (kind === 'infonce' && addon) {
    return hostInfoNCEBlock(addon, emb, images, pairs, 1 / temperature, scratch(n * n), partners);
  }
  const mask = { sameImage: images }; // other captions of the same image are not negatives
  return tf.tidy(() => {
    const img = rowsTensor(emb.images, emb.dim, images);
    const cap = rowsTensor(emb.captions, emb.dim, pairs);
    const s = tf.matMul(img, cap, false, true) as tf.Tensor2D;
    const ones = tf.ones([n]) as tf.Tensor1D;
    if (kind === 'triplet') {
      return [tripletLossPerPair(s, ones, { margin, softMargin: 'none' }, mask).dataSync() as Float32Array];
    }
    const logits = tf.div(s, temperature) as tf.Tensor2D;
    if (!partners) return [infoNCELossPerPair(logits, ones, 1, mask).dataSync() as Float32Array];
    // image k with caption p[k]: k's row normaliser, the partner's column normaliser
    const { row: rowLse, col: colLse } = maskedLogSumExp(logits, images);
    const flat = tf.reshape(s, [-1]);
    return partners.map((partner) => {
      const at = tf.tensor1d(
        Int32Array.from(partner, (p, k) => k * n + p),
        'int32',
      );
      const pos = tf.div(tf.gather(flat, at), temperature);
      const row = tf.sub(rowLse, pos);
      const col = tf.sub(tf.gather(colLse, tf.tensor1d(partner, 'int32')), pos);
      return tf.mul(0.5, tf.add(row, col)).dataSync() as Float32Array;
    });
  });
}

/**
 * The `infonce` block of {@link blockScores} on the host: S = images·captionsᵀ by sgemm into `s`, the
 * masked row and column log-sum-exps of S·scale natively, then ½[(row(k) − pos) + (col(p) − pos)]
 * with pos = S(k, p)·scale, p = k or the partner. Equal to the tensor path up to float rounding.
 */
function hostInfoNCEBlock(
  addon: BlasAddon,
  emb: DatasetEmbeddings,
  images: Int32Array,
  pairs: Int32Array,
  scale: number,
  s: Float32Array,
  partners?: readonly Int32Array[],
): Float64Array[] {
  const n = pairs.length;
  const d = emb.dim;
  const img = gatherRows(emb.images, d, images);
  const cap = gatherRows(emb.captions, d, pairs);
  addon.sgemm(false, true, n, n, d, 1, img, d, cap, d, 0, s, n);
  const row = new Float64Array(n);
  const col = new Float64Array(n);
  addon.blockLogSumExp(s, n, scale, images, row, col);
  const assignments = partners ?? [undefined];
  return assignments.map((partner) => {
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const p = partner ? partner[k]! : k;
      const pos = s[k * n + p]! * scale;
      out[k] = 0.5 * (row[k]! - pos + (col[p]! - pos));
    }
    return out;
  });
}

/**
 * The per-pair loss of every pair of `data` (see the module documentation for the definitions).
 * @returns `numPairs` values, in pair order
 */
export function pairScores(
  model: CrossModalModel,
  data: PairDataset,
  options: PairScoreOptions,
): Float64Array {
  // only `match` reads σ²: the other scores embed the means alone
  const emb = options.embeddings ?? embedDataset(model, data, { meansOnly: options.score !== 'match' });
  const out = matchingScores(model, data, emb, options);
  if (options.classTerm) addClassTerm(out, data, emb, options.classTerm);
  return out;
}

/**
 * Add λ·CE(class head on caption j, labels[image of j]) to `out[j]`, in blocks of 4096 captions.
 * @throws DataError when `labels` does not have one entry per image
 */
function addClassTerm(
  out: Float64Array,
  data: PairDataset,
  emb: DatasetEmbeddings,
  term: NonNullable<PairScoreOptions['classTerm']>,
): void {
  if (term.labels.length !== data.numImages) {
    throw new DataError(
      `pairScores: classTerm.labels has ${term.labels.length} entries for ${data.numImages} images`,
    );
  }
  const n = data.numPairs;
  const d = emb.dim;
  const step = 4096;
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    const labels = Int32Array.from(
      { length: end - start },
      (_, k) => term.labels[data.captionToImage[start + k]!]!,
    );
    const ce = tf.tidy(() => {
      const captions = tf.tensor2d(emb.captions.subarray(start * d, end * d), [end - start, d]);
      return term.heads.classCrossEntropy(captions, tf.tensor1d(labels, 'int32'), term.scale).dataSync();
    });
    for (let k = 0; k < end - start; k++) out[start + k] = out[start + k]! + term.weight * ce[k]!;
  }
}

/** The matching part of {@link pairScores} (no class term). */
function matchingScores(
  model: CrossModalModel | undefined,
  data: PairDataset,
  emb: DatasetEmbeddings,
  options: PairScoreOptions,
): Float64Array {
  const n = data.numPairs;
  const out = new Float64Array(n);
  const d = emb.dim;
  if (options.score === 'cosine' || options.score === 'match') {
    let a = 0;
    let b = 0;
    if (options.score === 'match') {
      if (!emb.imageLogSigma2 || !emb.captionLogSigma2) {
        throw new ConfigError(
          "pairScores: score 'match' needs a probabilistic head (model head 'probabilistic')",
        );
      }
      if (!model) throw new ConfigError("pairScores: score 'match' needs the model's match scale and shift");
      a = tf.tidy(() => model.matchScale().dataSync()[0]!);
      b = tf.tidy(() => model.matchShift().dataSync()[0]!);
    }
    for (let j = 0; j < n; j++) {
      const g = data.captionToImage[j]!;
      let dist = 0;
      let cos = 0;
      for (let k = 0; k < d; k++) {
        const x = emb.images[g * d + k]!;
        const y = emb.captions[j * d + k]!;
        cos += x * y;
        dist += (x - y) ** 2;
        if (emb.imageLogSigma2 && emb.captionLogSigma2 && options.score === 'match') {
          dist += Math.exp(emb.imageLogSigma2[g * d + k]!) + Math.exp(emb.captionLogSigma2[j * d + k]!);
        }
      }
      if (options.score === 'cosine') out[j] = 1 - cos;
      else out[j] = alignedMatchLoss(dist, a, b);
    }
    return out;
  }
  const block = options.block ?? 4096;
  const order = new Rng(options.seed ?? 0).fork('pair-scores').permutation(n);
  const blocks = Math.max(1, Math.round(n / block));
  const scratch = scratchBuffer();
  for (let k = 0; k < blocks; k++) {
    const start = Math.floor((k * n) / blocks);
    const end = Math.floor(((k + 1) * n) / blocks);
    const pairs = order.subarray(start, end);
    if (pairs.length < 2) continue;
    const [scores] = blockScores(
      emb,
      data,
      pairs,
      options.score,
      options.temperature ?? 0.1,
      options.margin ?? 0.2,
      undefined,
      scratch,
    ) as [ArrayLike<number>];
    for (let t = 0; t < pairs.length; t++) out[pairs[t]!] = scores[t]!;
  }
  return out;
}

/**
 * The **input-space** per-pair score of a shared-space dataset: symmetric InfoNCE of the
 * unit-normalised inputs themselves (the zero-shot model's `infonce` score, see {@link pairScores}).
 *
 * @example
 * ```ts
 * const scores = inputPairScores(data.train, { temperature: 0.02, seed: 0 });
 * ```
 */
export function inputPairScores(
  data: PairDataset,
  options: { temperature: number; block?: number; seed?: number; embeddings?: DatasetEmbeddings },
): Float64Array {
  const { embeddings, ...rest } = options;
  return matchingScores(undefined, data, embeddings ?? inputEmbeddings(data), { score: 'infonce', ...rest });
}

/** Mean and (population) standard deviation of per-pair scores, for {@link blendScores}. */
export function scoreStandardisation(x: ArrayLike<number>): { mean: number; sd: number } {
  let mean = 0;
  for (let j = 0; j < x.length; j++) mean += x[j]!;
  mean /= x.length || 1;
  let ss = 0;
  for (let j = 0; j < x.length; j++) ss += (x[j]! - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / (x.length || 1)) };
}

/**
 * The blend of an input-space and a learned score, w·z(input) + (1 − w)·z(learned), each standardised
 * with the given mean and sd (sd 0 maps to 0): the split score of a shared space.
 *
 * @example
 * ```ts
 * const params = { input: scoreStandardisation(input), learned: scoreStandardisation(learned) };
 * blendScores(input, learned, 0.5, params);
 * ```
 */
export function blendScores(
  input: ArrayLike<number>,
  learned: ArrayLike<number>,
  weight: number,
  params: { input: { mean: number; sd: number }; learned: { mean: number; sd: number } },
): Float64Array {
  const z = (v: number, p: { mean: number; sd: number }) => (p.sd > 0 ? (v - p.mean) / p.sd : 0);
  return Float64Array.from(
    { length: input.length },
    (_, j) => weight * z(input[j]!, params.input) + (1 - weight) * z(learned[j]!, params.learned),
  );
}

/**
 * Losses of **random mismatched pairs** under the same score as {@link pairScores} (`infonce`):
 * what a shuffled pair's loss looks like, the null sample of a {@link cleave/mixture!LocalFdrSplit}. Within the same
 * blocks as {@link pairScores} (same `seed`), draw d pairs image g(i) with the caption of another pair
 * of the block whose image differs (a seeded derangement per draw), and score it with the block's row
 * and column normalisers: ½[(logΣⱼ exp S(i, j)/τ − S(i, p)/τ) + (logΣⱼ exp S(j, p)/τ − S(i, p)/τ)].
 *
 * @returns `draws × numPairs` values (draw-major); a pair whose block has no partner of another image
 *   gets NaN (skip it)
 */
export function nullPairScores(
  model: CrossModalModel,
  data: PairDataset,
  options: {
    temperature?: number;
    block?: number;
    seed?: number;
    draws?: number;
    embeddings?: DatasetEmbeddings;
  },
): Float64Array {
  const emb = options.embeddings ?? embedDataset(model, data, { meansOnly: true });
  const n = data.numPairs;
  const draws = options.draws ?? 5;
  const out = new Float64Array(n * draws).fill(Number.NaN);
  const block = options.block ?? 4096;
  const order = new Rng(options.seed ?? 0).fork('pair-scores').permutation(n);
  const blocks = Math.max(1, Math.round(n / block));
  const rng = new Rng(options.seed ?? 0).fork('null-partners');
  const scratch = scratchBuffer();
  for (let k = 0; k < blocks; k++) {
    const pairs = order.subarray(Math.floor((k * n) / blocks), Math.floor(((k + 1) * n) / blocks));
    const m = pairs.length;
    if (m < 2) continue;
    const partners: Int32Array[] = [];
    for (let d = 0; d < draws; d++) {
      // a random cyclic shift of a random order: every pair gets another pair (of another image)
      const perm = rng.permutation(m);
      const partner = new Int32Array(m).fill(-1);
      for (let t = 0; t < m; t++) {
        for (let step = 1; step < m; step++) {
          const cand = perm[(t + step) % m]!;
          if (data.captionToImage[pairs[cand]!] !== data.captionToImage[pairs[perm[t]!]!]) {
            partner[perm[t]!] = cand;
            break;
          }
        }
      }
      partners.push(partner);
    }
    const usable = partners.map((partner) => Int32Array.from(partner, (p, t) => (p < 0 ? t : p)));
    const t = options.temperature ?? 0.1;
    const scores = blockScores(emb, data, pairs, 'infonce', t, 0, usable, scratch);
    partners.forEach((partner, d) => {
      for (let t = 0; t < m; t++) if (partner[t]! >= 0) out[d * n + pairs[t]!] = scores[d]![t]!;
    });
  }
  return out;
}

/**
 * NCR's match evidence p_model of each pair in `pairs` (its corrected-label ingredient): within
 * shuffled batches of `batchSize`, the mean hardest-negative hinge h = ½(h_row + h_col) gives
 * p = clamp(α − h, 0, α), divided by the mean of the batch's top 10% and clipped to [0, 1].
 * @returns one value per entry of `pairs`, in that order
 */
export function matchEvidence(
  emb: DatasetEmbeddings,
  data: PairDataset,
  pairs: Int32Array,
  options: { batchSize: number; margin: number; seed: number },
): Float64Array {
  const out = new Float64Array(pairs.length);
  const order = new Rng(options.seed).fork('match-evidence').permutation(pairs.length);
  for (let start = 0; start < pairs.length; start += options.batchSize) {
    const idx = order.subarray(start, Math.min(pairs.length, start + options.batchSize));
    if (idx.length < 2) {
      for (const t of idx) out[t] = 1;
      continue;
    }
    const blockPairs = Int32Array.from(idx, (t) => pairs[t]!);
    const [hinge] = blockScores(emb, data, blockPairs, 'triplet', 1, options.margin) as [ArrayLike<number>];
    const p = Array.from(hinge, (h) => Math.min(options.margin, Math.max(0, options.margin - h / 2)));
    const top = [...p].sort((x, y) => y - x).slice(0, Math.floor(p.length / 10) + 1);
    const scale = Math.max(top.reduce((s, v) => s + v, 0) / top.length, 1e-8);
    idx.forEach((t, k) => {
      out[t] = Math.min(1, Math.max(0, p[k]! / scale));
    });
  }
  return out;
}
