import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundledDataset } from '../../src/core/dataset/bundled.js';
import { PairDataset } from '../../src/core/dataset/pair-dataset.js';
import { loadPairs } from '../../src/core/io/manifest.js';
import { applyNoiseIndex, injectNoise } from '../../src/noise/inject.js';
import { loadKnnFixture } from './knn-fixture.js';

interface Spec {
  counts: number[];
  labels: number[];
  trainFraction: number;
}

/** Images with k_i captions each (caption j's features = [j, -j]), class labels, train/test splits. */
function build(spec: Spec, withSplits = true): PairDataset {
  const m = spec.counts.length;
  const c2i: number[] = [];
  spec.counts.forEach((k, i) => {
    for (let t = 0; t < k; t++) c2i.push(i);
  });
  const nTrain = Math.max(2, Math.round(spec.trainFraction * m));
  return PairDataset.fromArrays({
    name: 'synthetic',
    images: { data: Float32Array.from({ length: m * 2 }, (_, k) => k), dim: 2 },
    captions: {
      data: Float32Array.from({ length: c2i.length * 2 }, (_, k) => (k % 2 ? -1 : 1) * Math.floor(k / 2)),
      dim: 2,
    },
    captionToImage: Int32Array.from(c2i),
    labels: Int32Array.from(spec.labels),
    ...(withSplits && nTrain < m
      ? {
          splits: {
            train: { images: Array.from({ length: nTrain }, (_, i) => i) },
            test: { images: Array.from({ length: m - nTrain }, (_, i) => nTrain + i) },
          },
        }
      : {}),
  });
}

const specArb = fc.integer({ min: 14, max: 60 }).chain((m) =>
  fc.record({
    counts: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: m, maxLength: m }),
    labels: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: m, maxLength: m }),
    trainFraction: fc.double({ min: 0.7, max: 1, noNaN: true }),
  }),
);

/** The checks shared by every kind: only covered pairs change, noisy ⇔ moved, features untouched. */
function checkInvariants(clean: PairDataset, result: ReturnType<typeof injectNoise>): void {
  const { dataset, noisy } = result;
  expect(dataset.numPairs).toBe(clean.numPairs);
  const covered = new Uint8Array(clean.numPairs);
  const coveredImages = new Uint8Array(clean.numImages);
  if (clean.hasSplit('train')) {
    for (const j of clean.splitIndices('train').pairs) covered[j] = 1;
    for (const i of clean.splitIndices('train').images) coveredImages[i] = 1;
  } else {
    covered.fill(1);
    coveredImages.fill(1);
  }
  for (let j = 0; j < clean.numPairs; j++) {
    const moved = dataset.captionToImage[j] !== clean.captionToImage[j];
    expect(noisy[j]).toBe(moved ? 1 : 0);
    if (!covered[j]) expect(moved).toBe(false);
    if (moved) expect(coveredImages[dataset.captionToImage[j]!]).toBe(1);
    // every caption is still there, once, with its own features
    expect(dataset.captionRow(j)).toEqual(clean.captionRow(j));
    if (result.noiseType && clean.labels) {
      const same = clean.labels[dataset.captionToImage[j]!] === clean.labels[clean.captionToImage[j]!];
      expect(result.noiseType[j]).toBe(moved ? (same ? 1 : 2) : 0);
    }
  }
  expect(dataset.noise?.protocol).toBe(result.index.protocol);
  expect(Array.from(dataset.noise!.noisy)).toEqual(Array.from(noisy));
}

