/**
 * `npm run bench -- scoring [--json] [--scale 0.2] [--dim 256] [--block 4096] [--blocks 3] [--backend cpu-blas]`
 *
 * The per-pair `infonce` scores of the trainer (`pairScores`, the score → split step of a `refurb`
 * epoch and the final `lossSplit`) on F30K-shaped embeddings: 29,000·scale images × 5 captions,
 * `--dim`-d unit rows. Two measurements in the same process:
 *
 * - `block`: `--blocks` blocks of `--block` pairs, each scored by the fused masked log-sum-exp that
 *   `infoNCELossPerPair` uses with a same-image mask, and by the dense reference it replaced (an n²
 *   JS mask loop, −1e9 on the masked entries, `tf.logSumExp` over rows and columns): seconds per
 *   block (wall and CPU) and whether the two agree bit for bit;
 * - `all`: `pairScores` over every pair (as the trainer calls it), wall and CPU seconds.
 *
 * CPU seconds (process user + system) are the steadier figure on a shared machine.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/backend/index.js';
import { PairDataset } from '../../src/core/dataset/pair-dataset.js';
import { infoNCELossPerPair } from '../../src/core/losses/infonce.js';
import { Rng } from '../../src/core/random.js';
import type { DatasetEmbeddings } from '../../src/trainer/embed.js';
import { pairScores } from '../../src/trainer/scoring.js';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function unitRows(n: number, d: number, rng: Rng): Float32Array {
  const out = rng.fillNormal(new Float32Array(n * d));
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += out[i * d + k]! ** 2;
    const norm = Math.sqrt(s);
    for (let k = 0; k < d; k++) out[i * d + k]! /= norm;
  }
  return out;
}

/** Wall and CPU seconds of `f` (CPU: this process's user + system time). */
function timed<T>(f: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

function rows(matrix: Float32Array, d: number, idx: ArrayLike<number>): tf.Tensor2D {
  const out = new Float32Array(idx.length * d);
  for (let k = 0; k < idx.length; k++) out.set(matrix.subarray(idx[k]! * d, idx[k]! * d + d), k * d);
  return tf.tensor2d(out, [idx.length, d]);
}

/** The scoring of one block before the fused kernel: dense mask built by a JS n² loop, dense ops. */
function denseBlock(img: tf.Tensor2D, cap: tf.Tensor2D, images: Int32Array, tau: number): Float32Array {
  const n = images.length;
  const same = new Float32Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) if (a !== b && images[a] === images[b]) same[a * n + b] = 1;
  return tf.tidy(() => {
    const s = tf.matMul(img, cap, false, true);
    const diag = tf.sum(tf.mul(s, tf.eye(n)), 1);
    const logits = tf.add(tf.div(s, tau), tf.mul(tf.tensor2d(same, [n, n]), -1e9));
    const pos = tf.div(diag, tau);
    const row = tf.sub(tf.logSumExp(logits, 1), pos);
    const col = tf.sub(tf.logSumExp(logits, 0), pos);
    return tf.mul(0.5, tf.add(row, col)).dataSync() as Float32Array;
  });
}

/** The same block through the losses' per-pair InfoNCE with the same-image mask (what the trainer runs). */
function fusedBlock(img: tf.Tensor2D, cap: tf.Tensor2D, images: Int32Array, tau: number): Float32Array {
  return tf.tidy(() => {
    const logits = tf.div(tf.matMul(img, cap, false, true), tau) as tf.Tensor2D;
    const ones = tf.ones([images.length]) as tf.Tensor1D;
    return infoNCELossPerPair(logits, ones, 1, { sameImage: images }).dataSync() as Float32Array;
  });
}

export async function run(args: string[]): Promise<unknown> {
  const scale = Number(option(args, 'scale') ?? '0.2');
  const d = Number(option(args, 'dim') ?? '256');
  const block = Number(option(args, 'block') ?? '4096');
  const blocks = Number(option(args, 'blocks') ?? '3');
  const backend = await initBackend({ backend: (option(args, 'backend') ?? 'cpu-blas') as 'cpu-blas' });
  const numImages = Math.round(29_000 * scale);
  const n = numImages * 5;
  const rng = new Rng(0);
  const emb: DatasetEmbeddings = {
    dim: d,
    images: unitRows(numImages, d, rng),
    captions: unitRows(n, d, rng),
  };
  const captionToImage = Int32Array.from({ length: n }, (_, j) => Math.floor(j / 5));
  const tau = 0.1;

  const perBlock: {
    denseWall: number;
    denseCpu: number;
    fusedWall: number;
    fusedCpu: number;
    equal: boolean;
  }[] = [];
  const order = new Rng(1).permutation(n);
  for (let b = 0; b < blocks; b++) {
    const pairs = order.subarray(b * block, Math.min(n, (b + 1) * block));
    const images = Int32Array.from(pairs, (j) => captionToImage[j]!);
    const img = rows(emb.images, d, images);
    const cap = rows(emb.captions, d, pairs);
    const dense = timed(() => denseBlock(img, cap, images, tau));
    const fused = timed(() => fusedBlock(img, cap, images, tau));
    img.dispose();
    cap.dispose();
    perBlock.push({
      denseWall: dense.wall,
      denseCpu: dense.cpu,
      fusedWall: fused.wall,
      fusedCpu: fused.cpu,
      equal: dense.value.every((v, k) => Object.is(v, fused.value[k])),
    });
  }
  const data = PairDataset.fromArrays({
    images: { data: new Float32Array(numImages), dim: 1 },
    captions: { data: new Float32Array(n), dim: 1 },
    captionToImage,
  });
  const all = timed(() =>
    pairScores(undefined as never, data, { score: 'infonce', temperature: tau, block, embeddings: emb }),
  );
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const r = (x: number) => Number(x.toFixed(3));
  return {
    suite: 'scoring',
    backend: backend.name,
    pairs: n,
    dim: d,
    block,
    perBlock: perBlock.map((p) => ({
      denseWall: r(p.denseWall),
      denseCpu: r(p.denseCpu),
      fusedWall: r(p.fusedWall),
      fusedCpu: r(p.fusedCpu),
      bitForBit: p.equal,
    })),
    speedupCpu: r(mean(perBlock.map((p) => p.denseCpu)) / mean(perBlock.map((p) => p.fusedCpu))),
    speedupWall: r(mean(perBlock.map((p) => p.denseWall)) / mean(perBlock.map((p) => p.fusedWall))),
    allPairs: { wall: r(all.wall), cpu: r(all.cpu), finite: all.value.every(Number.isFinite) },
  };
}
