import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PairDataset } from '../../src/core/dataset/pair-dataset.js';
import { CrossModalModel } from '../../src/core/model/model.js';
import { Rng } from '../../src/core/random.js';
import { AuxiliaryHeads } from '../../src/trainer/auxiliary.js';
import type { DatasetEmbeddings } from '../../src/trainer/embed.js';
import { pairScores } from '../../src/trainer/scoring.js';
import { useCpu } from './helpers.js';

beforeAll(useCpu);

function unitRows(n: number, d: number, rng: Rng): Float32Array {
  const out = rng.fillNormal(new Float32Array(n * d));
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += out[i * d + k]! ** 2;
    for (let k = 0; k < d; k++) out[i * d + k]! /= Math.sqrt(s);
  }
  return out;
}

/** Direct float64 evaluation of the documented per-pair InfoNCE (one block holding every pair). */
function infoNceReference(emb: DatasetEmbeddings, map: Int32Array, tau: number): number[] {
  const n = map.length;
  const d = emb.dim;
  const s = (i: number, j: number) => {
    let v = 0;
    for (let k = 0; k < d; k++) v += emb.images[map[i]! * d + k]! * emb.captions[j * d + k]!;
    return v / tau;
  };
  const lse = (xs: number[]) => {
    const m = Math.max(...xs);
    return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
  };
  return Array.from({ length: n }, (_, i) => {
    const row: number[] = [];
    const col: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j !== i && map[j] === map[i]) continue; // another caption of the same image
      row.push(s(i, j));
      col.push(s(j, i));
    }
    return 0.5 * (lse(row) - s(i, i) + (lse(col) - s(i, i)));
  });
}