describe('injectNoise properties', () => {
  it('shuffle (caption-level): realised rate = rate ± 1/N, images only permuted among the picked captions', () => {
    fc.assert(
      fc.property(specArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (spec, rate, seed) => {
        const clean = build(spec);
        const result = injectNoise(clean, { rate, kind: 'shuffle', seed });
        checkInvariants(clean, result);
        const n = result.summary.coveredPairs;
        expect(Math.abs(result.summary.noisyPairs / n - rate)).toBeLessThanOrEqual(1 / n + 1e-12);
        expect(result.summary.realisedRate).toBe(result.summary.noisyPairs / n);
        // the multiset of images over the covered pairs is unchanged (a permutation among captions)
        const before = new Map<number, number>();
        const after = new Map<number, number>();
        for (let j = 0; j < clean.numPairs; j++) {
          before.set(clean.captionToImage[j]!, (before.get(clean.captionToImage[j]!) ?? 0) + 1);
          after.set(
            result.dataset.captionToImage[j]!,
            (after.get(result.dataset.captionToImage[j]!) ?? 0) + 1,
          );
        }
        expect(after).toEqual(before);
        // same seed, same noise; and the index replays it exactly
        const again = injectNoise(clean, { rate, kind: 'shuffle', seed });
        expect(Array.from(again.dataset.captionToImage)).toEqual(Array.from(result.dataset.captionToImage));
        const replay = applyNoiseIndex(clean, result.index);
        expect(Array.from(replay.dataset.captionToImage)).toEqual(Array.from(result.dataset.captionToImage));
        expect(replay.summary).toEqual(result.summary);
      }),
      { numRuns: 80 },
    );
  });

  it('shuffle-images (image-level): realised image rate = rate ± 1/M, all captions of a moved image go wrong', () => {
    fc.assert(
      fc.property(specArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (spec, rate, seed) => {
        const clean = build(spec);
        const result = injectNoise(clean, { rate, kind: 'shuffle-images', seed });
        checkInvariants(clean, result);
        expect(result.index.protocol).toBe('image-level');
        const perm = result.index.imagePermutation!;
        const m = perm.length;
        expect(Array.from(perm).sort((a, b) => a - b)).toEqual(Array.from({ length: m }, (_, i) => i));
        const moved = Array.from(perm).filter((v, i) => v !== i).length;
        expect(result.summary.noisyImages).toBe(moved);
        expect(Math.abs(moved / m - rate)).toBeLessThanOrEqual(1 / m + 1e-12);
        const train = clean.hasSplit('train') ? clean.split('train') : clean;
        const back = train === clean ? null : train.parentImageIndices!;
        for (let j = 0; j < train.numPairs; j++) {
          const p = train === clean ? j : train.parentPairIndices![j]!;
          const i = train.captionToImage[j]!;
          expect(result.dataset.captionToImage[p]).toBe(back ? back[perm[i]!] : perm[i]);
        }
        const again = injectNoise(clean, { rate, kind: 'shuffle-images', seed });
        expect(Array.from(again.index.imagePermutation!)).toEqual(Array.from(perm));
      }),
      { numRuns: 80 },
    );
  });

  it('hard: exactly ⌊rate·N⌋ captions move, each to one of its image’s k nearest images (NumPy kNN)', async () => {
    const fixture = await loadKnnFixture();
    const c2i = Int32Array.from({ length: fixture.n * 2 }, (_, j) => j >> 1);
    const clean = PairDataset.fromArrays({
      images: { data: Float32Array.from(fixture.features), dim: fixture.dim },
      captions: { data: new Float32Array(fixture.n * 2), dim: 1 },
      captionToImage: c2i,
    });
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (rate, seed) => {
        const result = injectNoise(clean, { rate, kind: 'hard', seed, neighbours: fixture.k });
        checkInvariants(clean, result);
        expect(result.summary.noisyPairs).toBe(Math.floor(rate * clean.numPairs + 1e-9));
        expect(result.summary.partialBy).toBe('neighbours');
        for (let j = 0; j < clean.numPairs; j++) {
          if (!result.noisy[j]) continue;
          expect(fixture.neighbours[c2i[j]!]).toContain(result.dataset.captionToImage[j]);
          expect(result.noiseType![j]).toBe(1); // a k-NN image is partial noise by definition
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe('injectNoise details', () => {
  it('labels partial vs complete by feature-space neighbours when there are no labels (NumPy kNN)', async () => {
    const fixture = await loadKnnFixture();
    const clean = PairDataset.fromArrays({
      images: { data: Float32Array.from(fixture.features), dim: fixture.dim },
      captions: { data: new Float32Array(fixture.n), dim: 1 },
    });
    const result = injectNoise(clean, { rate: 1, kind: 'shuffle', seed: 4, neighbours: fixture.k });
    let partial = 0;
    for (let j = 0; j < clean.numPairs; j++) {
      const near = fixture.neighbours[j]!.includes(result.dataset.captionToImage[j]!);
      expect(result.noiseType![j]).toBe(near ? 1 : 2);
      partial += near ? 1 : 0;
    }
    expect(result.summary.partial).toBe(partial);
    expect(result.summary.complete).toBe(clean.numPairs - partial);
  });

  it('covers the train split by default, all pairs with split: null, and a view as a whole', () => {
    const spec = { counts: Array(20).fill(2), labels: Array(20).fill(0), trainFraction: 0.5 };
    const clean = build(spec);
    const onTrain = injectNoise(clean, { rate: 0.5, kind: 'shuffle', seed: 1 });
    expect(onTrain.summary.split).toBe('train');
    expect(onTrain.summary.coveredPairs).toBe(20);
    expect(onTrain.noisy.slice(20).every((v) => v === 0)).toBe(true);
    // the noisy dataset still splits, and its train view carries the truth mask
    expect(Array.from(onTrain.dataset.train.noise!.noisy)).toEqual(Array.from(onTrain.index.noisy!));
    expect(onTrain.dataset.test.noise!.noisy.every((v) => v === 0)).toBe(true);
    const all = injectNoise(clean, { rate: 0.5, kind: 'shuffle', seed: 1, split: null });
    expect(all.summary.coveredPairs).toBe(40);
    const view = injectNoise(clean.train, { rate: 0.5, kind: 'shuffle', seed: 1 });
    expect(view.summary.split).toBeNull();
    expect(view.dataset.parent).toBe(clean);
    expect(Array.from(view.dataset.captionToImage)).toEqual(Array.from(onTrain.dataset.train.captionToImage));
    expect(() => injectNoise(clean, { rate: 0.5, kind: 'shuffle', seed: 1, split: 'dev' })).toThrow(
      /no split 'dev'/,
    );
  });

  it('rate 0 changes nothing; one picked caption is raised to two; derange: false is the plain NCR shuffle', () => {
    const clean = build({ counts: Array(10).fill(1), labels: Array(10).fill(0), trainFraction: 1 }, false);
    expect(injectNoise(clean, { rate: 0, kind: 'shuffle', seed: 3 }).summary.noisyPairs).toBe(0);
    expect(injectNoise(clean, { rate: 0.1, kind: 'shuffle', seed: 3 }).summary.noisyPairs).toBe(2);
    // without the repair, some picked captions keep their image (fixed points of the permutation)
    let fixedPoints = 0;
    for (let seed = 0; seed < 200; seed++) {
      const r = injectNoise(clean, { rate: 1, kind: 'shuffle', seed, derange: false });
      fixedPoints += 10 - r.summary.noisyPairs;
    }
    // E[fixed points of a uniform permutation] = 1
    expect(fixedPoints / 200).toBeGreaterThan(0.7);
    expect(fixedPoints / 200).toBeLessThan(1.3);
  });

  it('rebalances the pick when one image would hold more than half of it', () => {
    // image 0 has 50 captions, images 1..5 one each: a random pick of 5 is mostly from image 0 and could
    // not be deranged; swapping its surplus for other captions makes exactly 5 pairs noisy every time
    const c2i = Int32Array.from([...Array(50).fill(0), 1, 2, 3, 4, 5]);
    const clean = PairDataset.fromArrays({
      images: { data: new Float32Array(6), dim: 1 },
      captions: { data: new Float32Array(55), dim: 1 },
      captionToImage: c2i,
    });
    for (let seed = 0; seed < 20; seed++) {
      const r = injectNoise(clean, { rate: 5 / 55, kind: 'shuffle', seed });
      expect(r.summary.noisyPairs).toBe(5);
      checkInvariants(clean, r);
    }
  });

  it('does what it can when one image holds most captions (no derangement exists)', () => {
    const clean = PairDataset.fromArrays({
      images: { data: new Float32Array(2), dim: 1 },
      captions: { data: new Float32Array(10), dim: 1 },
      captionToImage: Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    });
    const r = injectNoise(clean, { rate: 1, kind: 'shuffle', seed: 0 });
    // only one caption can leave image 0 (image 1 has one caption to trade): 2 noisy pairs
    expect(r.summary.noisyPairs).toBe(2);
    checkInvariants(clean, r);
    const single = PairDataset.fromArrays({
      images: { data: new Float32Array(1), dim: 1 },
      captions: { data: new Float32Array(1), dim: 1 },
    });
    expect(() => injectNoise(single, { rate: 0.5, kind: 'shuffle', seed: 0 })).toThrow(/has 1 image/);
  });

  it('on the bundled Wikipedia data: noise only in train, partial = same class', async () => {
    const data = await loadPairs(bundledDataset('wikipedia-xmodal'));
    const { dataset, noisy, noiseType, summary } = injectNoise(data, { rate: 0.4, kind: 'shuffle', seed: 7 });
    expect(summary.protocol).toBe('caption-level');
    expect(summary.noisyPairs).toBe(Math.floor(0.4 * 1956));
    const train = new Set(data.splitIndices('train').pairs);
    let partial = 0;
    for (let j = 0; j < data.numPairs; j++) {
      if (!train.has(j)) expect(noisy[j]).toBe(0);
      if (noisy[j] && data.labels![dataset.captionToImage[j]!] === data.labels![j]) partial++;
    }
    expect(summary.partial).toBe(partial);
    expect(noiseType!.filter((t) => t === 1).length).toBe(partial);
    expect(dataset.describe().noise).toEqual({
      protocol: 'caption-level',
      kind: 'shuffle',
      rate: 0.4,
      realisedRate: summary.noisyPairs / 2866,
    });
    // a different seed gives different noise
    const other = injectNoise(data, { rate: 0.4, kind: 'shuffle', seed: 8 });
    expect(Array.from(other.dataset.captionToImage)).not.toEqual(Array.from(dataset.captionToImage));
  });
});
