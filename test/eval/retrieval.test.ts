import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import type { DirectionMetrics, RetrievalMetrics } from '../../src/eval/ranking.js';
import {
  retrievalMetrics,
  retrievalMetricsFolds,
  scoreRetrieval,
  scoreRetrievalFolds,
} from '../../src/eval/retrieval.js';
import { dotProductScorer, matrixScorer, type RetrievalScorer } from '../../src/eval/scorer.js';
import { expectClose, fixture, useCpuBackend } from './fixtures.js';

type Ties = 'pessimistic' | 'optimistic';
interface RefMetrics {
  i2t: Record<string, number>;
  t2i: Record<string, number>;
  rsum: number;
}
interface RefCase {
  name: string;
  dim: number;
  captionToImage: number[];
  ks: number[];
  imageCount: number;
  captionCount: number;
  images?: number[];
  captions?: number[];
  scores?: number[];
  folds: number | null;
  pessimistic: {
    metrics: RefMetrics;
    i2tRanks: number[];
    t2iRanks: number[];
    folds?: { folds: RefMetrics[]; mean: RefMetrics };
  };
  optimistic: RefCase['pessimistic'];
}
const { cases } = fixture<{ cases: RefCase[] }>('retrieval.json');

function compare(actual: RetrievalMetrics, expected: RefMetrics, what: string): void {
  for (const dir of ['i2t', 't2i'] as const) {
    for (const [key, value] of Object.entries(expected[dir])) {
      expectClose(actual[dir][key as keyof DirectionMetrics] as number, value, 1e-6, `${what} ${dir}.${key}`);
    }
  }
  expectClose(actual.rsum, expected.rsum, 1e-6, `${what} rsum`);
}

/** Run a case through the path it was made for: dot products of embeddings, or a given score matrix. */
async function run(c: RefCase, ties: Ties, blockBytes?: number): Promise<RetrievalMetrics> {
  const common = { captionToImage: c.captionToImage, ks: c.ks, ties, keepRanks: true, blockBytes };
  if (c.scores)
    return scoreRetrieval(matrixScorer(new Float32Array(c.scores), c.imageCount, c.captionCount), common);
  return retrievalMetrics(new Float32Array(c.images!), new Float32Array(c.captions!), {
    ...common,
    dim: c.dim,
  });
}

beforeAll(useCpuBackend);

describe('retrievalMetrics against the numpy reference', () => {
  for (const c of cases) {
    for (const ties of ['pessimistic', 'optimistic'] as const) {
      it(`${c.name} (${ties} ties): ranks and metrics`, async () => {
        const ref = c[ties];
        const m = await run(c, ties);
        expect(Array.from(m.i2t.ranks!)).toEqual(ref.i2tRanks);
        expect(Array.from(m.t2i.ranks!)).toEqual(ref.t2iRanks);
        compare(m, ref.metrics, c.name);
      });
    }
  }

  it('gives identical results with tiny blocks (many diagonal and off-diagonal tiles)', async () => {
    for (const c of cases) {
      for (const ties of ['pessimistic', 'optimistic'] as const) {
        const m = await run(c, ties, 1024); // 256 floats per tile
        expect(Array.from(m.i2t.ranks!), c.name).toEqual(c[ties].i2tRanks);
        expect(Array.from(m.t2i.ranks!), c.name).toEqual(c[ties].t2iRanks);
      }
    }
  });

  it('ties: a collapsed model (all scores equal) gets the worst ranks by default', async () => {
    const c = cases.find((x) => x.name === 'constant')!;
    const m = await run(c, 'pessimistic');
    expect(m.rsum).toBe(0);
    expect(m.t2i.medianRank).toBe(c.imageCount);
    expect(m.i2t.medianRank).toBe(c.captionCount - 1); // all captions of other images rank first
    expect((await run(c, 'optimistic')).rsum).toBe(600);
  });
});

describe('fold protocol ("1K")', () => {
  for (const c of cases.filter((x) => x.folds)) {
    it(`${c.name}: ${c.folds} folds, per fold and mean (mean rSum of the folds)`, async () => {
      const ref = c.pessimistic.folds!;
      const common = { captionToImage: c.captionToImage, ks: c.ks, folds: c.folds! };
      const got = c.scores
        ? await scoreRetrievalFolds(
            matrixScorer(new Float32Array(c.scores), c.imageCount, c.captionCount),
            common,
          )
        : await retrievalMetricsFolds(new Float32Array(c.images!), new Float32Array(c.captions!), {
            ...common,
            dim: c.dim,
          });
      expect(got.folds).toHaveLength(c.folds!);
      for (const [i, f] of got.folds.entries()) compare(f, ref.folds[i]!, `${c.name} fold ${i}`);
      compare(got.mean, ref.mean, `${c.name} mean`);
      const meanRsum = got.folds.reduce((s, f) => s + f.rsum, 0) / got.folds.length;
      expectClose(got.mean.rsum, meanRsum, 1e-9, 'mean rsum is the mean of fold rsums');
    });
  }
});