describe('pairScores', () => {
  const rng = new Rng(4);
  const d = 6;
  // 5 images; captions 0,1 belong to image 0 (k = 2), the rest one each
  const map = Int32Array.from([0, 0, 1, 2, 3, 4]);
  const emb: DatasetEmbeddings = { dim: d, images: unitRows(5, d, rng), captions: unitRows(6, d, rng) };
  const data = PairDataset.fromArrays({
    images: { data: new Float32Array(5 * 3), dim: 3 },
    captions: { data: new Float32Array(6 * 2), dim: 2 },
    captionToImage: map,
  });
  const model = new CrossModalModel({ image: { inputDim: 3 }, text: { inputDim: 2 }, embedDim: d });

  it('infonce matches a direct evaluation of its definition (same-image captions masked)', () => {
    const got = pairScores(model, data, { score: 'infonce', temperature: 0.2, embeddings: emb });
    const want = infoNceReference(emb, map, 0.2);
    want.forEach((v, i) => {
      expect(got[i]).toBeCloseTo(v, 4);
    });
  });

  it('blocks partition the pairs: every pair gets a finite score', () => {
    const got = pairScores(model, data, { score: 'infonce', block: 2, seed: 3, embeddings: emb });
    expect(Array.from(got).every(Number.isFinite)).toBe(true);
  });

  it('cosine is 1 − cos of each pair', () => {
    const got = pairScores(model, data, { score: 'cosine', embeddings: emb });
    for (let j = 0; j < 6; j++) {
      let c = 0;
      for (let k = 0; k < d; k++) c += emb.images[map[j]! * d + k]! * emb.captions[j * d + k]!;
      expect(got[j]).toBeCloseTo(1 - c, 5);
    }
  });

  it('triplet is the hardest-negative hinge of both directions', () => {
    const got = pairScores(model, data, { score: 'triplet', margin: 0.2, embeddings: emb });
    const s = (i: number, j: number) => {
      let v = 0;
      for (let k = 0; k < d; k++) v += emb.images[map[i]! * d + k]! * emb.captions[j * d + k]!;
      return v;
    };
    for (let i = 0; i < 6; i++) {
      let row = 0;
      let col = 0;
      for (let j = 0; j < 6; j++) {
        if (j === i || map[j] === map[i]) continue;
        row = Math.max(row, 0.2 + s(i, j) - s(i, i));
        col = Math.max(col, 0.2 + s(j, i) - s(i, i));
      }
      expect(got[i]).toBeCloseTo(row + col, 5);
    }
  });

  it('match is softplus(a·d − b) with the closed-form distance', () => {
    const prob = new CrossModalModel({
      image: { inputDim: 3 },
      text: { inputDim: 2 },
      embedDim: d,
      head: 'probabilistic',
      match: { initScale: 3, initShift: 2 },
    });
    const withSigma: DatasetEmbeddings = {
      ...emb,
      imageLogSigma2: new Float32Array(5 * d).fill(-3),
      captionLogSigma2: new Float32Array(6 * d).fill(-2),
    };
    const got = pairScores(prob, data, { score: 'match', embeddings: withSigma });
    for (let j = 0; j < 6; j++) {
      let dist = d * (Math.exp(-3) + Math.exp(-2));
      for (let k = 0; k < d; k++) dist += (emb.images[map[j]! * d + k]! - emb.captions[j * d + k]!) ** 2;
      expect(got[j]).toBeCloseTo(Math.log1p(Math.exp(3 * dist - 2)), 4);
    }
    expect(() => pairScores(model, data, { score: 'match', embeddings: emb })).toThrow(/probabilistic/);
    prob.dispose();
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    pairScores(model, data, { score: 'infonce', embeddings: emb });
    pairScores(model, data, { score: 'triplet', embeddings: emb });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('classTerm adds weight × the cosine-classifier cross-entropy of each caption against its image class', () => {
    const classes = 3;
    const labels = Int32Array.from([2, 0, 1, 1, 0]); // per image
    const heads = new AuxiliaryHeads({ embedDim: d, numClasses: classes, rng: new Rng(9) });
    const weights = heads
      .entries()
      .find(([name]) => name === 'aux/class/weights')![1]
      .dataSync();
    const base = pairScores(model, data, { score: 'cosine', embeddings: emb });
    const weight = 0.7;
    const scale = 10;
    const withTerm = pairScores(model, data, {
      score: 'cosine',
      embeddings: emb,
      classTerm: { heads, labels, scale, weight },
    });
    for (let j = 0; j < map.length; j++) {
      // float64 reference: logits = scale · cos(caption j, w_c), CE against labels[map[j]]
      const logits = Array.from({ length: classes }, (_, c) => {
        let dot = 0;
        let norm = 0;
        for (let k = 0; k < d; k++) {
          dot += emb.captions[j * d + k]! * weights[c * d + k]!;
          norm += weights[c * d + k]! ** 2;
        }
        return (scale * dot) / Math.sqrt(norm);
      });
      const m = Math.max(...logits);
      const lse = m + Math.log(logits.reduce((a, x) => a + Math.exp(x - m), 0));
      const ce = lse - logits[labels[map[j]!]!]!;
      expect(withTerm[j]! - base[j]!).toBeCloseTo(weight * ce, 4);
    }
    expect(() =>
      pairScores(model, data, {
        score: 'cosine',
        embeddings: emb,
        classTerm: { heads, labels: labels.subarray(0, 4), scale, weight },
      }),
    ).toThrow(/4 entries for 5 images/);
    heads.dispose();
  });
});

/** test/reference/model_losses.py → pair-scores.json: float64 per-pair losses with the same-image mask. */
interface PairScoresFixture {
  captionToImage: number[];
  images: number[][];
  captions: number[][];
  imageLogSigma2: number[][];
  captionLogSigma2: number[][];
  temperature: number;
  margin: number;
  matchScale: number;
  matchShift: number;
  infonce: number[];
  triplet: number[];
  match: number[];
}

describe('pairScores against the numpy fixture (the per-pair losses of src/core/losses)', () => {
  const F = JSON.parse(
    readFileSync(
      join(import.meta.dirname, '..', 'reference', 'fixtures', 'model', 'pair-scores.json'),
      'utf8',
    ),
  ) as PairScoresFixture;
  const map = Int32Array.from(F.captionToImage);
  const d = F.images[0]!.length;
  const emb: DatasetEmbeddings = {
    dim: d,
    images: Float32Array.from(F.images.flat()),
    captions: Float32Array.from(F.captions.flat()),
    imageLogSigma2: Float32Array.from(F.imageLogSigma2.flat()),
    captionLogSigma2: Float32Array.from(F.captionLogSigma2.flat()),
  };
  const data = PairDataset.fromArrays({
    images: { data: new Float32Array(F.images.length * 3), dim: 3 },
    captions: { data: new Float32Array(map.length * 2), dim: 2 },
    captionToImage: map,
  });
  const expectAll = (got: Float64Array, want: number[], digits: number) => {
    expect(got.length).toBe(want.length);
    want.forEach((v, i) => {
      expect(got[i]).toBeCloseTo(v, digits);
    });
  };

  it('infonce and triplet (one block, other captions of the same image masked) equal the fixture', () => {
    const model = new CrossModalModel({ image: { inputDim: 3 }, text: { inputDim: 2 }, embedDim: d });
    const common = { embeddings: emb, block: 4096, seed: 0 };
    expectAll(
      pairScores(model, data, { score: 'infonce', temperature: F.temperature, ...common }),
      F.infonce,
      4,
    );
    expectAll(pairScores(model, data, { score: 'triplet', margin: F.margin, ...common }), F.triplet, 5);
    model.dispose();
  });

  it('match (−log p of the aligned pair, closed-form distance) equals the fixture', () => {
    const prob = new CrossModalModel({
      image: { inputDim: 3 },
      text: { inputDim: 2 },
      embedDim: d,
      head: 'probabilistic',
      match: { initScale: F.matchScale, initShift: F.matchShift },
    });
    expectAll(pairScores(prob, data, { score: 'match', embeddings: emb }), F.match, 4);
    prob.dispose();
  });
});
