import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PairDataset } from '../../../src/core/dataset/pair-dataset.js';
import { carveSplit, randomSplit } from '../../../src/core/dataset/splits.js';
import { DataError } from '../../../src/core/errors.js';

/** 5 images × 2 regions × 3 dims, 8 captions × 4 dims; image i value = 100 i + 10 r + d. */
function toy(): PairDataset {
  const images = new Float32Array(5 * 2 * 3);
  for (let i = 0; i < 5; i++)
    for (let r = 0; r < 2; r++)
      for (let d = 0; d < 3; d++) images[(i * 2 + r) * 3 + d] = 100 * i + 10 * r + d;
  const captions = Float32Array.from({ length: 8 * 4 }, (_, k) => 1000 + k);
  return PairDataset.fromArrays({
    name: 'toy',
    images: { data: images, dim: 3, regions: 2 },
    captions: { data: captions, dim: 4 },
    captionToImage: Int32Array.from([0, 0, 1, 2, 2, 2, 3, 4]),
    labels: Int32Array.from([0, 1, 0, 1, 1]),
    classNames: ['even', 'odd'],
    captionTexts: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
    imageIds: ['i0', 'i1', 'i2', 'i3', 'i4'],
    splits: { train: { images: [0, 2, 3] }, test: { images: [1, 4] } },
  });
}

describe('PairDataset basics', () => {
  it('reports counts and dims, and rows are views of the one storage', () => {
    const ds = toy();
    expect([ds.numImages, ds.numPairs, ds.numCaptions, ds.imageDim, ds.imageRegions, ds.captionDim]).toEqual([
      5, 8, 8, 3, 2, 4,
    ]);
    expect(ds.numClasses).toBe(2);
    expect(Array.from(ds.imageRow(3))).toEqual([300, 301, 302, 310, 311, 312]);
    expect(Array.from(ds.captionRow(2))).toEqual([1008, 1009, 1010, 1011]);
    expect(ds.imageRow(0).buffer).toBe(ds.imageRow(4).buffer);
    expect(Array.from(ds.imageCaptions(2))).toEqual([3, 4, 5]);
    expect(Array.from(ds.imageCaptions(1))).toEqual([2]);
    expect(ds.describe().captionsPerImage).toEqual({ min: 1, max: 3, mean: 8 / 5 });
  });

  it('gathers rows in the given order into a reusable buffer', () => {
    const ds = toy();
    const buf = new Float32Array(4 * 6);
    const out = ds.gatherImages([4, 0, 4], buf);
    expect(out.buffer).toBe(buf.buffer);
    expect(out.length).toBe(18);
    expect(Array.from(out)).toEqual([
      ...Array.from(ds.imageRow(4)),
      ...Array.from(ds.imageRow(0)),
      ...Array.from(ds.imageRow(4)),
    ]);
    const pairs = ds.gatherPairs(Int32Array.from([7, 3]));
    expect(Array.from(pairs.images)).toEqual([...Array.from(ds.imageRow(4)), ...Array.from(ds.imageRow(2))]);
    expect(Array.from(pairs.captions)).toEqual([
      ...Array.from(ds.captionRow(7)),
      ...Array.from(ds.captionRow(3)),
    ]);
    expect(() => ds.gatherImages([5])).toThrow(RangeError);
    expect(() => ds.gatherCaptions([0, 1], new Float32Array(4))).toThrow(/holds 4 values, 2 rows need 8/);
  });

  it('rejects inconsistent inputs with DataErrors that say what is wrong', () => {
    const img = { data: new Float32Array(6), dim: 2 };
    expect(() =>
      PairDataset.fromArrays({ images: img, captions: { data: new Float32Array(8), dim: 2 } }),
    ).toThrow(/4 captions and 3 images; without a captionToImage map/);
    expect(() =>
      PairDataset.fromArrays({
        images: img,
        captions: { data: new Float32Array(8), dim: 2 },
        captionToImage: Int32Array.from([0, 1, 3, 2]),
      }),
    ).toThrow(/captionToImage: caption 2 points at image 3, but there are 3 images/);
    expect(() =>
      PairDataset.fromArrays({
        images: { data: new Float32Array(5), dim: 2 },
        captions: { data: new Float32Array(2), dim: 2 },
      }),
    ).toThrow(DataError);
    expect(() =>
      PairDataset.fromArrays({
        images: img,
        captions: { data: new Float32Array(6), dim: 2 },
        labels: Int32Array.from([0, 1]),
      }),
    ).toThrow(/labels: 2 labels for 3 images/);
    expect(() => toy().withSplits({ val: { images: [] } })).toThrow(/split 'val' is empty/);
    expect(() => toy().withSplits({ train: { images: [0, 0] } })).toThrow(/image 0 is listed twice/);
    expect(() => toy().withSplits({ train: { pairs: [9] } })).toThrow(/not a pair index in \[0, 8\)/);
    expect(() => toy().split('val')).toThrow(/has no split 'val' \(splits: train, test\)/);
  });

  it('holds token ids as the room for a text encoder', () => {
    const ds = PairDataset.fromArrays({
      images: { data: new Float32Array(4), dim: 2 },
      captions: { tokens: { ids: Int32Array.from([5, 6, 7, 8, 9]), offsets: Int32Array.from([0, 3, 5]) } },
    });
    expect(Array.from(ds.captionTokens(1))).toEqual([8, 9]);
    expect(ds.hasCaptionFeatures).toBe(false);
    expect(() => ds.gatherCaptions([0])).toThrow(/no caption feature vectors/);
    expect(() =>
      PairDataset.fromArrays({
        images: { data: new Float32Array(4), dim: 2 },
        captions: { tokens: { ids: Int32Array.from([5]), offsets: Int32Array.from([0, 3, 1]) } },
      }),
    ).toThrow(/token offsets/);
  });
});