describe('scorer interface', () => {
  it('a probabilistic scorer (match probability from samples) gives the same result as its full matrix', async () => {
    // PCME-style: each item has S samples; score = mean over sample pairs of sigmoid(-a·dist + b)
    const S = 3;
    const dim = 4;
    const nImages = 17;
    const k = 2;
    const nCaptions = nImages * k;
    let seed = 1;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647 - 0.5;
    };
    const imgSamples = Array.from({ length: nImages * S * dim }, rand);
    const capSamples = Array.from({ length: nCaptions * S * dim }, (_, t) => {
      const j = Math.floor(t / (S * dim));
      return imgSamples[Math.floor(j / k) * S * dim + (t % (S * dim))]! * 0.7 + rand();
    });
    const prob = (i: number, j: number) => {
      let p = 0;
      for (let a = 0; a < S; a++) {
        for (let b = 0; b < S; b++) {
          let d2 = 0;
          for (let c = 0; c < dim; c++) {
            const diff = imgSamples[(i * S + a) * dim + c]! - capSamples[(j * S + b) * dim + c]!;
            d2 += diff * diff;
          }
          p += 1 / (1 + Math.exp(3 * Math.sqrt(d2) - 1));
        }
      }
      return p / (S * S);
    };
    const requested: number[] = [];
    const scorer: RetrievalScorer = {
      imageCount: nImages,
      captionCount: nCaptions,
      async scoreBlock(images, captions) {
        requested.push(images.length * captions.length);
        const out = new Float32Array(images.length * captions.length);
        for (let r = 0; r < images.length; r++)
          for (let c = 0; c < captions.length; c++)
            out[r * captions.length + c] = prob(images[r]!, captions[c]!);
        return out;
      },
    };
    const full = new Float32Array(nImages * nCaptions);
    for (let i = 0; i < nImages; i++)
      for (let j = 0; j < nCaptions; j++) full[i * nCaptions + j] = prob(i, j);
    const viaCallback = await scoreRetrieval(scorer, {
      captionToImage: k,
      blockBytes: 1024,
      keepRanks: true,
    });
    const viaMatrix = await scoreRetrieval(matrixScorer(full, nImages, nCaptions), {
      captionToImage: k,
      keepRanks: true,
    });
    expect(viaCallback).toEqual(viaMatrix);
    // every score requested exactly once
    expect(requested.reduce((a, b) => a + b, 0)).toBe(nImages * nCaptions);
    expect(requested.length).toBeGreaterThan(1);
  });

  it('does not leak tensors', async () => {
    const c = cases.find((x) => x.name === 'variable_k')!;
    await run(c, 'pessimistic'); // warm-up (kernels may cache)
    const before = tf.memory().numTensors;
    await run(c, 'pessimistic', 1024);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('properties', () => {
  it('metrics do not depend on the order of the captions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 9 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        async (nImages, k, seed) => {
          let s = seed + 1;
          const rand = () => {
            s = (s * 48271) % 2147483647;
            return s / 2147483647;
          };
          const nCaptions = nImages * k;
          // coarse scores: many ties
          const scores = Float32Array.from({ length: nImages * nCaptions }, () => Math.floor(rand() * 4));
          const c2i = Array.from({ length: nCaptions }, (_, j) => Math.floor(j / k));
          const perm = Array.from({ length: nCaptions }, (_, j) => j).sort(() => rand() - 0.5);
          const permuted = new Float32Array(scores.length);
          for (let i = 0; i < nImages; i++)
            for (let j = 0; j < nCaptions; j++)
              permuted[i * nCaptions + j] = scores[i * nCaptions + perm[j]!]!;
          const a = await scoreRetrieval(matrixScorer(scores, nImages, nCaptions), { captionToImage: c2i });
          const b = await scoreRetrieval(matrixScorer(permuted, nImages, nCaptions), {
            captionToImage: perm.map((j) => c2i[j]!),
            blockBytes: 1024,
          });
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('ties at special values', () => {
  /** Ranks straight from the definition (pessimistic or optimistic), over the full matrix. */
  function bruteRanks(scores: Float32Array, nI: number, c2i: number[], ties: Ties) {
    const nC = c2i.length;
    const beats = (v: number, t: number) => (ties === 'pessimistic' ? !(v < t) : !(v <= t));
    const i2t = Array.from({ length: nI }, (_, i) => {
      let best = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < nC; j++) if (c2i[j] === i) best = Math.max(best, scores[i * nC + j]!);
      let r = 1;
      for (let j = 0; j < nC; j++) if (c2i[j] !== i && beats(scores[i * nC + j]!, best)) r++;
      return r;
    });
    const t2i = c2i.map((g, j) => {
      let r = 1;
      for (let i = 0; i < nI; i++) if (i !== g && beats(scores[i * nC + j]!, scores[g * nC + j]!)) r++;
      return r;
    });
    return { i2t, t2i };
  }

  it('±0, ±∞, subnormals and the float32 extremes rank as the definition says', async () => {
    const special = [
      Number.NEGATIVE_INFINITY,
      -3.4028234663852886e38,
      -1,
      -0,
      0,
      1.401298464324817e-45,
      1,
      3.4028234663852886e38,
      Number.POSITIVE_INFINITY,
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.constantFrom(...special), { minLength: 6 * 18, maxLength: 6 * 18 }),
        fc.constantFrom<Ties>('pessimistic', 'optimistic'),
        async (nI, k, pool, ties) => {
          const c2i = Array.from({ length: nI * k }, (_, j) => j % nI);
          const scores = Float32Array.from(pool.slice(0, nI * nI * k));
          const m = await scoreRetrieval(matrixScorer(scores, nI, nI * k), {
            captionToImage: c2i,
            ties,
            keepRanks: true,
            blockBytes: 1024,
          });
          const ref = bruteRanks(scores, nI, c2i, ties);
          expect(Array.from(m.i2t.ranks!)).toEqual(ref.i2t);
          expect(Array.from(m.t2i.ranks!)).toEqual(ref.t2i);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('input errors', () => {
  it('names the row and column of a NaN embedding', async () => {
    const images = new Float32Array([1, 0, 0, Number.NaN]);
    await expect(retrievalMetrics(images, new Float32Array(4), { dim: 2 })).rejects.toThrow(
      /imageEmbeddings: row 1, column 1 is NaN/,
    );
  });

  it('rejects a NaN score of a matching pair, and ranks NaN negatives pessimistically', async () => {
    const nanPositive = matrixScorer(new Float32Array([Number.NaN, 0, 0, 1]), 2, 2);
    await expect(scoreRetrieval(nanPositive)).rejects.toThrow(DataError);
    const nanNegative = await scoreRetrieval(matrixScorer(new Float32Array([1, Number.NaN, 0, 1]), 2, 2), {
      ties: 'optimistic',
      keepRanks: true,
    });
    expect(Array.from(nanNegative.i2t.ranks!)).toEqual([2, 1]);
  });

  it('explains a caption count that does not match the images', async () => {
    await expect(retrievalMetrics(new Float32Array(4), new Float32Array(6), { dim: 2 })).rejects.toThrow(
      /pass captionToImage/,
    );
    await expect(
      retrievalMetrics(new Float32Array(4), new Float32Array(6), { dim: 2, captionToImage: [0, 0, 2] }),
    ).rejects.toThrow(/caption 2 points to image 2/);
  });

  it('refuses an image without captions', async () => {
    await expect(
      scoreRetrieval(matrixScorer(new Float32Array(6), 3, 2), { captionToImage: [0, 2] }),
    ).rejects.toThrow(/image 1 has no caption/);
  });

  it('validates options', async () => {
    await expect(retrievalMetrics(new Float32Array(4), new Float32Array(4), { dim: 0 })).rejects.toThrow(
      /dim/,
    );
    await expect(scoreRetrieval(matrixScorer(new Float32Array(4), 2, 2), { ks: [0] })).rejects.toThrow(/ks/);
  });
});

describe('dotProductScorer layouts', () => {
  it('captions kept transposed (the layout of non-cpu backends) give the same scores, also when gathered', async () => {
    const c = cases.find((x) => x.name === 'variable_k')!;
    const images = new Float32Array(c.images!);
    const captions = new Float32Array(c.captions!);
    const rows = dotProductScorer(images, captions, c.dim, { transposeCaptions: false });
    const cols = dotProductScorer(images, captions, c.dim, { transposeCaptions: true });
    try {
      const imgIdx = Int32Array.of(3, 0, 7, 8, 9);
      for (const capIdx of [Int32Array.of(5, 1, 30, 2), Int32Array.of(10, 11, 12, 13)]) {
        const a = await rows.scoreBlock(imgIdx, capIdx);
        const b = await cols.scoreBlock(imgIdx, capIdx);
        expect(Array.from(b)).toEqual(Array.from(a));
        // and both are the dot products (exact: dyadic values)
        const dot = (i: number, j: number) => {
          let s = 0;
          for (let d = 0; d < c.dim; d++) s += images[i * c.dim + d]! * captions[j * c.dim + d]!;
          return s;
        };
        expect(Array.from(a)).toEqual(
          Array.from(imgIdx).flatMap((i) => Array.from(capIdx).map((j) => dot(i, j))),
        );
      }
      const m = await scoreRetrieval(cols, {
        captionToImage: c.captionToImage,
        blockBytes: 1024,
        keepRanks: true,
      });
      expect(Array.from(m.t2i.ranks!)).toEqual(c.pessimistic.t2iRanks);
    } finally {
      rows.dispose?.();
      cols.dispose?.();
    }
  });
});
