/**
 * The per-pair scorer's host path on `cpu-blas`: the addon's `blockLogSumExp` against a float64
 * evaluation of its definition (both shift regimes), its independence of the thread count, and
 * `pairScores` / `nullPairScores` on `cpu-blas` against the tensor path of the `cpu` backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPU_BLAS } from '../../src/core/backend/cpu-blas.js';
import type { BlasAddon } from '../../src/core/backend/native.js';
import { PairDataset } from '../../src/core/dataset/pair-dataset.js';
import { CrossModalModel } from '../../src/core/model/model.js';
import { Rng } from '../../src/core/random.js';
import type { DatasetEmbeddings } from '../../src/trainer/embed.js';
import { nullPairScores, pairScores } from '../../src/trainer/scoring.js';
import { expectClose, randn, requireCpuBlas } from '../core/backend/helpers.js';

let addon: BlasAddon;
let threads = 1;
beforeAll(async () => {
  addon = await requireCpuBlas();
  threads = addon.info().numThreads;
});
afterAll(async () => {
  addon.setNumThreads(threads);
  await tf.setBackend('cpu');
});

/** float64 log Σ exp(scale·x) over the kept entries of each row and each column. */
function reference(x: Float32Array, n: number, scale: number, groups: Int32Array) {
  const kept = (i: number, j: number) => i === j || groups[i] !== groups[j];
  const lse = (values: number[]) => {
    const m = Math.max(...values);
    return m + Math.log(values.reduce((s, v) => s + Math.exp(v - m), 0));
  };
  const row = new Float64Array(n);
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r: number[] = [];
    const c: number[] = [];
    for (let j = 0; j < n; j++) {
      if (kept(i, j)) r.push(scale * x[i * n + j]!);
      if (kept(j, i)) c.push(scale * x[j * n + i]!);
    }
    row[i] = lse(r);
    col[i] = lse(c);
  }
  return { row, col };
}

function run(x: Float32Array, n: number, scale: number, groups: Int32Array | null) {
  const row = new Float64Array(n);
  const col = new Float64Array(n);
  addon.blockLogSumExp(x, n, scale, groups, row, col);
  return { row, col };
}

describe('blockLogSumExp (the scorer kernel)', () => {
  const n = 600; // ≥ 512: the chunks are split over the threads
  const groups = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 5)); // 5 captions per image
  // cosine-like entries in [−1, 1], shuffled groups so the left-out entries are scattered
  const x = Float32Array.from(randn(3, n * n), (v) => Math.tanh(v));
  const shuffled = new Rng(5).permutation(n).map((p) => groups[p]!);

  it('equals the float64 definition with one shift (scaled range < 80)', () => {
    const got = run(x, n, 10, shuffled);
    const want = reference(x, n, 10, shuffled);
    expectClose(got.row, want.row, 2e-5, 0, 'rows');
    expectClose(got.col, want.col, 2e-5, 0, 'columns');
  });

  it('equals the float64 definition with per-row and per-column shifts (scaled range ≥ 80)', () => {
    const got = run(x, n, 100, shuffled);
    const want = reference(x, n, 100, shuffled);
    expectClose(got.row, want.row, 2e-4, 0, 'rows');
    expectClose(got.col, want.col, 2e-4, 0, 'columns');
    // without groups nothing is left out
    const all = run(x, n, 100, null);
    const none = reference(
      x,
      n,
      100,
      new Int32Array(n).map((_, i) => i),
    );
    expectClose(all.row, none.row, 2e-4, 0, 'rows, no groups');
  });

  it('gives the same bits on 1 and 2 threads, and NaN for a non-finite block', () => {
    addon.setNumThreads(1);
    const one = run(x, n, 10, shuffled);
    addon.setNumThreads(2);
    const two = run(x, n, 10, shuffled);
    addon.setNumThreads(threads);
    expect(Array.from(two.row)).toEqual(Array.from(one.row));
    expect(Array.from(two.col)).toEqual(Array.from(one.col));
    const bad = Float32Array.from(x.subarray(0, 16));
    bad[5] = Number.NaN;
    expect(Array.from(run(bad, 4, 10, null).row).every(Number.isNaN)).toBe(true);
  });

  it('rejects wrong sizes and a non-positive scale', () => {
    const v = new Float64Array(2);
    expect(() => addon.blockLogSumExp(new Float32Array(3), 2, 1, null, v, v)).toThrow(/sizes/);
    expect(() => addon.blockLogSumExp(new Float32Array(4), 2, 0, null, v, v)).toThrow(/scale/);
  });
});

describe('pairScores and nullPairScores on cpu-blas (host path)', () => {
  const d = 16;
  const numImages = 160;
  const map = Int32Array.from({ length: numImages * 5 }, (_, j) => Math.floor(j / 5));
  const unit = (rows: number, seed: number) => {
    const m = randn(seed, rows * d);
    for (let i = 0; i < rows; i++) {
      const norm = Math.hypot(...m.subarray(i * d, i * d + d));
      for (let k = 0; k < d; k++) m[i * d + k]! /= norm;
    }
    return m;
  };
  const imgs = unit(numImages, 11);
  // captions near their image, so the scores spread
  const caps = unit(map.length, 12).map((v, t) => v + 2 * imgs[map[Math.floor(t / d)]! * d + (t % d)]!);
  const emb: DatasetEmbeddings = { dim: d, images: imgs, captions: caps };
  const data = PairDataset.fromArrays({
    images: { data: new Float32Array(numImages * 2), dim: 2 },
    captions: { data: new Float32Array(map.length * 2), dim: 2 },
    captionToImage: map,
  });
  const model = new CrossModalModel({ image: { inputDim: 2 }, text: { inputDim: 2 }, embedDim: d });

  async function both<T>(f: () => T): Promise<[T, T]> {
    await tf.setBackend(CPU_BLAS);
    const host = f();
    await tf.setBackend('cpu');
    return [host, f()];
  }

  it('infonce scores match the tensor path (blocks of 400 and one block of 800)', async () => {
    for (const block of [400, 4096]) {
      const options = { score: 'infonce' as const, temperature: 0.05, block, seed: 2, embeddings: emb };
      const [host, tensor] = await both(() => pairScores(model, data, options));
      expectClose(host, tensor, 1e-4, 1e-5, `block ${block}`);
      expect(new Set(Array.from(host)).size).toBeGreaterThan(map.length / 2);
    }
  });

  it('null scores match the tensor path, partners and NaN slots included', async () => {
    const options = { temperature: 0.05, block: 400, seed: 6, draws: 3, embeddings: emb };
    const [host, tensor] = await both(() => nullPairScores(model, data, options));
    expectClose(host, tensor, 1e-4, 1e-5, 'null scores');
  });
});