describe('split views', () => {
  it('renumber images and pairs and map back to the parent and the root', () => {
    const ds = toy();
    const train = ds.split('train');
    expect(train).toBe(ds.train); // cached
    expect(train.numImages).toBe(3);
    expect(Array.from(train.parentImageIndices!)).toEqual([0, 2, 3]);
    expect(Array.from(train.parentPairIndices!)).toEqual([0, 1, 3, 4, 5, 6]);
    expect(Array.from(train.captionToImage)).toEqual([0, 0, 1, 1, 1, 2]);
    expect(Array.from(train.labels!)).toEqual([0, 0, 1]);
    expect(train.captionText(2)).toBe('d');
    expect(train.imageId(1)).toBe('i2');
    expect(train.rootPairIndex(5)).toBe(6);
    expect(Array.from(train.imageRow(1))).toEqual(Array.from(ds.imageRow(2)));
    expect(train.imageRow(1).buffer).toBe(ds.imageRow(0).buffer); // no copy of features
    // a view of a view keeps mapping to the root
    const sub = train.withSplits({ only: { pairs: [5] } }).split('only');
    expect(sub.parent?.splitName).toBe('train');
    expect(sub.rootPairIndex(0)).toBe(6);
    expect(sub.rootImageIndex(0)).toBe(3);
  });

  it('imageMatrix is a view when rows are contiguous and a copy otherwise', () => {
    const ds = toy();
    const contiguous = ds.withSplits({ mid: { images: [1, 2, 3] } }).split('mid');
    const m = contiguous.imageMatrix();
    expect(m.buffer).toBe(ds.imageRow(0).buffer);
    expect(Array.from(m)).toEqual([1, 2, 3].flatMap((i) => Array.from(ds.imageRow(i))));
    const gappy = ds.split('test').imageMatrix();
    expect(gappy.buffer).not.toBe(ds.imageRow(0).buffer);
    expect(Array.from(gappy)).toEqual([1, 4].flatMap((i) => Array.from(ds.imageRow(i))));
  });

  it('refuses a view whose pairs point outside the split (noise must stay within a split)', () => {
    const ds = toy();
    const crossed = ds.withCaptionToImage(Int32Array.from([1, 0, 1, 2, 2, 2, 3, 4]));
    expect(() => crossed.split('train')).toThrow(
      /pair 0 of split 'train' is paired with image 1, which is not in the split/,
    );
  });

  it('withCaptionToImage replaces the map without copying features', () => {
    const ds = toy();
    const other = ds.withCaptionToImage(Int32Array.from([4, 0, 1, 2, 2, 2, 3, 0]));
    expect(other.imageRow(0).buffer).toBe(ds.imageRow(0).buffer);
    expect(Array.from(other.imageCaptions(0))).toEqual([1, 7]);
    expect(Array.from(ds.imageCaptions(0))).toEqual([0, 1]);
    expect(other.splitNames).toEqual(['train', 'test']);
    expect(() => ds.withCaptionToImage(Int32Array.from([0]))).toThrow(/1 entries for 8 captions/);
  });
});

describe('batches', () => {
  it('visit every pair exactly once per epoch, deterministically per (seed, epoch)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer(),
        (n, bs, seed) => {
          const ds = PairDataset.fromArrays({
            images: { data: new Float32Array(n), dim: 1 },
            captions: { data: new Float32Array(n), dim: 1 },
            captionToImage: Int32Array.from({ length: n }, (_, j) => (j * 7) % n),
          });
          const seen = new Uint8Array(n);
          const order: number[] = [];
          let batches = 0;
          for (const b of ds.batches({ batchSize: bs, seed, epoch: 3 })) {
            expect(b.batch).toBe(batches++);
            expect(b.size).toBeLessThanOrEqual(bs);
            for (let t = 0; t < b.size; t++) {
              seen[b.pairs[t]!]! += 1;
              order.push(b.pairs[t]!);
              expect(b.images[t]).toBe(ds.captionToImage[b.pairs[t]!]);
            }
            expect(b.captions).toBe(b.pairs);
          }
          expect(batches).toBe(ds.numBatches({ batchSize: bs }));
          expect(seen.every((v) => v === 1)).toBe(true);
          const again = [...ds.batches({ batchSize: bs, seed, epoch: 3 })].flatMap((b) =>
            Array.from(b.pairs),
          );
          expect(again).toEqual(order);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('change order between epochs and seeds, and honour dropLast, shuffle: false and a pair subset', () => {
    const n = 1000;
    const ds = PairDataset.fromArrays({
      images: { data: new Float32Array(n), dim: 1 },
      captions: { data: new Float32Array(n), dim: 1 },
    });
    const first = (o: { seed: number; epoch: number }) =>
      Array.from([...ds.batches({ batchSize: 10, ...o })][0]!.pairs);
    expect(first({ seed: 1, epoch: 0 })).not.toEqual(first({ seed: 1, epoch: 1 }));
    expect(first({ seed: 1, epoch: 0 })).not.toEqual(first({ seed: 2, epoch: 0 }));
    expect([...ds.batches({ batchSize: 300, dropLast: true })].map((b) => b.size)).toEqual([300, 300, 300]);
    expect(ds.numBatches({ batchSize: 300, dropLast: true })).toBe(3);
    expect(Array.from([...ds.batches({ batchSize: 4, shuffle: false })][1]!.pairs)).toEqual([4, 5, 6, 7]);
    const subset = [5, 17, 999, 0];
    const got = [...ds.batches({ batchSize: 3, seed: 9, pairs: subset })].flatMap((b) => Array.from(b.pairs));
    expect(got.sort((a, b) => a - b)).toEqual([0, 5, 17, 999]);
    expect(() => [...ds.batches({ batchSize: 3, pairs: [1000] })]).toThrow(/not a pair index/);
  });
});

describe('splits', () => {
  it('randomSplit: seeded, disjoint, covering, with round(fraction·n) per group', () => {
    const labels = Int32Array.from({ length: 600 }, (_, i) => Math.floor(i / 60));
    const s = randomSplit(600, { seed: 0, test: 0.2, val: 0.1, stratify: true }, labels);
    const all = [...s.train, ...s.val!, ...s.test!].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 600 }, (_, i) => i));
    for (let c = 0; c < 10; c++) {
      expect(s.test!.filter((i) => labels[i] === c).length).toBe(12);
      expect(s.val!.filter((i) => labels[i] === c).length).toBe(6);
    }
    expect(randomSplit(600, { seed: 0, test: 0.2, val: 0.1, stratify: true }, labels)).toEqual(s);
    expect(randomSplit(600, { seed: 1, test: 0.2, val: 0.1, stratify: true }, labels).test).not.toEqual(
      s.test,
    );
    const plain = randomSplit(99, { seed: 0, test: 0.2, val: 0.1 });
    expect([plain.train.length, plain.val!.length, plain.test!.length]).toEqual([69, 10, 20]);
    expect(() => randomSplit(10, { seed: 0, test: 0.6, val: 0.4 })).toThrow(/train is not empty/);
    expect(() => randomSplit(10, { seed: 0, test: 0.2, stratify: true })).toThrow(/needs class labels/);
  });

  it('carveSplit moves round(fraction·n) per class out of a split', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => i % 3);
    const images = Int32Array.from({ length: 50 }, (_, i) => 2 * i);
    const { kept, carved } = carveSplit(images, { fraction: 0.1, seed: 0, stratify: true }, labels);
    expect([...kept, ...carved].sort((a, b) => a - b)).toEqual(Array.from(images));
    const perClass = [0, 1, 2].map((c) => images.filter((i) => labels[i] === c).length);
    expect([0, 1, 2].map((c) => carved.filter((i) => labels[i] === c).length)).toEqual(
      perClass.map((n) => Math.round(0.1 * n)),
    );
  });
});
